//! The fixed wording of the answer in German and English: legal bases, rights,
//! safeguards, reasons why an item does not apply. What the organization wrote in its
//! register (purpose descriptions, names) is used as written.

use super::Language;

/// One text in both languages.
pub(crate) struct Text {
    pub de: &'static str,
    pub en: &'static str,
}

impl Text {
    pub fn get(&self, language: Language) -> String {
        match language {
            Language::De => self.de,
            Language::En => self.en,
        }
        .to_owned()
    }
}

macro_rules! text {
    ($de:literal, $en:literal) => {
        Text { de: $de, en: $en }
    };
}

/// Art. 6(1) legal basis, by stored code.
pub(crate) fn legal_basis(code: &str) -> Text {
    match code {
        "CONSENT" => text!(
            "Ihre Einwilligung (Art. 6 Abs. 1 lit. a DSGVO)",
            "your consent (Art. 6(1)(a) GDPR)"
        ),
        "CONTRACT" => text!(
            "Erfüllung eines Vertrags mit Ihnen oder vorvertragliche Maßnahmen (Art. 6 Abs. 1 lit. b DSGVO)",
            "performance of a contract with you or steps before entering into one (Art. 6(1)(b) GDPR)"
        ),
        "LEGAL_OBLIGATION" => text!(
            "Erfüllung einer rechtlichen Verpflichtung (Art. 6 Abs. 1 lit. c DSGVO)",
            "compliance with a legal obligation (Art. 6(1)(c) GDPR)"
        ),
        "VITAL_INTERESTS" => text!(
            "Schutz lebenswichtiger Interessen (Art. 6 Abs. 1 lit. d DSGVO)",
            "protection of vital interests (Art. 6(1)(d) GDPR)"
        ),
        "PUBLIC_TASK" => text!(
            "Wahrnehmung einer Aufgabe im öffentlichen Interesse (Art. 6 Abs. 1 lit. e DSGVO)",
            "a task carried out in the public interest (Art. 6(1)(e) GDPR)"
        ),
        "LEGITIMATE_INTERESTS" => text!(
            "berechtigte Interessen (Art. 6 Abs. 1 lit. f DSGVO)",
            "legitimate interests (Art. 6(1)(f) GDPR)"
        ),
        _ => text!("Rechtsgrundlage", "legal basis"),
    }
}

/// Who a recipient is, by stored kind.
pub(crate) fn recipient_kind(code: &str) -> Text {
    match code {
        "INTERNAL" => text!("interne Stelle", "internal department"),
        "PROCESSOR" => text!(
            "Auftragsverarbeiter (Art. 28 DSGVO)",
            "processor (Art. 28 GDPR)"
        ),
        "THIRD_PARTY" => text!("Dritter", "third party"),
        "PUBLIC_AUTHORITY" => text!("Behörde", "public authority"),
        _ => text!("Empfänger", "recipient"),
    }
}

/// A transfer safeguard, by stored code.
pub(crate) fn safeguard(code: &str) -> Text {
    match code {
        "ADEQUACY_DECISION" => text!(
            "Angemessenheitsbeschluss der EU-Kommission (Art. 45 DSGVO)",
            "adequacy decision of the European Commission (Art. 45 GDPR)"
        ),
        "STANDARD_CONTRACTUAL_CLAUSES" => text!(
            "Standardvertragsklauseln (Art. 46 Abs. 2 lit. c DSGVO)",
            "standard contractual clauses (Art. 46(2)(c) GDPR)"
        ),
        "BINDING_CORPORATE_RULES" => text!(
            "verbindliche interne Datenschutzvorschriften (Art. 47 DSGVO)",
            "binding corporate rules (Art. 47 GDPR)"
        ),
        "APPROVED_CODE_OF_CONDUCT" => text!(
            "genehmigte Verhaltensregeln (Art. 46 Abs. 2 lit. e DSGVO)",
            "approved code of conduct (Art. 46(2)(e) GDPR)"
        ),
        "APPROVED_CERTIFICATION" => text!(
            "genehmigter Zertifizierungsmechanismus (Art. 46 Abs. 2 lit. f DSGVO)",
            "approved certification mechanism (Art. 46(2)(f) GDPR)"
        ),
        "DEROGATION_ART49" => text!(
            "Ausnahme für bestimmte Fälle (Art. 49 DSGVO)",
            "derogation for specific situations (Art. 49 GDPR)"
        ),
        _ => text!("Garantie", "safeguard"),
    }
}

