//! The HTTP server: `POST /graphql`, GraphiQL on `GET /graphql`, subscriptions on
//! `/graphql/ws` (graphql-transport-ws), `/healthz`, `/readyz`, `/metrics`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Data, ErrorExtensions};
use async_graphql_poem::GraphQLProtocol;
use poem::error::ReadBodyError;
use poem::http::{StatusCode, header};
use poem::listener::{Acceptor, AcceptorExt, Listener, TcpListener};
use poem::web::websocket::WebSocket;
use poem::{Body, EndpointExt, IntoResponse, Request, Response, Route, Server, get, handler};
use tracing::Instrument;
use workflow::{ErrorCode, Workflow};

use crate::graphql::{Executor, SchemaLimits};
use crate::permissions::Session;
use crate::throttle::{AuthLimits, AuthThrottle, Lockout};

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Depth and complexity of queries.
    pub schema: SchemaLimits,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Longest a request may run before it is cancelled (its transaction rolls back).
    pub request_timeout: Duration,
    /// Failed sign-ins tolerated per client address and per key prefix.
    pub auth: AuthLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            schema: SchemaLimits::default(),
            max_body_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            auth: AuthLimits::default(),
        }
    }
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free one.
    pub bind: String,
    /// When set, `/metrics` is served only on this address (so operators can keep it
    /// internal) and not on `bind`.
    pub metrics_bind: Option<String>,
    /// Request limits.
    pub limits: Limits,
    /// `serve --demo`: the demo CRM served at `/demo/crm/…` (for the demo's HTTP
    /// source); `None` serves no such path.
    pub demo_crm: Option<workflow::demo::crm::DemoCrm>,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) workflow: Workflow,
    executor: Executor,
    limits: Limits,
    throttle: Arc<AuthThrottle>,
}

/// A bound, not yet running server.
pub struct Application {
    acceptor: poem::listener::BoxAcceptor,
    addr: SocketAddr,
    app: poem::endpoint::BoxEndpoint<'static>,
    /// The separate `/metrics` listener, if configured.
    metrics: Option<(
        poem::listener::BoxAcceptor,
        SocketAddr,
        poem::endpoint::BoxEndpoint<'static>,
    )>,
}

async fn bind(address: &str) -> std::io::Result<(poem::listener::BoxAcceptor, SocketAddr)> {
    let acceptor = TcpListener::bind(address).into_acceptor().await?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .ok_or_else(|| std::io::Error::other("listener has no socket address"))?;
    Ok((acceptor.boxed(), addr))
}

impl Application {
    /// Binds the socket (so a port in use fails here) and builds the routes.
    pub async fn build(config: ServerConfig, workflow: Workflow) -> std::io::Result<Self> {
        let (acceptor, addr) = bind(&config.bind).await?;
        let state = AppState {
            executor: Executor::new(config.limits.schema),
            workflow,
            limits: config.limits,
            throttle: Arc::new(AuthThrottle::new(config.limits.auth)),
        };
        crate::metrics::handle();
        let mut routes = Route::new()
            .at("/graphql", get(crate::graphiql::page).post(graphql))
            .at("/graphiql/:file", get(crate::graphiql::asset))
            .at("/graphql/ws", get(graphql_ws))
            .at("/exports/:token", get(download_export))
            .at("/attachments/:token", get(download_attachment))
            .at("/answers/:token", get(download_answer))
            .at(
                "/download/:token",
                get(download_dispatched).head(no_head_for_downloads),
            )
            .at(
                "/consent/confirm/:token",
                get(crate::consent_pages::confirm_page).post(crate::consent_pages::confirm),
            )
            .at(
                "/consent/unsubscribe/:token",
                get(crate::consent_pages::unsubscribe_page).post(crate::consent_pages::unsubscribe),
            )
            .at("/healthz", get(healthz))
            .at("/readyz", get(readyz));
        if let Some(crm) = &config.demo_crm {
            routes = routes.at(
                format!("{}/:resource", workflow::demo::crm::DEMO_CRM_PATH),
                get(demo_crm).data(crm.clone()),
            );
        }
        let metrics_listener = match &config.metrics_bind {
            None => {
                routes = routes.at("/metrics", get(metrics));
                None
            }
            Some(address) => {
                let (acceptor, addr) = bind(address).await.map_err(|e| {
                    std::io::Error::new(e.kind(), format!("the metrics address {address}: {e}"))
                })?;
                let endpoint = Route::new()
                    .at("/metrics", get(metrics))
                    .data(state.clone())
                    .map_to_response()
                    .boxed();
                Some((acceptor, addr, endpoint))
            }
        };
        let app = routes.data(state).map_to_response().boxed();
        Ok(Self {
            acceptor,
            addr,
            app,
            metrics: metrics_listener,
        })
    }

