//! Where data sources may point. A data source is something Auskunft connects to
//! with its own rights, so a steward must not be able to point one at the product
//! itself or at anything else on the host:
//!
//! - SQLite sources are files inside one configured directory
//!   ([`SourceSettings::sqlite_dir`]). A relative path is read from that directory.
//!   The path is resolved (symbolic links, `..`) before it is checked, the resolved
//!   file is what gets opened, and Auskunft's own database (and its `-wal`, `-shm`,
//!   `-journal` files, and hard links to it) is never a source, even inside the
//!   directory. Every refusal says the same, so answers do not tell whether a file
//!   outside the directory exists.
//! - POSTGRES, MYSQL and HTTP sources may be limited to the hosts of
//!   [`SourceSettings::allowed_hosts`].
//!
//! [`SourceGuard::locate`] is the one function that resolves and checks a source's
//! location: it runs when a source is created or changed (VALIDATION naming the
//! field) and again right before every connection (the settings, the file system or
//! the link targets may have changed since).

use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use super::{ConnectorKind, connector};
use crate::error::{Error, Result};

/// The default directory of SQLite sources, relative to the working directory (the
/// default database `auskunft.db` lies beside it).
pub const DEFAULT_SQLITE_DIR: &str = "sources";

/// What the operator allows data sources to reach (config `[sources]`).
#[derive(Debug, Clone)]
pub struct SourceSettings {
    /// The directory SQLite sources must lie in.
    pub sqlite_dir: PathBuf,
    /// Hosts POSTGRES, MYSQL and HTTP sources may connect to (names or addresses,
    /// `*.example.com` for the subdomains of a domain); `None` allows any host.
    pub allowed_hosts: Option<Vec<String>>,
}

impl Default for SourceSettings {
    fn default() -> Self {
        Self {
            sqlite_dir: PathBuf::from(DEFAULT_SQLITE_DIR),
            allowed_hosts: None,
        }
    }
}

/// Where a checked source points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A SQLite file, resolved (at connect time: canonical and existing).
    SqliteFile(PathBuf),
    /// A database or HTTP host that is allowed.
    Host(String),
    /// A manual source: nothing to connect to.
    Nothing,
}

/// When a location is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Creating or changing the source: a SQLite file may not exist yet.
    Register,
    /// Right before connecting: the file must exist.
    Connect,
}

/// Why a location is refused: the config property and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// The property of the connector config (`path`, `host`, `baseUrl`).
    pub field: &'static str,
    /// Safe to show: says nothing about files outside the directory.
    pub message: String,
}

/// The one message for every refused SQLite path.
const SQLITE_REFUSED: &str = "must name a SQLite database file inside the directory for SQLite \
     sources (setting `sources.sqlite_dir`); Auskunft's own database is never a source";

impl Refusal {
    pub(crate) fn sqlite() -> Self {
        Self {
            field: "path",
            message: SQLITE_REFUSED.to_owned(),
        }
    }

    /// The VALIDATION error of a refused location in `input.connectorConfig`.
    pub(crate) fn into_validation(self) -> Error {
        Error::invalid(&["input", "connectorConfig", self.field], self.message)
    }
}

/// Checks source locations against the settings; built once when the workflow opens.
#[derive(Debug, Clone)]
pub(crate) struct SourceGuard {
    settings: SourceSettings,
    /// Auskunft's own database file (canonical), when it is SQLite.
    own_database: Option<PathBuf>,
}

fn normalize_host(host: &str) -> String {
    host.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// `path` with `.` dropped and `..` applied, without touching the file system;
/// `None` when `..` climbs above the root.
fn lexically_normal(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir | Component::Normal(_) => out.push(component),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() || out.as_os_str().is_empty() {
                    return None;
                }
            }
        }
    }
    Some(out)
}

/// The same file (device and inode), so hard links count as the file itself.
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}

impl SourceGuard {
    /// A guard for `settings`; `own_database` is the file of Auskunft's own database
    /// when it is SQLite.
    pub(crate) fn new(settings: SourceSettings, own_database: Option<&Path>) -> Self {
        Self {
            settings,
            own_database: own_database.map(|p| std::fs::canonicalize(p).unwrap_or(p.to_owned())),
        }
    }

