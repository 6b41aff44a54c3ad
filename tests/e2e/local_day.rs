//! The organization's local day: the day of receipt, due dates, `isOverdue`, the
//! overdue and due-soon filters and the overdue gauge follow the organization's time
//! zone (default Europe/Berlin), not UTC.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde_json::{Value, json};
use workflow::Role;
use workflow::entity::subject_request;

use crate::common::{TestApp, assert_code, e2e};

async fn letter(app: &TestApp, email: &str, received_at: &str) -> Value {
    app.gql_ok(
        app.key(Role::Integrator),
        "mutation($at: DateTime!, $e: String!) { submitRequest(input: {kind: ACCESS, channel: LETTER, receivedAt: $at, identities: [{kind: EMAIL, value: $e}]}) { request { id deadlineStart dueDate isOverdue } } }",
        json!({"at": received_at, "e": email}),
    )
    .await["submitRequest"]["request"]
        .clone()
}

async fn due_date_for(app: &TestApp, day: NaiveDate) -> Value {
    app.gql_ok(
        app.key(Role::Admin),
        "query($d: NaiveDate!) { requestSettings { dueDateFor(receivedOn: $d) } }",
        json!({"d": day}),
    )
    .await["requestSettings"]["dueDateFor"]
        .clone()
}

/// `hh:mm` local time on a day a few days back in `zone`, as RFC 3339 with offset.
fn days_back_at(zone: Tz, hour: u32, minute: u32) -> (String, NaiveDate) {
    let day = Utc::now().with_timezone(&zone).date_naive() - Days::new(3);
    let local = zone
        .from_local_datetime(&day.and_hms_opt(hour, minute, 0).unwrap())
        .earliest()
        .unwrap();
    (local.to_rfc3339(), day)
}

async fn a_letter_at_half_past_midnight_counts_from_the_local_day(app: TestApp) {
    let admin = app.key(Role::Admin);
    let settings = app
        .gql_ok(admin, "{ requestSettings { timeZone } }", json!({}))
        .await;
    assert_eq!(settings["requestSettings"]["timeZone"], "Europe/Berlin");

    // The example of the report, while intake still accepts it (within a year);
    // afterwards the same moment of a recent day.
    let example = "2026-11-01T00:30:00+01:00";
    let parsed = DateTime::parse_from_rfc3339(example).unwrap().to_utc();
    let usable = parsed < Utc::now() && Utc::now() - parsed < chrono::Duration::days(360);
    let (received, day) = if usable {
        (
            example.to_owned(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        )
    } else {
        days_back_at(chrono_tz::Europe::Berlin, 0, 30)
    };
    let request = letter(&app, "brief@beispiel.example", &received).await;
    assert_eq!(
        request["deadlineStart"],
        json!(day),
        "{received}: {request:#}"
    );
    assert_eq!(request["dueDate"], due_date_for(&app, day).await);
    if usable {
        assert_eq!(request["dueDate"], "2026-12-01");
    }

    // Another time zone: 23:30 in New York is the next day in UTC.
    let body = app
        .gql_ok(
            admin,
            "mutation { updateRequestSettings(input: {timeZone: \"America/New_York\"}) { settings { timeZone } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["updateRequestSettings"]["settings"]["timeZone"],
        "America/New_York"
    );
    let (received, day) = days_back_at(chrono_tz::America::New_York, 23, 30);
    let request = letter(&app, "late@example.com", &received).await;
    assert_eq!(
        request["deadlineStart"],
        json!(day),
        "{received}: {request:#}"
    );

    for bad in ["Mars/Olympus", "", "UTC+1"] {
        let body = app
            .gql(
                admin,
                "mutation($z: String!) { updateRequestSettings(input: {timeZone: $z}) { settings { timeZone } } }",
                json!({"z": bad}),
            )
            .await;
        assert_code(&body, "VALIDATION");
        assert_eq!(
            body["errors"][0]["extensions"]["fields"][0]["path"],
            json!(["input", "timeZone"]),
            "{bad}"
        );
    }
}
e2e!(
    receipt_day,
    a_letter_at_half_past_midnight_counts_from_the_local_day
);

/// A request due on a day that is already past in the organization's zone but not
/// in UTC (or the other way round, depending on the hour the test runs).
async fn overdue_follows_the_local_day(app: TestApp) {
    let request = letter(
        &app,
        "faellig@example.com",
        &(Utc::now() - chrono::Duration::hours(1)).to_rfc3339(),
    )
    .await;
    let now = Utc::now();
    let utc_today = now.date_naive();
    // Kiritimati (UTC+14) is a day ahead from 10:00 UTC, Pago Pago (UTC-11) a day
    // behind until 11:00 UTC.
    let (zone, due, overdue) = if now.hour() < 10 || (now.hour() == 10 && now.minute() < 30) {
        (
            chrono_tz::Pacific::Pago_Pago,
            utc_today - Days::new(1),
            false,
        )
    } else {
        (chrono_tz::Pacific::Kiritimati, utc_today, true)
    };
    let local_today = now.with_timezone(&zone).date_naive();
    assert_eq!(due < local_today, overdue);
    assert_ne!(due < utc_today, overdue, "UTC must judge otherwise");

    let stored = subject_request::Entity::find()
        .one(app.workflow.store().conn())
        .await
        .unwrap()
        .unwrap();
    let id = stored.id;
    let mut active = stored.into_active_model();
    active.due_date = Set(Some(due));
    active.due_sort_key = Set(format!("{due}/{id}"));
    active.update(app.workflow.store().conn()).await.unwrap();
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($z: String!) { updateRequestSettings(input: {timeZone: $z}) { settings { timeZone } } }",
        json!({"z": zone.name()}),
    )
    .await;

    let data = app
        .gql_ok(
            app.key(Role::Agent),
            "{ requests { nodes { id isOverdue } } overdue: requests(filter: {overdue: true}) { totalCount } dueToday: requests(filter: {dueWithinDays: 0}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["requests"]["nodes"][0]["id"], request["id"]);
    assert_eq!(
        data["requests"]["nodes"][0]["isOverdue"], overdue,
        "{zone}: {data:#}"
    );
    assert_eq!(data["overdue"]["totalCount"], i64::from(overdue));
    // Due today or earlier, locally: included either way.
    assert_eq!(data["dueToday"]["totalCount"], 1);
    // The /metrics overdue gauge counts by each organization's local day.
    let gauges = app.workflow.request_gauges().await.unwrap();
    assert_eq!(gauges.overdue, u64::from(overdue), "{zone}");
}
e2e!(overdue_by_local_day, overdue_follows_the_local_day);
