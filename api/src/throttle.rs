//! Failed authentication is rate-limited per client address and per key prefix.
//!
//! Each failure spends one cell of a GCRA bucket (`governor`) for the client address
//! and, when the presented key is well-formed, for its prefix. When a bucket is empty
//! the client or prefix is locked out until the bucket refills: every attempt in that
//! time, even with a valid key, is answered `RATE_LIMITED` without looking the key up,
//! so a guesser learns nothing while locked out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How many failed sign-ins are tolerated.
#[derive(Debug, Clone, Copy)]
pub struct AuthLimits {
    /// Failures one client address may make at once.
    pub client_burst: u32,
    /// Failures per minute a client address earns back.
    pub client_per_minute: u32,
    /// Failures one key prefix may take at once (from any address).
    pub key_burst: u32,
    /// Failures per minute a key prefix earns back.
    pub key_per_minute: u32,
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self {
            client_burst: 20,
            client_per_minute: 10,
            key_burst: 10,
            key_per_minute: 5,
        }
    }
}

/// Who is locked out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lockout {
    /// A client address.
    Client(IpAddr),
    /// A key prefix.
    Key(String),
}

/// A lockout that has just begun (to be audited once, not per refused attempt).
#[derive(Debug, Clone)]
pub struct Tripped {
    /// What was locked out.
    pub who: Lockout,
    /// How long until the next attempt is accepted.
    pub retry_after: Duration,
}

/// Keyed failure buckets plus the lockouts they caused.
pub struct AuthThrottle {
    clients: DefaultKeyedRateLimiter<IpAddr>,
    keys: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    locked: Mutex<HashMap<Lockout, Instant>>,
}

/// Most tracked keys before stale ones are swept.
const SWEEP_AT: usize = 10_000;

fn quota(burst: u32, per_minute: u32) -> Quota {
    let per_minute = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

impl AuthThrottle {
    /// Buckets with the given limits.
    pub fn new(limits: AuthLimits) -> Self {
        Self {
            clients: RateLimiter::keyed(quota(limits.client_burst, limits.client_per_minute)),
            keys: RateLimiter::keyed(quota(limits.key_burst, limits.key_per_minute)),
            clock: DefaultClock::default(),
            locked: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Lockout, Instant>> {
        self.locked
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Before authenticating: how long to wait if the client or the prefix is locked out.
    pub fn admit(&self, client: IpAddr, prefix: Option<&str>) -> Result<(), Duration> {
        let now = Instant::now();
        let mut locked = self.lock();
        let mut wait: Option<Duration> = None;
        for who in [
            Some(Lockout::Client(client)),
            prefix.map(|p| Lockout::Key(p.to_owned())),
        ]
        .into_iter()
        .flatten()
        {
            match locked.get(&who) {
                Some(until) if *until > now => {
                    wait = Some(wait.unwrap_or_default().max(*until - now));
                }
                Some(_) => {
                    locked.remove(&who);
                }
                None => {}
            }
        }
        wait.map_or(Ok(()), Err)
    }

    /// After a failed authentication: spends a cell per bucket; the lockouts this
    /// failure began (empty while the buckets still hold cells).
    pub fn failed(&self, client: IpAddr, prefix: Option<&str>) -> Vec<Tripped> {
        let mut tripped = Vec::new();
        if let Err(not_until) = self.clients.check_key(&client) {
            tripped.push(Tripped {
                who: Lockout::Client(client),
                retry_after: not_until.wait_time_from(self.clock.now()),
            });
        }
        if let Some(prefix) = prefix {
            let prefix = prefix.to_owned();
            if let Err(not_until) = self.keys.check_key(&prefix) {
                tripped.push(Tripped {
                    who: Lockout::Key(prefix),
                    retry_after: not_until.wait_time_from(self.clock.now()),
                });
            }
        }
        let now = Instant::now();
        let mut locked = self.lock();
        if locked.len() > SWEEP_AT {
            locked.retain(|_, until| *until > now);
        }
        if self.clients.len() > SWEEP_AT {
            self.clients.retain_recent();
        }
        if self.keys.len() > SWEEP_AT {
            self.keys.retain_recent();
        }
        // Already locked out: no new lockout to report.
        tripped.retain(|t| {
            let fresh = locked.get(&t.who).is_none_or(|until| *until <= now);
            locked.insert(t.who.clone(), now + t.retry_after);
            fresh
        });
        tripped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_locked_out_after_its_burst_and_only_it() {
        let t = AuthThrottle::new(AuthLimits {
            client_burst: 3,
            client_per_minute: 1,
            key_burst: 100,
            key_per_minute: 100,
        });
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        for _ in 0..3 {
            assert!(t.admit(a, None).is_ok());
            assert!(t.failed(a, None).is_empty());
        }
        let tripped = t.failed(a, None);
        assert_eq!(tripped.len(), 1, "the fourth failure locks the client out");
        assert_eq!(tripped[0].who, Lockout::Client(a));
        assert!(tripped[0].retry_after > Duration::from_secs(30));
        assert!(t.admit(a, None).is_err());
        assert!(t.failed(a, None).is_empty(), "a lockout is reported once");
        assert!(t.admit(b, None).is_ok(), "other clients are not affected");
    }

    #[test]
    fn a_key_prefix_is_locked_out_from_every_address() {
        let t = AuthThrottle::new(AuthLimits {
            client_burst: 100,
            client_per_minute: 100,
            key_burst: 2,
            key_per_minute: 1,
        });
        for i in 0..2u8 {
            let ip = IpAddr::from([127, 0, 0, 10 + i]);
            assert!(t.failed(ip, Some("abcdefghijkl")).is_empty());
        }
        let ip = IpAddr::from([127, 0, 0, 20]);
        assert_eq!(t.failed(ip, Some("abcdefghijkl")).len(), 1);
        let other = IpAddr::from([127, 0, 0, 21]);
        assert!(t.admit(other, Some("abcdefghijkl")).is_err());
        assert!(t.admit(other, Some("zzzzzzzzzzzz")).is_ok());
    }
}
