use super::*;
use crate::connectors::FoundValue;
use crate::register::retention::RetentionTrigger;

fn field(id: u128, location: &str, strategy: ErasureStrategy) -> data_field::Model {
    let at = chrono::Utc::now();
    data_field::Model {
        id: Uuid::from_u128(id),
        org_id: Uuid::nil(),
        source_id: Uuid::nil(),
        location: location.into(),
        description: None,
        data_category_id: None,
        identifies_subject: false,
        identity_type: None,
        references_id: None,
        erasure_strategy: strategy.as_str().into(),
        created_at: at,
        updated_at: at,
    }
}

fn record(key: &str, values: &[(u128, &str)]) -> Found {
    Found {
        key: key.into(),
        values: values
            .iter()
            .map(|(id, v)| FoundValue {
                field_id: Uuid::from_u128(*id),
                value: (*v).into(),
            })
            .collect(),
        flags: Vec::new(),
    }
}

fn shop() -> Vec<data_field::Model> {
    use ErasureStrategy::*;
    vec![
        field(1, "customers.id", DeleteRow),
        field(2, "customers.email", Anonymize),
        field(3, "customers.phone", SetNull),
        field(4, "customers.name", Mask),
        field(10, "orders.id", KeepUnderHold),
        field(11, "orders.customer_id", KeepUnderHold),
        field(20, "newsletter.email", DeleteRow),
    ]
}

fn duty(until: &str) -> Duty {
    Duty {
        legal_reference: "§ 147 AO".into(),
        policy: "Invoices".into(),
        until: day(until),
    }
}

fn replace(s: ErasureStrategy, v: &str) -> Option<String> {
    match s {
        ErasureStrategy::Anonymize => Some(format!("anon({v})")),
        ErasureStrategy::Mask => Some("m***".into()),
        _ => None,
    }
}

fn keys() -> HashSet<Uuid> {
    [1u128, 10].map(Uuid::from_u128).into_iter().collect()
}

fn duties() -> HashMap<Uuid, Duty> {
    [(Uuid::from_u128(11), duty("2036-12-31"))]
        .into_iter()
        .collect()
}

/// Every record of [`found`] was collected and approved.
fn approved() -> HashSet<String> {
    found().into_iter().map(|f| f.key).collect()
}

fn found() -> Vec<Found> {
    vec![
        record(
            "customers(id=1)",
            &[(1, "1"), (2, "a@x.de"), (3, "+4930"), (4, "Anna")],
        ),
        record("orders(id=7)", &[(10, "7"), (11, "1")]),
        record("newsletter(id=3)", &[(20, "a@x.de")]),
    ]
}

#[test]
fn each_field_follows_its_strategy_and_held_rows_stay() {
    let plan = plan(
        &found(),
        &shop(),
        &keys(),
        &duties(),
        &approved(),
        &HashSet::new(),
        &replace,
    )
    .unwrap();
    assert_eq!(
        plan.changes,
        vec![
            RowChange {
                key: "customers(id=1)".into(),
                delete: false,
                set: vec![
                    (Uuid::from_u128(2), Some("anon(a@x.de)".into())),
                    (Uuid::from_u128(3), None),
                    (Uuid::from_u128(4), Some("m***".into())),
                ],
                typed: false,
            },
            RowChange {
                key: "newsletter(id=3)".into(),
                delete: true,
                set: vec![],
                typed: false,
            },
        ],
        "the held order is not changed at all"
    );
    let result = |key: &str, id: u128| {
        plan.outcomes
            .iter()
            .find(|o| o.record_key == key && o.field_id == Uuid::from_u128(id))
            .map(|o| (o.result, o.duty.clone()))
            .unwrap()
    };
    assert_eq!(
        result("customers(id=1)", 1).0,
        ErasureResult::Anonymized,
        "the key stays"
    );
    assert_eq!(result("customers(id=1)", 2).0, ErasureResult::Anonymized);
    assert_eq!(result("customers(id=1)", 3).0, ErasureResult::Erased);
    assert_eq!(
        result("orders(id=7)", 10),
        (ErasureResult::Retained, Some(duty("2036-12-31")))
    );
    assert_eq!(
        result("orders(id=7)", 11),
        (ErasureResult::Retained, Some(duty("2036-12-31")))
    );
    assert_eq!(result("newsletter(id=3)", 20).0, ErasureResult::Erased);
}

#[test]
fn a_held_field_without_a_duty_refuses_the_whole_plan() {
    let err = plan(
        &found(),
        &shop(),
        &keys(),
        &HashMap::new(),
        &approved(),
        &HashSet::new(),
        &replace,
    )
    .unwrap_err();
    assert!(err.contains("orders.customer_id"), "{err}");
}

