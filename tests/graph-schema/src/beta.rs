//! Names-only checks for beta bodies.

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::csdl::Target;
use crate::edm::describe;
use crate::validate::{child, is_odata_annotation};
use crate::{DEFAULT_NAMESPACE, Schema, Violation};

const ENTITY_TYPES: &str = include_str!("../schema/beta-entity-types.json");
const COMPLEX_TYPES: &str = include_str!("../schema/beta-complex-types.json");
const ENUM_TYPES: &str = include_str!("../schema/beta-enum-types.json");

/// Property names of every beta entity and complex type, and the members of
/// every beta enum, from Microsoft's beta schema.
///
/// What [`BetaNames::validate`] checks: that every key of the top-level object,
/// and of any nested object that carries `@odata.type`, is a property or
/// navigation property name of that object's type. `@odata.*` control
/// information and `prop@odata.*` annotations are always allowed.
///
/// Limits (the lists hold names only, and only each type's *own* names):
/// * no value checks at all: types, formats, nullability and enum members of
///   values are not verified (use [`BetaNames::enum_members`] explicitly);
/// * nested objects without `@odata.type` are not checked, as the lists do not
///   say which type a property holds;
/// * base types are not in the lists. Inherited names are found by walking the
///   *v1.0* `BaseType` chain of the type (beta and v1.0 agree on hierarchy for
///   the types this project serves), plus `entity`'s `id` always. For a type
///   that exists only in beta, the names of the declared type of the property
///   holding it (again from v1.0) are accepted too, which covers e.g.
///   `hardwareOathAuthenticationMethodConfiguration` inside
///   `authenticationMethodConfigurations`. A beta-only type whose base is not
///   reachable that way reports its inherited names as unknown: allowlist them.
#[derive(Debug)]
pub struct BetaNames {
    /// Fully qualified type name → own property and navigation property names.
    types: HashMap<String, BTreeSet<String>>,
    enums: HashMap<String, Vec<String>>,
}

