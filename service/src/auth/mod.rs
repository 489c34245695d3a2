//! Who is calling, and what they may do: bearer JWTs checked against the JWKS of the configured
//! issuers, app roles mapped to verbs, and an access map from callers to tenants.

mod issuer;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{AccessGrant, IssuerConfig};
use crate::domain::tenancy::{TenantNames, TenantSelector};
use issuer::Issuer;

/// What a role lets a caller do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    Read,
    Write,
    Admin,
}

impl Verb {
    /// The app roles (or delegated scopes) that grant this verb.
    fn granted_by(self) -> &'static [&'static str] {
        match self {
            Verb::Read => &["SSPR.Read", "SSPR.ReadWrite", "SSPR.Admin"],
            Verb::Write => &["SSPR.ReadWrite", "SSPR.Admin"],
            Verb::Admin => &["SSPR.Admin"],
        }
    }

    pub fn role_name(self) -> &'static str {
        self.granted_by()[0]
    }
}

impl Verb {
    /// The verb an access grant's role allows at most.
    pub fn of_role(role: sspr_api::access::Role) -> Verb {
        match role {
            sspr_api::access::Role::Read => Verb::Read,
            sspr_api::access::Role::ReadWrite => Verb::Write,
            sspr_api::access::Role::Admin => Verb::Admin,
        }
    }
}

/// One access grant as the authenticator applies it: `principal` may act on the tenants
/// `tenants` selects, up to `role` (no cap for a grant of the configuration file: the token's
/// role decides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub principal: String,
    pub tenants: Vec<TenantSelector>,
    pub role: Option<Verb>,
}

impl Grant {
    fn of_config(grant: &AccessGrant) -> Grant {
        Grant {
            principal: grant.principal.clone(),
            tenants: grant.tenants.iter().map(|t| selector(t)).collect(),
            role: None,
        }
    }
}

/// What one grant gives a caller: these tenants, up to this verb.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Scope {
    tenants: TenantSelector,
    role: Option<Verb>,
}

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub oid: Option<String>,
    pub app_id: Option<String>,
    pub upn: Option<String>,
    pub roles: Vec<String>,
    /// The tenants the access grants give this caller (ids, domains, `tag:` selectors, `*`),
    /// each up to the grant's role.
    scopes: Vec<Scope>,
}

#[cfg(test)]
impl Caller {
    /// A verified caller for the use cases' unit tests: these app roles, every tenant.
    pub(crate) fn for_tests(roles: &[&str]) -> Caller {
        Caller {
            oid: Some("11111111-1111-1111-1111-111111111111".to_owned()),
            app_id: None,
            upn: Some("admin@contoso.example".to_owned()),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            scopes: vec![Scope {
                tenants: TenantSelector::All,
                role: None,
            }],
        }
    }

    /// The same caller with access to only the tenants `selectors` select.
    pub(crate) fn with_tenants(mut self, selectors: &[&str]) -> Caller {
        self.scopes = selectors
            .iter()
            .map(|s| Scope {
                tenants: selector(s),
                role: None,
            })
            .collect();
        self
    }

    /// The same caller with one more grant: `selector`'s tenants up to `role`.
    pub(crate) fn with_grant(mut self, selector_text: &str, role: Verb) -> Caller {
        self.scopes.push(Scope {
            tenants: selector(selector_text),
            role: Some(role),
        });
        self
    }
}

impl Caller {
    pub fn may(&self, verb: Verb) -> bool {
        self.roles
            .iter()
            .any(|r| verb.granted_by().contains(&r.as_str()))
    }

    /// True when a grant gives this caller `tenant` (by id, domain, tag or `*`), whatever its
    /// role: the tenant is visible to the caller.
    pub fn may_access(&self, tenant: &impl TenantNames) -> bool {
        self.scopes.iter().any(|s| s.tenants.matches(tenant))
    }

    /// True when a grant gives this caller `verb` on `tenant`: the grant's role (if it has one)
    /// allows it. The token's role is checked apart ([`Caller::may`]).
    pub fn may_act(&self, tenant: &impl TenantNames, verb: Verb) -> bool {
        self.scopes
            .iter()
            .any(|s| s.tenants.matches(tenant) && s.role.is_none_or(|cap| cap >= verb))
    }

