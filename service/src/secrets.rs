//! Secrets given through the API (a client secret, a private key) are sealed before they reach
//! the store: AES-256-GCM (aws-lc-rs), a random 96-bit nonce per seal, stored as
//! nonce ‖ ciphertext ‖ tag. The caller binds each blob to what it belongs to (the tenant id)
//! through the associated data, so a blob copied to another tenant's row does not open.

use std::fmt;

use anyhow::Context;
use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine as _;
use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};

use crate::config::TenancyConfig;

/// Bytes of an AES-256 key.
const KEY_LEN: usize = 32;

/// Seals and opens secrets with the configured key.
pub struct SecretSealer {
    key: RandomizedNonceKey,
}

impl fmt::Debug for SecretSealer {
    /// The algorithm only: never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretSealer")
            .field("algorithm", &"AES-256-GCM")
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Why a sealed blob does not open. Deliberately vague: which byte was wrong helps no one but
/// an attacker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error(
        "the sealed secret does not open with this key (another key, another owner, or altered)"
    )]
    DoesNotOpen,
    #[error("the sealed secret is not text")]
    NotText,
}

impl SecretSealer {
    /// The sealer of `[tenancy]`: `None` when neither `secret_key` nor `secret_key_file` is
    /// set. Both, an unreadable file, text that is not base64 or a key that is not 32 bytes is
    /// an error naming the setting (never quoting the key).
    pub fn from_config(tenancy: &TenancyConfig) -> anyhow::Result<Option<SecretSealer>> {
        let text = match (&tenancy.secret_key, &tenancy.secret_key_file) {
            (None, None) => return Ok(None),
            (Some(_), Some(_)) => anyhow::bail!(
                "tenancy.secret_key and tenancy.secret_key_file are both set: give one"
            ),
            (Some(key), None) => ("tenancy.secret_key", key.clone()),
            (None, Some(path)) => (
                "tenancy.secret_key_file",
                SecretString::from(std::fs::read_to_string(path).with_context(|| {
                    format!("tenancy.secret_key_file: cannot read {}", path.display())
                })?),
            ),
        };
        let (setting, text) = text;
        let mut key = base64::engine::general_purpose::STANDARD
            .decode(text.expose_secret().trim())
            .map_err(|_| {
                anyhow::anyhow!("{setting}: not base64 text (e.g. `openssl rand -base64 32`)")
            })?;
        let sealer = SecretSealer::new(&key).map_err(|length| {
            anyhow::anyhow!(
                "{setting}: the key is {length} bytes; AES-256 needs {KEY_LEN} (e.g. `openssl rand -base64 32`)"
            )
        });
        key.zeroize();
        sealer.map(Some)
    }

    /// A sealer with the raw 32-byte `key`; `Err(its length)` otherwise.
    pub fn new(key: &[u8]) -> Result<SecretSealer, usize> {
        if key.len() != KEY_LEN {
            return Err(key.len());
        }
        RandomizedNonceKey::new(&AES_256_GCM, key)
            .map(|key| SecretSealer { key })
            .map_err(|_| key.len())
    }

