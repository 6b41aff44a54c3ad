//! People sign in through their organization's OpenID Connect provider (Keycloak,
//! Entra ID, Okta, Auth0 ...): the bearer token is a JWT the provider signed.
//!
//! - The organization says which issuer and audience it trusts and how a claim's
//!   values map to roles ([`IdentityProviderInput`]).
//! - The issuer's keys come from its discovery document's `jwks_uri`, cached per
//!   issuer; a token signed with a key not in the cache fetches them again (key
//!   rotation), at most once per [`OidcSettings::refetch_after`] per issuer.
//! - Only asymmetric signatures are accepted (RS256, ES256, EdDSA), each only with a
//!   key of its own kind: never `none`, never an HMAC with a public key as secret.
//! - `iss`, `aud`, `exp` and `nbf` are checked with a skew of a minute; `sub` must be
//!   there.
//! - A person is recorded on first sight (issuer + subject); their roles are those
//!   the claims give plus those granted here, and they may be deactivated.
//!
//! JWT decoding and signature checks are `jsonwebtoken`'s; nothing here parses a
//! token by hand.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::access::audit::Entry;
use crate::access::authz::{self, Role};
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::entity::{casbin_rule, identity_provider, person};
use crate::error::{Error, Result, Validator};
use crate::{Principal, PrincipalKind, Workflow, new_id, now};

/// The signature algorithms a token may use.
const ACCEPTED: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// Clock skew allowed on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 60;

/// How often at most a person's `last_seen_at` is written.
const LAST_SEEN_GRANULARITY: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// Fetching of issuers' keys.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// A token signed with an unknown key fetches the issuer's keys again only when
    /// they were fetched longer ago than this (a flood of made-up key ids must not
    /// become a flood of requests to the provider).
    pub refetch_after: Duration,
    /// Timeout of each request to the provider.
    pub timeout: Duration,
}

impl Default for OidcSettings {
    fn default() -> Self {
        Self {
            refetch_after: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
        }
    }
}

/// The keys of one issuer, as last fetched, and when it was last asked (also when
/// it did not answer: the requests waiting behind a failed fetch are refused at once
/// instead of each trying again).
struct IssuerKeys {
    keys: Option<Arc<JwkSet>>,
    fetched: Instant,
}

/// Per-issuer key caches. Each issuer has its own lock, so one slow provider does
/// not hold up sign-ins through another, and a burst of tokens with a new key id
/// fetches once.
pub(crate) struct Issuers {
    settings: OidcSettings,
    client: reqwest::Client,
    cache: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<IssuerKeys>>>>>,
}

impl Issuers {
    pub(crate) fn new(settings: OidcSettings) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("auskunft/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("OIDC client: {e}")))?;
        Ok(Self {
            settings,
            client,
            cache: Default::default(),
        })
    }

    /// The key `kid` of `issuer`, fetching the issuer's keys when they are not cached
    /// or do not have it (and were not fetched too recently).
    async fn key(&self, issuer: &str, kid: Option<&str>) -> Result<Jwk> {
        let slot = self
            .cache
            .lock()
            .expect("not poisoned")
            .entry(issuer.to_owned())
            .or_default()
            .clone();
        let mut slot = slot.lock().await;
        let unknown = || refused("the token's signing key is not one of the issuer's");
        if let Some(cached) = slot.as_ref() {
            if let Some(key) = cached.keys.as_deref().and_then(|keys| pick(keys, kid)) {
                return Ok(key);
            }
            if cached.fetched.elapsed() < self.settings.refetch_after {
                return Err(match cached.keys {
                    Some(_) => unknown(),
                    None => unreachable_provider(),
                });
            }
        }
        let fetched = self.fetch(issuer).await;
        let answered = fetched.is_ok();
        let previous = slot.take().and_then(|s| s.keys);
        // When the provider does not answer, the keys fetched before still check the
        // tokens they signed.
        let keys = fetched.ok().map(Arc::new).or(previous);
        let key = keys.as_deref().and_then(|keys| pick(keys, kid));
        *slot = Some(IssuerKeys {
            keys,
            fetched: Instant::now(),
        });
        match key {
            Some(key) => Ok(key),
            None if answered => Err(unknown()),
            None => Err(unreachable_provider()),
        }
    }

