//! JSON bodies must not repeat a key within one object. serde_json keeps the last copy without
//! a word, other parsers keep the first, so `{"methodsRequired": 1, "methodsRequired": 2}` would
//! mean what the caller did not check. [`reject_duplicate_keys`] finds the first repeat.

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};

/// A key repeated in one object; `pointer` (RFC 6901) names its second occurrence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{pointer} is given more than once; a JSON object must not repeat a key (which copy would count differs between parsers)."
)]
pub struct DuplicateKey {
    pub pointer: String,
}

/// Refuses JSON text with a key repeated within one object. Text that is not JSON passes: the
/// parser that reads the body next reports that in its own words.
pub fn reject_duplicate_keys(body: &[u8]) -> Result<(), DuplicateKey> {
    let found = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let walk = Walk {
        pointer: String::new(),
        found: &found,
    };
    // Any error that is not a duplicate is a syntax error, left to the next parser.
    let _ = deserializer.deserialize_any(walk);
    match found.into_inner() {
        Some(pointer) => Err(DuplicateKey { pointer }),
        None => Ok(()),
    }
}

/// Visits a value at `pointer` without keeping it, recording the first repeated key.
struct Walk<'a> {
    pointer: String,
    found: &'a RefCell<Option<String>>,
}

impl<'a> Walk<'a> {
    fn at(&self, token: &str) -> Walk<'a> {
        Walk {
            pointer: format!(
                "{}/{}",
                self.pointer,
                token.replace('~', "~0").replace('/', "~1")
            ),
            found: self.found,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        while seq
            .next_element_seed(self.at(&index.to_string()))?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let inner = self.at(&key);
            if !seen.insert(key) {
                *self.found.borrow_mut() = Some(inner.pointer);
                return Err(A::Error::custom("duplicate key"));
            }
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointer(body: &str) -> Option<String> {
        reject_duplicate_keys(body.as_bytes())
            .err()
            .map(|e| e.pointer)
    }

    #[test]
    fn a_repeated_key_is_named_by_its_pointer() {
        assert_eq!(pointer(r#"{"a": 1, "a": 2}"#).as_deref(), Some("/a"));
        assert_eq!(
            pointer(r#"{"authentication": {"methodsRequired": 1, "methodsRequired": 2}}"#)
                .as_deref(),
            Some("/authentication/methodsRequired")
        );
        assert_eq!(
            pointer(r#"{"list": [{"id": "x"}, {"id": "y", "id": "z"}]}"#).as_deref(),
            Some("/list/1/id")
        );
        // Keys are compared after JSON unescaping, and pointers escape `~` and `/`.
        assert_eq!(
            pointer(r#"{"a/b~": 1, "a\/b\u007e": 2}"#).as_deref(),
            Some("/a~1b~0")
        );
        // A repeat at the top level after nested objects.
        assert_eq!(
            pointer(r#"{"m": {"x": 1}, "n": [1, 2], "m": {}}"#).as_deref(),
            Some("/m")
        );
    }

    #[test]
    fn unique_keys_and_equal_keys_in_different_objects_pass() {
        for body in [
            r#"{}"#,
            r#"{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}"#,
            r#"{"A": 1, "a": 2}"#,
            r#"[1, "two", null, true, 2.5, {"x": -3}]"#,
            r#""text""#,
        ] {
            assert_eq!(pointer(body), None, "{body}");
        }
    }

    #[test]
    fn text_that_is_not_json_is_left_to_the_parser() {
        for body in ["", "{", r#"{"a": }"#, "nope", r#"{"a": 1} trailing"#] {
            assert_eq!(reject_duplicate_keys(body.as_bytes()), Ok(()), "{body}");
        }
        // Unless the repeat comes before the syntax error.
        assert_eq!(pointer(r#"{"a": 1, "a": 2, "#).as_deref(), Some("/a"));
    }

    #[test]
    fn the_message_names_the_pointer() {
        let error = reject_duplicate_keys(br#"{"x": {"y": 1, "y": 1}}"#).expect_err("repeat");
        assert!(
            error
                .to_string()
                .starts_with("/x/y is given more than once"),
            "{error}"
        );
    }
}
