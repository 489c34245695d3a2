//! Signed paging cursors: what a page hands the caller to fetch the next one.
//!
//! A cursor is `base64url(JSON payload) "." base64url(HMAC-SHA256 tag)`. The payload holds the
//! position and an expiry time; the tag covers the payload **and** what the cursor is bound to
//! (the kind of listing, the tenant, the canonical query and the caller), which are not in the
//! text. So a cursor whose position was edited (say, a report link pointing at another host), or
//! that is presented for another tenant, another query or by another caller, fails the tag and
//! is refused before anything is read. The position itself is readable, not secret.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::OpsError;
use crate::auth::Caller;
use crate::config::CursorsConfig;

/// The shortest key accepted: the tag's own length, so the key is not the weak part.
pub const MIN_KEY_BYTES: usize = 32;

/// Separates this use of the key from any other, and this format from a later one.
const CONTEXT: &[u8] = b"sspr-cursor-v1";

/// Signs and checks cursors with one key.
pub struct CursorSigner {
    key: hmac::Key,
    ttl: time::Duration,
}

/// What a cursor is valid for. Every member goes into the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding<'a> {
    /// The listing, e.g. `registrations` or `audit`: a cursor of one is not one of the other.
    pub kind: &'static str,
    /// The tenant id, or `*` for a listing across tenants.
    pub tenant: &'a str,
    /// The listing's filters in canonical form: equal queries, however spelled, give equal text.
    pub query: &'a str,
    /// The caller's principal ([`principal`]).
    pub caller: String,
}

/// The caller a cursor is bound to: the object id, else the client application; the same
/// principal the access map grants tenants to.
pub fn principal(caller: &Caller) -> String {
    principal_of(caller.oid.as_deref(), caller.app_id.as_deref())
}

fn principal_of(oid: Option<&str>, app_id: Option<&str>) -> String {
    match (oid, app_id) {
        (Some(oid), _) => format!("oid:{}", oid.to_ascii_lowercase()),
        (None, Some(app)) => format!("app:{}", app.to_ascii_lowercase()),
        (None, None) => "anonymous".to_owned(),
    }
}

/// The signed payload: the position and when it stops being accepted.
#[derive(Serialize, Deserialize)]
struct Sealed<T> {
    /// Expiry, Unix seconds.
    e: i64,
    /// The position.
    p: T,
}

/// Why a cursor was refused; the text is the problem's `detail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error(
        "the cursor is not one this service issued; pass the cursor of the previous page unchanged."
    )]
    Malformed,
    #[error(
        "the cursor is not valid for this request: it was issued for another tenant, other filters or another caller, or it was changed (a cursor also ends when the service restarts without a configured cursor key). Repeat the query of the page it came from, or start from the first page."
    )]
    Forged,
    #[error("the cursor expired at {0}; start again from the first page.")]
    Expired(String),
}

impl From<CursorError> for OpsError {
    fn from(error: CursorError) -> Self {
        OpsError::BadCursor(error.to_string())
    }
}

/// How long a cursor `config` describes stays valid.
pub fn ttl_of(config: &CursorsConfig) -> time::Duration {
    time::Duration::seconds(i64::try_from(config.ttl_secs).unwrap_or(i64::MAX))
}

impl CursorSigner {
    /// The signer `config` describes: its key (`key` or `key_file`), or a random one when neither
    /// is set.
    pub fn from_config(config: &CursorsConfig) -> anyhow::Result<CursorSigner> {
        match CursorSigner::configured(config)? {
            Some(signer) => Ok(signer),
            None => Ok(CursorSigner::random(ttl_of(config))),
        }
    }

    /// The signer of the key `config` names; `None` when it names none. Replicas sharing a
    /// store then use the one key kept there ([`CursorSigner::with_key`] of
    /// [`CursorSigner::new_key`] the first time), so a cursor from one is valid at the others.
    pub fn configured(config: &CursorsConfig) -> anyhow::Result<Option<CursorSigner>> {
        let ttl = ttl_of(config);
        let key = match (&config.key, &config.key_file) {
            (Some(_), Some(_)) => {
                anyhow::bail!("set cursors.key or cursors.key_file, not both")
            }
            (Some(key), None) => key.expose_secret().trim().as_bytes().to_vec(),
            (None, Some(path)) => {
                let bytes = std::fs::read(path).map_err(|e| {
                    anyhow::anyhow!("cannot read cursors.key_file {}: {e}", path.display())
                })?;
                bytes.trim_ascii().to_vec()
            }
            (None, None) => return Ok(None),
        };
        CursorSigner::with_key(&key, ttl).map(Some)
    }