    /// True when a grant gives this caller every tenant (`*`), including tenants the service no
    /// longer manages.
    pub fn may_access_all(&self) -> bool {
        self.scopes.iter().any(|s| s.tenants == TenantSelector::All)
    }

    /// True when this caller administers the whole fleet: the token's `SSPR.Admin` and a grant
    /// of every tenant (`*`) without a lesser role. Onboarding tenants and granting access need
    /// it: a caller scoped to some tenants must not widen its own scope.
    pub fn administers_fleet(&self) -> bool {
        self.may(Verb::Admin)
            && self.scopes.iter().any(|s| {
                s.tenants == TenantSelector::All && s.role.is_none_or(|cap| cap == Verb::Admin)
            })
    }

    /// For logs and audit: the most readable stable identity.
    pub fn display(&self) -> String {
        let name = self
            .upn
            .as_deref()
            .or(self.oid.as_deref())
            .unwrap_or("unknown");
        match &self.app_id {
            Some(app) => format!("{name} via {app}"),
            None => name.to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token was presented")]
    Missing,
    #[error("{0}")]
    Invalid(String),
    #[error("the identity provider's signing keys cannot be loaded: {0}")]
    KeysUnavailable(String),
}

#[derive(Deserialize)]
struct Claims {
    oid: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
    upn: Option<String>,
    preferred_username: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    scp: Option<String>,
}

pub struct Authenticator {
    issuers: Vec<Issuer>,
    /// The grants of the configuration file, as written and as applied.
    configured_text: Vec<AccessGrant>,
    configured: Vec<Grant>,
    /// The grants made through the API, swapped whole when one is made or revoked.
    granted: std::sync::RwLock<std::sync::Arc<[Grant]>>,
    http: reqwest::Client,
}

impl Authenticator {
    pub fn new(issuers: &[IssuerConfig], access: Vec<AccessGrant>, http: reqwest::Client) -> Self {
        Authenticator {
            issuers: issuers
                .iter()
                .map(|i| Issuer::new(i.discovery_url.clone(), i.audience.clone()))
                .collect(),
            configured: access.iter().map(Grant::of_config).collect(),
            configured_text: access,
            granted: std::sync::RwLock::new(std::sync::Arc::from(Vec::new())),
            http,
        }
    }

    /// The grants of the configuration file, as written.
    pub fn configured_grants(&self) -> &[AccessGrant] {
        &self.configured_text
    }

    /// Replaces the grants made through the API; callers verified from now on get them.
    pub fn set_granted(&self, grants: Vec<Grant>) {
        *self.granted.write().unwrap_or_else(|e| e.into_inner()) = grants.into();
    }

    /// Loads every issuer's keys; the names of those that failed, with why.
    pub async fn load_keys(&self) -> Vec<String> {
        let mut failures = Vec::new();
        for issuer in &self.issuers {
            if let Err(e) = issuer.keys(&self.http).await {
                failures.push(format!("{}: {e}", issuer.discovery_url()));
            }
        }
        failures
    }

    pub async fn all_keys_loaded(&self) -> bool {
        for issuer in &self.issuers {
            if !issuer.is_loaded().await {
                return false;
            }
        }
        !self.issuers.is_empty()
    }

    /// Verifies a bearer token: RS256 only, signature by a key of a configured issuer, `exp`,
    /// `nbf`, `iss` and `aud` required and checked. A refusal says why in plain words (when it
    /// expired, which audience or issuer it names), never echoing the token.
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = decode_header(token).map_err(|e| {
            AuthError::Invalid(format!("the token is malformed: it is not a JWT ({e})"))
        })?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Invalid(format!(
                "token algorithm {:?} is not accepted; only RS256 is",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("the token's header has no kid".into()))?;

        let (issuer, keys, jwk) = match self.find_key(&kid, false).await? {
            Some(found) => found,
            // Maybe the issuer rolled its keys: look once more with fresh key sets.
            None => match self.find_key(&kid, true).await? {
                Some(found) => found,
                None => return Err(AuthError::Invalid(self.unknown_key(token, &kid).await)),
            },
        };
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| AuthError::Invalid(format!("unusable signing key '{kid}': {e}")))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&keys.issuer]);
        validation.set_audience(&[&issuer.audience]);
        validation.validate_nbf = true;
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| {
                let expected = Expected {
                    audience: &issuer.audience,
                    issuers: std::slice::from_ref(&keys.issuer),
                };
                AuthError::Invalid(describe(e.kind(), &Unverified::of(token), &expected))
            })?
            .claims;
        Ok(self.caller(claims))
    }

    /// Why no configured issuer has the token's key: it comes from an issuer we do not trust,
    /// or its issuer does not publish that key.
    async fn unknown_key(&self, token: &str, kid: &str) -> String {
        let mut trusted = Vec::new();
        for issuer in &self.issuers {
            if let Ok(keys) = issuer.keys(&self.http).await {
                trusted.push(keys.issuer);
            }
        }
        let claims = Unverified::of(token);
        match claims.iss.as_deref() {
            Some(iss) if !trusted.iter().any(|t| t == iss) => untrusted_issuer(iss, &trusted),
            _ => format!(
                "the token is signed with an unknown key '{kid}': no trusted issuer publishes it"
            ),
        }
    }

    async fn find_key(
        &self,
        kid: &str,
        refresh: bool,
    ) -> Result<Option<(&Issuer, issuer::Keys, jsonwebtoken::jwk::Jwk)>, AuthError> {
        let mut failures = Vec::new();
        for issuer in &self.issuers {
            let keys = if refresh {
                issuer.refresh_for_unknown_kid(&self.http).await
            } else {
                issuer.keys(&self.http).await
            };
            match keys {
                Ok(keys) => {
                    if let Some(jwk) = keys.jwks.find(kid).cloned() {
                        return Ok(Some((issuer, keys, jwk)));
                    }
                }
                Err(e) => failures.push(e),
            }
        }
        if failures.len() == self.issuers.len() && !failures.is_empty() {
            return Err(AuthError::KeysUnavailable(failures.join("; ")));
        }
        Ok(None)
    }

    fn caller(&self, claims: Claims) -> Caller {
        let app_id = claims.azp.or(claims.appid);
        let mut roles = claims.roles;
        roles.extend(
            claims
                .scp
                .iter()
                .flat_map(|s| s.split(' '))
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
        let principals: Vec<&str> = claims
            .oid
            .iter()
            .chain(app_id.iter())
            .map(String::as_str)
            .collect();
        let granted = self
            .granted
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let scopes = self
            .configured
            .iter()
            .chain(granted.iter())
            .filter(|grant| {
                principals
                    .iter()
                    .any(|p| grant.principal.eq_ignore_ascii_case(p))
            })
            .flat_map(|grant| {
                grant.tenants.iter().map(|t| Scope {
                    tenants: t.clone(),
                    role: grant.role,
                })
            })
            .collect();
        Caller {
            oid: claims.oid,
            app_id,
            upn: claims.upn.or(claims.preferred_username),
            roles,
            scopes,
        }
    }
}

