//! One trusted token issuer: its OpenID discovery document and its signing keys, cached, and
//! refreshed when a token names a key we have not seen (key rollover), at most once per interval.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};
use url::Url;

/// Unknown `kid`s are attacker-controlled: never let them make us fetch keys more often than this.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct Issuer {
    discovery_url: Url,
    pub audience: String,
    keys: RwLock<Option<Keys>>,
    /// When an unknown `kid` last made us fetch the keys.
    last_refresh: Mutex<Option<Instant>>,
}

#[derive(Debug, Clone)]
pub struct Keys {
    pub issuer: String,
    pub jwks: JwkSet,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: Url,
}

impl Issuer {
    pub fn new(discovery_url: Url, audience: String) -> Self {
        Issuer {
            discovery_url,
            audience,
            keys: RwLock::new(None),
            last_refresh: Mutex::new(None),
        }
    }

    pub fn discovery_url(&self) -> &Url {
        &self.discovery_url
    }

    /// The cached keys, loading them on first use.
    pub async fn keys(&self, http: &reqwest::Client) -> Result<Keys, String> {
        if let Some(keys) = self.keys.read().await.clone() {
            return Ok(keys);
        }
        self.reload(http).await
    }

    /// A token named a key we do not have: the issuer may have rolled its keys. Fetches again,
    /// unless an unknown key already caused a fetch less than `MIN_REFRESH_INTERVAL` ago.
    pub async fn refresh_for_unknown_kid(&self, http: &reqwest::Client) -> Result<Keys, String> {
        let mut last = self.last_refresh.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL)
            && let Some(keys) = self.keys.read().await.clone()
        {
            return Ok(keys);
        }
        *last = Some(Instant::now());
        self.reload(http).await
    }

    async fn reload(&self, http: &reqwest::Client) -> Result<Keys, String> {
        let keys = self.fetch(http).await?;
        *self.keys.write().await = Some(keys.clone());
        Ok(keys)
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<Keys, String> {
        let discovery: Discovery = get_json(http, &self.discovery_url).await?;
        let jwks: JwkSet = get_json(http, &discovery.jwks_uri).await?;
        tracing::info!(issuer = %discovery.issuer, keys = jwks.keys.len(), "loaded signing keys");
        Ok(Keys {
            issuer: discovery.issuer,
            jwks,
        })
    }

    pub async fn is_loaded(&self) -> bool {
        self.keys.read().await.is_some()
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &Url,
) -> Result<T, String> {
    let response = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("GET {url}: {status}"));
    }
    response
        .json()
        .await
        .map_err(|e| format!("GET {url}: unreadable JSON: {e}"))
}
