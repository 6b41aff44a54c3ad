use chrono::{NaiveDate, TimeZone, Utc};

use super::assemble::{Inputs, assemble};
use super::letter::{LetterFormat, builtin, render, validate};
use super::model::*;
use super::{ANSWER_SCHEMA, Language, sample};

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(ANSWER_SCHEMA).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn assert_valid(answer: &Answer) {
    let doc = serde_json::to_value(answer).unwrap();
    let errors: Vec<String> = validator()
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

fn empty(language: Language) -> Answer {
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let mut register = sample::register();
    register.controller.supervisory_authority = None;
    register.controller.data_protection_officer = None;
    assemble(Inputs {
        language,
        is_test: false,
        generated_at: at,
        generated_on: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        request: RequestInfo {
            id: "r".into(),
            kind: "ACCESS".into(),
            received_at: at,
            received_on: at.date_naive(),
            due_date: None,
        },
        identities: vec![],
        register,
        found: vec![],
        withheld: 0,
    })
}

/// Every Art. 15(1)(a)-(h) and 15(2) item: applicable with content or N/A with a reason.
fn items(answer: &Answer) -> Vec<(&'static str, bool, Option<String>)> {
    let i = &answer.information;
    vec![
        (
            i.purposes.article,
            i.purposes.applicable,
            i.purposes.not_applicable_reason.clone(),
        ),
        (
            i.categories.article,
            i.categories.applicable,
            i.categories.not_applicable_reason.clone(),
        ),
        (
            i.recipients.article,
            i.recipients.applicable,
            i.recipients.not_applicable_reason.clone(),
        ),
        (
            i.retention.article,
            i.retention.applicable,
            i.retention.not_applicable_reason.clone(),
        ),
        (
            i.rights.article,
            i.rights.applicable,
            i.rights.not_applicable_reason.clone(),
        ),
        (
            i.complaint.article,
            i.complaint.applicable,
            i.complaint.not_applicable_reason.clone(),
        ),
        (
            i.sources.article,
            i.sources.applicable,
            i.sources.not_applicable_reason.clone(),
        ),
        (
            i.automated_decisions.article,
            i.automated_decisions.applicable,
            i.automated_decisions.not_applicable_reason.clone(),
        ),
        (
            i.transfers.article,
            i.transfers.applicable,
            i.transfers.not_applicable_reason.clone(),
        ),
    ]
}

#[test]
fn the_sample_answer_has_every_item_and_the_register_behind_each_category() {
    let answer = sample::answer(Language::De, false);
    let articles: Vec<&str> = items(&answer).iter().map(|(a, ..)| *a).collect();
    assert_eq!(
        articles,
        [
            "15(1)(a)", "15(1)(b)", "15(1)(c)", "15(1)(d)", "15(1)(e)", "15(1)(f)", "15(1)(g)",
            "15(1)(h)", "15(2)"
        ]
    );
    for (article, applicable, reason) in items(&answer) {
        assert!(applicable, "{article} applies to the sample: {reason:?}");
    }
    // Grouped by category (uncategorized last), then source and record.
    let keys: Vec<Option<&str>> = answer.categories.iter().map(|c| c.key.as_deref()).collect();
    assert_eq!(
        keys,
        [
            Some("contact"),
            Some("contact.email"),
            Some("financial.score"),
            None
        ]
    );
    let email = &answer.categories[1];
    assert_eq!(email.name, "E-Mail-Adresse");
    assert_eq!(email.sources[0].source, "Shop");
    assert_eq!(
        email.sources[0].records[0].key.as_deref(),
        Some("customers(id=42)")
    );
    assert_eq!(
        email.sources[0].records[0].values[0].label.as_deref(),
        Some("E-Mail")
    );
    // `contact.email` is covered by the order activity (through `contact`) and the
    // newsletter: contract and consent.
    let bases: Vec<&str> = email
        .purposes
        .iter()
        .map(|p| p.legal_basis.as_str())
        .collect();
    assert_eq!(bases, ["CONTRACT", "CONSENT"]);
    assert_eq!(email.transfers[0].safeguard, "STANDARD_CONTRACTUAL_CLAUSES");
    assert_eq!(
        email.retention[0].text,
        "3 Jahre, ab dem letzten Kontakt mit Ihnen; dann gelöscht"
    );
    assert!(email.portable);
    let score = &answer.categories[2];
    assert!(!score.portable, "legitimate interests: not portable");
    assert_eq!(score.automated_decisions[0].activity, "Bonitätsprüfung");
    assert_eq!(
        score.purposes[0].legitimate_interests.as_deref(),
        Some("Zahlungsausfälle vermeiden.")
    );
    let rights: Vec<&str> = answer
        .information
        .rights
        .content
        .iter()
        .map(|r| r.right.as_str())
        .collect();
    assert_eq!(
        rights,
        [
            "RECTIFICATION",
            "ERASURE",
            "RESTRICTION",
            "OBJECTION",
            "PORTABILITY",
            "WITHDRAW_CONSENT"
        ]
    );
    assert_eq!(
        answer.information.complaint.content.authority.as_deref(),
        Some("Berliner Beauftragte für Datenschutz und Informationsfreiheit")
    );
    assert_eq!(answer.withheld.count, 1);
    assert!(
        answer
            .withheld
            .text
            .as_deref()
            .unwrap()
            .contains("Art. 15 Abs. 4")
    );
}

#[test]
fn without_data_every_item_is_still_there_or_says_why_not() {
    for language in [Language::De, Language::En] {
        let answer = empty(language);
        for (article, applicable, reason) in items(&answer) {
            match article {
                "15(1)(e)" | "15(1)(f)" => assert!(applicable, "{article} always applies"),
                _ => {
                    assert!(!applicable, "{article}");
                    assert!(reason.is_some_and(|r| !r.is_empty()), "{article} says why");
                }
            }
        }
        let rights: Vec<&str> = answer
            .information
            .rights
            .content
            .iter()
            .map(|r| r.right.as_str())
            .collect();
        assert_eq!(
            rights,
            ["RECTIFICATION", "ERASURE", "RESTRICTION", "OBJECTION"]
        );
        assert!(answer.information.complaint.content.authority.is_none());
        assert_valid(&answer);
    }
}

#[test]
fn produced_answers_validate_against_the_published_schema() {
    for language in [Language::De, Language::En] {
        for is_test in [false, true] {
            let answer = sample::answer(language, is_test);
            assert_valid(&answer);
            assert_eq!(serde_json::to_value(&answer).unwrap()["isTest"], is_test);
        }
    }
    // The schema is strict: an unknown field or a missing reason fails.
    let mut doc = serde_json::to_value(sample::answer(Language::De, false)).unwrap();
    doc["surprise"] = serde_json::json!(1);
    assert!(!validator().is_valid(&doc));
    let mut doc = serde_json::to_value(empty(Language::En)).unwrap();
    doc["information"]["purposes"]["notApplicableReason"] = serde_json::Value::Null;
    assert!(!validator().is_valid(&doc), "N/A needs a reason");
}

#[test]
fn drafts_do_not_count_and_retired_activities_do() {
    let mut register = sample::register();
    for a in &mut register.processing_activities {
        a.status = match a.name.as_str() {
            "Newsletter" => "DRAFT".into(),
            "Bestellungen" => "RETIRED".into(),
            _ => a.status.clone(),
        };
    }
    let at = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
    let answer = assemble(Inputs {
        language: Language::En,
        is_test: false,
        generated_at: at,
        generated_on: at.date_naive(),
        request: RequestInfo {
            id: "r".into(),
            kind: "ACCESS".into(),
            received_at: at,
            received_on: at.date_naive(),
            due_date: None,
        },
        identities: vec![],
        register,
        found: sample::found(),
        withheld: 0,
    });
    let email = answer
        .categories
        .iter()
        .find(|c| c.key.as_deref() == Some("contact.email"))
        .unwrap();
    let purposes: Vec<&str> = email.purposes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(purposes, ["Bestellabwicklung"]);
    assert!(answer.withheld.text.is_none());
}

#[test]
fn built_in_letters_render_every_item_escaped_in_html_and_marked_as_tests() {
    for language in [Language::De, Language::En] {
        let answer = sample::answer(language, true);
        let text = render(
            builtin(language, LetterFormat::Text),
            LetterFormat::Text,
            &answer,
        )
        .unwrap();
        let html = render(
            builtin(language, LetterFormat::Html),
            LetterFormat::Html,
            &answer,
        )
        .unwrap();
        let (banner, article_a, complaint) = match language {
            Language::De => ("TESTANFRAGE", "Art. 15 Abs. 1 lit. a", "Beschwerderecht"),
            Language::En => (
                "TEST REQUEST",
                "Art. 15(1)(a)",
                "Right to lodge a complaint",
            ),
        };
        for letter in [&text, &html] {
            assert!(letter.contains(banner), "{letter}");
            assert!(letter.contains(article_a));
            assert!(letter.contains(complaint));
            assert!(letter.contains("erika@example.com"));
            assert!(letter.contains("PayGlobal Inc."));
            assert!(
                letter.contains("Ein Punktwert"),
                "the logic of the automated decision"
            );
        }
        assert!(text.contains("Heidestraße 17 <b>"), "text is not escaped");
        assert!(html.contains("Heidestraße 17 &lt;b&gt;"), "HTML is escaped");
        assert!(!html.contains("17 <b>"));
        assert!(html.contains("<br>10115 Berlin"), "address lines");
        assert!(!text.contains("{%") && !text.contains("{{"));
        let plain = render(
            builtin(language, LetterFormat::Text),
            LetterFormat::Text,
            &sample::answer(language, false),
        )
        .unwrap();
        assert!(!plain.contains(banner));
    }
    let de = render(
        builtin(Language::De, LetterFormat::Text),
        LetterFormat::Text,
        &sample::answer(Language::De, false),
    )
    .unwrap();
    assert!(de.contains("20. November 2026"), "{de}");
    assert!(de.contains("Ihre Anfrage vom 2. November 2026"));
}

#[test]
fn templates_are_checked_before_they_are_saved() {
    for (body, why) in [
        ("", "empty"),
        ("{% if %}", "syntax"),
        ("{{ controller.name | nosuchfilter }}", "unknown filter"),
        (
            "{% include \"/etc/passwd\" %}",
            "no loader: nothing to include",
        ),
        ("{% extends \"base.html\" %}", "no loader"),
        ("{% import \"x\" as y %}", "no loader"),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "fuel",
        ),
        (
            "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
            "recursion",
        ),
        ("{{ 'x' * 10000000 }}", "output larger than the cap"),
        (
            "{% for i in range(10000) %}{{ 'x' * 1000 }}{% endfor %}",
            "output larger than the cap",
        ),
    ] {
        let err = validate(body, Language::De, LetterFormat::Text)
            .expect_err(why)
            .to_string();
        assert!(err.contains("input.body"), "{why}: {err}");
    }
    let huge = "a".repeat(super::letter::MAX_TEMPLATE_CHARS + 1);
    assert!(validate(&huge, Language::En, LetterFormat::Html).is_err());
    validate(
        "Hallo {{ controller.name }}, {{ letter.date }}",
        Language::De,
        LetterFormat::Text,
    )
    .unwrap();
    // A template may print a missing field as empty (chainable undefined).
    validate(
        "{{ nosuch.deeper.field }}",
        Language::En,
        LetterFormat::Html,
    )
    .unwrap();
}

#[test]
fn a_custom_html_template_is_escaped_too() {
    let answer = sample::answer(Language::En, false);
    let html = render(
        "{% for c in categories %}{% for s in c.sources %}{% for r in s.records %}{% for v in r.values %}[{{ v.value }}]{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
        LetterFormat::Html,
        &answer,
    )
    .unwrap();
    assert!(html.contains("[Heidestraße 17 &lt;b&gt;]"), "{html}");
    assert!(html.contains("&amp; &quot;bitte&quot;"), "{html}");
}