/// One entry of a grant's tenant list. The list was checked when the service started
/// ([`check_grants`]), so an entry that does not parse here only names a tenant.
pub fn selector(text: &str) -> TenantSelector {
    TenantSelector::parse(text).unwrap_or_else(|_| TenantSelector::Named(text.to_ascii_lowercase()))
}

/// Why the access map cannot serve, if it cannot: a grant names no tenant, or an entry is
/// neither an id, a domain, `tag:<tag>` nor `*`.
pub fn check_grants(access: &[AccessGrant]) -> Result<(), String> {
    for (index, grant) in access.iter().enumerate() {
        if grant.tenants.is_empty() {
            return Err(format!(
                "auth.access[{index}] ({}) names no tenant",
                grant.principal
            ));
        }
        for entry in &grant.tenants {
            TenantSelector::parse(entry)
                .map_err(|why| format!("auth.access[{index}].tenants: {why}"))?;
        }
    }
    Ok(())
}

/// What a signature-checked token should have had.
struct Expected<'a> {
    audience: &'a str,
    issuers: &'a [String],
}

/// The claims a refusal names, read without verification (only after the signature verified,
/// or to explain an unknown key): never trusted, only quoted.
#[derive(Debug, Default, Deserialize)]
struct Unverified {
    exp: Option<serde_json::Value>,
    nbf: Option<serde_json::Value>,
    aud: Option<serde_json::Value>,
    iss: Option<String>,
}

