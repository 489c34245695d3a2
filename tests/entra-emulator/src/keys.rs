//! Token signing keys. Entra publishes several keys and rotates them; the emulator keeps every key
//! it ever generated in its JWKS so that tokens signed before a rotation stay valid, which is what
//! lets tests exercise a verifier's "refresh JWKS on unknown kid" path.

use std::collections::HashMap;

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

/// The token service's own secrets: all signing keys ever generated (the last one signs new
/// tokens) and the refresh tokens it issued. Both outlive a reset of the directory, as Entra's
/// would outlive a change of tenant data; a refresh token still only works while its user exists.
pub(crate) struct KeyStore {
    keys: Vec<SigningKey>,
    refresh_tokens: HashMap<String, RefreshGrant>,
    /// The one refresh token per tenant handed out by `Emulator::admin_refresh_token`, so the
    /// manifest and repeated calls see the same value.
    admin_tokens: HashMap<String, String>,
}

/// What a refresh token stands for: a delegated session of one user with one client in one
/// tenant (Entra binds refresh tokens to the client they were issued to).
#[derive(Debug, Clone)]
pub(crate) struct RefreshGrant {
    pub tenant_id: String,
    pub user_id: String,
    pub client_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

impl KeyStore {
    pub fn new(first: SigningKey) -> Self {
        Self {
            keys: vec![first],
            refresh_tokens: HashMap::new(),
            admin_tokens: HashMap::new(),
        }
    }

    /// Store `grant` under a fresh opaque token and return the token. Entra's refresh tokens are
    /// opaque (encrypted) strings starting `0.A`; clients must not parse them, and neither can
    /// anyone parse these: they are random.
    pub fn issue_refresh_token(&mut self, grant: RefreshGrant) -> String {
        let random: Vec<u8> = (0..3)
            .flat_map(|_| uuid::Uuid::new_v4().into_bytes())
            .collect();
        let token = format!("0.A{}", b64url(&random));
        self.refresh_tokens.insert(token.clone(), grant);
        token
    }

    pub fn refresh_grant(&self, token: &str) -> Option<&RefreshGrant> {
        self.refresh_tokens.get(token)
    }

    /// Make a refresh token expired (as after 90 days of inactivity). False when unknown.
    pub fn expire_refresh_token(&mut self, token: &str, now: i64) -> bool {
        match self.refresh_tokens.get_mut(token) {
            Some(grant) => {
                grant.expires_at = now - 1;
                true
            }
            None => false,
        }
    }

    /// The admin refresh token already handed out for `tenant_id` (lower-cased id).
    pub fn admin_token(&self, tenant_id: &str) -> Option<&String> {
        self.admin_tokens.get(&tenant_id.to_ascii_lowercase())
    }

    pub fn remember_admin_token(&mut self, tenant_id: &str, token: String) {
        self.admin_tokens
            .insert(tenant_id.to_ascii_lowercase(), token);
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

/// A certificate credential as the app registration's "Certificates & secrets" blade keeps it:
/// the public key to verify client assertions with and the two thumbprints a client may name
/// in the assertion header (`x5t`, `x5t#S256`).
pub(crate) struct CertificateKey {
    /// PKCS#1 `RSAPublicKey` DER (what `DecodingKey::from_rsa_der` takes).
    pub rsa_public_key_der: Vec<u8>,
    /// base64url(SHA-1(certificate DER)), the `x5t` header value.
    pub x5t: String,
    /// base64url(SHA-256(certificate DER)), the `x5t#S256` header value.
    pub x5t_s256: String,
}

/// Parse one PEM `CERTIFICATE` (or raw DER) and extract what verification needs. Only RSA keys,
/// like Entra's RS256/PS256 client assertions.
pub(crate) fn certificate_key(pem_or_der: &[u8]) -> anyhow::Result<CertificateKey> {
    let der = certificate_der(pem_or_der)?;
    let spki = subject_public_key_info(&der)?;
    let rsa_public_key_der = rsa_public_key(spki)?;
    Ok(CertificateKey {
        rsa_public_key_der,
        x5t: b64url(&sha1(&der)),
        x5t_s256: b64url(&sha256(&der)?),
    })
}

fn certificate_der(input: &[u8]) -> anyhow::Result<Vec<u8>> {
    if input.first() == Some(&0x30) {
        return Ok(input.to_vec());
    }
    let text = std::str::from_utf8(input).context("certificate is neither DER nor PEM text")?;
    let begin = "-----BEGIN CERTIFICATE-----";
    let start = text
        .find(begin)
        .context("no BEGIN CERTIFICATE line in the PEM")?
        + begin.len();
    let end = text[start..]
        .find("-----END CERTIFICATE-----")
        .context("no END CERTIFICATE line in the PEM")?;
    let body: String = text[start..start + end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .context("certificate PEM body is not base64")
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// One DER TLV: (tag, contents, rest of input).
fn der_tlv(input: &[u8]) -> anyhow::Result<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first().context("DER: truncated tag")?;
    let (&first, mut rest) = rest.split_first().context("DER: truncated length")?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        anyhow::ensure!((1..=4).contains(&count), "DER: unsupported length form");
        anyhow::ensure!(rest.len() >= count, "DER: truncated length");
        let (bytes, tail) = rest.split_at(count);
        rest = tail;
        bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b))
    };
    anyhow::ensure!(rest.len() >= len, "DER: truncated contents");
    let (contents, tail) = rest.split_at(len);
    Ok((tag, contents, tail))
}

const DER_SEQUENCE: u8 = 0x30;
const DER_BIT_STRING: u8 = 0x03;
/// `[0] EXPLICIT Version` in `TBSCertificate`.
const DER_CONTEXT_0: u8 = 0xa0;
/// DER of the rsaEncryption OID 1.2.840.113549.1.1.1.
const RSA_ENCRYPTION_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];

