//! The demo CRM: a small HTTP JSON API that `serve --demo` serves itself under
//! [`DEMO_CRM_PATH`], so that the demo's HTTP source collects something without any
//! setup. Its people are the customers of the demo shop database; the data is fixed.
//!
//! - `GET /demo/crm/contacts?email=…`: `{"data": [contact]}` (at most one).
//! - `GET /demo/crm/activities?email=…[&page=n]`: the contact's tickets, calls and
//!   notes, [`PAGE_SIZE`] per page, `{"data": […], "links": {"next": "…" | null}}`.
//!
//! Both need `Authorization: Bearer <token>`, the token the demo's CRM source is
//! configured with (a fresh one per start, see [`DemoCrm::new`]). The answer is a
//! status and a JSON body; the HTTP route that serves it lives in `api`.

use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};

/// Where the demo CRM is served, below the server's own address.
pub const DEMO_CRM_PATH: &str = "/demo/crm";
/// Activities per page (small, so pagination is exercised).
pub const PAGE_SIZE: usize = 2;
/// Longest e-mail address looked up.
const MAX_EMAIL_CHARS: usize = 320;

struct Contact {
    id: &'static str,
    email: &'static str,
    first_name: &'static str,
    last_name: &'static str,
    phone: Option<&'static str>,
    customer_number: &'static str,
    segment: &'static str,
    /// Consent per channel: e-mail, phone, post.
    marketing: (bool, bool, bool),
    marketing_updated: &'static str,
}

struct Activity {
    id: &'static str,
    contact: &'static str,
    kind: &'static str,
    date: &'static str,
    subject: &'static str,
    text: &'static str,
}

/// The contacts: the customers of the demo shop database.
const CONTACTS: &[Contact] = &[
    Contact {
        id: "c-1001",
        email: "erika.mustermann@example.org",
        first_name: "Erika",
        last_name: "Mustermann",
        phone: Some("+49 30 1234567"),
        customer_number: "K-100001",
        segment: "Stammkundin Wohnzimmer",
        marketing: (true, false, true),
        marketing_updated: "2024-03-02",
    },
    Contact {
        id: "c-1002",
        email: "max.mustermann@example.org",
        first_name: "Max",
        last_name: "Mustermann",
        phone: Some("+49 221 7654321"),
        customer_number: "K-100002",
        segment: "Neukunde Beleuchtung",
        marketing: (false, false, true),
        marketing_updated: "2025-11-20",
    },
    Contact {
        id: "c-1003",
        email: "aylin.demir@example.net",
        first_name: "Aylin",
        last_name: "Demir",
        phone: None,
        customer_number: "K-100003",
        segment: "Neukundin Esszimmer",
        marketing: (false, false, false),
        marketing_updated: "2025-01-07",
    },
];

/// What the CRM knows about the contacts' dealings with the shop.
const ACTIVITIES: &[Activity] = &[
    Activity {
        id: "a-501",
        contact: "c-1001",
        kind: "TICKET",
        date: "2025-10-05",
        subject: "Liefertermin Sofa Lindholm",
        text: "Kundin bittet um Lieferung nach 16 Uhr; Termin auf den 9.10. verschoben.",
    },
    Activity {
        id: "a-502",
        contact: "c-1001",
        kind: "CALL",
        date: "2025-10-20",
        subject: "Rückfrage zur Rechnung RE-2025-0815",
        text: "Ratenzahlung gewünscht, nicht möglich; Kundin informiert.",
    },
    Activity {
        id: "a-503",
        contact: "c-1001",
        kind: "NOTE",
        date: "2026-01-10",
        subject: "Telefonwerbung widerrufen",
        text: "Keine Anrufe mehr zu Angeboten; Katalog per Post weiter erwünscht.",
    },
    Activity {
        id: "a-601",
        contact: "c-1002",
        kind: "TICKET",
        date: "2025-11-15",
        subject: "Stehleuchte Aalto beschädigt",
        text: "Glasschirm gesprungen; Ersatz zugesagt, Abholung des Altgeräts am 20.11.",
    },
    Activity {
        id: "a-602",
        contact: "c-1002",
        kind: "CALL",
        date: "2025-11-20",
        subject: "Newsletter abbestellt",
        text: "Kunde möchte keine Werbe-E-Mails mehr; Prospekte per Post sind in Ordnung.",
    },
    Activity {
        id: "a-603",
        contact: "c-1002",
        kind: "NOTE",
        date: "2025-12-01",
        subject: "Zufriedenheitsumfrage",
        text: "Bewertung 4 von 5: schnelle Lieferung, Ersatzteil kam spät.",
    },
];