    /// The address of the separate `/metrics` listener, if one is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, addr, _)| *addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then drains for up to 10 s.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> std::io::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let signal = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let main = Server::new_with_acceptor(self.acceptor).run_with_graceful_shutdown(
            self.app,
            signal(stopped.clone()),
            Some(Duration::from_secs(10)),
        );
        let metrics_server = async {
            match self.metrics {
                Some((acceptor, _, endpoint)) => {
                    Server::new_with_acceptor(acceptor)
                        .run_with_graceful_shutdown(
                            endpoint,
                            signal(stopped.clone()),
                            Some(Duration::from_secs(10)),
                        )
                        .await
                }
                None => Ok(()),
            }
        };
        let servers = async {
            let (main, side) = tokio::join!(main, metrics_server);
            main.and(side)
        };
        tokio::pin!(servers);
        tokio::select! {
            result = &mut servers => return result,
            () = shutdown => {
                let _ = stop.send(true);
            }
        }
        servers.await
    }

    /// Serves until the process is stopped.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(std::future::pending()).await
    }
}

fn error_body(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": message, "extensions": { "code": code.as_str() } }],
    });
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// `scheme://host` of the request (behind a proxy: `X-Forwarded-Proto`, `http` or
/// `https` only). The host is the `Host` header alone: `X-Forwarded-Host` is not
/// trusted, since any caller can send it and the links built from the origin go to
/// people by mail. Production sets `public_url`, and then the origin is not used.
fn origin(req: &Request) -> crate::graphql::RequestOrigin {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let host = header(header::HOST.as_str());
    let scheme = match header("x-forwarded-proto").as_deref() {
        Some("https") => "https",
        _ => "http",
    };
    crate::graphql::RequestOrigin(
        host.filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .map(|h| format!("{scheme}://{h}")),
    )
}