/// `Certificate.tbsCertificate.subjectPublicKeyInfo` (RFC 5280 §4.1), as its full TLV contents.
fn subject_public_key_info(cert: &[u8]) -> anyhow::Result<&[u8]> {
    let (tag, certificate, _) = der_tlv(cert)?;
    anyhow::ensure!(tag == DER_SEQUENCE, "not an X.509 certificate");
    let (tag, tbs, _) = der_tlv(certificate)?;
    anyhow::ensure!(tag == DER_SEQUENCE, "not an X.509 certificate");
    let mut rest = tbs;
    // version (optional), serialNumber, signature, issuer, validity, subject, then the key.
    let (tag, _, after) = der_tlv(rest)?;
    if tag == DER_CONTEXT_0 {
        rest = after;
    }
    for _ in 0..5 {
        rest = der_tlv(rest)?.2;
    }
    let (tag, spki, _) = der_tlv(rest)?;
    anyhow::ensure!(
        tag == DER_SEQUENCE,
        "certificate has no subjectPublicKeyInfo"
    );
    Ok(spki)
}

/// The PKCS#1 key inside an rsaEncryption `SubjectPublicKeyInfo`.
fn rsa_public_key(spki: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (tag, algorithm, rest) = der_tlv(spki)?;
    anyhow::ensure!(
        tag == DER_SEQUENCE && algorithm.starts_with(RSA_ENCRYPTION_OID),
        "only RSA certificates are supported"
    );
    let (tag, bits, _) = der_tlv(rest)?;
    anyhow::ensure!(tag == DER_BIT_STRING, "malformed subjectPublicKey");
    let (&unused, key) = bits.split_first().context("empty subjectPublicKey")?;
    anyhow::ensure!(unused == 0, "malformed subjectPublicKey");
    Ok(key.to_vec())
}

pub(crate) fn sha256(data: &[u8]) -> anyhow::Result<Vec<u8>> {
    (jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
        .key_utils
        .compute_digest)(data, ThumbprintHash::SHA256)
    .context("SHA-256")
}

/// SHA-1, used only for the `x5t` certificate thumbprint clients put into assertion headers:
/// an identifier, not a security control (the signature check is).
pub(crate) fn sha1(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_matches_the_fips_test_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            hex(&sha1(&[b'a'; 1000])),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
    }

    #[test]
    fn certificate_key_extracts_the_rsa_key_and_thumbprints() {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["client".into()])
            .unwrap()
            .self_signed(&pair)
            .unwrap();
        let key = certificate_key(cert.pem().as_bytes()).unwrap();
        let same = certificate_key(cert.der()).unwrap();
        assert_eq!(key.x5t, same.x5t);
        assert_eq!(key.x5t.len(), 27, "base64url of 20 bytes");
        assert_eq!(key.x5t_s256.len(), 43, "base64url of 32 bytes");
        // The extracted key verifies what the certificate's private key signed.
        let signed = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::RS256),
            &json!({"sub": "x", "exp": 4_000_000_000u64}),
            &EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes()).unwrap(),
        )
        .unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Value>(
            &signed,
            &DecodingKey::from_rsa_der(&key.rsa_public_key_der),
            &validation,
        )
        .unwrap();
        assert!(certificate_key(b"not a certificate").is_err());
    }
}