/// When a retention period starts, by stored trigger.
pub(crate) fn retention_trigger(code: &str) -> Text {
    match code {
        "AFTER_COLLECTION" => text!("ab der Erhebung", "from collection"),
        "AFTER_LAST_CONTACT" => text!(
            "ab dem letzten Kontakt mit Ihnen",
            "from the last contact with you"
        ),
        "AFTER_END_OF_CONTRACT" => text!("ab Vertragsende", "from the end of the contract"),
        "AFTER_END_OF_CALENDAR_YEAR" => text!(
            "ab dem Ende des Kalenderjahres, in dem die Unterlage entstanden ist",
            "from the end of the calendar year in which the record was made"
        ),
        "AFTER_CONSENT_WITHDRAWN" => text!(
            "ab dem Widerruf Ihrer Einwilligung",
            "from the withdrawal of your consent"
        ),
        _ => text!("ab dem beschriebenen Ereignis", "from the event described"),
    }
}

/// What happens when a retention period ends.
pub(crate) fn expiry_action(code: &str) -> Text {
    match code {
        "DELETE" => text!("dann gelöscht", "then deleted"),
        "ANONYMIZE" => text!("dann anonymisiert", "then anonymized"),
        "REVIEW" => text!(
            "dann darauf geprüft, ob sie weiter benötigt werden",
            "then reviewed whether they are still needed"
        ),
        _ => text!("", ""),
    }
}

/// An ISO 8601 duration in words (`P10Y` -> "10 Jahre" / "10 years"); unknown
/// forms are returned as written.
pub(crate) fn duration(iso: &str, language: Language) -> String {
    let Some(rest) = iso.strip_prefix('P') else {
        return iso.to_owned();
    };
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut parts = Vec::new();
    let mut number = String::new();
    let units = |unit: char, in_time: bool| -> Option<(&str, &str, &str, &str)> {
        Some(match (unit, in_time) {
            ('Y', false) => ("Jahr", "Jahre", "year", "years"),
            ('M', false) => ("Monat", "Monate", "month", "months"),
            ('W', false) => ("Woche", "Wochen", "week", "weeks"),
            ('D', false) => ("Tag", "Tage", "day", "days"),
            ('H', true) => ("Stunde", "Stunden", "hour", "hours"),
            ('M', true) => ("Minute", "Minuten", "minute", "minutes"),
            ('S', true) => ("Sekunde", "Sekunden", "second", "seconds"),
            _ => return None,
        })
    };
    for (segment, in_time) in [(date, false), (time, true)] {
        for c in segment.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let Some((de1, den, en1, enn)) = units(c, in_time) else {
                return iso.to_owned();
            };
            let n: u64 = match number.parse() {
                Ok(n) => n,
                Err(_) => return iso.to_owned(),
            };
            number.clear();
            let word = match (language, n == 1) {
                (Language::De, true) => de1,
                (Language::De, false) => den,
                (Language::En, true) => en1,
                (Language::En, false) => enn,
            };
            parts.push(format!("{n} {word}"));
        }
    }
    if parts.is_empty() || !number.is_empty() {
        return iso.to_owned();
    }
    let and = match language {
        Language::De => " und ",
        Language::En => " and ",
    };
    match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{}{and}{last}", rest.join(", ")),
        None => iso.to_owned(),
    }
}

/// A data subject right of Art. 16-22: (code, article, text).
pub(crate) const RIGHTS: &[(&str, &str, Text)] = &[
    (
        "RECTIFICATION",
        "Art. 16",
        text!(
            "Sie können verlangen, dass unrichtige Daten über Sie berichtigt und unvollständige Daten vervollständigt werden.",
            "You may ask us to correct inaccurate data about you and to complete incomplete data."
        ),
    ),
    (
        "ERASURE",
        "Art. 17",
        text!(
            "Sie können die Löschung Ihrer Daten verlangen, soweit wir sie nicht mehr benötigen oder nicht mehr verarbeiten dürfen; gesetzliche Aufbewahrungspflichten (Art. 17 Abs. 3 DSGVO) können entgegenstehen.",
            "You may ask us to erase your data where we no longer need it or may no longer process it; legal retention duties (Art. 17(3) GDPR) may prevent erasure."
        ),
    ),
    (
        "RESTRICTION",
        "Art. 18",
        text!(
            "Sie können verlangen, dass wir die Verarbeitung Ihrer Daten einschränken, etwa solange die Richtigkeit bestritten ist.",
            "You may ask us to restrict the processing of your data, for example while its accuracy is contested."
        ),
    ),
    (
        "OBJECTION",
        "Art. 21",
        text!(
            "Sie können aus Gründen, die sich aus Ihrer besonderen Situation ergeben, der Verarbeitung auf Grundlage berechtigter Interessen oder öffentlicher Aufgaben widersprechen, und der Verarbeitung für Direktwerbung jederzeit.",
            "You may object, on grounds relating to your particular situation, to processing based on legitimate interests or a public task, and to processing for direct marketing at any time."
        ),
    ),
    (
        "PORTABILITY",
        "Art. 20",
        text!(
            "Sie können die Daten, die Sie uns bereitgestellt haben und die wir auf Grundlage Ihrer Einwilligung oder eines Vertrags verarbeiten, in einem strukturierten, gängigen, maschinenlesbaren Format erhalten; dieser Auskunft liegen sie als CSV-Dateien bei.",
            "You may receive the data you provided to us and that we process on the basis of your consent or a contract in a structured, commonly used, machine-readable format; it is enclosed with this answer as CSV files."
        ),
    ),
];

