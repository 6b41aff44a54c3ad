//! Register types: purposes of processing and their legal bases.

use super::*;

mirror_enum! {
    /// The legal bases of GDPR Art. 6(1).
    LegalBasis = workflow::register::purposes::LegalBasis {
        /// (a) The data subject has given consent.
        Consent,
        /// (b) Performance of a contract with the data subject, or steps before one.
        Contract,
        /// (c) A legal obligation of the controller; name the law in `legalReference`.
        LegalObligation,
        /// (d) Vital interests of the data subject or another person.
        VitalInterests,
        /// (e) A task in the public interest or official authority; name the law.
        PublicTask,
        /// (f) Legitimate interests, weighed against the subject's in `balancingTest`.
        LegitimateInterests,
    }
}

mirror_enum! {
    /// The conditions of GDPR Art. 9(2) for processing special categories of data.
    SpecialCategoryCondition = workflow::register::purposes::SpecialCategoryCondition {
        /// (a) Explicit consent.
        ExplicitConsent,
        /// (b) Employment, social security and social protection law.
        EmploymentSocialSecurity,
        /// (c) Vital interests where the subject cannot consent.
        VitalInterests,
        /// (d) Members of a not-for-profit body with a political, philosophical,
        /// religious or trade-union aim.
        NotForProfitBody,
        /// (e) Data the subject has manifestly made public.
        MadePublicBySubject,
        /// (f) Legal claims, or courts acting in their judicial capacity.
        LegalClaims,
        /// (g) Substantial public interest on the basis of law.
        SubstantialPublicInterest,
        /// (h) Preventive or occupational medicine, health or social care.
        HealthOrSocialCare,
        /// (i) Public health.
        PublicHealth,
        /// (j) Archiving in the public interest, research or statistics.
        ArchivingResearchStatistics,
    }
}

/// A purpose of processing and its legal basis (Art. 5(1)(b), 6(1), 9(2)); answers
/// to data subjects name it for every category of their data (Art. 15(1)(a)).
#[derive(SimpleObject, Clone, Debug)]
pub struct Purpose {
    /// Global ID.
    pub id: ID,
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation in plain language, as shown to data subjects.
    pub description: Option<String>,
    /// The Art. 6(1) legal basis.
    pub legal_basis: LegalBasis,
    /// The law or contract relied on, e.g. `§ 147 AO`.
    pub legal_reference: Option<String>,
    /// The documented balancing test (for legitimate interests).
    pub balancing_test: Option<String>,
    /// The Art. 9(2) condition, where special categories are processed.
    pub special_category_condition: Option<SpecialCategoryCondition>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<v::PurposeView> for Purpose {
    fn from(v: v::PurposeView) -> Self {
        Self {
            id: global_id("Purpose", v.id),
            legal_basis: v.legal_basis.into(),
            special_category_condition: v.special_category_condition.map(Into::into),
            name: v.name,
            description: v.description,
            legal_reference: v.legal_reference,
            balancing_test: v.balancing_test,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

crate::graphql::types::connection::connection!(
    PurposeConnection,
    PurposeEdge,
    Purpose,
    "A page of purposes (Relay cursor connection).",
    "A purpose with its cursor."
);
crate::graphql::types::connection::connection!(
    RetentionPolicyConnection,
    RetentionPolicyEdge,
    RetentionPolicy,
    "A page of retention policies (Relay cursor connection).",
    "A retention policy with its cursor."
);
