//! Layered configuration: command-line flags > `AUSKUNFT_*` environment > optional
//! TOML file (`--config`) > defaults. clap handles the first two layers (each flag
//! has an `env`), this module merges in the file and the defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Deserialize;

/// Default database: a SQLite file in the working directory, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://auskunft.db?mode=rwc";
/// Default listen address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// Flags every command takes.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "AUSKUNFT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://FILE?mode=rwc, postgres://USER@HOST/DB or mysql://USER@HOST/DB
    /// [default: sqlite://auskunft.db?mode=rwc]
    #[arg(long, global = true, env = "AUSKUNFT_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Key for data at rest (connector secrets, collected data): 32 bytes, base64
    /// [default: read from, or created in, ./auskunft.key]
    #[arg(
        long,
        global = true,
        env = "AUSKUNFT_ENCRYPTION_KEY",
        value_name = "BASE64",
        hide_env_values = true
    )]
    pub encryption_key: Option<String>,
    /// Directory SQLite data sources must lie in; relative source paths are read from
    /// it [default: ./sources].
    #[arg(
        long,
        global = true,
        env = "AUSKUNFT_SQLITE_SOURCES_DIR",
        value_name = "DIR"
    )]
    pub sqlite_sources_dir: Option<PathBuf>,
    /// Hosts PostgreSQL, MySQL and HTTP data sources may connect to, comma-separated
    /// (`*.example.com` for the subdomains of a domain) [default: any host].
    #[arg(
        long,
        global = true,
        env = "AUSKUNFT_SOURCES_ALLOWED_HOSTS",
        value_name = "HOSTS",
        value_delimiter = ','
    )]
    pub sources_allowed_hosts: Option<Vec<String>>,
    /// Collection workers per process (`serve` and `worker`); 0 runs none
    /// [default: 4].
    #[arg(long, global = true, env = "AUSKUNFT_WORKERS", value_name = "N")]
    pub workers: Option<usize>,
    /// Connections each process keeps open to its own database at most (1 to 1000)
    /// [default: 10].
    #[arg(
        long,
        global = true,
        env = "AUSKUNFT_DATABASE_MAX_CONNECTIONS",
        value_name = "N"
    )]
    pub database_max_connections: Option<u32>,
}

/// Flags of `serve`.
#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "AUSKUNFT_BIND", value_name = "ADDR")]
    pub bind: Option<String>,
    /// Serve `/metrics` only on this separate address (keep it internal)
    /// [default: on --bind].
    #[arg(long, env = "AUSKUNFT_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<String>,
    /// Largest accepted request body in bytes [default: 8388608].
    #[arg(long, env = "AUSKUNFT_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Seconds a request may run before it is cancelled [default: 30].
    #[arg(long, env = "AUSKUNFT_REQUEST_TIMEOUT_SECS")]
    pub request_timeout_secs: Option<u64>,
    /// Maximum GraphQL query depth [default: 12].
    #[arg(long, env = "AUSKUNFT_MAX_DEPTH")]
    pub max_depth: Option<usize>,
    /// Maximum GraphQL query complexity [default: 5000].
    #[arg(long, env = "AUSKUNFT_MAX_COMPLEXITY")]
    pub max_complexity: Option<usize>,
    /// Write outgoing mail (verification codes, notices) as .eml files into this
    /// directory instead of the log [default: log only].
    #[arg(long, env = "AUSKUNFT_MAIL_DIR", value_name = "DIR")]
    pub mail_dir: Option<PathBuf>,
    /// Sender address of outgoing mail [default: Auskunft <auskunft@localhost>].
    #[arg(long, env = "AUSKUNFT_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// Send mail through this SMTP server: smtps://USER:PASSWORD@HOST:465 (TLS),
    /// smtp://USER:PASSWORD@HOST:587?tls=required (STARTTLS), smtp://HOST:25 (plain,
    /// a relay on the same host only) [default: no SMTP].
    #[arg(
        long,
        env = "AUSKUNFT_SMTP_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Mail of test requests goes to this address instead of the subject's (with
    /// SMTP; without it, such mail is not sent at all) [default: none].
    #[arg(long, env = "AUSKUNFT_MAIL_TEST_INBOX", value_name = "ADDRESS")]
    pub mail_test_inbox: Option<String>,
    /// The address subjects reach this server at, for download links in answers
    /// (https://privacy.example.com) [default: the address the dispatching call
    /// came in at].
    #[arg(long, env = "AUSKUNFT_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Run the retention sweep every this many hours (1 to 8760): it opens an
    /// erasure request, to be reviewed, for every record past its retention period
    /// [default: off; `auskunft retention sweep` runs it by hand].
    #[arg(long, env = "AUSKUNFT_RETENTION_SWEEP_HOURS", value_name = "HOURS")]
    pub retention_sweep_hours: Option<u32>,
}

