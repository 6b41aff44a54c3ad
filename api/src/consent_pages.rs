//! The person's own consent pages: the double opt-in confirmation link and the
//! unsubscribe link. A GET only shows what the link is for, with a button; the
//! change happens on POST, so that mail scanners and link previews that follow
//! links cannot confirm or withdraw on the person's behalf. The unsubscribe POST is
//! also RFC 8058 one-click (`List-Unsubscribe=One-Click`). Pages are German and
//! English, rendered with auto-escaping, and allow no script.

use std::sync::LazyLock;

use poem::http::{StatusCode, header};
use poem::web::{Data, Path, RemoteAddr};
use poem::{Request, Response, handler};
use workflow::ErrorCode;
use workflow::consent::{Evidence, LinkOutcome};

use crate::server::AppState;

const PAGE: &str = r#"<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; color: #1a1a1a; }
button { font-size: 1rem; padding: .6rem 1.2rem; border-radius: .3rem; border: 1px solid #444; background: #f4f4f4; cursor: pointer; }
.en { color: #555; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p>{{ de }}</p>
<p class="en" lang="en">{{ en }}</p>
{% if button %}<form method="post"><button type="submit">{{ button }}</button></form>{% endif %}
</body>
</html>
"#;

static TEMPLATES: LazyLock<minijinja::Environment<'static>> = LazyLock::new(|| {
    let mut env = minijinja::Environment::new();
    env.add_template("page.html", PAGE)
        .expect("the consent page template parses");
    env
});

/// One page; `button` adds the form that POSTs to the same address.
fn page(status: StatusCode, title: &str, de: &str, en: &str, button: Option<&str>) -> Response {
    let html = TEMPLATES
        .get_template("page.html")
        .and_then(|t| {
            t.render(minijinja::context! { title => title, de => de, en => en, button => button })
        })
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "consent page failed to render");
            "<!doctype html><title>Error</title>".to_owned()
        });
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        )
        .header("Referrer-Policy", "no-referrer")
        .header("X-Content-Type-Options", "nosniff")
        .body(html)
}

/// The page of a failed link.
fn error_page(e: &workflow::Error) -> Response {
    match e.code() {
        ErrorCode::NotFound => page(
            StatusCode::NOT_FOUND,
            "Link unbekannt / Unknown link",
            "Dieser Link ist unbekannt oder nicht mehr gültig.",
            "This link is unknown or no longer valid.",
            None,
        ),
        ErrorCode::Conflict => page(
            StatusCode::GONE,
            "Link abgelaufen / Link expired",
            "Dieser Bestätigungslink ist abgelaufen. Bitte melden Sie sich erneut an.",
            "This confirmation link has expired. Please sign up again.",
            None,
        ),
        ErrorCode::Validation => page(
            StatusCode::BAD_REQUEST,
            "Ungültige Anfrage / Bad request",
            "Die Anfrage konnte nicht gelesen werden.",
            "The request could not be read.",
            None,
        ),
        _ => {
            tracing::error!(error = %e, "consent link failed");
            page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Fehler / Error",
                "Das hat nicht geklappt. Bitte versuchen Sie es später noch einmal.",
                "That did not work. Please try again later.",
                None,
            )
        }
    }
}

/// The IP address and user agent of the person's request, as evidence.
fn evidence(req: &Request, remote: &RemoteAddr) -> Evidence {
    Evidence {
        ip: remote.as_socket_addr().map(|a| a.ip().to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().filter(|c| !c.is_control()).take(500).collect()),
        ..Default::default()
    }
}

fn names(outcome: &LinkOutcome) -> (&str, &str) {
    match outcome {
        LinkOutcome::Confirmed {
            purpose,
            organization,
        }
        | LinkOutcome::Withdrawn {
            purpose,
            organization,
        } => (purpose, organization),
    }
}

/// `GET /consent/confirm/{token}`: what the person is about to confirm.
#[handler]
pub async fn confirm_page(Path(token): Path<String>, state: Data<&AppState>) -> Response {
    match state.workflow.confirm_preview(&token).await {
        Ok(outcome) => {
            let (purpose, org) = names(&outcome);
            page(
                StatusCode::OK,
                "Einwilligung bestätigen / Confirm your consent",
                &format!("Bitte bestätigen Sie Ihre Einwilligung gegenüber {org} für: {purpose}."),
                &format!("Please confirm your consent to {org} for: {purpose}."),
                Some("Bestätigen / Confirm"),
            )
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /consent/confirm/{token}`: the person confirms (double opt-in).
#[handler]
pub async fn confirm(
    req: &Request,
    remote: &RemoteAddr,
    Path(token): Path<String>,
    state: Data<&AppState>,
) -> Response {
    match state
        .workflow
        .confirm_consent(None, &token, evidence(req, remote))
        .await
    {
        Ok((_, outcome)) => {
            let (purpose, org) = names(&outcome);
            page(
                StatusCode::OK,
                "Danke / Thank you",
                &format!(
                    "Ihre Einwilligung gegenüber {org} für „{purpose}“ ist bestätigt. Sie können sie jederzeit widerrufen."
                ),
                &format!(
                    "Your consent to {org} for \"{purpose}\" is confirmed. You can withdraw it at any time."
                ),
                None,
            )
        }
        Err(e) => error_page(&e),
    }
}

/// `GET /consent/unsubscribe/{token}`: what the person is about to withdraw.
#[handler]
pub async fn unsubscribe_page(Path(token): Path<String>, state: Data<&AppState>) -> Response {
    match state.workflow.unsubscribe_preview(&token).await {
        Ok(outcome) => {
            let (purpose, org) = names(&outcome);
            page(
                StatusCode::OK,
                "Abmelden / Unsubscribe",
                &format!("Ihre Einwilligung gegenüber {org} für „{purpose}“ widerrufen?"),
                &format!("Withdraw your consent to {org} for \"{purpose}\"?"),
                Some("Widerrufen / Unsubscribe"),
            )
        }
        Err(e) => error_page(&e),
    }
}

/// `POST /consent/unsubscribe/{token}`: the person withdraws (the page's button, or
/// a mail client's RFC 8058 one-click POST).
#[handler]
pub async fn unsubscribe(
    req: &Request,
    remote: &RemoteAddr,
    Path(token): Path<String>,
    state: Data<&AppState>,
) -> Response {
    match state
        .workflow
        .unsubscribe(&token, evidence(req, remote))
        .await
    {
        Ok(outcome) => {
            let (purpose, org) = names(&outcome);
            page(
                StatusCode::OK,
                "Abgemeldet / Unsubscribed",
                &format!("Ihre Einwilligung gegenüber {org} für „{purpose}“ ist widerrufen."),
                &format!("Your consent to {org} for \"{purpose}\" is withdrawn."),
                None,
            )
        }
        Err(e) => error_page(&e),
    }
}