    /// A new random key, long enough for [`CursorSigner::with_key`].
    pub fn new_key() -> Vec<u8> {
        let mut key = vec![0; MIN_KEY_BYTES];
        aws_lc_rs::rand::fill(&mut key).expect("the system random generator works");
        key
    }

    /// A signer with `key` (at least [`MIN_KEY_BYTES`] bytes).
    pub fn with_key(key: &[u8], ttl: time::Duration) -> anyhow::Result<CursorSigner> {
        if key.len() < MIN_KEY_BYTES {
            anyhow::bail!(
                "the cursor key must be at least {MIN_KEY_BYTES} bytes; it has {}",
                key.len()
            );
        }
        Ok(CursorSigner {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
            ttl,
        })
    }

    /// A signer with a key random to this process: its cursors end with it.
    pub fn random(ttl: time::Duration) -> CursorSigner {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &rng)
            .expect("the system random generator works");
        CursorSigner { key, ttl }
    }

    /// The cursor for `position`, valid for `binding` until the configured time to live passes.
    pub fn seal<T: Serialize>(&self, binding: &Binding<'_>, position: &T) -> String {
        self.seal_at(binding, position, OffsetDateTime::now_utc())
    }

    fn seal_at<T: Serialize>(
        &self,
        binding: &Binding<'_>,
        position: &T,
        now: OffsetDateTime,
    ) -> String {
        let sealed = Sealed {
            e: now.saturating_add(self.ttl).unix_timestamp(),
            p: position,
        };
        // Serializing our own position types cannot fail.
        let payload = serde_json::to_vec(&sealed).unwrap_or_default();
        let tag = self.tag(binding, &payload);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    /// The position in `cursor`, if this signer sealed it for exactly `binding` and it has not
    /// expired. The tag is checked (in constant time) before the payload is parsed.
    pub fn open<T: DeserializeOwned>(
        &self,
        binding: &Binding<'_>,
        cursor: &str,
    ) -> Result<T, CursorError> {
        self.open_at(binding, cursor, OffsetDateTime::now_utc())
    }

    fn open_at<T: DeserializeOwned>(
        &self,
        binding: &Binding<'_>,
        cursor: &str,
        now: OffsetDateTime,
    ) -> Result<T, CursorError> {
        let (payload, tag) = cursor
            .trim()
            .split_once('.')
            .ok_or(CursorError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| CursorError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| CursorError::Malformed)?;
        hmac::verify(&self.key, &message(binding, &payload), &tag)
            .map_err(|_| CursorError::Forged)?;
        let sealed: Sealed<T> =
            serde_json::from_slice(&payload).map_err(|_| CursorError::Malformed)?;
        if now.unix_timestamp() >= sealed.e {
            let at = OffsetDateTime::from_unix_timestamp(sealed.e)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok())
                .unwrap_or_else(|| sealed.e.to_string());
            return Err(CursorError::Expired(at));
        }
        Ok(sealed.p)
    }

    fn tag(&self, binding: &Binding<'_>, payload: &[u8]) -> hmac::Tag {
        hmac::sign(&self.key, &message(binding, payload))
    }
}

