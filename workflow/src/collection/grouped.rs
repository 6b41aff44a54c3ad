//! What was found, in the shape a reviewer reads it: by source, then by data
//! category, then by record (a table row, an object of an HTTP response, an upload),
//! each record with its values. One stored value belongs to exactly one group.

use std::collections::HashMap;

use uuid::Uuid;

use entity::collected_record;

/// The values one source gave, by data category.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceGroup<T> {
    /// The data source.
    pub source_id: Uuid,
    /// Distinct records of the source (a row with values of two categories counts once).
    pub records: usize,
    /// Its categories, in the order they were first found; values of no mapped
    /// category come as `category_id: None`.
    pub categories: Vec<CategoryGroup<T>>,
}

/// The records of one source with values of one data category.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryGroup<T> {
    /// The data category (None: the value's field maps none, or it was entered by hand
    /// without a field).
    pub category_id: Option<Uuid>,
    /// The records, each with the values of this category only.
    pub records: Vec<RecordGroup<T>>,
}

/// The values of one record in one category.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordGroup<T> {
    /// The record key (e.g. `customers(id=42)`); a value entered by hand is a record of
    /// its own and keyed by its id.
    pub record_key: String,
    /// The task that found it.
    pub task_id: Uuid,
    /// Its values, in stored order.
    pub values: Vec<T>,
}

/// The record key of a stored value: its own, or the value's id for values stored
/// before records had keys and for values entered by hand.
pub fn record_key(m: &collected_record::Model) -> String {
    m.record_key.clone().unwrap_or_else(|| m.id.to_string())
}

/// Groups values by source, category and record, keeping the order in which each
/// source, category and record first appears in `items`.
pub fn group<T>(
    items: Vec<T>,
    model: impl Fn(&T) -> &collected_record::Model,
) -> Vec<SourceGroup<T>> {
    let mut sources: Vec<SourceGroup<T>> = Vec::new();
    let mut source_at: HashMap<Uuid, usize> = HashMap::new();
    let mut category_at: HashMap<(usize, Option<Uuid>), usize> = HashMap::new();
    let mut record_at: HashMap<(usize, usize, String), usize> = HashMap::new();
    let mut distinct: HashMap<usize, std::collections::HashSet<String>> = HashMap::new();
    for item in items {
        let m = model(&item);
        let key = record_key(m);
        let (source_id, category_id, task_id) = (m.source_id, m.data_category_id, m.task_id);
        let s = *source_at.entry(source_id).or_insert_with(|| {
            sources.push(SourceGroup {
                source_id,
                records: 0,
                categories: Vec::new(),
            });
            sources.len() - 1
        });
        let source = &mut sources[s];
        if distinct.entry(s).or_default().insert(key.clone()) {
            source.records += 1;
        }
        let c = *category_at.entry((s, category_id)).or_insert_with(|| {
            source.categories.push(CategoryGroup {
                category_id,
                records: Vec::new(),
            });
            source.categories.len() - 1
        });
        let category = &mut source.categories[c];
        let r = *record_at.entry((s, c, key.clone())).or_insert_with(|| {
            category.records.push(RecordGroup {
                record_key: key,
                task_id,
                values: Vec::new(),
            });
            category.records.len() - 1
        });
        category.records[r].values.push(item);
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(
        source: u128,
        category: Option<u128>,
        key: Option<&str>,
        id: u128,
    ) -> collected_record::Model {
        collected_record::Model {
            id: Uuid::from_u128(id),
            org_id: Uuid::nil(),
            request_id: Uuid::nil(),
            task_id: Uuid::from_u128(100 + source),
            source_id: Uuid::from_u128(source),
            field_id: None,
            data_category_id: category.map(Uuid::from_u128),
            location: String::new(),
            record_key: key.map(str::to_owned),
            value: String::new(),
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn values_are_grouped_by_source_category_and_record() {
        let items = vec![
            value(1, Some(10), Some("customers(id=1)"), 1),
            value(1, Some(11), Some("customers(id=1)"), 2),
            value(1, Some(10), Some("customers(id=1)"), 3),
            value(2, Some(10), Some("/contacts/0"), 4),
            value(1, Some(12), Some("orders(id=7)"), 5),
            value(1, None, None, 6),
        ];
        let groups = group(items, |m| m);
        assert_eq!(groups.len(), 2);
        let shop = &groups[0];
        assert_eq!(shop.source_id, Uuid::from_u128(1));
        assert_eq!(
            shop.records, 3,
            "customers(id=1), orders(id=7) and the value of its own"
        );
        let categories: Vec<_> = shop.categories.iter().map(|c| c.category_id).collect();
        assert_eq!(
            categories,
            [Some(10), Some(11), Some(12), None].map(|c| c.map(Uuid::from_u128))
        );
        let contact = &shop.categories[0];
        assert_eq!(contact.records.len(), 1);
        let ids: Vec<_> = contact.records[0].values.iter().map(|v| v.id).collect();
        assert_eq!(ids, [Uuid::from_u128(1), Uuid::from_u128(3)]);
        assert_eq!(
            shop.categories[3].records[0].record_key,
            Uuid::from_u128(6).to_string()
        );
        assert_eq!(groups[1].records, 1);
        let total: usize = groups
            .iter()
            .flat_map(|s| &s.categories)
            .flat_map(|c| &c.records)
            .map(|r| r.values.len())
            .sum();
        assert_eq!(total, 6, "every value in exactly one group");
    }
}
