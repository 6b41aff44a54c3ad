//! Links a processing activity to a purpose.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_purpose")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub activity_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub purpose_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::purpose::Entity",
        from = "Column::PurposeId",
        to = "super::purpose::Column::Id"
    )]
    Purpose,
}

impl Related<super::purpose::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Purpose.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
