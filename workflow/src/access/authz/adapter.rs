//! A Casbin adapter over our own `casbin_rule` table (the published adapters are
//! built for other sea-orm/sqlx versions).

use async_trait::async_trait;
use casbin::{Adapter, Filter, Model};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use entity::casbin_rule::{self, Column};

/// Reads and writes Casbin rules in `casbin_rule`.
pub struct SeaOrmAdapter {
    db: DatabaseConnection,
    filtered: bool,
}

impl SeaOrmAdapter {
    /// An adapter on this connection.
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            filtered: false,
        }
    }
}

fn adapter_err(e: sea_orm::DbErr) -> casbin::Error {
    casbin::error::AdapterError(Box::new(e)).into()
}

/// Bumps the policy revision (see [`super::Authz::refresh`]): every write path here does,
/// like the workflow's own.
async fn bump<C: crate::core::store::Conn>(conn: &C) -> casbin::Result<()> {
    super::bump_revision(conn)
        .await
        .map_err(|e| casbin::error::AdapterError(Box::new(e)).into())
}

const VALUE_COLUMNS: [Column; 6] = [
    Column::V0,
    Column::V1,
    Column::V2,
    Column::V3,
    Column::V4,
    Column::V5,
];

/// The rule values of a row, without trailing empty columns.
pub(crate) fn row_values(row: &casbin_rule::Model) -> Vec<String> {
    let mut values = vec![
        row.v0.clone(),
        row.v1.clone(),
        row.v2.clone(),
        row.v3.clone(),
        row.v4.clone(),
        row.v5.clone(),
    ];
    while values.last().is_some_and(String::is_empty) {
        values.pop();
    }
    values
}

/// A new row for a rule.
pub(crate) fn new_row(ptype: &str, rule: &[String]) -> casbin_rule::ActiveModel {
    let v = |i: usize| Set(rule.get(i).cloned().unwrap_or_default());
    casbin_rule::ActiveModel {
        ptype: Set(ptype.to_owned()),
        v0: v(0),
        v1: v(1),
        v2: v(2),
        v3: v(3),
        v4: v(4),
        v5: v(5),
        ..Default::default()
    }
}

/// The condition matching exactly this rule.
pub(crate) fn rule_condition(ptype: &str, rule: &[String]) -> Condition {
    VALUE_COLUMNS.iter().enumerate().fold(
        Condition::all().add(Column::Ptype.eq(ptype)),
        |cond, (i, col)| cond.add(col.eq(rule.get(i).cloned().unwrap_or_default())),
    )
}

fn section(ptype: &str) -> &str {
    if ptype.starts_with('g') { "g" } else { "p" }
}

impl SeaOrmAdapter {
    /// Deletes the rows matching `cond`; whether any were.
    async fn delete_where(&self, cond: Condition) -> casbin::Result<bool> {
        let txn = self.db.begin().await.map_err(adapter_err)?;
        let res = casbin_rule::Entity::delete_many()
            .filter(cond)
            .exec(&txn)
            .await
            .map_err(adapter_err)?;
        bump(&txn).await?;
        txn.commit().await.map_err(adapter_err)?;
        Ok(res.rows_affected > 0)
    }
}

#[async_trait]
impl Adapter for SeaOrmAdapter {
    async fn load_policy(&mut self, m: &mut dyn Model) -> casbin::Result<()> {
        self.filtered = false;
        let rows = casbin_rule::Entity::find()
            .order_by_asc(Column::Id)
            .all(&self.db)
            .await
            .map_err(adapter_err)?;
        for row in rows {
            m.add_policy(section(&row.ptype), &row.ptype, row_values(&row));
        }
        Ok(())
    }

    async fn load_filtered_policy<'a>(
        &mut self,
        m: &mut dyn Model,
        f: Filter<'a>,
    ) -> casbin::Result<()> {
        let rows = casbin_rule::Entity::find()
            .order_by_asc(Column::Id)
            .all(&self.db)
            .await
            .map_err(adapter_err)?;
        for row in rows {
            let sec = section(&row.ptype);
            let values = row_values(&row);
            let wanted = if sec == "g" { &f.g } else { &f.p };
            let keep = wanted
                .iter()
                .enumerate()
                .all(|(i, w)| w.is_empty() || values.get(i).map(String::as_str) == Some(*w));
            if keep {
                m.add_policy(sec, &row.ptype, values);
            } else {
                self.filtered = true;
            }
        }
        Ok(())
    }

    async fn save_policy(&mut self, m: &mut dyn Model) -> casbin::Result<()> {
        let mut rows = Vec::new();
        for sec in ["p", "g"] {
            if let Some(assertions) = m.get_model().get(sec) {
                for (ptype, assertion) in assertions {
                    for rule in assertion.get_policy() {
                        rows.push(new_row(ptype, rule));
                    }
                }
            }
        }
        let txn = self.db.begin().await.map_err(adapter_err)?;
        casbin_rule::Entity::delete_many()
            .exec(&txn)
            .await
            .map_err(adapter_err)?;
        if !rows.is_empty() {
            casbin_rule::Entity::insert_many(rows)
                .exec(&txn)
                .await
                .map_err(adapter_err)?;
        }
        bump(&txn).await?;
        txn.commit().await.map_err(adapter_err)
    }

    async fn clear_policy(&mut self) -> casbin::Result<()> {
        self.delete_where(Condition::all()).await.map(|_| ())
    }

    fn is_filtered(&self) -> bool {
        self.filtered
    }

    async fn add_policy(
        &mut self,
        sec: &str,
        ptype: &str,
        rule: Vec<String>,
    ) -> casbin::Result<bool> {
        self.add_policies(sec, ptype, vec![rule]).await
    }

    async fn add_policies(
        &mut self,
        _sec: &str,
        ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> casbin::Result<bool> {
        if rules.is_empty() {
            return Ok(true);
        }
        let rows = rules.iter().map(|r| new_row(ptype, r));
        let txn = self.db.begin().await.map_err(adapter_err)?;
        casbin_rule::Entity::insert_many(rows)
            .exec(&txn)
            .await
            .map_err(adapter_err)?;
        bump(&txn).await?;
        txn.commit().await.map_err(adapter_err)?;
        Ok(true)
    }

    async fn remove_policy(
        &mut self,
        _sec: &str,
        ptype: &str,
        rule: Vec<String>,
    ) -> casbin::Result<bool> {
        self.delete_where(rule_condition(ptype, &rule)).await
    }

    async fn remove_policies(
        &mut self,
        _sec: &str,
        ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> casbin::Result<bool> {
        let cond = rules
            .iter()
            .fold(Condition::any(), |c, r| c.add(rule_condition(ptype, r)));
        self.delete_where(cond).await
    }

    async fn remove_filtered_policy(
        &mut self,
        _sec: &str,
        ptype: &str,
        field_index: usize,
        field_values: Vec<String>,
    ) -> casbin::Result<bool> {
        let cond = field_values
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_empty())
            .filter_map(|(i, v)| VALUE_COLUMNS.get(field_index + i).map(|c| c.eq(v.clone())))
            .fold(
                Condition::all().add(Column::Ptype.eq(ptype)),
                Condition::add,
            );
        self.delete_where(cond).await
    }
}
