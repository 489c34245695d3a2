//! Validates Microsoft Graph JSON bodies against Microsoft's own schema, so
//! that tests of the emulator fail on any property, type or enum member that
//! real Graph would not produce.
//!
//! * v1.0: [`Schema::v1`] parses the vendored `$metadata` CSDL
//!   (`schema/graph-v1.0-csdl.xml`) once and checks property names (with
//!   `BaseType` inheritance), primitive types and formats, enum members
//!   (including `IsFlags` lists), nullability, collections, `@odata.type`
//!   derivation and inlined navigation properties.
//! * beta: [`Schema::beta`] only knows property *names* per type
//!   (`schema/beta-*.json`); see [`BetaNames`] for what it can and cannot check.
//!
//! ```
//! use graph_schema::{Allow, Schema, validate_with_allowlist};
//! let body = serde_json::json!({"id": "authorizationPolicy", "allowedToUseSSPR": true});
//! Schema::v1().validate("authorizationPolicy", &body).unwrap();
//!
//! let extra = serde_json::json!({"id": "x", "allowedToUseSSPR": true, "notInV1": 1});
//! validate_with_allowlist(
//!     Schema::v1().validate("authorizationPolicy", &extra),
//!     &[Allow { pointer_suffix: "/notInV1", reason: "example of an allowlisted extra" }],
//! )
//! .unwrap();
//! ```

mod beta;
mod csdl;
mod edm;
mod validate;

use std::fmt;
use std::sync::OnceLock;

use serde_json::Value;

pub use beta::BetaNames;
pub use csdl::{EnumType, Property, StructuredType, Target, TypeRef};
pub use edm::Primitive;

use csdl::Model;

/// Microsoft Graph v1.0 `$metadata`, vendored from Microsoft's published CSDL.
const V1_CSDL: &str = include_str!("../schema/graph-v1.0-csdl.xml");

/// The namespace that short type names (`"user"`) are looked up in.
const DEFAULT_NAMESPACE: &str = "microsoft.graph";

/// The v1.0 CSDL schema: entity, complex and enum types of every namespace in
/// the document (`microsoft.graph`, `microsoft.graph.callRecords`, ...), with
/// aliases (`graph.`, `self.`) resolved.
///
/// On `OpenType`: the CSDL specification makes every type derived from an
/// open type open too, but Microsoft's document marks `OpenType="true"`
/// explicitly on the derived types it means to be open (`user`, `group`,
/// `organization`, ...) and not on others whose ancestor `directoryObject` is
/// open (`authorizationPolicy`, `policyBase`, ...). Honouring inheritance would
/// make nearly every directory object accept anything, so a type is open here
/// only when it says so itself. [`Schema::v1_closed`] ignores `OpenType`
/// altogether, for tests of bodies that must not carry dynamic properties.
pub struct Schema {
    model: &'static Model,
    honour_open_types: bool,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema")
            .field("structured_types", &self.model.structured.len())
            .field("enum_types", &self.model.enums.len())
            .field("honour_open_types", &self.honour_open_types)
            .finish()
    }
}

fn v1_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL
        .get_or_init(|| Model::parse(V1_CSDL).unwrap_or_else(|e| panic!("vendored v1.0 CSDL: {e}")))
}