/// The TOML file; every key is optional.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    database_url: Option<String>,
    database_max_connections: Option<u32>,
    encryption_key: Option<String>,
    bind: Option<String>,
    metrics_bind: Option<String>,
    mail_dir: Option<PathBuf>,
    mail_from: Option<String>,
    smtp_url: Option<String>,
    mail_test_inbox: Option<String>,
    public_url: Option<String>,
    #[serde(default)]
    dispatch: FileDispatch,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    sources: FileSources,
    #[serde(default)]
    collection: FileCollection,
    #[serde(default)]
    retention: FileRetention,
}

/// `[retention]`: the scheduled retention sweep.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileRetention {
    sweep_interval_hours: Option<u32>,
}

/// `[collection]`: the workers that collect from data sources.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileCollection {
    workers: Option<usize>,
    lease_secs: Option<u64>,
    max_attempts: Option<i32>,
    backoff_secs: Option<u64>,
}

/// `[dispatch]`: download links and attachments of dispatched answers.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileDispatch {
    link_days: Option<u32>,
    max_downloads: Option<u32>,
    attach_max_bytes: Option<u64>,
}

/// `[sources]`: what data sources may reach.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileSources {
    sqlite_dir: Option<PathBuf>,
    allowed_hosts: Option<Vec<String>>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    max_body_bytes: Option<usize>,
    request_timeout_secs: Option<u64>,
    max_depth: Option<usize>,
    max_complexity: Option<usize>,
}

/// A configuration problem, said so that it can be fixed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys.
    #[error("invalid config file {path}: {cause}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: String,
    },
    /// A value is out of range.
    #[error("invalid setting `{name}`: {message}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// Why.
        message: String,
    },
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database URL.
    pub database_url: String,
    /// The pool of connections to that database.
    pub store: workflow::StoreOptions,
    /// Listen address.
    pub bind: String,
    /// Separate listen address of `/metrics`, if any.
    pub metrics_bind: Option<String>,
    /// Request limits.
    pub limits: api::Limits,
    /// Key for data at rest, if configured (else the key file is used).
    pub encryption_key: Option<String>,
    /// Directory for outgoing mail as .eml files (else mail goes to the log).
    pub mail_dir: Option<PathBuf>,
    /// Sender of outgoing mail.
    pub mail_from: String,
    /// SMTP server URL (a secret: it may carry a password).
    pub smtp_url: Option<String>,
    /// Where mail of test requests goes (SMTP only).
    pub mail_test_inbox: Option<String>,
    /// Download links and attachments of dispatched answers.
    pub dispatch: workflow::dispatch::DispatchSettings,
    /// What data sources may reach: the directory of SQLite sources (absolute) and
    /// the optional host allow-list.
    pub sources: workflow::SourceSettings,
    /// The collection workers.
    pub collection: workflow::collection::WorkerOptions,
    /// How often `serve` runs the retention sweep; `None`: never by itself.
    pub retention_sweep: Option<Duration>,
}

/// Default sender of outgoing mail.
pub const DEFAULT_MAIL_FROM: &str = "Auskunft <auskunft@localhost>";

