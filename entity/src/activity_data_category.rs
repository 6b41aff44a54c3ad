//! Links a processing activity to a data category.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_data_category")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub activity_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub data_category_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::data_category::Entity",
        from = "Column::DataCategoryId",
        to = "super::data_category::Column::Id"
    )]
    DataCategory,
}

impl Related<super::data_category::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DataCategory.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
