//! Who is calling, and what they may do: bearer JWTs checked against the JWKS of the configured
//! issuers, app roles mapped to verbs, and an access map from callers to tenants.

mod issuer;

use std::collections::HashSet;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

use crate::config::{AccessGrant, IssuerConfig};
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

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub oid: Option<String>,
    pub app_id: Option<String>,
    pub upn: Option<String>,
    pub roles: Vec<String>,
    /// Tenant keys (ids or domains, lower-cased) from the access map; `*` means all.
    tenants: HashSet<String>,
}

impl Caller {
    pub fn may(&self, verb: Verb) -> bool {
        self.roles
            .iter()
            .any(|r| verb.granted_by().contains(&r.as_str()))
    }

    /// True when the access map gives this caller the tenant named by any of `names`.
    pub fn may_access<'a>(&self, mut names: impl Iterator<Item = &'a str>) -> bool {
        self.tenants.contains("*") || names.any(|n| self.tenants.contains(&n.to_ascii_lowercase()))
    }

    /// True when the access map gives this caller every tenant (`*`), including tenants the
    /// service no longer manages.
    pub fn may_access_all(&self) -> bool {
        self.tenants.contains("*")
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
    access: Vec<AccessGrant>,
    http: reqwest::Client,
}

impl Authenticator {
    pub fn new(issuers: &[IssuerConfig], access: Vec<AccessGrant>, http: reqwest::Client) -> Self {
        Authenticator {
            issuers: issuers
                .iter()
                .map(|i| Issuer::new(i.discovery_url.clone(), i.audience.clone()))
                .collect(),
            access,
            http,
        }
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
    /// `nbf`, `iss` and `aud` required and checked.
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = decode_header(token)
            .map_err(|e| AuthError::Invalid(format!("malformed token: {e}")))?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::Invalid(format!(
                "token algorithm {:?} is not accepted; only RS256 is",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthError::Invalid("token header has no kid".into()))?;

        let (issuer, keys, jwk) = match self.find_key(&kid, false).await? {
            Some(found) => found,
            // Maybe the issuer rolled its keys: look once more with fresh key sets.
            None => self.find_key(&kid, true).await?.ok_or_else(|| {
                AuthError::Invalid(format!("token signed with unknown key '{kid}'"))
            })?,
        };
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| AuthError::Invalid(format!("unusable signing key '{kid}': {e}")))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&keys.issuer]);
        validation.set_audience(&[&issuer.audience]);
        validation.validate_nbf = true;
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(describe(e.kind())))?
            .claims;
        Ok(self.caller(claims))
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
        let tenants = self
            .access
            .iter()
            .filter(|grant| {
                principals
                    .iter()
                    .any(|p| grant.principal.eq_ignore_ascii_case(p))
            })
            .flat_map(|grant| grant.tenants.iter().map(|t| t.to_ascii_lowercase()))
            .collect();
        Caller {
            oid: claims.oid,
            app_id,
            upn: claims.upn.or(claims.preferred_username),
            roles,
            tenants,
        }
    }
}

fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "token has expired".into(),
        ErrorKind::ImmatureSignature => "token is not valid yet (nbf is in the future)".into(),
        ErrorKind::InvalidSignature => "token signature does not verify".into(),
        ErrorKind::InvalidAudience => "token audience is not this service".into(),
        ErrorKind::InvalidIssuer => "token issuer is not trusted".into(),
        ErrorKind::InvalidAlgorithm => "token algorithm does not match its key".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("token has no '{claim}' claim"),
        other => format!("token is invalid: {other:?}"),
    }
}