/// Where the key is kept when none is configured.
pub const KEY_FILE: &str = "auskunft.key";

/// The cipher for data at rest: the configured key, else `./auskunft.key`, created
/// on first start (readable by the owner only).
pub fn cipher(config: &Config) -> Result<workflow::core::crypto::Cipher, ConfigError> {
    let invalid = |e: workflow::core::crypto::BadKey| ConfigError::Invalid {
        name: "encryption_key",
        message: e.to_string(),
    };
    if let Some(key) = &config.encryption_key {
        return workflow::core::crypto::Cipher::from_base64(key).map_err(invalid);
    }
    let path = Path::new(KEY_FILE);
    let key = match std::fs::read_to_string(path) {
        Ok(key) => key,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = workflow::core::crypto::Cipher::generate_key();
            write_private(path, &key).map_err(|cause| ConfigError::Read {
                path: path.to_owned(),
                cause,
            })?;
            tracing::warn!(
                file = KEY_FILE,
                "generated a new encryption key; back it up (without it stored secrets cannot be read) \
                 or set AUSKUNFT_ENCRYPTION_KEY"
            );
            key
        }
        Err(cause) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                cause,
            });
        }
    };
    workflow::core::crypto::Cipher::from_base64(&key).map_err(invalid)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
        path: path.to_owned(),
        cause,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        cause: e.message().to_owned(),
    })
}

fn positive<T: PartialOrd + Default + Copy>(
    name: &'static str,
    value: T,
) -> Result<T, ConfigError> {
    if value > T::default() {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name,
            message: "must be greater than 0".into(),
        })
    }
}

fn within(
    name: &'static str,
    value: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name,
            message: format!("must be between {} and {}", range.start(), range.end()),
        })
    }
}