    /// Discovery, then the JWKS.
    async fn fetch(&self, issuer: &str) -> Result<JwkSet> {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let unavailable = |e: &dyn std::fmt::Display| {
            tracing::warn!(issuer, error = %e, "the identity provider did not answer");
            unreachable_provider()
        };
        let document: Value = self
            .client
            .get(&discovery)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| unavailable(&e))?
            .json()
            .await
            .map_err(|e| unavailable(&e))?;
        // OpenID Connect Discovery 1.0 §4.3: the document names its own issuer.
        if document["issuer"].as_str() != Some(issuer) {
            return Err(unavailable(&"its discovery document names another issuer"));
        }
        let jwks_uri = document["jwks_uri"]
            .as_str()
            .ok_or_else(|| unavailable(&"its discovery document has no jwks_uri"))?;
        self.client
            .get(jwks_uri)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| unavailable(&e))?
            .json::<JwkSet>()
            .await
            .map_err(|e| unavailable(&e))
    }
}

/// The key a token names, or the only signing key when it names none.
fn pick(keys: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => keys.find(kid).cloned(),
        None => match keys.keys.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        },
    }
}

/// Whether `key` may check a signature made with `alg`: a key of the algorithm's
/// own kind (RSA for RS256, P-256 for ES256, Ed25519 for EdDSA), meant for
/// signatures, and, where it names an algorithm, naming this one.
fn key_fits(key: &Jwk, alg: Algorithm) -> bool {
    let kind = match (&key.algorithm, alg) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => {
            okp.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    let usage = !matches!(
        key.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    );
    let named = key
        .common
        .key_algorithm
        .is_none_or(|a| a.to_string() == format!("{alg:?}"));
    kind && usage && named
}

/// Characters that reorder the text around them (an attacker's name could make a log
/// line read differently).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn unreachable_provider() -> Error {
    refused("the identity provider could not be reached to check the token")
}

fn refused(message: &str) -> Error {
    Error::Unauthenticated(message.to_owned())
}