    /// `plaintext` sealed and bound to `associated`: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, plaintext: &[u8], associated: &[u8]) -> Vec<u8> {
        let mut in_out = plaintext.to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(associated), &mut in_out)
            // AES-GCM sealing fails only for inputs of about 64 GiB; a secret is a few KiB.
            .expect("AES-256-GCM seals any secret-sized input");
        let mut sealed = Vec::with_capacity(NONCE_LEN + in_out.len());
        sealed.extend_from_slice(nonce.as_ref());
        sealed.extend_from_slice(&in_out);
        in_out.zeroize();
        sealed
    }

    /// The text sealed by [`seal`](Self::seal) with the same `associated`.
    pub fn open(&self, sealed: &[u8], associated: &[u8]) -> Result<SecretString, SealError> {
        if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SealError::DoesNotOpen);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::DoesNotOpen)?;
        let mut in_out = ciphertext.to_vec();
        let opened = match self
            .key
            .open_in_place(nonce, Aad::from(associated), &mut in_out)
        {
            Ok(plaintext) => std::str::from_utf8(plaintext)
                .map(|text| SecretString::from(text.to_owned()))
                .map_err(|_| SealError::NotText),
            Err(_) => Err(SealError::DoesNotOpen),
        };
        in_out.zeroize();
        opened
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn sealer() -> SecretSealer {
        SecretSealer::new(&KEY).expect("a 32-byte key")
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_owner_and_hides_the_plaintext() {
        let sealer = sealer();
        let secret = b"client-secret-value-0123456789";
        let sealed = sealer.seal(secret, b"tenant-a");
        assert_eq!(
            sealer
                .open(&sealed, b"tenant-a")
                .expect("opens")
                .expose_secret(),
            "client-secret-value-0123456789"
        );
        assert!(
            !sealed.windows(secret.len()).any(|w| w == secret),
            "the plaintext is in the sealed bytes"
        );
        assert!(!sealed.windows(8).any(|w| w == &secret[..8]));
        assert_eq!(
            sealer.open(&sealed, b"tenant-b").map(|_| ()),
            Err(SealError::DoesNotOpen)
        );
        // A random nonce each time: the same secret seals differently.
        assert_ne!(sealer.seal(secret, b"tenant-a"), sealed);
        let other = SecretSealer::new(&[8; 32]).expect("a key");
        assert_eq!(
            other.open(&sealed, b"tenant-a").map(|_| ()),
            Err(SealError::DoesNotOpen)
        );
    }

    #[test]
    fn every_flipped_bit_and_a_truncation_fail() {
        let sealer = sealer();
        let sealed = sealer.seal(b"s3cr3t", b"tenant-a");
        for byte in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[byte] ^= 0x01;
            assert_eq!(
                sealer.open(&altered, b"tenant-a").map(|_| ()),
                Err(SealError::DoesNotOpen),
                "byte {byte}"
            );
        }
        assert_eq!(
            sealer
                .open(&sealed[..NONCE_LEN + 4], b"tenant-a")
                .map(|_| ()),
            Err(SealError::DoesNotOpen)
        );
        assert_eq!(
            sealer
                .open(&sealer.seal(&[0xff, 0xfe], b"a"), b"a")
                .map(|_| ()),
            Err(SealError::NotText)
        );
    }

    #[test]
    fn the_key_comes_from_the_config_or_its_file_and_bad_keys_are_named() {
        let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let mut tenancy = TenancyConfig::default();
        assert!(
            SecretSealer::from_config(&tenancy)
                .expect("no key")
                .is_none()
        );

        tenancy.secret_key = Some(base64(&KEY).into());
        let from_text = SecretSealer::from_config(&tenancy)
            .expect("a key")
            .expect("a sealer");
        let debug = format!("{from_text:?}");
        assert!(
            debug.contains("<redacted>") && !debug.contains(&base64(&KEY)),
            "{debug}"
        );

        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("sealing.key");
        std::fs::write(&file, format!("{}\n", base64(&KEY))).expect("write");
        let from_file = SecretSealer::from_config(&TenancyConfig {
            secret_key_file: Some(file.clone()),
            ..TenancyConfig::default()
        })
        .expect("a key")
        .expect("a sealer");
        // The same key either way: one opens what the other sealed.
        let sealed = from_text.seal(b"x", b"t");
        assert_eq!(
            from_file
                .open(&sealed, b"t")
                .expect("opens")
                .expose_secret(),
            "x"
        );

        let refused = |tenancy: TenancyConfig| {
            SecretSealer::from_config(&tenancy)
                .expect_err("refused")
                .to_string()
        };
        let short = refused(TenancyConfig {
            secret_key: Some(base64(&[1; 16]).into()),
            ..TenancyConfig::default()
        });
        assert_eq!(
            short,
            "tenancy.secret_key: the key is 16 bytes; AES-256 needs 32 (e.g. `openssl rand -base64 32`)"
        );
        let not_base64 = refused(TenancyConfig {
            secret_key: Some("not base64 at all!".into()),
            ..TenancyConfig::default()
        });
        assert!(
            not_base64.starts_with("tenancy.secret_key: not base64"),
            "{not_base64}"
        );
        assert!(!not_base64.contains("not base64 at all!"), "{not_base64}");
        let both = refused(TenancyConfig {
            secret_key: Some(base64(&KEY).into()),
            secret_key_file: Some(file),
            ..TenancyConfig::default()
        });
        assert!(both.contains("both set"), "{both}");
        let missing = refused(TenancyConfig {
            secret_key_file: Some(dir.path().join("absent.key")),
            ..TenancyConfig::default()
        });
        assert!(
            missing.starts_with("tenancy.secret_key_file: cannot read"),
            "{missing}"
        );
    }
}