/// `GET /demo/crm/{resource}` (only with `serve --demo`): the demo CRM's answer.
#[handler]
fn demo_crm(
    req: &Request,
    poem::web::Path(resource): poem::web::Path<String>,
    poem::web::Query(query): poem::web::Query<Vec<(String, String)>>,
    crm: poem::web::Data<&workflow::demo::crm::DemoCrm>,
) -> Response {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let answer = crm.answer(&resource, authorization, &query);
    Response::builder()
        .status(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .content_type("application/json")
        .body(answer.body.to_string())
}

/// `GET /exports/{token}`: the register export a `registerExport` link stands for.
#[handler]
async fn download_export(
    poem::web::Path(token): poem::web::Path<String>,
    state: poem::web::Data<&AppState>,
) -> Response {
    file_response(
        state
            .workflow
            .redeem_export_link(&token)
            .await
            .map(|f| (f.content_type.to_owned(), f.filename, f.bytes)),
    )
}

/// `GET /attachments/{token}`: the request attachment a `downloadUrl` stands for.
#[handler]
async fn download_attachment(
    poem::web::Path(token): poem::web::Path<String>,
    state: poem::web::Data<&AppState>,
) -> Response {
    file_response(
        state
            .workflow
            .redeem_attachment_link(&token)
            .await
            .map(|f| (f.media_type, f.file_name, f.bytes)),
    )
}

/// `GET /answers/{token}`: the frozen answer package an `answerPackage.downloadUrl`
/// stands for (a ZIP; its SHA-256 is the package's digest).
#[handler]
async fn download_answer(
    poem::web::Path(token): poem::web::Path<String>,
    state: poem::web::Data<&AppState>,
) -> Response {
    file_response(
        state
            .workflow
            .redeem_answer_package_link(&token)
            .await
            .map(|f| ("application/zip".to_owned(), f.file_name, f.bytes)),
    )
}

/// `GET /download/{token}`: the subject's link to a dispatched answer package (sent
/// by e-mail or shown in the portal). Expired, used-up and withdrawn links are 410.
#[handler]
async fn download_dispatched(
    poem::web::Path(token): poem::web::Path<String>,
    state: poem::web::Data<&AppState>,
) -> Response {
    file_response(
        state
            .workflow
            .download_answer(&token)
            .await
            .map(|f| ("application/zip".to_owned(), f.file_name, f.bytes)),
    )
}

/// `HEAD /download/{token}`: refused, so that link checkers and mail scanners do not
/// use up a counted download (poem would otherwise answer HEAD with the GET handler).
#[handler]
fn no_head_for_downloads() -> Response {
    Response::builder()
        .status(StatusCode::METHOD_NOT_ALLOWED)
        .header(header::ALLOW, "GET")
        .finish()
}

/// A download: the file, or a JSON error with the matching HTTP status.
fn file_response(file: workflow::Result<(String, String, Vec<u8>)>) -> Response {
    match file {
        Ok((content_type, filename, bytes)) => {
            let filename: String = filename
                .chars()
                .map(|c| {
                    if c.is_ascii_graphic() && c != '"' && c != '\\' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            Response::builder()
                .status(StatusCode::OK)
                .content_type(content_type)
                .header(
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{filename}\""),
                )
                .header(header::CACHE_CONTROL, "no-store")
                .header("X-Content-Type-Options", "nosniff")
                .body(bytes)
        }
        Err(e) => {
            let code = e.code();
            let status = match code {
                ErrorCode::NotFound => StatusCode::NOT_FOUND,
                ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
                ErrorCode::Forbidden => StatusCode::FORBIDDEN,
                // A link that was good once: expired, used up or withdrawn.
                ErrorCode::Conflict => StatusCode::GONE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                tracing::error!(error = %e, "download failed");
                return error_body(
                    status,
                    ErrorCode::Internal,
                    "the download failed; see the server log",
                );
            }
            error_body(status, code, &e.to_string())
        }
    }
}

fn bearer(req: &Request) -> Option<&str> {
    bearer_token(req.headers().get(header::AUTHORIZATION)?.to_str().ok()?)
}

/// The key of an `Authorization` value `Bearer <key>` (scheme case-insensitive).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The client's address (the TCP peer; no proxy header is trusted for this).
fn client_ip(req: &Request) -> IpAddr {
    req.remote_addr()
        .as_socket_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// Why a presented credential was not accepted.
enum Refusal {
    /// Not `Bearer <key>`, or an unknown or revoked key.
    Unauthenticated(String),
    /// Too many failures from this client or for this key.
    RateLimited(Duration),
    /// The lookup itself failed.
    Internal(workflow::Error),
}

impl Refusal {
    fn into_graphql_error(self) -> async_graphql::Error {
        match self {
            Refusal::Unauthenticated(message) => async_graphql::Error::new(message)
                .extend_with(|_, e| e.set("code", ErrorCode::Unauthenticated.as_str())),
            Refusal::RateLimited(wait) => async_graphql::Error::new(rate_limited_message(wait))
                .extend_with(|_, e| {
                    e.set("code", ErrorCode::RateLimited.as_str());
                    e.set("retryAfterSeconds", retry_after_secs(wait));
                }),
            Refusal::Internal(e) => async_graphql::Error::from(crate::error::ApiError::from(e)),
        }
    }

    fn into_response(self) -> Response {
        match self {
            Refusal::Unauthenticated(message) => error_body(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthenticated,
                &message,
            ),
            Refusal::RateLimited(wait) => {
                let mut response = poem::web::Json(async_graphql::Response::from_errors(vec![
                    crate::error::request_level(Refusal::RateLimited(wait).into_graphql_error()),
                ]))
                .with_status(StatusCode::TOO_MANY_REQUESTS)
                .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, retry_after_secs(wait).into());
                response
            }
            internal @ Refusal::Internal(_) => {
                poem::web::Json(async_graphql::Response::from_errors(vec![
                    crate::error::request_level(internal.into_graphql_error()),
                ]))
                .with_status(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response()
            }
        }
    }
}

fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

fn rate_limited_message(wait: Duration) -> String {
    format!(
        "too many failed sign-ins from this address or with this key; retry in {} s",
        retry_after_secs(wait)
    )
}

/// Resolves a presented API key (`None`: the credential was not `Bearer <key>`),
/// counting failures against the client address and the key's prefix.
/// The caller of a bearer credential, and when it expires (a person's token).
type Caller = (workflow::Principal, Option<chrono::DateTime<chrono::Utc>>);

async fn authenticate(
    state: &AppState,
    client: IpAddr,
    token: Option<&str>,
) -> Result<Caller, Refusal> {
    let prefix = token.and_then(workflow::access::api_keys::key_prefix);
    state
        .throttle
        .admit(client, prefix)
        .map_err(Refusal::RateLimited)?;
    let failure = match token {
        None => Refusal::Unauthenticated(
            "malformed Authorization header: expected `Bearer <API key or token>`".into(),
        ),
        Some(token) => match state.workflow.authenticate_bearer(token).await {
            Ok(principal) => return Ok(principal),
            Err(e) if e.code() == ErrorCode::Unauthenticated => {
                Refusal::Unauthenticated(e.to_string())
            }
            Err(e) => return Err(Refusal::Internal(e)),
        },
    };
    let tripped = state.throttle.failed(client, prefix);
    let Some(longest) = tripped.iter().map(|t| t.retry_after).max() else {
        return Err(failure);
    };
    for lockout in tripped {
        ::metrics::counter!("auskunft_auth_lockouts_total").increment(1);
        match lockout.who {
            Lockout::Client(ip) => tracing::warn!(
                client = %ip,
                retry_after_s = lockout.retry_after.as_secs(),
                "sign-ins from this address locked out after repeated failures"
            ),
            Lockout::Key(prefix) => {
                tracing::warn!(
                    key_prefix = %prefix,
                    client = %client,
                    retry_after_s = lockout.retry_after.as_secs(),
                    "sign-ins with this key locked out after repeated failures"
                );
                if let Err(e) = state
                    .workflow
                    .record_lockout(&prefix, &client.to_string())
                    .await
                {
                    tracing::error!(error = %e, "could not audit a sign-in lockout");
                }
            }
        }
    }
    Err(Refusal::RateLimited(longest))
}

#[handler]
async fn graphql(req: &Request, body: Body, state: poem::web::Data<&AppState>) -> Response {
    let started = Instant::now();
    let principal = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(_) => match authenticate(&state, client_ip(req), bearer(req)).await {
            Ok((p, _)) => Some(p),
            Err(refusal) => return refusal.into_response(),
        },
    };
    let bytes = match body.into_bytes_limit(state.limits.max_body_bytes).await {
        Ok(b) => b,
        Err(ReadBodyError::PayloadTooLarge) => {
            return error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::Validation,
                &format!("request body exceeds {} bytes", state.limits.max_body_bytes),
            );
        }
        Err(e) => {
            return error_body(
                StatusCode::BAD_REQUEST,
                ErrorCode::Validation,
                &e.to_string(),
            );
        }
    };
    let request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return error_body(
                StatusCode::BAD_REQUEST,
                ErrorCode::Validation,
                &format!(
                    "body is not a GraphQL request (JSON with `query`, `variables`, `operationName`): {e}"
                ),
            );
        }
    };
    let operation = request
        .operation_name
        .clone()
        .unwrap_or_else(|| "anonymous".into());
    let principal_id = principal
        .as_ref()
        .map(|p| p.key_id.to_string())
        .unwrap_or_default();
    let span = tracing::info_span!("graphql", operation = %operation, principal = %principal_id);
    let session = Session::for_request(state.workflow.clone(), principal.clone());
    let origin = origin(req);
    let execution = state
        .executor
        .execute(request, session, |request| {
            request
                .data(crate::graphql::loaders::Loaders::new(
                    state.workflow.clone(),
                    principal.clone(),
                    true,
                ))
                .data(origin.clone())
        })
        .instrument(span);
    let response = match tokio::time::timeout(state.limits.request_timeout, execution).await {
        Ok((response, authorized)) => {
            crate::metrics::record_authorization(authorized);
            response
        }
        Err(_) => {
            ::metrics::counter!("auskunft_graphql_timeouts_total").increment(1);
            async_graphql::Response::from_errors(vec![crate::error::request_level(
                async_graphql::Error::new(format!(
                    "the request took longer than {} s and was cancelled; nothing was changed",
                    state.limits.request_timeout.as_secs()
                ))
                .extend_with(|_, e| e.set("code", ErrorCode::Internal.as_str())),
            )])
        }
    };
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    crate::metrics::record_request(&operation, outcome, started.elapsed());
    poem::web::Json(response).into_response()
}