/// The right to withdraw consent (Art. 7(3)), where consent is a legal basis.
pub(crate) const WITHDRAW_CONSENT: Text = text!(
    "Eine erteilte Einwilligung können Sie jederzeit mit Wirkung für die Zukunft widerrufen; die Rechtmäßigkeit der bis dahin erfolgten Verarbeitung bleibt unberührt.",
    "You may withdraw a consent you gave at any time with effect for the future; this does not affect the lawfulness of processing before the withdrawal."
);

/// Art. 77: the right to lodge a complaint.
pub(crate) const COMPLAINT: Text = text!(
    "Sie haben das Recht, sich bei einer Datenschutz-Aufsichtsbehörde zu beschweren, insbesondere in dem Mitgliedstaat Ihres Aufenthaltsorts, Ihres Arbeitsplatzes oder des Orts des mutmaßlichen Verstoßes (Art. 77 DSGVO).",
    "You have the right to lodge a complaint with a data protection supervisory authority, in particular in the Member State of your habitual residence, place of work or place of the alleged infringement (Art. 77 GDPR)."
);

/// Why an item does not apply.
pub(crate) const NO_DATA: Text = text!(
    "Wir haben keine personenbezogenen Daten über Sie gefunden.",
    "We found no personal data about you."
);
pub(crate) const NO_RECIPIENTS: Text = text!(
    "Ihre Daten werden an keine Empfänger außerhalb unseres Unternehmens weitergegeben.",
    "Your data is not disclosed to any recipient outside our organization."
);
pub(crate) const NO_RETENTION: Text = text!(
    "Für diese Daten ist keine feste Speicherdauer festgelegt; sie werden gelöscht, sobald sie für die genannten Zwecke nicht mehr erforderlich sind und keine Aufbewahrungspflicht besteht.",
    "No fixed retention period is set for this data; it is deleted once it is no longer needed for the purposes named and no retention duty applies."
);
pub(crate) const NO_AUTOMATED_DECISIONS: Text = text!(
    "Es findet keine automatisierte Entscheidungsfindung einschließlich Profiling im Sinne von Art. 22 DSGVO statt.",
    "No automated decision-making, including profiling, within the meaning of Art. 22 GDPR takes place."
);
pub(crate) const NO_TRANSFERS: Text = text!(
    "Ihre Daten werden nicht in Länder außerhalb des Europäischen Wirtschaftsraums übermittelt.",
    "Your data is not transferred to countries outside the European Economic Area."
);
pub(crate) const WITHHELD: Text = text!(
    "Einzelne Angaben haben wir nicht aufgenommen, weil sie Rechte und Freiheiten anderer Personen beeinträchtigen würden (Art. 15 Abs. 4 DSGVO).",
    "Some details were left out because they would adversely affect the rights and freedoms of others (Art. 15(4) GDPR)."
);
pub(crate) const UNCATEGORIZED: Text = text!("Sonstige Angaben", "Other data");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration("P10Y", Language::De), "10 Jahre");
        assert_eq!(duration("P1Y6M", Language::En), "1 year and 6 months");
        assert_eq!(
            duration("P1Y2M3D", Language::De),
            "1 Jahr, 2 Monate und 3 Tage"
        );
        assert_eq!(duration("PT36H", Language::En), "36 hours");
        assert_eq!(duration("P2W", Language::De), "2 Wochen");
        for odd in ["10Y", "P", "PX", "P1.5Y", "P3"] {
            assert_eq!(duration(odd, Language::De), odd);
        }
    }
}