/// An answer of the demo CRM: HTTP status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct CrmAnswer {
    /// HTTP status code.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

impl CrmAnswer {
    fn ok(body: Value) -> Self {
        Self { status: 200, body }
    }

    fn error(status: u16, code: &str, message: &str) -> Self {
        Self {
            status,
            body: json!({"error": {"code": code, "message": message}}),
        }
    }
}

/// The demo CRM of one server process, with the bearer token it accepts.
#[derive(Clone)]
pub struct DemoCrm {
    token: String,
}

impl std::fmt::Debug for DemoCrm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoCrm").finish_non_exhaustive()
    }
}

impl Default for DemoCrm {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether two strings are equal, in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

impl DemoCrm {
    /// A CRM with a fresh random token (32 characters).
    pub fn new() -> Self {
        let token: String = rand::rng()
            .sample_iter(&Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        Self {
            token: format!("democrm_{token}"),
        }
    }

    /// The bearer token it accepts (goes into the demo source's write-only `token`).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Answers `GET {DEMO_CRM_PATH}/{resource}` with the given `Authorization`
    /// header and query parameters.
    pub fn answer(
        &self,
        resource: &str,
        authorization: Option<&str>,
        query: &[(String, String)],
    ) -> CrmAnswer {
        let authorized = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .is_some_and(|t| same_secret(t.trim(), &self.token));
        if !authorized {
            return CrmAnswer::error(401, "UNAUTHORIZED", "a valid bearer token is required");
        }
        let param = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(email) = param("email").map(str::trim).filter(|e| !e.is_empty()) else {
            return CrmAnswer::error(
                400,
                "BAD_REQUEST",
                "the query parameter `email` is required",
            );
        };
        if email.chars().count() > MAX_EMAIL_CHARS {
            return CrmAnswer::error(400, "BAD_REQUEST", "`email` is too long");
        }
        let contact = CONTACTS
            .iter()
            .find(|c| c.email.eq_ignore_ascii_case(email));
        match resource {
            "contacts" => CrmAnswer::ok(
                json!({"data": contact.map(contact_json).into_iter().collect::<Vec<_>>()}),
            ),
            "activities" => {
                let page = match param("page").map(str::parse::<usize>) {
                    None => 1,
                    Some(Ok(n)) if (1..=10_000).contains(&n) => n,
                    Some(_) => {
                        return CrmAnswer::error(
                            400,
                            "BAD_REQUEST",
                            "`page` must be a number from 1",
                        );
                    }
                };
                let all: Vec<&Activity> = contact
                    .map(|c| ACTIVITIES.iter().filter(|a| a.contact == c.id).collect())
                    .unwrap_or_default();
                let start = (page - 1) * PAGE_SIZE;
                let data: Vec<Value> = all
                    .iter()
                    .skip(start)
                    .take(PAGE_SIZE)
                    .map(|a| activity_json(a))
                    .collect();
                let next = (all.len() > start + PAGE_SIZE).then(|| {
                    let mut url = url::Url::parse("http://crm.invalid/").expect("valid");
                    url.set_path(&format!("{DEMO_CRM_PATH}/activities"));
                    url.query_pairs_mut()
                        .append_pair("email", email)
                        .append_pair("page", &(page + 1).to_string());
                    // A link relative to the server: the path and query only.
                    format!("{}?{}", url.path(), url.query().unwrap_or_default())
                });
                CrmAnswer::ok(json!({"data": data, "page": page, "links": {"next": next}}))
            }
            _ => CrmAnswer::error(404, "NOT_FOUND", "no such resource"),
        }
    }
}

fn contact_json(c: &Contact) -> Value {
    json!({
        "id": c.id,
        "email": c.email,
        "firstName": c.first_name,
        "lastName": c.last_name,
        "phone": c.phone,
        "customerNumber": c.customer_number,
        "segment": c.segment,
        "marketing": {
            "email": c.marketing.0,
            "phone": c.marketing.1,
            "post": c.marketing.2,
            "updatedAt": c.marketing_updated,
        },
    })
}

fn activity_json(a: &Activity) -> Value {
    json!({"id": a.id, "type": a.kind, "date": a.date, "subject": a.subject, "text": a.text})
}

/// The configuration of the demo's CRM source: searched by e-mail address (the
/// contact, and the activities page by page), `baseUrl` the CRM of the server at
/// `server` (e.g. `http://127.0.0.1:8080`), authenticated with `token`.
pub fn source_config(server: &str, token: &str) -> Value {
    let page = json!({"type": "object", "required": ["data"],
        "properties": {"data": {"type": "array", "items": {"type": "object", "required": ["id"]}}}});
    json!({
        "baseUrl": format!("{}{DEMO_CRM_PATH}", server.trim_end_matches('/')),
        "auth": "bearer",
        "token": token,
        "timeoutSeconds": 10,
        "retries": 2,
        "search": [
            {"identityType": "EMAIL", "name": "contacts", "path": "/contacts",
             "query": {"email": "{value}"}, "records": "$.data[*]", "idProperty": "$.id",
             "responseSchema": page},
            {"identityType": "EMAIL", "name": "activities", "path": "/activities",
             "query": {"email": "{value}"}, "records": "$.data[*]", "idProperty": "$.id",
             "pagination": {"kind": "next", "next": "$.links.next", "maxPages": 20},
             "responseSchema": page},
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_token_is_checked() {
        let crm = DemoCrm::new();
        let query = q(&[("email", "max.mustermann@example.org")]);
        for bad in [
            None,
            Some("Bearer wrong"),
            Some(crm.token()),
            Some("Basic x"),
        ] {
            assert_eq!(crm.answer("contacts", bad, &query).status, 401, "{bad:?}");
        }
        let auth = format!("Bearer {}", crm.token());
        let found = crm.answer("contacts", Some(&auth), &query);
        assert_eq!(found.status, 200);
        assert_eq!(found.body["data"][0]["customerNumber"], "K-100002");
        assert_ne!(DemoCrm::new().token(), crm.token());
    }

    #[test]
    fn activities_come_in_pages_with_a_next_link() {
        let crm = DemoCrm::new();
        let auth = format!("Bearer {}", crm.token());
        let first = crm.answer(
            "activities",
            Some(&auth),
            &q(&[("email", "Max.Mustermann@example.org")]),
        );
        assert_eq!(first.body["data"].as_array().unwrap().len(), PAGE_SIZE);
        let next = first.body["links"]["next"].as_str().unwrap();
        assert_eq!(
            next,
            "/demo/crm/activities?email=Max.Mustermann%40example.org&page=2"
        );
        let second = crm.answer(
            "activities",
            Some(&auth),
            &q(&[("email", "max.mustermann@example.org"), ("page", "2")]),
        );
        assert_eq!(second.body["data"].as_array().unwrap().len(), 1);
        assert!(second.body["links"]["next"].is_null());
        let nobody = crm.answer("activities", Some(&auth), &q(&[("email", "x@y.z")]));
        assert_eq!(nobody.body["data"], json!([]));
    }

    #[test]
    fn bad_input_gets_a_client_error() {
        let crm = DemoCrm::new();
        let auth = format!("Bearer {}", crm.token());
        let long = "a".repeat(400);
        for (resource, query) in [
            ("contacts", q(&[])),
            ("contacts", q(&[("email", " ")])),
            ("contacts", q(&[("email", &long)])),
            ("activities", q(&[("email", "a@b.c"), ("page", "0")])),
            ("activities", q(&[("email", "a@b.c"), ("page", "x")])),
        ] {
            assert_eq!(
                crm.answer(resource, Some(&auth), &query).status,
                400,
                "{resource} {query:?}"
            );
        }
        assert_eq!(
            crm.answer("orders", Some(&auth), &q(&[("email", "a@b.c")]))
                .status,
            404
        );
    }
}
