use chrono::NaiveDate;

use super::*;
use crate::connectors::FoundValue;
use crate::register::retention::{ExpiryAction, RetentionTrigger};

/// A mapped field of a test register.
pub(crate) fn field(id: u128, location: &str, strategy: ErasureStrategy) -> data_field::Model {
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
        from: None,
        action: ExpiryAction::Delete,
    }
}

/// The tax duty on `orders.customer_id` (10 years after the end of the calendar
/// year), with trigger fields `triggers`, on 2026-11-30.
fn tax(triggers: &[u128], action: ExpiryAction) -> duties::Cover {
    duties::Cover {
        legal_reference: "§ 147 AO".into(),
        policy: "Invoices".into(),
        duration: "P10Y".into(),
        trigger: RetentionTrigger::AfterEndOfCalendarYear,
        action,
        trigger_fields: triggers.iter().map(|t| Uuid::from_u128(*t)).collect(),
    }
}

fn covering(covers: Vec<(u128, Vec<duties::Cover>)>) -> duties::Duties {
    duties::Duties {
        covers: covers
            .into_iter()
            .map(|(f, c)| (Uuid::from_u128(f), c))
            .collect(),
        today: day("2026-11-30"),
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

fn duties() -> duties::Duties {
    covering(vec![(11, vec![tax(&[], ExpiryAction::Delete)])])
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
                expect: Vec::new(),
            },
            RowChange {
                key: "newsletter(id=3)".into(),
                delete: true,
                set: vec![],
                typed: false,
                expect: Vec::new(),
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
        &covering(Vec::new()),
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

fn orders() -> Vec<data_field::Model> {
    use ErasureStrategy::*;
    vec![
        field(10, "orders.id", KeepUnderHold),
        field(11, "orders.customer_id", KeepUnderHold),
        field(12, "orders.ordered_at", KeepUnderHold),
    ]
}

/// The plan for `found` (all approved) in the orders table, with `orders.id` the
/// key and both held fields covered by `cover`.
fn plan_orders(found: &[Found], cover: duties::Cover) -> Plan {
    let approved = found.iter().map(|f| f.key.clone()).collect();
    let keys = [10u128].map(Uuid::from_u128).into_iter().collect();
    let duties = covering(vec![(11, vec![cover.clone()]), (12, vec![cover])]);
    plan(
        found,
        &orders(),
        &keys,
        &duties,
        &approved,
        &HashSet::new(),
        &replace,
    )
    .unwrap()
}

fn outcome(plan: &Plan, key: &str, field: u128) -> (ErasureResult, Option<NaiveDate>) {
    plan.outcomes
        .iter()
        .find(|o| o.record_key == key && o.field_id == Uuid::from_u128(field))
        .map(|o| (o.result, o.duty.as_ref().map(|d| d.until)))
        .unwrap()
}

#[test]
fn holds_are_counted_from_each_records_own_date() {
    let found = vec![
        record("orders(id=1)", &[(10, "1"), (11, "1"), (12, "2025-10-02")]),
        record(
            "orders(id=2)",
            &[(10, "2"), (11, "1"), (12, "2019-03-01T10:00:00Z")],
        ),
        record("orders(id=3)", &[(10, "3"), (11, "1")]),
    ];
    let plan = plan_orders(&found, tax(&[12], ExpiryAction::Delete));
    // 2025 + 10 years after the end of the year.
    assert_eq!(
        outcome(&plan, "orders(id=1)", 11),
        (ErasureResult::Retained, Some(day("2035-12-31")))
    );
    // No date in the record: from the day of the erasure, the latest it can end.
    assert_eq!(
        outcome(&plan, "orders(id=3)", 11),
        (ErasureResult::Retained, Some(day("2036-12-31")))
    );
    // 2019 + 10 years ended on 2029-12-31: still held.
    assert_eq!(
        outcome(&plan, "orders(id=2)", 12).1,
        Some(day("2029-12-31"))
    );
    let why = plan
        .outcomes
        .iter()
        .find(|o| o.record_key == "orders(id=1)" && o.field_id == Uuid::from_u128(11))
        .and_then(|o| o.detail.clone())
        .unwrap();
    assert!(why.contains("2025-10-02"), "{why}");
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
}

#[test]
fn a_hold_that_ended_before_the_erasure_follows_its_policys_action() {
    let found = vec![
        record("orders(id=1)", &[(10, "1"), (11, "1"), (12, "2012-05-01")]),
        record("orders(id=2)", &[(10, "2"), (11, "1"), (12, "2025-05-01")]),
    ];
    let run = |action| plan_orders(&found, tax(&[12], action));
    // DELETE: every field of the row was held only for the duty: the row goes.
    let deleted = run(ExpiryAction::Delete);
    assert_eq!(
        deleted.changes,
        vec![RowChange {
            key: "orders(id=1)".into(),
            delete: true,
            set: vec![],
            typed: false,
            expect: Vec::new(),
        }]
    );
    assert_eq!(
        outcome(&deleted, "orders(id=1)", 11).0,
        ErasureResult::Erased
    );
    assert_eq!(
        outcome(&deleted, "orders(id=2)", 11),
        (ErasureResult::Retained, Some(day("2035-12-31")))
    );
    // ANONYMIZE: the held values are replaced, the key stays.
    let anonymized = run(ExpiryAction::Anonymize);
    assert_eq!(anonymized.changes.len(), 1);
    assert!(!anonymized.changes[0].delete);
    assert_eq!(
        outcome(&anonymized, "orders(id=1)", 11).0,
        ErasureResult::Anonymized
    );
    // REVIEW: still kept, with the day it ended, for a person to decide.
    let review = run(ExpiryAction::Review);
    assert!(review.changes.is_empty());
    assert_eq!(
        outcome(&review, "orders(id=1)", 11),
        (ErasureResult::Retained, Some(day("2022-12-31")))
    );
}

#[test]
fn the_last_contact_is_the_persons_not_the_rows() {
    let found = vec![
        record("orders(id=1)", &[(10, "1"), (11, "1"), (12, "2020-01-10")]),
        record("orders(id=2)", &[(10, "2"), (11, "1"), (12, "2025-06-01")]),
    ];
    let contact = duties::Cover {
        duration: "P3Y".into(),
        trigger: RetentionTrigger::AfterLastContact,
        ..tax(&[12], ExpiryAction::Delete)
    };
    let plan = plan_orders(&found, contact);
    assert_eq!(
        outcome(&plan, "orders(id=1)", 11),
        (ErasureResult::Retained, Some(day("2028-06-01"))),
        "three years after the person's last order, not this order's"
    );
}