/// Close code for a connection whose key was revoked or whose roles changed
/// (graphql-transport-ws uses 4403 for "Forbidden").
const CLOSE_FORBIDDEN: u16 = 4403;

/// Close code for a connection whose sign-in token expired (graphql-transport-ws
/// uses 4401 for "Unauthorized").
const CLOSE_UNAUTHENTICATED: u16 = 4401;

#[handler]
async fn graphql_ws(
    req: &Request,
    protocol: GraphQLProtocol,
    websocket: WebSocket,
    state: poem::web::Data<&AppState>,
) -> impl IntoResponse {
    let state = state.clone();
    let client = client_ip(req);
    let max_message = state.limits.max_body_bytes;
    websocket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .config(
            poem::web::websocket::WebSocketConfig::default()
                .max_message_size(Some(max_message))
                .max_frame_size(Some(max_message)),
        )
        .on_upgrade(move |socket| serve_ws(socket, protocol, state, client))
}

/// Who signed in on a connection, with the roles the key held then.
type SignedIn = (workflow::Principal, Vec<workflow::Role>);

/// Serves one graphql-transport-ws connection. The API key or person's token presented
/// at `connection_init` is re-checked whenever the policy changes: once the key is
/// revoked, the person deactivated or the roles change, the connection is closed with
/// [`CLOSE_FORBIDDEN`] instead of living on. A person's connection is closed with
/// [`CLOSE_UNAUTHENTICATED`] when their token expires.
async fn serve_ws(
    socket: poem::web::websocket::WebSocketStream,
    protocol: GraphQLProtocol,
    state: AppState,
    client: IpAddr,
) {
    use futures_util::{SinkExt, StreamExt};
    use poem::web::websocket::Message;

    let signed_in: Arc<std::sync::Mutex<Option<SignedIn>>> = Arc::default();
    let mut revisions = state.workflow.authz().watch_revision();
    let (sink, stream) = socket.split();
    let stream = stream
        .take_while(|m| std::future::ready(m.is_ok()))
        .filter_map(|m| {
            std::future::ready(
                m.ok()
                    .filter(|m| m.is_text() || m.is_binary())
                    .map(Message::into_bytes),
            )
        });
    let init_state = state.clone();
    let init_signed_in = signed_in.clone();
    // A person's token expires: the connection ends then (API keys do not expire).
    let (init_expiry, mut expiry) = tokio::sync::watch::channel(None);
    let messages = async_graphql::http::WebSocket::new(state.executor.schema().clone(), stream, protocol.0)
        .on_connection_init(move |payload| async move {
            let state = init_state;
            let header = ["Authorization", "authorization"]
                .iter()
                .find_map(|k| payload.get(*k).and_then(|v| v.as_str()));
            let Some(header) = header else {
                return Err(Refusal::Unauthenticated(
                    "connection_init needs a payload {\"Authorization\": \"Bearer <API key or token>\"}"
                        .into(),
                )
                .into_graphql_error());
            };
            // Clients send `Bearer <key>` or the bare key.
            let token = bearer_token(header).unwrap_or(header.trim());
            let (principal, expires) = authenticate(&state, client, Some(token))
                .await
                .map_err(Refusal::into_graphql_error)?;
            let roles = state
                .workflow
                .authz()
                .roles_of(principal.key_id, principal.org_id)
                .await;
            *init_signed_in
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                Some((principal.clone(), roles));
            if let Some(expires) = expires {
                let _ = init_expiry.send(Some(expires));
            }
            let mut data = Data::default();
            data.insert(crate::graphql::loaders::Loaders::new(
                state.workflow.clone(),
                Some(principal.clone()),
                false,
            ));
            data.insert(Session::for_connection(
                state.workflow.clone(),
                Some(principal),
            ));
            Ok(data)
        })
        .map(|msg| match msg {
            async_graphql::http::WsMessage::Text(text) => Message::text(text),
            async_graphql::http::WsMessage::Close(code, reason) => {
                Message::close_with(code, reason)
            }
        });
    futures_util::pin_mut!(messages, sink);
    let mut watching = true;
    let mut expiry_known = true;
    loop {
        let expires = *expiry.borrow();
        let until_expiry =
            expires.map(|at| (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO));
        tokio::select! {
            () = async {
                match until_expiry {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            } => {
                tracing::info!("closing a WebSocket: the sign-in token expired");
                let _ = sink
                    .send(Message::close_with(CLOSE_UNAUTHENTICATED, "the token expired; sign in again"))
                    .await;
                break;
            }
            changed = expiry.changed(), if expiry_known => {
                if changed.is_err() {
                    expiry_known = false;
                }
            }
            msg = messages.next() => match msg {
                Some(msg) => {
                    if sink.send(msg).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            changed = revisions.changed(), if watching => {
                if changed.is_err() {
                    watching = false; // the policy is no longer reloaded: nothing to watch
                    continue;
                }
                let current = signed_in
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .clone();
                let Some((principal, roles)) = current else { continue };
                match state.workflow.principal_unchanged(&principal, &roles).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::info!(key = %principal.key_id, "closing a WebSocket: key revoked or roles changed");
                        let _ = sink
                            .send(Message::close_with(
                                CLOSE_FORBIDDEN,
                                "the API key was revoked, the person deactivated, or the roles changed; sign in again",
                            ))
                            .await;
                        break;
                    }
                    Err(e) => tracing::warn!(error = %e, "could not re-check a WebSocket's key"),
                }
            }
        }
    }
}

#[handler]
async fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(state: poem::web::Data<&AppState>) -> Response {
    match state.workflow.store().ping().await {
        Ok(()) => "ready".into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .body("database unreachable")
        }
    }
}

#[handler]
async fn metrics(state: poem::web::Data<&AppState>) -> Response {
    let (open, idle) = state.workflow.store().pool_stats();
    crate::metrics::record_pool(open, idle);
    match state.workflow.request_gauges().await {
        Ok(gauges) => crate::metrics::record_requests(&gauges),
        Err(e) => tracing::warn!(error = %e, "request gauges unavailable"),
    }
    Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(crate::metrics::render())
}
