//! GraphiQL in a real headless Chromium: the page renders from the server's own files
//! with no other host reachable, its header editor carries the Authorization
//! template, and a query run with an API key returns data.
//!
//! Chromium is driven over the DevTools protocol (JSON over a WebSocket on
//! 127.0.0.1). The browser is `AUSKUNFT_TEST_CHROMIUM` when set (`.ci/run` installs
//! Debian's chromium and sets it: there a missing browser fails the test), else
//! `chromium` where installed; without either the test says so and passes, like the
//! PostgreSQL and MariaDB tests without their URLs.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use workflow::Role;

use crate::common::{Backend, TestApp};

/// The browser to test with, or `None` (then the test is skipped).
fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("AUSKUNFT_TEST_CHROMIUM") {
        return Some(path.into());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A headless Chromium with a fresh profile, on a random DevTools port of 127.0.0.1;
/// killed when dropped. Every host name but 127.0.0.1 fails to resolve, and the
/// browser's own background traffic is off: the page gets no help from the internet.
struct Browser {
    child: std::process::Child,
    _profile: Profile,
    devtools_port: u16,
}

/// The browser's profile folder, removed when dropped (after the browser has been
/// stopped: fields drop after `Drop::drop`).
struct Profile(PathBuf);

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    async fn start(binary: &PathBuf) -> Self {
        let profile = Profile(std::env::temp_dir().join(format!(
            "auskunft-chromium-{}",
            uuid::Uuid::new_v4().simple()
        )));
        let mut child = std::process::Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        // "DevTools listening on ws://127.0.0.1:<port>/devtools/browser/<id>"; the
        // thread keeps reading the browser's output, so that a full pipe never
        // blocks it.
        let stderr = child.stderr.take().unwrap();
        let (found, port) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("ws://127.0.0.1:").nth(1)
                    && let Some(found) = found.take()
                {
                    let _ = found.send(rest.split('/').next().unwrap_or("").to_owned());
                }
            }
        });
        let mut browser = Self {
            child,
            _profile: profile,
            devtools_port: 0,
        };
        let port = tokio::time::timeout(Duration::from_secs(60), port)
            .await
            .expect("Chromium printed its DevTools address within a minute")
            .expect("Chromium ended without a DevTools address");
        browser.devtools_port = port.parse().unwrap();
        browser
    }

    /// The DevTools session of the browser's first page.
    async fn page(&self) -> Page {
        let targets: Value =
            reqwest::get(format!("http://127.0.0.1:{}/json/list", self.devtools_port))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        let url = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_owned();
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Page {
            ws,
            next_id: 0,
            events: Vec::new(),
        }
    }
}

/// One page's DevTools session: commands, and the events that arrived meanwhile.
struct Page {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    events: Vec<Value>,
}