#[test]
fn flagged_and_unapproved_records_are_not_touched_and_redacted_values_stay() {
    let mut records = found();
    records[0].flags.push((
        crate::collection::leaks::LeakKind::SharedReference,
        "shared".into(),
    ));
    // A record the reviewer never saw (found now, not at collection).
    records.push(record("newsletter(id=4)", &[(20, "b@x.de")]));
    // The reviewer redacted the newsletter row's address: the row is not deleted.
    let redacted: HashSet<(String, Uuid)> = [("newsletter(id=3)".to_owned(), Uuid::from_u128(20))]
        .into_iter()
        .collect();
    let plan = plan(
        &records,
        &shop(),
        &keys(),
        &duties(),
        &approved(),
        &redacted,
        &replace,
    )
    .unwrap();
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    assert_eq!(plan.left_out, 1);
    let results = |key: &str| -> Vec<ErasureResult> {
        plan.outcomes
            .iter()
            .filter(|o| o.record_key == key)
            .map(|o| o.result)
            .collect()
    };
    assert!(
        results("customers(id=1)")
            .iter()
            .all(|r| *r == ErasureResult::Failed)
    );
    assert_eq!(results("newsletter(id=4)"), [ErasureResult::Failed]);
    assert_eq!(results("newsletter(id=3)"), [ErasureResult::LeftOut]);
}

/// A redacted value in a row that stays: the other values go, it stays.
#[test]
fn a_redacted_value_stays_while_its_row_is_erased_around_it() {
    let redacted: HashSet<(String, Uuid)> = [("customers(id=1)".to_owned(), Uuid::from_u128(3))]
        .into_iter()
        .collect();
    let plan = plan(
        &found(),
        &shop(),
        &keys(),
        &duties(),
        &approved(),
        &redacted,
        &replace,
    )
    .unwrap();
    assert_eq!(
        plan.changes[0].set,
        vec![
            (Uuid::from_u128(2), Some("anon(a@x.de)".into())),
            (Uuid::from_u128(4), Some("m***".into())),
        ]
    );
    let after = vec![record("customers(id=1)", &[(1, "1"), (3, "+4930")])];
    assert!(leftovers(&found(), &after, &plan, &keys()).is_empty());
}

#[test]
fn values_still_found_are_leftovers_but_held_keys_and_replacements_are_not() {
    let before = found();
    let plan = plan(
        &before,
        &shop(),
        &keys(),
        &duties(),
        &approved(),
        &HashSet::new(),
        &replace,
    )
    .unwrap();
    let after = vec![
        // Anonymized: found again by another way, with new values.
        record(
            "customers(id=1)",
            &[(1, "1"), (2, "anon(a@x.de)"), (4, "m***")],
        ),
        record("orders(id=7)", &[(10, "7"), (11, "1")]),
    ];
    assert!(leftovers(&before, &after, &plan, &keys()).is_empty());
    let after = vec![
        record("customers(id=1)", &[(1, "1"), (3, "+4930")]),
        record("newsletter(id=9)", &[(20, "a@x.de")]),
    ];
    assert_eq!(
        leftovers(&before, &after, &plan, &keys()),
        vec![
            ("customers(id=1)".to_owned(), Uuid::from_u128(3)),
            ("newsletter(id=9)".to_owned(), Uuid::from_u128(20)),
        ]
    );
}

#[test]
fn anonymized_values_are_stable_unreadable_and_keep_the_shape_of_addresses() {
    let cipher = Cipher::from_base64(&Cipher::generate_key()).unwrap();
    let org = Uuid::from_u128(5);
    let a = replacement(
        &cipher,
        org.as_bytes(),
        ErasureStrategy::Anonymize,
        "erika@example.org",
    )
    .unwrap();
    assert_eq!(
        a,
        replacement(
            &cipher,
            org.as_bytes(),
            ErasureStrategy::Anonymize,
            "erika@example.org"
        )
        .unwrap()
    );
    assert!(a.starts_with("anon-") && a.ends_with("@anonymized.invalid") && !a.contains("erika"));
    let b = replacement(
        &cipher,
        Uuid::from_u128(6).as_bytes(),
        ErasureStrategy::Anonymize,
        "erika@example.org",
    );
    assert_ne!(Some(a), b, "another salt (run) gets another replacement");
    assert_eq!(
        replacement(&cipher, org.as_bytes(), ErasureStrategy::Mask, "Erika").as_deref(),
        Some("E****")
    );
    assert_eq!(
        replacement(&cipher, org.as_bytes(), ErasureStrategy::SetNull, "x"),
        None
    );
}

#[test]
fn duties_end_after_their_period_counted_from_the_right_day() {
    let today = day("2026-11-30");
    assert_eq!(
        duties::until(today, "P10Y", RetentionTrigger::AfterEndOfCalendarYear),
        Some(day("2036-12-31"))
    );
    assert_eq!(
        duties::until(today, "P3Y", RetentionTrigger::AfterLastContact),
        Some(day("2029-11-30"))
    );
    assert_eq!(
        duties::until(today, "P6M", RetentionTrigger::AfterCollection),
        Some(day("2027-05-30"))
    );
    assert_eq!(
        duties::until(today, "P2W", RetentionTrigger::Other),
        Some(day("2026-12-14"))
    );
    assert_eq!(
        duties::until(today, "nonsense", RetentionTrigger::Other),
        None
    );
}
