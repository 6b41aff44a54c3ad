//! The lawyer's words for the register export, in German and English: the headings
//! of the Art. 30(1) items, and labels for the stored codes (legal bases, special
//! category conditions, safeguards, recipient kinds, retention triggers ...). What the
//! organization wrote (names, descriptions) is used as written.

use crate::answer::Language;

/// One label in both languages.
#[derive(Debug, Clone, Copy)]
pub(super) struct Label {
    pub(super) de: &'static str,
    pub(super) en: &'static str,
}

impl Label {
    /// The label in `language`.
    pub(super) fn get(self, language: Language) -> &'static str {
        match language {
            Language::De => self.de,
            Language::En => self.en,
        }
    }
}

macro_rules! label {
    ($de:literal, $en:literal) => {
        Label { de: $de, en: $en }
    };
}
pub(super) use label;

/// A stored code's label; an unknown code (none should be) is shown as stored.
fn coded(code: &str, table: &[(&str, Label)], language: Language) -> String {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_owned(), |(_, l)| l.get(language).to_owned())
}

/// Art. 6(1) legal bases.
pub(super) fn legal_basis(code: &str, language: Language) -> String {
    coded(
        code,
        &[
            (
                "CONSENT",
                label!(
                    "Einwilligung (Art. 6 Abs. 1 lit. a DSGVO)",
                    "Consent (Art. 6(1)(a) GDPR)"
                ),
            ),
            (
                "CONTRACT",
                label!(
                    "Vertragserfüllung oder vorvertragliche Maßnahmen (Art. 6 Abs. 1 lit. b DSGVO)",
                    "Performance of a contract or pre-contractual steps (Art. 6(1)(b) GDPR)"
                ),
            ),
            (
                "LEGAL_OBLIGATION",
                label!(
                    "Rechtliche Verpflichtung (Art. 6 Abs. 1 lit. c DSGVO)",
                    "Legal obligation (Art. 6(1)(c) GDPR)"
                ),
            ),
            (
                "VITAL_INTERESTS",
                label!(
                    "Lebenswichtige Interessen (Art. 6 Abs. 1 lit. d DSGVO)",
                    "Vital interests (Art. 6(1)(d) GDPR)"
                ),
            ),
            (
                "PUBLIC_TASK",
                label!(
                    "Aufgabe im öffentlichen Interesse (Art. 6 Abs. 1 lit. e DSGVO)",
                    "Public task (Art. 6(1)(e) GDPR)"
                ),
            ),
            (
                "LEGITIMATE_INTERESTS",
                label!(
                    "Berechtigte Interessen (Art. 6 Abs. 1 lit. f DSGVO)",
                    "Legitimate interests (Art. 6(1)(f) GDPR)"
                ),
            ),
        ],
        language,
    )
}

