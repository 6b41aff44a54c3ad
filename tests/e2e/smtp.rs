//! A real SMTP server for tests, listening on 127.0.0.1 on a random port. The
//! `mailin` crate speaks the protocol (greeting, EHLO, AUTH PLAIN, MAIL, RCPT, DATA
//! with dot-unstuffing, QUIT); this module only moves lines between it and the
//! socket and keeps what was received.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use mailin::{Action, Handler, Response, SessionBuilder, response};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message as the server received it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// The envelope sender (MAIL FROM).
    pub from: String,
    /// The envelope recipients (RCPT TO).
    pub to: Vec<String>,
    /// The message as sent (headers and body).
    pub data: Vec<u8>,
}

impl Received {
    /// The message, parsed.
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parseable message")
    }
}

/// The running server.
pub struct SmtpServer {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

#[derive(Clone)]
struct Collect {
    credentials: Option<(String, String)>,
    /// Recipients refused with 550 (no such mailbox).
    refused: Vec<String>,
    received: Arc<Mutex<Vec<Received>>>,
    current: Received,
}

impl Handler for Collect {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, from: &str) -> Response {
        self.current = Received {
            from: from.to_owned(),
            ..Default::default()
        };
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.refused.iter().any(|r| r == to) {
            return response::NO_MAILBOX;
        }
        self.current.to.push(to.to_owned());
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.received
            .lock()
            .unwrap()
            .push(std::mem::take(&mut self.current));
        response::OK
    }

    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        match &self.credentials {
            Some((u, p)) if u == user && p == password => response::AUTH_OK,
            _ => response::INVALID_CREDENTIALS,
        }
    }
}

impl SmtpServer {
    /// Starts a server; with `credentials`, it offers AUTH PLAIN and accepts only
    /// those (a server without them accepts anyone, like a local relay).
    pub async fn start(credentials: Option<(&str, &str)>) -> Self {
        Self::start_refusing(credentials, &[]).await
    }

    /// [`SmtpServer::start`], refusing these recipients with 550 (no such mailbox).
    pub async fn start_refusing(credentials: Option<(&str, &str)>, refused: &[&str]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler = Collect {
            credentials: credentials.map(|(u, p)| (u.to_owned(), p.to_owned())),
            refused: refused.iter().map(|r| (*r).to_owned()).collect(),
            received: received.clone(),
            current: Received::default(),
        };
        let mut builder = SessionBuilder::new("smtp.test");
        if credentials.is_some() {
            // Plain-text AUTH without TLS: acceptable on loopback in a test only.
            builder
                .enable_auth(mailin::AuthMechanism::Plain)
                .insecure_enable_plaintext_auth();
        }
        tokio::spawn(async move {
            loop {
                let Ok((socket, peer)) = listener.accept().await else {
                    return;
                };
                let mut session = builder.build(peer.ip(), handler.clone());
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut reader = BufReader::new(read);
                    let greeting = session.greeting().buffer().unwrap();
                    if write.write_all(&greeting).await.is_err() {
                        return;
                    }
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        match reader.read_until(b'\n', &mut line).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        let reply = session.process(&line);
                        match reply.action {
                            Action::NoReply => {}
                            Action::Close => {
                                let _ = write.write_all(&reply.buffer().unwrap()).await;
                                return;
                            }
                            Action::Reply | Action::UpgradeTls => {
                                if write.write_all(&reply.buffer().unwrap()).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        });
        Self { addr, received }
    }

    /// `smtp://` URL of the server (with the credentials, if given).
    pub fn url(&self, credentials: Option<(&str, &str)>) -> String {
        match credentials {
            Some((u, p)) => format!("smtp://{u}:{p}@{}", self.addr),
            None => format!("smtp://{}", self.addr),
        }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}