impl Unverified {
    fn of(token: &str) -> Unverified {
        jsonwebtoken::dangerous::insecure_decode_claims(token).unwrap_or_default()
    }
}

/// A NumericDate claim as RFC 3339, e.g. `2026-03-04T05:06:07Z`.
fn timestamp(value: Option<&serde_json::Value>) -> Option<String> {
    let seconds = value?.as_f64()?;
    OffsetDateTime::from_unix_timestamp(seconds.floor() as i64)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// `a` or `a, b`; a string or an array of strings, as `aud` may be.
fn audiences(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(one) => Some(one.clone()),
        serde_json::Value::Array(many) => Some(
            many.iter()
                .filter_map(serde_json::Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    }
}

fn untrusted_issuer(iss: &str, trusted: &[String]) -> String {
    let trusted = if trusted.is_empty() {
        "none could be loaded".to_owned()
    } else {
        trusted.join(", ")
    };
    format!(
        "the token was issued by {iss}, which this service does not trust (trusted issuer: {trusted})"
    )
}

fn describe(kind: &ErrorKind, claims: &Unverified, expected: &Expected<'_>) -> String {
    match kind {
        ErrorKind::ExpiredSignature => match timestamp(claims.exp.as_ref()) {
            Some(at) => format!("the token expired at {at}"),
            None => "the token has expired".into(),
        },
        ErrorKind::ImmatureSignature => match timestamp(claims.nbf.as_ref()) {
            Some(at) => format!("the token is not valid yet: it becomes valid at {at}"),
            None => "the token is not valid yet (nbf is in the future)".into(),
        },
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::InvalidAudience => format!(
            "the token's audience is {}, this service expects {}",
            audiences(claims.aud.as_ref()).unwrap_or_else(|| "missing".into()),
            expected.audience
        ),
        ErrorKind::InvalidIssuer => untrusted_issuer(
            claims.iss.as_deref().unwrap_or("nobody named"),
            expected.issuers,
        ),
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match its key".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no '{claim}' claim"),
        other => format!("the token is invalid: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(value: serde_json::Value) -> Unverified {
        serde_json::from_value(value).expect("claims")
    }

    const EXPECTED: Expected<'static> = Expected {
        audience: "api://sspr",
        issuers: &[],
    };

    #[test]
    fn an_expired_token_says_when() {
        let text = describe(
            &ErrorKind::ExpiredSignature,
            &claims(json!({"exp": 1_796_000_000})),
            &EXPECTED,
        );
        assert_eq!(text, "the token expired at 2026-11-30T00:53:20Z");
        let early = describe(
            &ErrorKind::ImmatureSignature,
            &claims(json!({"nbf": 1_796_000_000.5})),
            &EXPECTED,
        );
        assert_eq!(
            early,
            "the token is not valid yet: it becomes valid at 2026-11-30T00:53:20Z"
        );
        assert_eq!(
            describe(
                &ErrorKind::ExpiredSignature,
                &Unverified::default(),
                &EXPECTED
            ),
            "the token has expired"
        );
    }

    #[test]
    fn a_wrong_audience_or_issuer_names_both_sides() {
        assert_eq!(
            describe(
                &ErrorKind::InvalidAudience,
                &claims(json!({"aud": "https://graph.microsoft.com"})),
                &EXPECTED
            ),
            "the token's audience is https://graph.microsoft.com, this service expects api://sspr"
        );
        assert_eq!(
            describe(
                &ErrorKind::InvalidAudience,
                &claims(json!({"aud": ["a", "b"]})),
                &EXPECTED
            ),
            "the token's audience is a, b, this service expects api://sspr"
        );
        let trusted = ["https://login.example/t/v2.0".to_owned()];
        assert_eq!(
            describe(
                &ErrorKind::InvalidIssuer,
                &claims(json!({"iss": "https://sts.windows.net/attacker/"})),
                &Expected {
                    audience: "api://sspr",
                    issuers: &trusted
                }
            ),
            "the token was issued by https://sts.windows.net/attacker/, which this service does not trust (trusted issuer: https://login.example/t/v2.0)"
        );
    }

    #[test]
    fn unverified_claims_of_garbage_are_empty() {
        let nothing = Unverified::of("not-a-jwt");
        assert!(nothing.exp.is_none() && nothing.iss.is_none() && nothing.aud.is_none());
    }
}