/// Art. 9(2) conditions.
pub(super) fn special_condition(code: &str, language: Language) -> String {
    coded(
        code,
        &[
            (
                "EXPLICIT_CONSENT",
                label!(
                    "Ausdrückliche Einwilligung (Art. 9 Abs. 2 lit. a DSGVO)",
                    "Explicit consent (Art. 9(2)(a) GDPR)"
                ),
            ),
            (
                "EMPLOYMENT_SOCIAL_SECURITY",
                label!(
                    "Arbeitsrecht und soziale Sicherheit (Art. 9 Abs. 2 lit. b DSGVO)",
                    "Employment and social security law (Art. 9(2)(b) GDPR)"
                ),
            ),
            (
                "VITAL_INTERESTS",
                label!(
                    "Lebenswichtige Interessen (Art. 9 Abs. 2 lit. c DSGVO)",
                    "Vital interests (Art. 9(2)(c) GDPR)"
                ),
            ),
            (
                "NOT_FOR_PROFIT_BODY",
                label!(
                    "Organisation ohne Gewinnerzielungsabsicht (Art. 9 Abs. 2 lit. d DSGVO)",
                    "Not-for-profit body (Art. 9(2)(d) GDPR)"
                ),
            ),
            (
                "MADE_PUBLIC_BY_SUBJECT",
                label!(
                    "Von der betroffenen Person öffentlich gemacht (Art. 9 Abs. 2 lit. e DSGVO)",
                    "Made public by the data subject (Art. 9(2)(e) GDPR)"
                ),
            ),
            (
                "LEGAL_CLAIMS",
                label!(
                    "Rechtsansprüche (Art. 9 Abs. 2 lit. f DSGVO)",
                    "Legal claims (Art. 9(2)(f) GDPR)"
                ),
            ),
            (
                "SUBSTANTIAL_PUBLIC_INTEREST",
                label!(
                    "Erhebliches öffentliches Interesse (Art. 9 Abs. 2 lit. g DSGVO)",
                    "Substantial public interest (Art. 9(2)(g) GDPR)"
                ),
            ),
            (
                "HEALTH_OR_SOCIAL_CARE",
                label!(
                    "Gesundheits- oder Sozialbereich (Art. 9 Abs. 2 lit. h DSGVO)",
                    "Health or social care (Art. 9(2)(h) GDPR)"
                ),
            ),
            (
                "PUBLIC_HEALTH",
                label!(
                    "Öffentliche Gesundheit (Art. 9 Abs. 2 lit. i DSGVO)",
                    "Public health (Art. 9(2)(i) GDPR)"
                ),
            ),
            (
                "ARCHIVING_RESEARCH_STATISTICS",
                label!(
                    "Archiv-, Forschungs- oder Statistikzwecke (Art. 9 Abs. 2 lit. j DSGVO)",
                    "Archiving, research or statistics (Art. 9(2)(j) GDPR)"
                ),
            ),
        ],
        language,
    )
}

/// How sensitive a category is.
pub(super) fn sensitivity(code: &str, language: Language) -> String {
    coded(
        code,
        &[
            ("ORDINARY", label!("gewöhnlich", "ordinary")),
            (
                "SPECIAL_ART9",
                label!(
                    "besondere Kategorie (Art. 9 DSGVO)",
                    "special category (Art. 9 GDPR)"
                ),
            ),
            (
                "CRIMINAL_ART10",
                label!(
                    "Straftaten und Verurteilungen (Art. 10 DSGVO)",
                    "criminal convictions and offences (Art. 10 GDPR)"
                ),
            ),
        ],
        language,
    )
}

/// Where an activity stands.
pub(super) fn status(code: &str, language: Language) -> String {
    coded(
        code,
        &[
            ("DRAFT", label!("Entwurf", "draft")),
            ("ACTIVE", label!("aktiv", "active")),
            ("RETIRED", label!("eingestellt", "retired")),
        ],
        language,
    )
}

/// Who a recipient is.
pub(super) fn recipient_kind(code: &str, language: Language) -> String {
    coded(
        code,
        &[
            ("INTERNAL", label!("interne Stelle", "internal department")),
            (
                "PROCESSOR",
                label!(
                    "Auftragsverarbeiter (Art. 28 DSGVO)",
                    "processor (Art. 28 GDPR)"
                ),
            ),
            ("THIRD_PARTY", label!("Dritter", "third party")),
            ("PUBLIC_AUTHORITY", label!("Behörde", "public authority")),
        ],
        language,
    )
}