/// An organization's trust in an identity provider.
#[derive(Debug, Clone)]
pub struct IdentityProviderView {
    /// Id.
    pub id: Uuid,
    /// The issuer URL, as the tokens' `iss` spells it.
    pub issuer: String,
    /// The audience a token must carry.
    pub audience: String,
    /// Where the role values are in the claims.
    pub roles_claim: String,
    /// Claim value → roles, sorted by claim value.
    pub role_map: Vec<(String, Vec<Role>)>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<identity_provider::Model> for IdentityProviderView {
    type Error = Error;

    fn try_from(m: identity_provider::Model) -> Result<Self> {
        let role_map = role_map_of(&m.role_map)?.into_iter().collect();
        Ok(Self {
            id: m.id,
            issuer: m.issuer,
            audience: m.audience,
            roles_claim: m.roles_claim,
            role_map,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// What an organization trusts: issuer, audience, roles claim and role map. Setting
/// it again for the same issuer and audience replaces the claim and the map.
#[derive(Debug, Clone)]
pub struct IdentityProviderInput {
    /// The issuer URL (`https://`, or `http://` on a loopback address).
    pub issuer: String,
    /// The audience (client id).
    pub audience: String,
    /// Where the role values are in the claims (`roles`, `groups`,
    /// `realm_access.roles`).
    pub roles_claim: String,
    /// Claim value → roles.
    pub role_map: Vec<(String, Vec<Role>)>,
}

/// A person who signed in.
#[derive(Debug, Clone)]
pub struct PersonView {
    /// Id (the principal id of everything they do).
    pub id: Uuid,
    /// Their identity provider.
    pub issuer: String,
    /// Their subject at that provider.
    pub subject: String,
    /// Name, as of the last sign-in.
    pub name: String,
    /// E-mail, as of the last sign-in.
    pub email: Option<String>,
    /// Roles the claims gave at the last sign-in.
    pub claim_roles: Vec<Role>,
    /// Roles granted here beyond the claims.
    pub extra_roles: Vec<Role>,
    /// Whether they may sign in.
    pub active: bool,
    /// First sign-in.
    pub first_seen_at: DateTime<Utc>,
    /// Latest sign-in (to the minute).
    pub last_seen_at: DateTime<Utc>,
}

/// A stored role map: claim value → roles.
fn role_map_of(text: &str) -> Result<BTreeMap<String, Vec<Role>>> {
    let map: BTreeMap<String, Vec<String>> =
        serde_json::from_str(text).map_err(|e| Error::Internal(format!("stored role map: {e}")))?;
    map.into_iter()
        .map(|(value, roles)| {
            let roles = roles
                .iter()
                .map(|r| r.parse::<Role>().map_err(Error::Internal))
                .collect::<Result<Vec<Role>>>()?;
            Ok((value, roles))
        })
        .collect()
}

fn roles_of_json(text: &str) -> Vec<Role> {
    serde_json::from_str::<Vec<String>>(text)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.parse().ok())
        .collect()
}

fn roles_json(roles: &BTreeSet<Role>) -> String {
    serde_json::to_string(&roles.iter().map(|r| r.as_str()).collect::<Vec<_>>())
        .expect("strings serialize")
}

impl From<person::Model> for PersonView {
    fn from(m: person::Model) -> Self {
        Self {
            id: m.id,
            claim_roles: roles_of_json(&m.claim_roles),
            extra_roles: roles_of_json(&m.extra_roles),
            issuer: m.issuer,
            subject: m.subject,
            name: m.name,
            email: m.email,
            active: m.active,
            first_seen_at: m.first_seen_at,
            last_seen_at: m.last_seen_at,
        }
    }
}

/// The role values at `path` (dotted) in the claims: a string or an array of them.
fn claim_values<'a>(claims: &'a Value, path: &str) -> Vec<&'a str> {
    let mut at = claims;
    for part in path.split('.') {
        match at.get(part) {
            Some(next) => at = next,
            None => return Vec::new(),
        }
    }
    match at {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether the issuer URL may be trusted: HTTPS, or HTTP on a loopback address (a
/// provider on the same machine, or a test's).
fn issuer_is_acceptable(issuer: &str) -> bool {
    let Ok(url) = url::Url::parse(issuer) else {
        return false;
    };
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    (url.scheme() == "https" || (url.scheme() == "http" && loopback))
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
}

impl Workflow {
    /// Resolves a bearer credential: an API key (`ak_…`) or a person's JWT; with a
    /// JWT also when it expires (a long-lived connection must end then).
    pub async fn authenticate_bearer(
        &self,
        token: &str,
    ) -> Result<(Principal, Option<DateTime<Utc>>)> {
        let token = token.trim();
        if !token.starts_with("ak_") && token.bytes().filter(|b| *b == b'.').count() == 2 {
            let (principal, expires) = self.authenticate_token(token).await?;
            Ok((principal, Some(expires)))
        } else {
            Ok((self.authenticate(token).await?, None))
        }
    }

    /// Resolves a bearer JWT to the person it names (recording them on first sight)
    /// and the token's expiry. Every refusal is UNAUTHENTICATED with a message that
    /// says what was wrong with the token, never anything about the organizations.
    pub async fn authenticate_token(&self, token: &str) -> Result<(Principal, DateTime<Utc>)> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| refused("the bearer token is neither an API key nor a valid JWT"))?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(refused(
                "the token's signature algorithm is not accepted (RS256, ES256 or EdDSA)",
            ));
        }
        // The issuer decides which keys check the signature; its claim is read
        // before that check only to find them, and checked again with the signature.
        let unverified: Value = jsonwebtoken::dangerous::insecure_decode_claims(token)
            .map_err(|_| refused("the bearer token is neither an API key nor a valid JWT"))?;
        let issuer = unverified["iss"]
            .as_str()
            .ok_or_else(|| refused("the token names no issuer"))?
            .to_owned();
        let providers = identity_provider::Entity::find()
            .filter(identity_provider::Column::Issuer.eq(&issuer))
            .all(self.store.conn())
            .await?;
        if providers.is_empty() {
            return Err(refused("the token's issuer is not trusted here"));
        }
        let key = self.issuers.key(&issuer, header.kid.as_deref()).await?;
        if !key_fits(&key, header.alg) {
            return Err(refused(
                "the token's signing key does not fit its signature algorithm",
            ));
        }
        let decoding = DecodingKey::from_jwk(&key)
            .map_err(|_| refused("the issuer's signing key cannot be used"))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&issuer]);
        let audiences: Vec<&str> = providers.iter().map(|p| p.audience.as_str()).collect();
        validation.set_audience(&audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Value>(token, &decoding, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                refused(match e.kind() {
                    K::ExpiredSignature => "the token has expired",
                    K::ImmatureSignature => "the token is not valid yet",
                    K::InvalidAudience => "the token is not meant for this service (audience)",
                    K::InvalidIssuer => "the token's issuer is not trusted here",
                    K::InvalidSignature => "the token's signature is not valid",
                    K::MissingRequiredClaim(_) => "the token lacks exp, iss, aud or sub",
                    _ => "the token is not valid",
                })
            })?
            .claims;
        let token_audiences: Vec<&str> = match &claims["aud"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut meant: Vec<_> = providers
            .into_iter()
            .filter(|p| token_audiences.contains(&p.audience.as_str()))
            .collect();
        if meant.len() > 1 {
            // Two organizations trust this issuer, one audience each, and the token
            // names both: it must name one.
            return Err(refused(
                "the token names the audiences of more than one organization",
            ));
        }
        let provider = meant
            .pop()
            .ok_or_else(|| refused("the token is not meant for this service (audience)"))?;
        // RFC 7519 NumericDate: seconds, possibly with a fraction.
        let expires = claims["exp"]
            .as_f64()
            .and_then(|exp| DateTime::from_timestamp(exp.floor() as i64, 0))
            .ok_or_else(|| refused("the token's expiry is not a time"))?;
        Ok((self.sign_in(provider, &claims).await?, expires))
    }

    /// Whether a person may still act: recorded, active, with `roles` still theirs.
    pub(crate) async fn person_unchanged(
        &self,
        principal: &Principal,
        roles: &[Role],
    ) -> Result<bool> {
        let active = person::Entity::find_by_id(principal.key_id)
            .one(self.store.conn())
            .await?
            .is_some_and(|p| p.active);
        let mut then = roles.to_vec();
        then.sort();
        Ok(active
            && self
                .authz
                .roles_of(principal.key_id, principal.org_id)
                .await
                == then)
    }

    /// Records the person the verified `claims` name and brings their roles in line
    /// with the claims.
    async fn sign_in(
        &self,
        provider: identity_provider::Model,
        claims: &Value,
    ) -> Result<Principal> {
        let subject = claims["sub"]
            .as_str()
            .filter(|s| !s.is_empty() && s.len() <= 255 && !s.chars().any(char::is_control))
            .ok_or_else(|| {
                refused("the token's subject is missing, too long or has control characters")
            })?;
        // Names are shown to staff and written to the audit log: control and
        // direction-changing characters are dropped (PostgreSQL also refuses NUL).
        let text = |name: &str| {
            claims[name]
                .as_str()
                .map(|s| {
                    s.chars()
                        .filter(|c| !c.is_control() && !is_bidi_control(*c))
                        .take(200)
                        .collect::<String>()
                })
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let email = text("email").filter(|e| {
            e.split('@').count() == 2
                && !e.starts_with('@')
                && !e.ends_with('@')
                && !e.chars().any(|c| c.is_whitespace() || "<>\"".contains(c))
        });
        let name = text("name")
            .or_else(|| text("preferred_username"))
            .or_else(|| email.clone())
            .unwrap_or_else(|| subject.chars().take(200).collect());
        let map = role_map_of(&provider.role_map)?;
        let claim_roles: BTreeSet<Role> = claim_values(claims, &provider.roles_claim)
            .into_iter()
            .filter_map(|v| map.get(v))
            .flatten()
            .copied()
            .collect();
        let at = now();
        let existing = find_by_identity(self.store.conn(), &provider, subject).await?;
        let person = match existing {
            Some(p) => {
                if !p.active {
                    return Err(refused("this person is deactivated here"));
                }
                let changed = p.name != name
                    || p.email != email
                    || p.claim_roles != roles_json(&claim_roles)
                    || at - p.last_seen_at > LAST_SEEN_GRANULARITY;
                if changed {
                    let mut active: person::ActiveModel = p.into();
                    active.name = Set(name);
                    active.email = Set(email);
                    active.claim_roles = Set(roles_json(&claim_roles));
                    active.last_seen_at = Set(at);
                    let _turn = self.store.writer_turn().await;
                    active.update(self.store.conn()).await?
                } else {
                    p
                }
            }
            None => {
                let row = person::Model {
                    id: new_id(),
                    org_id: provider.org_id,
                    issuer: provider.issuer.clone(),
                    subject: subject.to_owned(),
                    name,
                    email,
                    claim_roles: roles_json(&claim_roles),
                    extra_roles: "[]".to_owned(),
                    active: true,
                    first_seen_at: at,
                    last_seen_at: at,
                    deactivated_at: None,
                    deactivated_by: None,
                };
                let inserted = {
                    let _turn = self.store.writer_turn().await;
                    person::Entity::insert(person::ActiveModel::from(row.clone()))
                        .exec(self.store.conn())
                        .await
                };
                match inserted {
                    Ok(_) => row,
                    // Two first sign-ins at once: the other one recorded them.
                    Err(e) => find_by_identity(self.store.conn(), &provider, subject)
                        .await?
                        .ok_or(e)?,
                }
            }
        };
        self.authz.refresh().await?;
        self.sync_roles(&person).await?;
        Ok(principal_of(&person))
    }

    /// Makes the person's Casbin roles the claims' plus the extra ones, when they
    /// differ (one write and a policy reload only then).
    async fn sync_roles(&self, person: &person::Model) -> Result<()> {
        let wanted = effective_roles(person);
        let held: BTreeSet<Role> = self
            .authz
            .roles_of(person.id, person.org_id)
            .await
            .into_iter()
            .collect();
        if wanted == held {
            return Ok(());
        }
        let tx = self.store.begin().await?;
        set_roles(tx.conn(), person.id, person.org_id, &wanted).await?;
        tx.commit_then(&self.bus, self.authz.reload()).await
    }

    /// The organization's identity providers.
    pub async fn identity_providers(
        &self,
        principal: &Principal,
    ) -> Result<Vec<IdentityProviderView>> {
        identity_provider::Entity::find()
            .filter(identity_provider::Column::OrgId.eq(principal.org_id))
            .order_by_asc(identity_provider::Column::Issuer)
            .order_by_asc(identity_provider::Column::Audience)
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// One identity provider of the organization; NOT_FOUND otherwise.
    pub async fn identity_provider(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<IdentityProviderView> {
        identity_provider::Entity::find_by_id(id)
            .filter(identity_provider::Column::OrgId.eq(principal.org_id))
            .one(self.store.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "identity provider",
            })?
            .try_into()
    }

    /// Trusts an identity provider (or changes the claim and map of one trusted).
    /// CONFLICT when another organization trusts the same issuer and audience: a
    /// token must name one organization.
    pub async fn set_identity_provider(
        &self,
        principal: &Principal,
        input: IdentityProviderInput,
    ) -> Result<IdentityProviderView> {
        let mut v = Validator::default();
        let issuer = v.text(&input.issuer, &["input", "issuer"], 255);
        v.check(
            issuer.is_empty() || issuer_is_acceptable(&issuer),
            &["input", "issuer"],
            "must be an https:// URL (http:// only on a loopback address), without query or user",
        );
        let audience = v.text(&input.audience, &["input", "audience"], 255);
        let roles_claim = v.text(&input.roles_claim, &["input", "rolesClaim"], 200);
        v.check(
            roles_claim.split('.').all(|p| !p.is_empty()),
            &["input", "rolesClaim"],
            "a claim name or a dotted path such as realm_access.roles",
        );
        v.check(
            input.role_map.len() <= 100,
            &["input", "roleMap"],
            "at most 100 claim values",
        );
        let mut map: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (i, (value, roles)) in input.role_map.iter().enumerate() {
            let index = i.to_string();
            let value = v.text(value, &["input", "roleMap", &index, "claimValue"], 200);
            v.check(
                !map.contains_key(&value),
                &["input", "roleMap", &index, "claimValue"],
                "is listed twice",
            );
            let roles: BTreeSet<Role> = roles.iter().copied().collect();
            map.insert(value, roles.into_iter().map(Role::as_str).collect());
        }
        v.finish()?;
        let tx = self.store.begin().await?;
        let taken = identity_provider::Entity::find()
            .filter(identity_provider::Column::Issuer.eq(&issuer))
            .filter(identity_provider::Column::Audience.eq(&audience))
            .one(tx.conn())
            .await?;
        let at = now();
        let role_map = serde_json::to_string(&map).expect("strings serialize");
        let (saved, before) = match taken {
            Some(existing) if existing.org_id != principal.org_id => {
                return Err(Error::Conflict(
                    "another organization trusts this issuer and audience".into(),
                ));
            }
            Some(existing) => {
                let before = provider_state(&existing);
                let mut active: identity_provider::ActiveModel = existing.into();
                active.roles_claim = Set(roles_claim);
                active.role_map = Set(role_map);
                active.updated_at = Set(at);
                (active.update(tx.conn()).await?, Some(before))
            }
            None => {
                let row = identity_provider::Model {
                    id: new_id(),
                    org_id: principal.org_id,
                    issuer,
                    audience,
                    roles_claim,
                    role_map,
                    created_at: at,
                    updated_at: at,
                };
                identity_provider::Entity::insert(identity_provider::ActiveModel::from(
                    row.clone(),
                ))
                .exec(tx.conn())
                .await?;
                (row, None)
            }
        };
        let mut entry = Entry::success("setIdentityProvider", "IdentityProvider", saved.id)
            .after(provider_state(&saved));
        if let Some(before) = before {
            entry = entry.before(before);
        }
        self.commit_audited(tx, principal, entry).await?;
        saved.try_into()
    }

    /// Stops trusting an identity provider: its people can no longer sign in and lose
    /// their roles here (their open connections close); they stay recorded, with what
    /// they did, and get their roles again with their next sign-in if it is trusted
    /// again.
    pub async fn remove_identity_provider(&self, principal: &Principal, id: Uuid) -> Result<Uuid> {
        let tx = self.store.begin().await?;
        let existing = identity_provider::Entity::find_by_id(id)
            .filter(identity_provider::Column::OrgId.eq(principal.org_id))
            .one(tx.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "identity provider",
            })?;
        identity_provider::Entity::delete_by_id(id)
            .exec(tx.conn())
            .await?;
        // Another audience of the same issuer may still be trusted: its people keep
        // their roles.
        let still_trusted = identity_provider::Entity::find()
            .filter(identity_provider::Column::OrgId.eq(principal.org_id))
            .filter(identity_provider::Column::Issuer.eq(&existing.issuer))
            .one(tx.conn())
            .await?
            .is_some();
        if !still_trusted {
            let people = person::Entity::find()
                .filter(person::Column::OrgId.eq(principal.org_id))
                .filter(person::Column::Issuer.eq(&existing.issuer))
                .all(tx.conn())
                .await?;
            for p in people {
                set_roles(tx.conn(), p.id, p.org_id, &BTreeSet::new()).await?;
            }
        }
        let entry = Entry::success("removeIdentityProvider", "IdentityProvider", id)
            .before(provider_state(&existing));
        self.commit_policy_change(tx, principal, entry).await?;
        Ok(id)
    }

    /// The organization's people, in the order they were first seen.
    pub async fn persons(
        &self,
        principal: &Principal,
        include_inactive: bool,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<PersonView>> {
        let mut select = person::Entity::find().filter(person::Column::OrgId.eq(principal.org_id));
        if !include_inactive {
            select = select.filter(person::Column::Active.eq(true));
        }
        let page = paginate(self.store.conn(), select, person::Column::Id, page).await?;
        Ok(Page {
            items: page.items.into_iter().map(Into::into).collect(),
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            total_count: page.total_count,
        })
    }

    /// One person of the organization (for `me` and `node`).
    pub async fn person(&self, principal: &Principal, id: Uuid) -> Result<PersonView> {
        find_person(self.store.conn(), principal.org_id, id)
            .await
            .map(Into::into)
    }

    /// Lets a person sign in again, or not: a deactivated person's tokens are refused
    /// (those already signed in are refused with their next request).
    pub async fn set_person_active(
        &self,
        principal: &Principal,
        id: Uuid,
        active: bool,
    ) -> Result<PersonView> {
        if !active && principal.key_id == id {
            return Err(Error::Conflict("you cannot deactivate yourself".into()));
        }
        let tx = self.store.begin().await?;
        let existing = find_person(tx.conn(), principal.org_id, id).await?;
        let before = person_state(&existing);
        let mut row: person::ActiveModel = existing.clone().into();
        row.active = Set(active);
        row.deactivated_at = Set((!active).then(now));
        row.deactivated_by = Set((!active).then_some(principal.key_id));
        let updated = row.update(tx.conn()).await?;
        // A deactivated person holds no roles: whatever they still present decides
        // nothing.
        let roles = if active {
            effective_roles(&updated)
        } else {
            BTreeSet::new()
        };
        set_roles(tx.conn(), id, principal.org_id, &roles).await?;
        let operation = if active {
            "activatePerson"
        } else {
            "deactivatePerson"
        };
        let entry = Entry::success(operation, "Person", id)
            .before(before)
            .after(person_state(&updated));
        self.commit_policy_change(tx, principal, entry).await?;
        Ok(updated.into())
    }

    /// Sets the roles a person has beyond what their claims give.
    pub async fn set_person_roles(
        &self,
        principal: &Principal,
        id: Uuid,
        extra: Vec<Role>,
    ) -> Result<PersonView> {
        let tx = self.store.begin().await?;
        let existing = find_person(tx.conn(), principal.org_id, id).await?;
        let before = person_state(&existing);
        let extra: BTreeSet<Role> = extra.into_iter().collect();
        let mut row: person::ActiveModel = existing.clone().into();
        row.extra_roles = Set(roles_json(&extra));
        let updated = row.update(tx.conn()).await?;
        if updated.active {
            set_roles(tx.conn(), id, principal.org_id, &effective_roles(&updated)).await?;
        }
        let entry = Entry::success("setPersonRoles", "Person", id)
            .before(before)
            .after(person_state(&updated));
        self.commit_policy_change(tx, principal, entry).await?;
        Ok(updated.into())
    }
}

/// Whether `actor` and one of `others` are the same person once each API key stands
/// for the person who created it (a key a person minted acts for them).
pub(crate) async fn same_person_behind<C: Conn>(
    conn: &C,
    actor: Uuid,
    others: &[Uuid],
) -> Result<bool> {
    use crate::entity::api_key;
    let ids: Vec<Uuid> = others.iter().copied().chain([actor]).collect();
    let keys = api_key::Entity::find()
        .filter(api_key::Column::Id.is_in(ids.clone()))
        .all(conn)
        .await?;
    let creators: Vec<Uuid> = keys.iter().filter_map(|k| k.created_by).collect();
    if creators.is_empty() {
        return Ok(false);
    }
    let people: BTreeSet<Uuid> = person::Entity::find()
        .filter(person::Column::Id.is_in(creators))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let behind = |id: Uuid| -> BTreeSet<Uuid> {
        let mut who = BTreeSet::from([id]);
        if let Some(creator) = keys
            .iter()
            .find(|k| k.id == id)
            .and_then(|k| k.created_by)
            .filter(|c| people.contains(c))
        {
            who.insert(creator);
        }
        who
    };
    let actor = behind(actor);
    Ok(others.iter().any(|o| !behind(*o).is_disjoint(&actor)))
}

/// The roles a person holds: what their claims gave at the last sign-in, and those
/// granted here beyond them.
fn effective_roles(person: &person::Model) -> BTreeSet<Role> {
    roles_of_json(&person.claim_roles)
        .into_iter()
        .chain(roles_of_json(&person.extra_roles))
        .collect()
}

/// The person a provider's token names, if recorded.
async fn find_by_identity<C: Conn>(
    conn: &C,
    provider: &identity_provider::Model,
    subject: &str,
) -> Result<Option<person::Model>> {
    Ok(person::Entity::find()
        .filter(person::Column::OrgId.eq(provider.org_id))
        .filter(person::Column::Issuer.eq(&provider.issuer))
        .filter(person::Column::Subject.eq(subject))
        .one(conn)
        .await?)
}

/// The principal of an active person, by id (for links a person asked for).
pub(crate) async fn active_person_principal<C: Conn>(
    conn: &C,
    id: Uuid,
) -> Result<Option<Principal>> {
    Ok(person::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|p| p.active)
        .map(|p| principal_of(&p)))
}

/// The principal of a recorded person.
fn principal_of(person: &person::Model) -> Principal {
    Principal {
        key_id: person.id,
        org_id: person.org_id,
        key_name: person.name.clone(),
        kind: PrincipalKind::Person,
    }
}

async fn find_person<C: Conn>(conn: &C, org_id: Uuid, id: Uuid) -> Result<person::Model> {
    person::Entity::find_by_id(id)
        .filter(person::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound { what: "person" })
}

/// Replaces the person's role rules in the organization by `roles`.
async fn set_roles<C: Conn>(
    conn: &C,
    person_id: Uuid,
    org_id: Uuid,
    roles: &BTreeSet<Role>,
) -> Result<()> {
    authz::delete_rules(
        conn,
        Condition::all()
            .add(casbin_rule::Column::Ptype.eq("g"))
            .add(casbin_rule::Column::V0.eq(authz::subject(person_id)))
            .add(casbin_rule::Column::V2.eq(authz::domain(org_id))),
    )
    .await?;
    let rows = roles
        .iter()
        .map(|role| {
            authz::adapter_row(
                "g",
                &[
                    authz::subject(person_id),
                    role.as_str().to_owned(),
                    authz::domain(org_id),
                ],
            )
        })
        .collect();
    authz::insert_rules(conn, rows).await
}

fn provider_state(p: &identity_provider::Model) -> Value {
    serde_json::json!({
        "issuer": p.issuer,
        "audience": p.audience,
        "rolesClaim": p.roles_claim,
        "roleMap": serde_json::from_str::<Value>(&p.role_map).unwrap_or(Value::Null),
    })
}

fn person_state(p: &person::Model) -> Value {
    serde_json::json!({
        "issuer": p.issuer,
        "subject": p.subject,
        "active": p.active,
        "extraRoles": serde_json::from_str::<Value>(&p.extra_roles).unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_values_are_read_at_a_dotted_path() {
        let claims = serde_json::json!({
            "roles": "lawyer",
            "realm_access": {"roles": ["dpo", 7, "steward"]},
            "groups": {"not": "a list"}
        });
        assert_eq!(claim_values(&claims, "roles"), ["lawyer"]);
        assert_eq!(
            claim_values(&claims, "realm_access.roles"),
            ["dpo", "steward"]
        );
        assert!(claim_values(&claims, "groups").is_empty());
        assert!(claim_values(&claims, "missing.path").is_empty());
    }

    #[test]
    fn issuers_are_https_or_loopback_http() {
        assert!(issuer_is_acceptable(
            "https://login.example.com/realms/staff"
        ));
        assert!(issuer_is_acceptable("http://127.0.0.1:8080/realms/staff"));
        assert!(issuer_is_acceptable("http://localhost:9000"));
        assert!(!issuer_is_acceptable("http://login.example.com"));
        assert!(!issuer_is_acceptable("https://user@login.example.com"));
        assert!(!issuer_is_acceptable("https://login.example.com/?x=1"));
        assert!(!issuer_is_acceptable("file:///etc/passwd"));
        assert!(!issuer_is_acceptable("not a url"));
    }

    fn jwk(json: Value) -> Jwk {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_key_checks_only_signatures_of_its_own_kind() {
        let rsa = jwk(serde_json::json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r"}));
        let ec = jwk(serde_json::json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}));
        let ed = jwk(serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "AA"}));
        let hmac = jwk(serde_json::json!({"kty": "oct", "k": "c2VjcmV0"}));
        assert!(key_fits(&rsa, Algorithm::RS256));
        assert!(!key_fits(&rsa, Algorithm::ES256));
        assert!(key_fits(&ec, Algorithm::ES256));
        assert!(!key_fits(&ec, Algorithm::RS256));
        assert!(key_fits(&ed, Algorithm::EdDSA));
        assert!(!key_fits(&hmac, Algorithm::RS256));
        assert!(!key_fits(&hmac, Algorithm::HS256));
        let named =
            jwk(serde_json::json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "RS384"}));
        assert!(!key_fits(&named, Algorithm::RS256));
        let encryption =
            jwk(serde_json::json!({"kty": "RSA", "n": "AQAB", "e": "AQAB", "use": "enc"}));
        assert!(!key_fits(&encryption, Algorithm::RS256));
    }
}
