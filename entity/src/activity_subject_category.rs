//! Links a processing activity to a subject category.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_subject_category")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub activity_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject_category_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::subject_category::Entity",
        from = "Column::SubjectCategoryId",
        to = "super::subject_category::Column::Id"
    )]
    SubjectCategory,
}

impl Related<super::subject_category::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SubjectCategory.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