impl Config {
    /// Merges flags/environment, the file and the defaults.
    pub fn resolve(global: &GlobalArgs, serve: &ServeArgs) -> Result<Self, ConfigError> {
        let file = match &global.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let defaults = api::Limits::default();
        let limits = api::Limits {
            schema: api::SchemaLimits {
                max_depth: positive(
                    "max_depth",
                    serve
                        .max_depth
                        .or(file.limits.max_depth)
                        .unwrap_or(defaults.schema.max_depth),
                )?,
                max_complexity: positive(
                    "max_complexity",
                    serve
                        .max_complexity
                        .or(file.limits.max_complexity)
                        .unwrap_or(defaults.schema.max_complexity),
                )?,
                document: defaults.schema.document,
            },
            max_body_bytes: positive(
                "max_body_bytes",
                serve
                    .max_body_bytes
                    .or(file.limits.max_body_bytes)
                    .unwrap_or(defaults.max_body_bytes),
            )?,
            request_timeout: Duration::from_secs(positive(
                "request_timeout_secs",
                serve
                    .request_timeout_secs
                    .or(file.limits.request_timeout_secs)
                    .unwrap_or(defaults.request_timeout.as_secs()),
            )?),
            auth: defaults.auth,
        };
        let sqlite_dir = global
            .sqlite_sources_dir
            .clone()
            .or(file.sources.sqlite_dir)
            .unwrap_or_else(|| PathBuf::from(workflow::connectors::guard::DEFAULT_SQLITE_DIR));
        let sqlite_dir = std::path::absolute(&sqlite_dir).map_err(|e| ConfigError::Invalid {
            name: "sources.sqlite_dir",
            message: e.to_string(),
        })?;
        let allowed_hosts = match global
            .sources_allowed_hosts
            .clone()
            .or(file.sources.allowed_hosts)
        {
            Some(hosts) => {
                let hosts: Vec<String> = hosts
                    .iter()
                    .map(|h| h.trim().to_owned())
                    .filter(|h| !h.is_empty())
                    .collect();
                let is_host = |h: &str| {
                    let bare = h.trim_start_matches('[').trim_end_matches(']');
                    bare.parse::<std::net::IpAddr>().is_ok()
                        || !h.contains(|c: char| c == '/' || c == ':' || c.is_whitespace())
                };
                if let Some(bad) = hosts.iter().find(|h| !is_host(h)) {
                    return Err(ConfigError::Invalid {
                        name: "sources.allowed_hosts",
                        message: format!(
                            "`{bad}` is not a host name or address (no scheme, port or path)"
                        ),
                    });
                }
                Some(hosts)
            }
            None => None,
        };
        let worker_defaults = workflow::collection::WorkerOptions::default();
        let collection = workflow::collection::WorkerOptions {
            workers: global
                .workers
                .or(file.collection.workers)
                .unwrap_or(worker_defaults.workers),
            lease: Duration::from_secs(positive(
                "collection.lease_secs",
                file.collection
                    .lease_secs
                    .unwrap_or(worker_defaults.lease.as_secs()),
            )?),
            max_attempts: positive(
                "collection.max_attempts",
                file.collection
                    .max_attempts
                    .unwrap_or(worker_defaults.max_attempts),
            )?,
            backoff: Duration::from_secs(positive(
                "collection.backoff_secs",
                file.collection
                    .backoff_secs
                    .unwrap_or(worker_defaults.backoff.as_secs()),
            )?),
            ..worker_defaults
        };
        let dispatch_defaults = workflow::dispatch::DispatchSettings::default();
        let public_url = serve.public_url.clone().or(file.public_url);
        if let Some(public) = &public_url {
            let ok = url::Url::parse(public).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.query().is_none()
                    && u.fragment().is_none()
            });
            if !ok {
                return Err(ConfigError::Invalid {
                    name: "public_url",
                    message: format!(
                        "`{public}` is not an http(s) address like https://privacy.example.com"
                    ),
                });
            }
        }
        let dispatch = workflow::dispatch::DispatchSettings {
            public_url: public_url.map(|u| u.trim_end_matches('/').to_owned()),
            link_days: within(
                "dispatch.link_days",
                file.dispatch
                    .link_days
                    .unwrap_or(dispatch_defaults.link_days),
                1..=365,
            )?,
            max_downloads: within(
                "dispatch.max_downloads",
                file.dispatch
                    .max_downloads
                    .unwrap_or(dispatch_defaults.max_downloads),
                1..=1000,
            )?,
            attach_max_bytes: file
                .dispatch
                .attach_max_bytes
                .unwrap_or(dispatch_defaults.attach_max_bytes),
        };
        let mail_test_inbox = serve.mail_test_inbox.clone().or(file.mail_test_inbox);
        if let Some(inbox) = &mail_test_inbox {
            workflow::core::outbox::check_address(inbox).map_err(|message| {
                ConfigError::Invalid {
                    name: "mail_test_inbox",
                    message,
                }
            })?;
        }
        let smtp_url = serve.smtp_url.clone().or(file.smtp_url);
        let mail_dir = serve.mail_dir.clone().or(file.mail_dir);
        if smtp_url.is_some() && mail_dir.is_some() {
            return Err(ConfigError::Invalid {
                name: "smtp_url",
                message: "choose SMTP or a mail directory, not both".into(),
            });
        }
        let retention_sweep = serve
            .retention_sweep_hours
            .or(file.retention.sweep_interval_hours)
            .map(|h| within("retention.sweep_interval_hours", h, 1..=8760))
            .transpose()?
            .map(|h| Duration::from_secs(u64::from(h) * 3600));
        let mut store = workflow::StoreOptions::default();
        if let Some(n) = global
            .database_max_connections
            .or(file.database_max_connections)
        {
            store.max_connections = within("database_max_connections", n, 1..=1000)?;
        }
        Ok(Self {
            dispatch,
            retention_sweep,
            smtp_url,
            mail_test_inbox,
            collection,
            sources: workflow::SourceSettings {
                sqlite_dir,
                allowed_hosts,
            },
            database_url: global
                .database_url
                .clone()
                .or(file.database_url)
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            store,
            bind: serve
                .bind
                .clone()
                .or(file.bind)
                .unwrap_or_else(|| DEFAULT_BIND.to_owned()),
            metrics_bind: serve.metrics_bind.clone().or(file.metrics_bind),
            limits,
            encryption_key: global.encryption_key.clone().or(file.encryption_key),
            mail_dir,
            mail_from: serve
                .mail_from
                .clone()
                .or(file.mail_from)
                .unwrap_or_else(|| DEFAULT_MAIL_FROM.to_owned()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile_path::TempFile {
        tempfile_path::TempFile::new(text)
    }

    /// A file in the temp dir removed on drop (tests only).
    mod tempfile_path {
        pub struct TempFile(pub std::path::PathBuf);
        impl TempFile {
            pub fn new(text: &str) -> Self {
                let path = std::env::temp_dir()
                    .join(format!("auskunft-config-{}.toml", uuid::Uuid::new_v4()));
                std::fs::write(&path, text).unwrap();
                Self(path)
            }
        }
        impl Drop for TempFile {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn defaults_apply_without_flags_or_file() {
        let c = Config::resolve(&GlobalArgs::default(), &ServeArgs::default()).unwrap();
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.bind, DEFAULT_BIND);
        assert_eq!(c.limits.max_body_bytes, 8 * 1024 * 1024);
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let f = file(
            "database_url = \"sqlite://from-file.db\"\nbind = \"127.0.0.1:9\"\n[limits]\nmax_depth = 7\nmax_body_bytes = 10\n",
        );
        let global = GlobalArgs {
            config: Some(f.0.clone()),
            database_url: Some("sqlite://from-flag.db".into()),
            ..Default::default()
        };
        let serve = ServeArgs {
            max_body_bytes: Some(99),
            ..Default::default()
        };
        let c = Config::resolve(&global, &serve).unwrap();
        assert_eq!(
            c.database_url, "sqlite://from-flag.db",
            "flag wins over file"
        );
        assert_eq!(c.bind, "127.0.0.1:9", "file wins over default");
        assert_eq!(c.limits.schema.max_depth, 7);
        assert_eq!(c.limits.max_body_bytes, 99, "flag wins over file");
        assert_eq!(
            c.limits.schema.max_complexity, 5000,
            "default where neither says"
        );
    }

    #[test]
    fn the_pool_size_comes_from_the_flag_or_the_file_within_bounds() {
        let c = Config::resolve(&GlobalArgs::default(), &ServeArgs::default()).unwrap();
        assert_eq!(c.store.max_connections, 10, "default");
        let f = file("database_max_connections = 4\n");
        let global = GlobalArgs {
            config: Some(f.0.clone()),
            ..Default::default()
        };
        let c = Config::resolve(&global, &ServeArgs::default()).unwrap();
        assert_eq!(c.store.max_connections, 4, "file");
        let flag = GlobalArgs {
            database_max_connections: Some(25),
            ..global
        };
        let c = Config::resolve(&flag, &ServeArgs::default()).unwrap();
        assert_eq!(c.store.max_connections, 25, "flag wins over file");
        for bad in [0, 1001] {
            let global = GlobalArgs {
                database_max_connections: Some(bad),
                ..Default::default()
            };
            assert!(matches!(
                Config::resolve(&global, &ServeArgs::default()),
                Err(ConfigError::Invalid {
                    name: "database_max_connections",
                    ..
                })
            ));
        }
    }

    #[test]
    fn source_settings_come_from_flags_or_the_file() {
        let c = Config::resolve(&GlobalArgs::default(), &ServeArgs::default()).unwrap();
        assert!(c.sources.sqlite_dir.is_absolute());
        assert!(c.sources.sqlite_dir.ends_with("sources"));
        assert_eq!(c.sources.allowed_hosts, None, "any host by default");
        let f = file(
            "[sources]\nsqlite_dir = \"/srv/sqlite\"\nallowed_hosts = [\"db.internal\", \"*.crm.example\", \"::1\"]\n",
        );
        let global = GlobalArgs {
            config: Some(f.0.clone()),
            ..Default::default()
        };
        let c = Config::resolve(&global, &ServeArgs::default()).unwrap();
        assert_eq!(c.sources.sqlite_dir, PathBuf::from("/srv/sqlite"));
        assert_eq!(
            c.sources.allowed_hosts,
            Some(vec![
                "db.internal".into(),
                "*.crm.example".into(),
                "::1".into()
            ])
        );
        let flag = GlobalArgs {
            config: Some(f.0.clone()),
            sqlite_sources_dir: Some("/data/sources".into()),
            sources_allowed_hosts: Some(vec!["pg.internal".into()]),
            ..Default::default()
        };
        let c = Config::resolve(&flag, &ServeArgs::default()).unwrap();
        assert_eq!(c.sources.sqlite_dir, PathBuf::from("/data/sources"));
        assert_eq!(c.sources.allowed_hosts, Some(vec!["pg.internal".into()]));
        let bad = GlobalArgs {
            sources_allowed_hosts: Some(vec!["https://db.internal:5432".into()]),
            ..Default::default()
        };
        assert!(matches!(
            Config::resolve(&bad, &ServeArgs::default()),
            Err(ConfigError::Invalid {
                name: "sources.allowed_hosts",
                ..
            })
        ));
    }

    #[test]
    fn bad_files_and_values_are_reported() {
        let unknown = file("databse_url = \"x\"\n");
        let err = Config::resolve(
            &GlobalArgs {
                config: Some(unknown.0.clone()),
                ..Default::default()
            },
            &ServeArgs::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `databse_url`"),
            "{err}"
        );
        let missing = GlobalArgs {
            config: Some("/nonexistent/auskunft.toml".into()),
            ..Default::default()
        };
        assert!(matches!(
            Config::resolve(&missing, &ServeArgs::default()),
            Err(ConfigError::Read { .. })
        ));
        let zero = ServeArgs {
            request_timeout_secs: Some(0),
            ..Default::default()
        };
        assert!(matches!(
            Config::resolve(&GlobalArgs::default(), &zero),
            Err(ConfigError::Invalid { .. })
        ));
    }

    #[test]
    fn dispatch_and_mail_settings_are_checked_and_named() {
        let resolve = |toml: &str, serve: ServeArgs| {
            let f = file(toml);
            let global = GlobalArgs {
                config: Some(f.0.clone()),
                ..Default::default()
            };
            Config::resolve(&global, &serve)
        };
        let c = resolve(
            "public_url = \"https://privacy.example.com/\"\n[dispatch]\nlink_days = 30\nmax_downloads = 3\n",
            ServeArgs::default(),
        )
        .unwrap();
        assert_eq!(
            c.dispatch.public_url.as_deref(),
            Some("https://privacy.example.com")
        );
        assert_eq!((c.dispatch.link_days, c.dispatch.max_downloads), (30, 3));
        let named = |result: Result<Config, ConfigError>| match result {
            Err(ConfigError::Invalid { name, .. }) => name,
            other => panic!("expected an invalid setting, got {other:?}"),
        };
        assert_eq!(
            named(resolve(
                "[dispatch]\nlink_days = 100000000\n",
                ServeArgs::default()
            )),
            "dispatch.link_days"
        );
        assert_eq!(
            named(resolve(
                "[dispatch]\nmax_downloads = 0\n",
                ServeArgs::default()
            )),
            "dispatch.max_downloads"
        );
        assert_eq!(
            named(resolve(
                "public_url = \"ftp://x.example\"\n",
                ServeArgs::default()
            )),
            "public_url"
        );
        assert_eq!(
            named(resolve(
                "",
                ServeArgs {
                    mail_test_inbox: Some("not an address".into()),
                    ..Default::default()
                }
            )),
            "mail_test_inbox"
        );
        assert_eq!(
            named(resolve(
                "",
                ServeArgs {
                    smtp_url: Some("smtp://127.0.0.1:25".into()),
                    mail_dir: Some("/tmp/mail".into()),
                    ..Default::default()
                }
            )),
            "smtp_url"
        );
    }
}
