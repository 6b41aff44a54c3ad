//! GraphiQL on `GET /graphql`, served entirely from the binary: pinned production
//! builds of GraphiQL and React (`api/assets/graphiql/`, whose README names their
//! packages and checksums) under `GET /graphiql/{file}`, and a Content-Security-Policy
//! that lets the page load and connect to nothing but this server. Self-hosted
//! installations often cannot reach a public CDN, or may not by policy.

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{IntoResponse, Response, handler};

/// What the page may load and where it may connect: only this server. Styles and
/// fonts GraphiQL carries inline (`data:` fonts and images in its stylesheet);
/// scripts only from files, so the start-up code is `init.js`, not an inline script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; font-src 'self' data:; img-src 'self' data:; connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One file the page loads.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// The name carries the package version, so the file never changes under it.
    versioned: bool,
}

macro_rules! asset {
    ($name:literal, $type:expr, $versioned:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../assets/graphiql/", $name)),
            versioned: $versioned,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static ASSETS: [Asset; 5] = [
    asset!("react-18.3.1.production.min.js", JS, true),
    asset!("react-dom-18.3.1.production.min.js", JS, true),
    asset!("graphiql-4.1.2.min.js", JS, true),
    asset!("graphiql-4.1.2.min.css", CSS, true),
    asset!("init.js", JS, false),
];

/// The page. Asset paths are relative (`graphiql/…` beside `/graphql`), so the page
/// also works under a proxy's path prefix.
const PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Auskunft GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="graphiql/graphiql-4.1.2.min.css">
    <link rel="stylesheet" href="graphiql/page.css">
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script src="graphiql/react-18.3.1.production.min.js"></script>
    <script src="graphiql/react-dom-18.3.1.production.min.js"></script>
    <script src="graphiql/graphiql-4.1.2.min.js"></script>
    <script src="graphiql/init.js"></script>
  </body>
</html>
"#;

/// The page's own layout: GraphiQL fills the window.
const PAGE_CSS: &str = "html, body { height: 100%; margin: 0; overflow: hidden; }\n\
                        #graphiql { height: 100vh; }\n";

fn secured(response: poem::ResponseBuilder) -> poem::ResponseBuilder {
    response
        .header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
}

/// `GET /graphql`: the GraphiQL page.
#[handler]
pub async fn page() -> Response {
    secured(Response::builder())
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(PAGE)
}

/// `GET /graphiql/{file}`: one of the page's files, or 404.
#[handler]
pub async fn asset(Path(file): Path<String>) -> Response {
    if file == "page.css" {
        return secured(Response::builder())
            .content_type(CSS)
            .header(header::CACHE_CONTROL, "no-cache")
            .body(PAGE_CSS);
    }
    match ASSETS.iter().find(|a| a.name == file) {
        Some(asset) => secured(Response::builder())
            .content_type(asset.content_type)
            .header(
                header::CACHE_CONTROL,
                if asset.versioned {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                },
            )
            .body(asset.body),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file the page names is served, and the page names nothing elsewhere.
    #[test]
    fn the_page_loads_only_files_it_serves() {
        let mut named = Vec::new();
        for attr in ["src=\"", "href=\""] {
            for (i, _) in PAGE.match_indices(attr) {
                let rest = &PAGE[i + attr.len()..];
                named.push(&rest[..rest.find('"').unwrap()]);
            }
        }
        assert_eq!(named.len(), 7, "{named:?}");
        for url in named {
            if url == "data:," {
                continue;
            }
            let file = url.strip_prefix("graphiql/").expect(url);
            assert!(
                file == "page.css" || ASSETS.iter().any(|a| a.name == file),
                "{url} is not served"
            );
        }
        assert!(!PAGE.contains("http"), "the page names no other host");
        assert!(
            !PAGE.contains("<script>"),
            "no inline script: the CSP forbids it"
        );
    }

    /// React's production builds (their licence header names the build), not the
    /// development build the CDN page loaded.
    #[test]
    fn react_is_the_production_build() {
        for (name, build) in [
            ("react-18.3.1.production.min.js", "react.production.min.js"),
            (
                "react-dom-18.3.1.production.min.js",
                "react-dom.production.min.js",
            ),
        ] {
            let file = ASSETS.iter().find(|a| a.name == name).unwrap();
            let head = std::str::from_utf8(&file.body[..60]).unwrap();
            assert!(head.contains(&format!(" * {build}\n")), "{name}: {head}");
        }
    }
}
