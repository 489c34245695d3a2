//! Token signing keys. Entra publishes several keys and rotates them; the emulator keeps every key
//! it ever generated in its JWKS so that tokens signed before a rotation stay valid, which is what
//! lets tests exercise a verifier's "refresh JWKS on unknown kid" path.

use anyhow::Context;
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey,
    jwk::{Jwk, KeyAlgorithm, PublicKeyUse, ThumbprintHash},
};
use serde_json::{Value, json};

pub(crate) struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub jwk: Jwk,
    /// SubjectPublicKeyInfo PEM of the public key.
    pub public_pem: String,
}

impl SigningKey {
    /// Generate a fresh RSA-2048 key (RS256, like Entra's signing keys).
    pub fn generate() -> anyhow::Result<Self> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .context("generating RSA signing key")?;
        let encoding = EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes())
            .context("loading RSA signing key")?;
        let public_pem = pair.public_key_pem();
        let decoding =
            DecodingKey::from_rsa_pem(public_pem.as_bytes()).context("loading RSA public key")?;
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)
            .context("building JWK from signing key")?;
        // Entra's kids are short opaque base64url strings; the RFC 7638 thumbprint is one.
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .context("computing JWK thumbprint")?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
        Ok(Self {
            kid,
            encoding,
            decoding,
            jwk,
            public_pem,
        })
    }

    /// The key as Entra lists it in a tenant's JWKS (with the `issuer` member Entra adds).
    pub fn to_jwks_entry(&self, issuer: &str) -> Value {
        let mut v = serde_json::to_value(&self.jwk).unwrap_or_else(|_| json!({}));
        v["issuer"] = json!(issuer);
        v
    }
}

/// All keys ever generated; the last one signs new tokens.
pub(crate) struct KeyStore {
    keys: Vec<SigningKey>,
}

impl KeyStore {
    pub fn new(first: SigningKey) -> Self {
        Self { keys: vec![first] }
    }

    pub fn current(&self) -> &SigningKey {
        // `keys` is never empty: created with one key, only ever pushed to.
        &self.keys[self.keys.len() - 1]
    }

    pub fn push(&mut self, key: SigningKey) {
        self.keys.push(key);
    }

    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// Newest first, like a JWKS right after a rollover.
    pub fn all(&self) -> impl Iterator<Item = &SigningKey> {
        self.keys.iter().rev()
    }
}