impl BetaNames {
    pub(crate) fn get() -> &'static BetaNames {
        static BETA: OnceLock<BetaNames> = OnceLock::new();
        BETA.get_or_init(|| {
            BetaNames::parse().unwrap_or_else(|e| panic!("vendored beta name lists: {e}"))
        })
    }

    fn parse() -> Result<BetaNames, String> {
        let mut types = HashMap::new();
        for text in [ENTITY_TYPES, COMPLEX_TYPES] {
            for (name, entry) in qualified_entries(text)? {
                let mut names = BTreeSet::new();
                for list in ["properties", "navigationProperties"] {
                    names.extend(
                        string_list(&entry[list]).map_err(|e| format!("{name}.{list}: {e}"))?,
                    );
                }
                types.insert(name, names);
            }
        }
        let mut enums = HashMap::new();
        for (name, members) in qualified_entries(ENUM_TYPES)? {
            let members = string_list(&members).map_err(|e| format!("{name}: {e}"))?;
            enums.insert(name, members);
        }
        Ok(BetaNames { types, enums })
    }

    /// The fully qualified beta type name for a full (`#` optional) or short name.
    pub fn find_type(&self, type_name: &str) -> Option<String> {
        let name = type_name.strip_prefix('#').unwrap_or(type_name);
        let known = |n: &str| self.types.contains_key(n) || self.enums.contains_key(n);
        [name.to_owned(), format!("{DEFAULT_NAMESPACE}.{name}")]
            .into_iter()
            .find(|candidate| known(candidate))
    }

    /// Own property and navigation property names of a beta structured type.
    pub fn names(&self, type_name: &str) -> Option<&BTreeSet<String>> {
        self.find_type(type_name).and_then(|n| self.types.get(&n))
    }

    /// Members of a beta enum type.
    pub fn enum_members(&self, enum_name: &str) -> Option<&[String]> {
        self.find_type(enum_name)
            .and_then(|n| self.enums.get(&n))
            .map(Vec::as_slice)
    }

    /// Checks the property names of a beta body of type `type_name` (see the
    /// type docs for exactly what is and is not checked).
    pub fn validate(&self, type_name: &str, value: &Value) -> Result<(), Vec<Violation>> {
        let Some(name) = self.types_key(type_name) else {
            return Err(vec![Violation::new(
                "",
                format!("unknown beta type '{type_name}'"),
            )]);
        };
        let mut violations = Vec::new();
        match value.as_object() {
            Some(members) => self.object("", Some(&name), members, true, &mut violations),
            None => violations.push(Violation::new(
                "",
                format!("expected an object of type {name}, got {}", describe(value)),
            )),
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }

    /// Checks a collection response whose `value` items are `item_type`.
    pub fn validate_collection(&self, item_type: &str, body: &Value) -> Result<(), Vec<Violation>> {
        let Some(members) = body.as_object() else {
            return Err(vec![Violation::new(
                "",
                format!(
                    "expected a collection response object, got {}",
                    describe(body)
                ),
            )]);
        };
        let mut violations: Vec<Violation> = members
            .keys()
            .filter(|k| *k != "value" && !is_odata_annotation(k))
            .map(|k| {
                Violation::new(
                    &child("", k),
                    format!("unknown member '{k}' of a collection response"),
                )
            })
            .collect();
        match members.get("value").and_then(Value::as_array) {
            Some(items) => {
                for (index, item) in items.iter().enumerate() {
                    let pointer = child("/value", &index.to_string());
                    if let Err(found) = self.validate(item_type, item) {
                        violations.extend(found.into_iter().map(|v| Violation {
                            pointer: format!("{pointer}{}", v.pointer),
                            ..v
                        }));
                    }
                }
            }
            None => violations.push(Violation::new(
                "",
                "collection response has no 'value' array",
            )),
        }
        if violations.is_empty() {
            Ok(())
        } else {
            Err(violations)
        }
    }

    fn types_key(&self, type_name: &str) -> Option<String> {
        self.find_type(type_name)
            .filter(|n| self.types.contains_key(n))
    }

    /// Checks `members` when `check` (top level) or when it names its own type,
    /// then descends into every member value.
    fn object(
        &self,
        pointer: &str,
        declared: Option<&str>,
        members: &Map<String, Value>,
        check: bool,
        out: &mut Vec<Violation>,
    ) {
        let own_type = match members.get("@odata.type") {
            None => None,
            Some(annotation) => match annotation
                .as_str()
                .and_then(|t| t.strip_prefix('#'))
                .filter(|t| self.types.contains_key(*t))
            {
                Some(name) => Some(name),
                None => {
                    let at = child(pointer, "@odata.type");
                    out.push(Violation::new(
                        &at,
                        format!(
                            "@odata.type {} names no beta entity or complex type",
                            describe(annotation)
                        ),
                    ));
                    None
                }
            },
        };
        let checked_as = own_type.or(declared.filter(|_| check));
        if let Some(type_name) = checked_as {
            let allowed = self.allowed_names(own_type, declared);
            for key in members.keys().filter(|k| !is_odata_annotation(k)) {
                if !allowed.contains(key.as_str()) {
                    out.push(Violation::new(
                        &child(pointer, key),
                        format!("unknown property '{key}' on beta type {type_name}"),
                    ));
                }
            }
        }
        // The v1.0 type of each member, when v1.0 knows it, tells a nested
        // beta-only type which base names to accept.
        let context = own_type.or(declared);
        for (key, member) in members.iter().filter(|(k, _)| !is_odata_annotation(k)) {
            let member_declared = context.and_then(|t| v1_structured_property_type(t, key));
            self.descend(
                &child(pointer, key),
                member_declared.as_deref(),
                member,
                out,
            );
        }
    }

    fn descend(
        &self,
        pointer: &str,
        declared: Option<&str>,
        value: &Value,
        out: &mut Vec<Violation>,
    ) {
        match value {
            Value::Object(members) => self.object(pointer, declared, members, false, out),
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.descend(&child(pointer, &index.to_string()), declared, item, out);
                }
            }
            _ => {}
        }
    }

    /// Own names of each type and of its v1.0 ancestors, plus `entity`'s.
    fn allowed_names(&self, own_type: Option<&str>, declared: Option<&str>) -> BTreeSet<&str> {
        let mut allowed: BTreeSet<&str> = BTreeSet::from(["id"]);
        for start in own_type.into_iter().chain(declared) {
            for type_name in v1_lineage(start) {
                if let Some(names) = self.types.get(&type_name) {
                    allowed.extend(names.iter().map(String::as_str));
                }
            }
        }
        allowed
    }
}

/// `type_name` followed by its v1.0 base types (just itself if v1.0 lacks it).
fn v1_lineage(type_name: &str) -> Vec<String> {
    let mut lineage: Vec<String> = Schema::v1()
        .ancestry(type_name)
        .map(|t| t.name.clone())
        .collect();
    if lineage.is_empty() {
        lineage.push(type_name.to_owned());
    }
    lineage
}

/// The structured type v1.0 declares for `type_name.property`, if any.
fn v1_structured_property_type(type_name: &str, property: &str) -> Option<String> {
    let schema = Schema::v1();
    let found = schema
        .ancestry(type_name)
        .find_map(|t| t.properties.get(property))?;
    match &found.type_ref.target {
        Target::Named(name) if schema.model.structured.contains_key(name) => Some(name.clone()),
        _ => None,
    }
}

/// `{"namespace": {"type": entry}}` flattened to `("namespace.type", entry)`.
fn qualified_entries(text: &str) -> Result<Vec<(String, Value)>, String> {
    let Value::Object(namespaces) = serde_json::from_str(text).map_err(|e| e.to_string())? else {
        return Err("top level is not an object".to_owned());
    };
    let mut entries = Vec::new();
    for (namespace, types) in namespaces {
        let Value::Object(types) = types else {
            return Err(format!("{namespace} is not an object"));
        };
        entries.extend(
            types
                .into_iter()
                .map(|(name, entry)| (format!("{namespace}.{name}"), entry)),
        );
    }
    Ok(entries)
}

fn string_list(value: &Value) -> Result<Vec<String>, String> {
    let Some(items) = value.as_array() else {
        return Err(format!("expected a list, got {}", describe(value)));
    };
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("expected a name, got {}", describe(item)))
        })
        .collect()
}