/// A third-country transfer's safeguard.
pub(super) fn safeguard(code: &str, language: Language) -> String {
    coded(
        code,
        &[
            (
                "ADEQUACY_DECISION",
                label!(
                    "Angemessenheitsbeschluss (Art. 45 DSGVO)",
                    "Adequacy decision (Art. 45 GDPR)"
                ),
            ),
            (
                "STANDARD_CONTRACTUAL_CLAUSES",
                label!(
                    "Standardvertragsklauseln (Art. 46 Abs. 2 lit. c DSGVO)",
                    "Standard contractual clauses (Art. 46(2)(c) GDPR)"
                ),
            ),
            (
                "BINDING_CORPORATE_RULES",
                label!(
                    "Verbindliche interne Datenschutzvorschriften (Art. 47 DSGVO)",
                    "Binding corporate rules (Art. 47 GDPR)"
                ),
            ),
            (
                "APPROVED_CODE_OF_CONDUCT",
                label!(
                    "Genehmigte Verhaltensregeln (Art. 46 Abs. 2 lit. e DSGVO)",
                    "Approved code of conduct (Art. 46(2)(e) GDPR)"
                ),
            ),
            (
                "APPROVED_CERTIFICATION",
                label!(
                    "Genehmigter Zertifizierungsmechanismus (Art. 46 Abs. 2 lit. f DSGVO)",
                    "Approved certification mechanism (Art. 46(2)(f) GDPR)"
                ),
            ),
            (
                "DEROGATION_ART49",
                label!(
                    "Ausnahme für bestimmte Fälle (Art. 49 DSGVO)",
                    "Derogation for specific situations (Art. 49 GDPR)"
                ),
            ),
        ],
        language,
    )
}

/// When a retention period starts.
pub(super) fn trigger(code: &str, language: Language) -> String {
    coded(
        code,
        &[
            ("AFTER_COLLECTION", label!("ab Erhebung", "from collection")),
            (
                "AFTER_LAST_CONTACT",
                label!("ab dem letzten Kontakt", "from the last contact"),
            ),
            (
                "AFTER_END_OF_CONTRACT",
                label!("ab Vertragsende", "from the end of the contract"),
            ),
            (
                "AFTER_END_OF_CALENDAR_YEAR",
                label!(
                    "ab Ende des Kalenderjahres der Entstehung",
                    "from the end of the calendar year the record was made"
                ),
            ),
            (
                "AFTER_CONSENT_WITHDRAWN",
                label!(
                    "ab Widerruf der Einwilligung",
                    "from the withdrawal of consent"
                ),
            ),
            (
                "OTHER",
                label!("ab dem beschriebenen Ereignis", "from the event described"),
            ),
        ],
        language,
    )
}

/// What happens when a retention period ends.
pub(super) fn expiry_action(code: &str, language: Language) -> String {
    coded(
        code,
        &[
            ("DELETE", label!("Löschung", "deletion")),
            ("ANONYMIZE", label!("Anonymisierung", "anonymization")),
            ("REVIEW", label!("Prüfung", "review")),
        ],
        language,
    )
}

/// How a field's value is erased.
pub(super) fn erasure(code: &str, language: Language) -> String {
    coded(
        code,
        &[
            ("DELETE_ROW", label!("Datensatz löschen", "delete the row")),
            ("SET_NULL", label!("Wert leeren", "clear the value")),
            ("MASK", label!("maskieren", "mask")),
            ("ANONYMIZE", label!("anonymisieren", "anonymize")),
            (
                "KEEP_UNDER_HOLD",
                label!(
                    "aufbewahren (gesetzliche Pflicht), gesperrt",
                    "keep under a legal hold, restricted"
                ),
            ),
        ],
        language,
    )
}

/// What kind of identity a field holds.
pub(super) fn identity_type(code: &str, language: Language) -> String {
    coded(
        code,
        &[
            ("EMAIL", label!("E-Mail-Adresse", "e-mail address")),
            ("PHONE", label!("Telefonnummer", "phone number")),
            ("CUSTOMER_NUMBER", label!("Kundennummer", "customer number")),
            ("POSTAL_ADDRESS", label!("Postanschrift", "postal address")),
            ("OTHER", label!("andere Kennung", "other identifier")),
        ],
        language,
    )
}

/// Yes or no.
pub(super) fn yes_no(b: bool, language: Language) -> String {
    if b {
        label!("ja", "yes")
    } else {
        label!("nein", "no")
    }
    .get(language)
    .to_owned()
}