/// What the tag covers: every part length-prefixed, so no two bindings run together into the
/// same bytes.
fn message(binding: &Binding<'_>, payload: &[u8]) -> Vec<u8> {
    let parts: [&[u8]; 5] = [
        binding.kind.as_bytes(),
        binding.tenant.as_bytes(),
        binding.query.as_bytes(),
        binding.caller.as_bytes(),
        payload,
    ];
    let mut out =
        Vec::with_capacity(CONTEXT.len() + parts.iter().map(|p| p.len() + 8).sum::<usize>());
    out.extend_from_slice(CONTEXT);
    for part in parts {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    struct Position {
        link: String,
        index: usize,
    }

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const DAY: time::Duration = time::Duration::days(1);

    fn signer() -> CursorSigner {
        CursorSigner::with_key(KEY, DAY).expect("a 32-byte key")
    }

    fn binding() -> Binding<'static> {
        Binding {
            kind: "registrations",
            tenant: "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
            query: "sspr=None;pushdown=true",
            caller: "oid:a0000000-0000-4000-8000-00000000000a".into(),
        }
    }

    fn position() -> Position {
        Position {
            link: "https://graph.microsoft.com/v1.0/reports/x?$skiptoken=abc".into(),
            index: 7,
        }
    }

    #[test]
    fn a_sealed_cursor_opens_for_its_binding() {
        let signer = signer();
        let cursor = signer.seal(&binding(), &position());
        assert_eq!(signer.open::<Position>(&binding(), &cursor), Ok(position()));
        // Another signer with the same key (say, after a restart) opens it too.
        assert_eq!(
            CursorSigner::with_key(KEY, DAY)
                .expect("key")
                .open::<Position>(&binding(), &cursor),
            Ok(position())
        );
    }

    #[test]
    fn every_part_of_the_binding_is_inside_the_tag() {
        let signer = signer();
        let cursor = signer.seal(&binding(), &position());
        let others = [
            Binding {
                kind: "audit",
                ..binding()
            },
            Binding {
                tenant: "8c2d4e6f-1a3b-4c5d-9e7f-0a1b2c3d4e5f",
                ..binding()
            },
            Binding {
                query: "sspr=Some(Registered);pushdown=true",
                ..binding()
            },
            Binding {
                caller: "oid:f0000000-0000-4000-8000-00000000000f".into(),
                ..binding()
            },
            // Moving bytes from one part to the next must not give the same message.
            Binding {
                kind: "registrations3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17",
                tenant: "",
                ..binding()
            },
        ];
        for other in others {
            assert_eq!(
                signer.open::<Position>(&other, &cursor),
                Err(CursorError::Forged),
                "{other:?}"
            );
        }
    }

    #[test]
    fn an_edited_payload_or_tag_is_refused() {
        let signer = signer();
        let cursor = signer.seal(&binding(), &position());
        let (payload, tag) = cursor.split_once('.').expect("two parts");

        // The position pointed at another host, the tag kept.
        let mut json: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64"))
                .expect("json");
        json["p"]["link"] = "https://evil.example/steal".into();
        let edited = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&json).expect("json"))
        );
        assert_eq!(
            signer.open::<Position>(&binding(), &edited),
            Err(CursorError::Forged)
        );

        // One flipped bit anywhere in the payload or the tag.
        let raw_payload = URL_SAFE_NO_PAD.decode(payload).expect("base64");
        let raw_tag = URL_SAFE_NO_PAD.decode(tag).expect("base64");
        for i in 0..raw_payload.len() {
            let mut bytes = raw_payload.clone();
            bytes[i] ^= 1;
            let flipped = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(&bytes));
            assert!(
                signer.open::<Position>(&binding(), &flipped).is_err(),
                "payload byte {i}"
            );
        }
        for i in 0..raw_tag.len() {
            let mut bytes = raw_tag.clone();
            bytes[i] ^= 0x80;
            let flipped = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&bytes));
            assert_eq!(
                signer.open::<Position>(&binding(), &flipped),
                Err(CursorError::Forged),
                "tag byte {i}"
            );
        }
        // A tag cut short.
        let short = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&raw_tag[..16]));
        assert_eq!(
            signer.open::<Position>(&binding(), &short),
            Err(CursorError::Forged)
        );
    }

    #[test]
    fn another_key_and_random_text_are_refused() {
        let cursor = signer().seal(&binding(), &position());
        let other = CursorSigner::with_key(b"another key, also 32 bytes long!", DAY).expect("key");
        assert_eq!(
            other.open::<Position>(&binding(), &cursor),
            Err(CursorError::Forged)
        );
        assert_eq!(
            CursorSigner::random(DAY).open::<Position>(&binding(), &cursor),
            Err(CursorError::Forged)
        );
        for text in [
            "",
            ".",
            "abc",
            "not-a-cursor",
            "a.b.c",
            "!!!.???",
            "eyJ0IjoxfQ",
        ] {
            assert!(
                signer().open::<Position>(&binding(), text).is_err(),
                "{text}"
            );
        }
        // The unsigned base64url JSON cursors of earlier versions.
        let legacy =
            URL_SAFE_NO_PAD.encode(r#"{"t":"x","q":"y","l":"https://evil.example/","i":0}"#);
        assert_eq!(
            signer().open::<Position>(&binding(), &legacy),
            Err(CursorError::Malformed)
        );
    }

    #[test]
    fn a_cursor_expires_after_its_time_to_live() {
        let signer = CursorSigner::with_key(KEY, time::Duration::minutes(10)).expect("key");
        let issued = OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("time");
        let cursor = signer.seal_at(&binding(), &position(), issued);
        let later = |minutes| issued + time::Duration::minutes(minutes);
        assert_eq!(
            signer.open_at::<Position>(&binding(), &cursor, later(9)),
            Ok(position())
        );
        match signer.open_at::<Position>(&binding(), &cursor, later(10)) {
            Err(CursorError::Expired(at)) => assert_eq!(at, "2027-01-15T08:10:00Z"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_shorter_than_32_bytes_are_refused() {
        let error = CursorSigner::with_key(b"short", DAY)
            .err()
            .expect("refused");
        assert!(error.to_string().contains("at least 32 bytes"), "{error}");
        assert!(CursorSigner::with_key(&[7; 32], DAY).is_ok());
    }

    #[test]
    fn the_key_comes_from_the_configuration_or_is_random() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cursor.key");
        std::fs::write(&path, b"  0123456789abcdef0123456789abcdef\n").expect("writes");
        let from_file = CursorSigner::from_config(&CursorsConfig {
            key_file: Some(path.clone()),
            ..CursorsConfig::default()
        })
        .expect("a key file");
        let from_text = CursorSigner::from_config(&CursorsConfig {
            key: Some(String::from_utf8(KEY.to_vec()).expect("text").into()),
            ..CursorsConfig::default()
        })
        .expect("a key");
        // Both read the same key (surrounding whitespace ignored): one opens the other's cursor.
        let cursor = from_file.seal(&binding(), &position());
        assert_eq!(
            from_text.open::<Position>(&binding(), &cursor),
            Ok(position())
        );
        assert_eq!(
            signer().open::<Position>(&binding(), &cursor),
            Ok(position())
        );

        // No key: random per signer, so another start refuses the cursor.
        let random = CursorSigner::from_config(&CursorsConfig::default()).expect("random");
        assert_eq!(
            random.open::<Position>(&binding(), &cursor),
            Err(CursorError::Forged)
        );
        let cursor = random.seal(&binding(), &position());
        let restarted = CursorSigner::from_config(&CursorsConfig::default()).expect("random");
        assert_eq!(
            restarted.open::<Position>(&binding(), &cursor),
            Err(CursorError::Forged)
        );

        let both = CursorSigner::from_config(&CursorsConfig {
            key: Some("0123456789abcdef0123456789abcdef".into()),
            key_file: Some(path),
            ..CursorsConfig::default()
        });
        assert!(both.is_err_and(|e| e.to_string().contains("not both")));
        let short = CursorSigner::from_config(&CursorsConfig {
            key: Some("  too short  ".into()),
            ..CursorsConfig::default()
        });
        assert!(short.is_err_and(|e| e.to_string().contains("it has 9")));
        let missing = CursorSigner::from_config(&CursorsConfig {
            key_file: Some(dir.path().join("absent.key")),
            ..CursorsConfig::default()
        });
        assert!(missing.is_err_and(|e| e.to_string().contains("cursors.key_file")));
    }

    #[test]
    fn the_principal_is_the_object_id_else_the_application() {
        assert_eq!(principal_of(Some("ABC"), Some("app")), "oid:abc");
        assert_eq!(principal_of(None, Some("App-1")), "app:app-1");
        assert_ne!(
            principal_of(Some("x"), None),
            principal_of(None, Some("x")),
            "an object id is not an app id"
        );
    }
}
