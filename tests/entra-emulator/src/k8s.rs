//! A Kubernetes-like service-account token issuer (msp-readiness.md §1a): what a cluster with
//! a public OIDC issuer serves, so the token endpoint's federated credentials have a real issuer
//! to trust. Each cluster is a path below `/_k8s/`: `{base}_k8s/{cluster}` is its `iss`,
//! `…/.well-known/openid-configuration` and `…/openid/v1/jwks` are what the API server
//! publishes. Tokens are signed with the emulator's own keys, as the cluster's would be with
//! its service-account signing key.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use url::Url;

use crate::{Shared, calls::now_unix, token::first_party};

/// `{base}_k8s/{cluster}`: the issuer (`--service-account-issuer`) of a cluster, no trailing
/// slash, as Kubernetes writes it.
pub(crate) fn issuer(base_url: &Url, cluster: &str) -> String {
    format!("{base_url}_k8s/{cluster}")
}

/// A projected service-account token's claims: audience `api://AzureADTokenExchange`, and for
/// `system:serviceaccount:<ns>:<name>` subjects the `kubernetes.io` claim. The service account's
/// `uid` is derived from its name, so every token of one account carries the same uid, as a
/// cluster's do.
pub(crate) fn projected_token_claims(
    issuer: &str,
    subject: &str,
    issued_at: i64,
    lifetime_secs: i64,
) -> Value {
    let mut claims = json!({
        "aud": [first_party::TOKEN_EXCHANGE_AUDIENCE],
        "iss": issuer,
        "sub": subject,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at.saturating_add(lifetime_secs),
    });
    if let Some(rest) = subject.strip_prefix("system:serviceaccount:")
        && let Some((namespace, name)) = rest.split_once(':')
    {
        claims["kubernetes.io"] = json!({
            "namespace": namespace,
            "serviceaccount": { "name": name, "uid": account_uid(issuer, subject) },
        });
    }
    claims
}

/// A stable, UUID-shaped uid per (issuer, subject): the first 128 bits of their SHA-256.
fn account_uid(issuer: &str, subject: &str) -> String {
    let digest = aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        format!("{issuer}\n{subject}").as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// A token for `system:serviceaccount:{namespace}:{service_account}` of `cluster`, issued
/// `issued_ago_secs` seconds ago and valid `lifetime_secs` from then.
pub(crate) fn mint(
    shared: &Shared,
    cluster: &str,
    namespace: &str,
    service_account: &str,
    issued_ago_secs: i64,
    lifetime_secs: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = projected_token_claims(
        &issuer(&shared.base_url, cluster),
        &format!("system:serviceaccount:{namespace}:{service_account}"),
        now_unix() - issued_ago_secs,
        lifetime_secs,
    );
    crate::token::sign(shared, &claims)
}

/// A token of the same account issued two hours ago that expired an hour ago, well past the
/// token endpoint's clock skew: what a token file holds when nothing rotated it.
pub(crate) fn mint_expired(
    shared: &Shared,
    cluster: &str,
    namespace: &str,
    service_account: &str,
) -> Result<String, jsonwebtoken::errors::Error> {
    mint(shared, cluster, namespace, service_account, 7200, 3600)
}

/// Cluster names are path segments of the issuer: DNS labels, as cluster names usually are.
pub(crate) fn valid_cluster(cluster: &str) -> bool {
    !cluster.is_empty()
        && cluster.len() <= 63
        && cluster
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn not_found() -> Response {
    // The API server's answer for a path it does not serve.
    (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
}

/// `GET /_k8s/{cluster}/.well-known/openid-configuration`, as the API server serves it.
pub(crate) async fn discovery(
    State(shared): State<Arc<Shared>>,
    Path(cluster): Path<String>,
) -> Response {
    if !valid_cluster(&cluster) {
        return not_found();
    }
    let issuer = issuer(&shared.base_url, &cluster);
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/openid/v1/jwks"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
    .into_response()
}

/// `GET /_k8s/{cluster}/openid/v1/jwks`: the public keys, without Entra's `issuer` member.
pub(crate) async fn jwks(
    State(shared): State<Arc<Shared>>,
    Path(cluster): Path<String>,
) -> Response {
    if !valid_cluster(&cluster) {
        return not_found();
    }
    let keys: Vec<Value> = shared
        .keys
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .all()
        .map(|k| serde_json::to_value(&k.jwk).unwrap_or_else(|_| json!({})))
        .collect();
    Json(json!({ "keys": keys })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projected_claims_name_the_account_and_keep_its_uid_across_tokens() {
        let issuer = "https://127.0.0.1:1/_k8s/demo-cluster";
        let subject = "system:serviceaccount:sspr:sspr";
        let first = projected_token_claims(issuer, subject, 1_000, 3_600);
        let later = projected_token_claims(issuer, subject, 5_000, 600);
        assert_eq!(first["exp"], 4_600);
        assert_eq!(first["aud"], json!([first_party::TOKEN_EXCHANGE_AUDIENCE]));
        assert_eq!(first["kubernetes.io"]["namespace"], "sspr");
        assert_eq!(first["kubernetes.io"]["serviceaccount"]["name"], "sspr");
        let uid = &first["kubernetes.io"]["serviceaccount"]["uid"];
        assert_eq!(uid, &later["kubernetes.io"]["serviceaccount"]["uid"]);
        assert!(uuid::Uuid::parse_str(uid.as_str().unwrap()).is_ok());
        let other = projected_token_claims(issuer, "system:serviceaccount:sspr:other", 1_000, 1);
        assert_ne!(uid, &other["kubernetes.io"]["serviceaccount"]["uid"]);
        // Not a service account: no Kubernetes claim.
        let plain = projected_token_claims(issuer, "repo:org/app:ref:main", 1_000, 1);
        assert!(plain.get("kubernetes.io").is_none());
    }

    #[test]
    fn cluster_names_are_dns_labels() {
        assert!(valid_cluster("demo-cluster"));
        assert!(valid_cluster("aks01"));
        for bad in ["", "Demo", "a/b", "a.b", &"x".repeat(64)] {
            assert!(!valid_cluster(bad), "{bad:?}");
        }
    }
}