    /// Whether `file` (canonical) is Auskunft's own database or one of its side files.
    fn is_own_database(&self, file: &Path) -> bool {
        let Some(own) = &self.own_database else {
            return false;
        };
        if file == own || same_file(file, own) {
            return true;
        }
        let side_file = match (own.file_name(), file.file_name()) {
            (Some(own_name), Some(name)) => {
                let (own_name, name) = (own_name.to_string_lossy(), name.to_string_lossy());
                ["-wal", "-shm", "-journal"]
                    .iter()
                    .any(|suffix| name == format!("{own_name}{suffix}"))
            }
            _ => false,
        };
        side_file && file.parent() == own.parent()
    }

    /// Resolves a SQLite source's `path` inside the directory.
    pub(crate) fn sqlite_file(&self, raw: &str, stage: Stage) -> Result<PathBuf, Refusal> {
        let refused = Refusal::sqlite;
        if raw.trim().is_empty() || raw.contains('\0') {
            return Err(refused());
        }
        let dir = std::fs::canonicalize(&self.settings.sqlite_dir).map_err(|_| refused())?;
        let joined = dir.join(raw); // an absolute `raw` replaces `dir`
        match std::fs::canonicalize(&joined) {
            Ok(real) => {
                let is_file = std::fs::metadata(&real).is_ok_and(|m| m.is_file());
                if real.starts_with(&dir) && real != dir && is_file && !self.is_own_database(&real)
                {
                    Ok(real)
                } else {
                    Err(refused())
                }
            }
            // Missing (or unreadable): only a file yet to be created inside the
            // directory passes, and only while registering.
            Err(_) => {
                if stage == Stage::Connect {
                    return Err(refused());
                }
                let lexical = lexically_normal(&joined).ok_or_else(refused)?;
                if !lexical.starts_with(&dir) || lexical == dir || self.is_own_database(&lexical) {
                    return Err(refused());
                }
                // The deepest existing ancestor must resolve inside too (a link in the
                // directory may point elsewhere).
                let ancestor = lexical
                    .ancestors()
                    .skip(1)
                    .find_map(|a| std::fs::canonicalize(a).ok())
                    .ok_or_else(refused)?;
                if ancestor.starts_with(&dir) {
                    Ok(lexical)
                } else {
                    Err(refused())
                }
            }
        }
    }

    /// Whether the allow-list (if any) admits `host`.
    fn host_allowed(&self, host: &str) -> bool {
        let Some(allowed) = &self.settings.allowed_hosts else {
            return true;
        };
        let host = normalize_host(host);
        if host.is_empty() {
            return false;
        }
        let as_ip = host.parse::<std::net::IpAddr>().ok();
        allowed.iter().any(|entry| {
            let entry = normalize_host(entry);
            if let Some(domain) = entry.strip_prefix("*.") {
                return host.ends_with(&format!(".{domain}"));
            }
            match (as_ip, entry.parse::<std::net::IpAddr>().ok()) {
                (Some(a), Some(b)) => a == b,
                _ => entry == host,
            }
        })
    }

    pub(crate) fn host(
        &self,
        field: &'static str,
        host: Option<String>,
    ) -> Result<Target, Refusal> {
        let refused = |message: String| Refusal { field, message };
        match host {
            Some(host) if self.host_allowed(&host) => Ok(Target::Host(host)),
            Some(host) => Err(refused(format!(
                "names `{host}`, a host data sources may not reach (setting `sources.allowed_hosts`)"
            ))),
            None if self.settings.allowed_hosts.is_none() => Ok(Target::Nothing),
            None => Err(refused(
                "names no host that data sources may reach (setting `sources.allowed_hosts`)"
                    .to_owned(),
            )),
        }
    }

    /// Resolves and checks where a source with this connector config points. The one
    /// check of every source location, when registering and before connecting.
    pub(crate) fn locate(
        &self,
        kind: ConnectorKind,
        config: &Map<String, Value>,
        stage: Stage,
    ) -> Result<Target, Refusal> {
        connector(kind).locate(self, config, stage)
    }

    /// How a SQLite source config names `file`: relative to the directory when it
    /// lies inside (so the register stays valid when the directory moves), else as
    /// given.
    pub(crate) fn sqlite_path_for(&self, file: &Path) -> String {
        let inside = std::fs::canonicalize(&self.settings.sqlite_dir)
            .ok()
            .zip(std::fs::canonicalize(file).ok())
            .and_then(|(dir, file)| file.strip_prefix(&dir).ok().map(Path::to_owned));
        inside.as_deref().unwrap_or(file).display().to_string()
    }