impl Page {
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let command = json!({"id": id, "method": method, "params": params});
        self.ws
            .send(Message::text(command.to_string()))
            .await
            .unwrap();
        loop {
            let message = self.ws.next().await.expect("DevTools answered").unwrap();
            let Message::Text(text) = message else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["id"] == id {
                assert!(value["error"].is_null(), "{method}: {value}");
                return value["result"].clone();
            }
            self.events.push(value);
        }
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
            )
            .await;
        assert!(
            result["exceptionDetails"].is_null(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is neither null nor false, for up to a minute
    /// (a loaded CI machine); its value.
    async fn wait_for(&mut self, what: &str, expression: &str) -> Value {
        for _ in 0..600 {
            let value = self.eval(expression).await;
            if !value.is_null() && value != false {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let body = self.eval("document.body.innerHTML.slice(0, 2000)").await;
        panic!(
            "{what} never happened; events: {:?}; page: {body}",
            self.events
        );
    }

    fn events_named(&self, method: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["method"] == method)
            .map(|e| &e["params"])
            .collect()
    }
}

/// The CodeMirror editors of the page by their role: query, variables or headers.
const EDITOR: &str = "(role) => { \
    const wrap = document.querySelector({ \
        query: '.graphiql-query-editor .CodeMirror', \
        headers: '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror', \
        response: '.result-window .CodeMirror' }[role]); \
    return wrap && wrap.CodeMirror; }";

#[tokio::test]
async fn graphiql_renders_offline_and_runs_a_query_with_an_api_key() {
    let Some(binary) = chromium() else {
        eprintln!("skipped: no Chromium (install it or set AUSKUNFT_TEST_CHROMIUM)");
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let browser = Browser::start(&binary).await;
    let mut page = browser.page().await;
    page.call("Runtime.enable", json!({})).await;
    page.call("Network.enable", json!({})).await;
    page.call("Page.enable", json!({})).await;
    // Record the page's policy violations from its first moment (a script the
    // DevTools add runs before the page's own and is not subject to its CSP).
    page.call(
        "Page.addScriptToEvaluateOnNewDocument",
        json!({"source": "window.__violations = []; \
            document.addEventListener('securitypolicyviolation', \
              (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"}),
    )
    .await;
    page.call("Page.navigate", json!({"url": app.url("/graphql")}))
        .await;

    // It renders: GraphiQL's run button is there.
    page.wait_for(
        "GraphiQL rendering",
        "document.querySelector('.graphiql-execute-button') !== null",
    )
    .await;
    assert_eq!(
        page.eval("document.title").await,
        json!("Auskunft GraphiQL")
    );
    // The header editor is open and prefilled with the Authorization template.
    let headers = page
        .wait_for(
            "the header editor",
            &format!("(({EDITOR})('headers') || {{ getValue: () => null }}).getValue()"),
        )
        .await;
    let headers: Value = serde_json::from_str(headers.as_str().unwrap()).unwrap();
    assert_eq!(headers, json!({"Authorization": "Bearer <API key>"}));

    // The sample query the page opens with returns data once a key is put in, as
    // the README's tour does it.
    let query = page.eval(&format!("({EDITOR})('query').getValue()")).await;
    assert!(query.as_str().unwrap().contains("query Me"), "{query}");
    let key = app.key(Role::Admin);
    let header = json!({"Authorization": format!("Bearer {key}")}).to_string();
    page.eval(&format!(
        "({EDITOR})('headers').setValue({header:?}); \
         document.querySelector('.graphiql-execute-button').click(); true"
    ))
    .await;
    let response = page
        .wait_for(
            "a response",
            &format!(
                "(() => {{ const r = ({EDITOR})('response'); \
                 const v = r && r.getValue(); return v && v.includes('\"data\"') ? v : null; }})()"
            ),
        )
        .await;
    let response: Value = serde_json::from_str(response.as_str().unwrap()).unwrap();
    assert!(response["errors"].is_null(), "{response}");
    assert!(
        response["data"]["me"]["organization"]["name"].is_string(),
        "{response}"
    );
    assert_eq!(
        response["data"]["me"]["roles"],
        json!(["ADMIN"]),
        "{response}"
    );

    // Nothing was refused by the policy, nothing threw, and every request the page
    // made went to this server.
    assert_eq!(page.eval("window.__violations").await, json!([]));
    assert_eq!(
        page.events_named("Runtime.exceptionThrown"),
        Vec::<&Value>::new()
    );
    let origin = app.url("/");
    for request in page.events_named("Network.requestWillBeSent") {
        let url = request["request"]["url"].as_str().unwrap();
        assert!(
            url.starts_with(&origin) || url.starts_with("data:"),
            "the page requested {url}"
        );
    }
    let fetched: Vec<&str> = page
        .events_named("Network.requestWillBeSent")
        .iter()
        .filter_map(|r| r["request"]["url"].as_str())
        .collect();
    assert!(
        fetched
            .iter()
            .any(|u| u.ends_with("/graphiql/graphiql-4.1.2.min.js")),
        "{fetched:?}"
    );
}