impl Schema {
    /// The v1.0 schema, parsed on first use.
    pub fn v1() -> &'static Schema {
        static V1: OnceLock<Schema> = OnceLock::new();
        V1.get_or_init(|| Schema {
            model: v1_model(),
            honour_open_types: true,
        })
    }

    /// The v1.0 schema treating every type as closed: unknown properties are
    /// violations even on `OpenType="true"` types such as `organization` or `user`.
    pub fn v1_closed() -> &'static Schema {
        static V1_CLOSED: OnceLock<Schema> = OnceLock::new();
        V1_CLOSED.get_or_init(|| Schema {
            model: v1_model(),
            honour_open_types: false,
        })
    }

    /// Property-name lists of the beta schema (names only, see [`BetaNames`]).
    pub fn beta() -> &'static BetaNames {
        BetaNames::get()
    }

    /// Validates `value` as an instance of `type_name`, given fully qualified
    /// (`microsoft.graph.authenticationMethodsPolicy`, optionally with a leading
    /// `#`), alias-qualified (`graph.user`) or short (`authenticationMethodsPolicy`,
    /// looked up in `microsoft.graph`).
    pub fn validate(&self, type_name: &str, value: &Value) -> Result<(), Vec<Violation>> {
        let Some(name) = self.find_type(type_name) else {
            return Err(vec![Violation::new(
                "",
                format!("unknown type '{type_name}'"),
            )]);
        };
        validate::Walker::new(self).finish(|w| w.declared(&name, value))
    }

    /// Validates a collection response `{"@odata.context", "value": [...],
    /// "@odata.nextLink"?}` whose items are `item_type`. Only `value` and
    /// `@odata.*` control information are allowed at the top level.
    pub fn validate_collection(&self, item_type: &str, body: &Value) -> Result<(), Vec<Violation>> {
        let Some(name) = self.find_type(item_type) else {
            return Err(vec![Violation::new(
                "",
                format!("unknown type '{item_type}'"),
            )]);
        };
        validate::Walker::new(self).finish(|w| w.collection_response(&name, body))
    }

    /// Resolves a type name as [`Schema::validate`] accepts it to its fully
    /// qualified form, if the schema defines it (structured or enum).
    pub fn find_type(&self, type_name: &str) -> Option<String> {
        let name = type_name.strip_prefix('#').unwrap_or(type_name);
        let known =
            |n: &str| self.model.structured.contains_key(n) || self.model.enums.contains_key(n);
        [
            self.model.resolve(name),
            format!("{DEFAULT_NAMESPACE}.{name}"),
        ]
        .into_iter()
        .find(|candidate| known(candidate))
    }

    /// An entity or complex type by any name [`Schema::validate`] accepts.
    pub fn structured_type(&self, type_name: &str) -> Option<&StructuredType> {
        self.find_type(type_name)
            .and_then(|n| self.model.structured.get(&n))
    }

    /// An enum type by any name [`Schema::validate`] accepts.
    pub fn enum_type(&self, type_name: &str) -> Option<&EnumType> {
        self.find_type(type_name)
            .and_then(|n| self.model.enums.get(&n))
    }

    /// A property or navigation property of a structured type, own or inherited.
    pub fn property(&self, type_name: &str, property: &str) -> Option<&Property> {
        let start = self.find_type(type_name)?;
        self.ancestry(&start)
            .find_map(|t| t.properties.get(property))
    }

    /// Whether `derived` is `base` or derives from it through `BaseType`.
    pub fn derives_from(&self, derived: &str, base: &str) -> bool {
        match (self.find_type(derived), self.find_type(base)) {
            (Some(derived), Some(base)) => self.ancestry(&derived).any(|t| t.name == base),
            _ => false,
        }
    }

    /// The type itself followed by its base types, by fully qualified name.
    /// Bounded so that a (malformed) cyclic chain cannot loop forever.
    fn ancestry<'s>(&'s self, qualified: &str) -> impl Iterator<Item = &'s StructuredType> + 's {
        let first = self.model.structured.get(qualified);
        std::iter::successors(first, |t| {
            t.base.as_deref().and_then(|b| self.model.structured.get(b))
        })
        .take(64)
    }
}

/// One way a JSON body departs from the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// RFC 6901 JSON pointer to the offending value ("" is the whole body).
    pub pointer: String,
    pub message: String,
}

impl Violation {
    fn new(pointer: &str, message: impl Into<String>) -> Self {
        Violation {
            pointer: pointer.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

/// An explicit exception to validation: violations whose JSON pointer ends
/// with `pointer_suffix` are dropped. Suffixes are compared segment by segment
/// (so `/foo` does not match `/barfoo`); a `*` segment matches any array
/// index, e.g. `/value/*/foo`. `reason` must say why the deviation from the
/// schema is right (e.g. "real Graph v1.0 returns it although the CSDL omits it").
#[derive(Debug, Clone, Copy)]
pub struct Allow<'a> {
    pub pointer_suffix: &'a str,
    pub reason: &'a str,
}

impl Allow<'_> {
    /// Whether this entry covers the violation at `pointer`.
    pub fn matches(&self, pointer: &str) -> bool {
        let wanted: Vec<&str> = self
            .pointer_suffix
            .trim_start_matches('/')
            .split('/')
            .collect();
        let actual: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
        if pointer.is_empty() || wanted.len() > actual.len() {
            return false;
        }
        let tail = &actual[actual.len() - wanted.len()..];
        wanted.iter().zip(tail).all(|(w, a)| {
            w == a || (*w == "*" && !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
        })
    }
}

/// Drops the violations covered by `allow` from a validation `result`.
///
/// # Panics
/// If an entry has an empty reason or a suffix that is not a JSON pointer
/// (`""` or not starting with `/`): an allowlist must be explicit and explained.
pub fn validate_with_allowlist(
    result: Result<(), Vec<Violation>>,
    allow: &[Allow<'_>],
) -> Result<(), Vec<Violation>> {
    for entry in allow {
        assert!(
            !entry.reason.trim().is_empty(),
            "allowlist entry {:?} must give a reason",
            entry.pointer_suffix
        );
        assert!(
            entry.pointer_suffix.len() > 1 && entry.pointer_suffix.starts_with('/'),
            "allowlist entry {:?} must be a non-empty JSON pointer suffix starting with '/'",
            entry.pointer_suffix
        );
    }
    let remaining: Vec<Violation> = result
        .err()
        .unwrap_or_default()
        .into_iter()
        .filter(|v| !allow.iter().any(|a| a.matches(&v.pointer)))
        .collect();
    if remaining.is_empty() {
        Ok(())
    } else {
        Err(remaining)
    }
}

/// Panics with one line per violation, for readable test failures:
/// `assert_valid(Schema::v1().validate("user", &body))`.
#[track_caller]
pub fn assert_valid(result: Result<(), Vec<Violation>>) {
    if let Err(violations) = result {
        let lines: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
        panic!(
            "body does not match the Graph schema:\n{}",
            lines.join("\n")
        );
    }
}