    /// The check when a source is created or changed: VALIDATION naming the field.
    pub(crate) fn check_registration(
        &self,
        kind: ConnectorKind,
        config: &Map<String, Value>,
    ) -> Result<()> {
        self.locate(kind, config, Stage::Register)
            .map(|_| ())
            .map_err(Refusal::into_validation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn scratch() -> Dir {
        let dir = std::env::temp_dir().join(format!("auskunft-loc-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("sources")).unwrap();
        Dir(dir)
    }

    fn config(key: &str, value: &str) -> Map<String, Value> {
        json!({ key: value }).as_object().unwrap().clone()
    }

    #[test]
    fn sqlite_paths_stay_inside_the_directory_and_away_from_the_own_database() {
        let root = scratch();
        let sources = root.0.join("sources");
        let own = sources.join("auskunft.db");
        std::fs::write(&own, b"own").unwrap();
        std::fs::write(sources.join("shop.db"), b"shop").unwrap();
        std::fs::write(root.0.join("outside.db"), b"outside").unwrap();
        let guard = SourceGuard::new(
            SourceSettings {
                sqlite_dir: sources.clone(),
                allowed_hosts: None,
            },
            Some(&own),
        );
        let at =
            |path: &str, stage| guard.locate(ConnectorKind::Sqlite, &config("path", path), stage);
        let shop = std::fs::canonicalize(sources.join("shop.db")).unwrap();
        assert_eq!(
            at("shop.db", Stage::Connect),
            Ok(Target::SqliteFile(shop.clone()))
        );
        assert_eq!(
            at(&shop.display().to_string(), Stage::Connect),
            Ok(Target::SqliteFile(shop.clone()))
        );
        assert!(
            at("later.db", Stage::Register).is_ok(),
            "may be created later"
        );
        let refused = Err(Refusal::sqlite());
        for path in [
            "auskunft.db".to_owned(),
            own.display().to_string(),
            "./sub/../auskunft.db".to_owned(),
            "auskunft.db-wal".to_owned(),
            "../outside.db".to_owned(),
            root.0.join("outside.db").display().to_string(),
            "../missing.db".to_owned(),
            "/etc/passwd".to_owned(),
            "/".to_owned(),
            ".".to_owned(),
            "".to_owned(),
            "a\0b".to_owned(),
        ] {
            assert_eq!(
                at(&path, Stage::Register),
                refused,
                "{path:?} at registration"
            );
            assert_eq!(at(&path, Stage::Connect), refused, "{path:?} at connection");
        }
        assert_eq!(
            at("missing.db", Stage::Connect),
            refused,
            "missing when connecting"
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&own, sources.join("link.db")).unwrap();
            std::os::unix::fs::symlink(&root.0, sources.join("up")).unwrap();
            std::fs::hard_link(&own, sources.join("hard.db")).unwrap();
            for path in ["link.db", "up/outside.db", "up/missing.db", "hard.db"] {
                assert_eq!(at(path, Stage::Register), refused, "{path:?}");
                assert_eq!(at(path, Stage::Connect), refused, "{path:?}");
            }
        }
    }

    #[test]
    fn hosts_follow_the_allow_list() {
        let open = SourceGuard::new(SourceSettings::default(), None);
        assert!(open.host_allowed("anything.example"));
        let guard = SourceGuard::new(
            SourceSettings {
                sqlite_dir: PathBuf::from("sources"),
                allowed_hosts: Some(vec![
                    "db.internal".into(),
                    "*.crm.example".into(),
                    "10.0.0.5".into(),
                    "::1".into(),
                ]),
            },
            None,
        );
        for ok in [
            "db.internal",
            "DB.Internal.",
            "eu.crm.example",
            "10.0.0.5",
            "[::1]",
        ] {
            assert!(guard.host_allowed(ok), "{ok}");
        }
        for no in [
            "crm.example",
            "evil-db.internal",
            "10.0.0.50",
            "127.0.0.1",
            "localhost",
            "",
        ] {
            assert!(!guard.host_allowed(no), "{no}");
        }
        let refusal = guard
            .locate(
                ConnectorKind::Http,
                &config("baseUrl", "http://127.0.0.1:8080/graphql"),
                Stage::Register,
            )
            .unwrap_err();
        assert_eq!(refusal.field, "baseUrl");
        assert_eq!(
            guard.locate(
                ConnectorKind::Postgres,
                &config("host", "db.internal"),
                Stage::Connect
            ),
            Ok(Target::Host("db.internal".into()))
        );
        assert_eq!(
            guard
                .locate(
                    ConnectorKind::Mysql,
                    &config("host", "localhost"),
                    Stage::Connect
                )
                .unwrap_err()
                .field,
            "host"
        );
    }
}
