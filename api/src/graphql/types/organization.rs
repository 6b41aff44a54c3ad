use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::ids::global_id;

/// A contact person or office of the controller (DPO, EU representative).
#[derive(SimpleObject, Clone, Debug)]
pub struct OrganizationContact {
    /// Name of the person or company.
    pub name: String,
    /// Postal address.
    pub address: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

/// The controller (GDPR Art. 4(7)) that uses Auskunft; every other object belongs to
/// one. Its details are the Art. 30(1)(a) part of the register.
#[derive(SimpleObject, Clone, Debug)]
pub struct Organization {
    /// Global ID.
    pub id: ID,
    /// Legal name.
    pub name: String,
    /// Postal address of the controller.
    pub address: Option<String>,
    /// Country of establishment (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Contact e-mail for data-protection matters.
    pub email: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Data protection officer (Art. 37-39), if designated.
    pub dpo: Option<OrganizationContact>,
    /// Representative in the Union (Art. 27), for controllers established outside it.
    pub representative: Option<OrganizationContact>,
    /// The competent supervisory authority, named in answers (right to complain).
    pub supervisory_authority: Option<String>,
    /// The language of access answers and their letters (German when not set).
    pub answer_language: crate::graphql::types::answer::AnswerLanguage,
    /// When it was set up in Auskunft.
    pub created_at: DateTime<Utc>,
    /// When its record last changed.
    pub updated_at: DateTime<Utc>,
}

fn contact(
    name: Option<String>,
    address: Option<String>,
    email: Option<String>,
    phone: Option<String>,
) -> Option<OrganizationContact> {
    name.map(|name| OrganizationContact {
        name,
        address,
        email,
        phone,
    })
}

impl From<workflow::entity::organization::Model> for Organization {
    fn from(m: workflow::entity::organization::Model) -> Self {
        let answer_language = workflow::answer::default_language(&m);
        Self {
            id: global_id("Organization", m.id),
            name: m.name,
            address: m.address,
            country: m.country,
            email: m.email,
            phone: m.phone,
            dpo: contact(m.dpo_name, m.dpo_address, m.dpo_email, m.dpo_phone),
            representative: contact(
                m.representative_name,
                m.representative_address,
                m.representative_email,
                m.representative_phone,
            ),
            answer_language: answer_language.into(),
            supervisory_authority: m.supervisory_authority,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
