//! Walks a JSON body alongside the v1.0 model and collects violations.

use serde_json::{Map, Value};

use crate::csdl::{Target, TypeRef};
use crate::edm::describe;
use crate::{Schema, Violation};

pub(crate) struct Walker<'s> {
    schema: &'s Schema,
    violations: Vec<Violation>,
}

/// Control information (`@odata.context`, `@odata.type`, `@odata.nextLink`, ...)
/// and property annotations (`includeTargets@odata.context`) may appear anywhere.
pub(crate) fn is_odata_annotation(key: &str) -> bool {
    key.starts_with("@odata.") || key.contains("@odata.")
}

/// Appends one RFC 6901 reference token to `pointer`.
pub(crate) fn child(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", token.replace('~', "~0").replace('/', "~1"))
}

impl<'s> Walker<'s> {
    pub(crate) fn new(schema: &'s Schema) -> Self {
        Walker {
            schema,
            violations: Vec::new(),
        }
    }

    pub(crate) fn finish(mut self, walk: impl FnOnce(&mut Self)) -> Result<(), Vec<Violation>> {
        walk(&mut self);
        if self.violations.is_empty() {
            Ok(())
        } else {
            Err(self.violations)
        }
    }

    fn report(&mut self, pointer: &str, message: String) {
        self.violations.push(Violation::new(pointer, message));
    }

    /// The whole body is an instance of the (fully qualified) `type_name`.
    pub(crate) fn declared(&mut self, type_name: &str, value: &Value) {
        let type_ref = TypeRef {
            collection: false,
            target: Target::Named(type_name.to_owned()),
        };
        // A response body is never `null`.
        self.value("", &type_ref, false, value);
    }

    pub(crate) fn collection_response(&mut self, item_type: &str, body: &Value) {
        let Some(members) = body.as_object() else {
            return self.report(
                "",
                format!(
                    "expected a collection response object, got {}",
                    describe(body)
                ),
            );
        };
        for key in members
            .keys()
            .filter(|k| *k != "value" && !is_odata_annotation(k))
        {
            self.report(
                &child("", key),
                format!("unknown member '{key}' of a collection response"),
            );
        }
        let type_ref = TypeRef {
            collection: true,
            target: Target::Named(item_type.to_owned()),
        };
        match members.get("value") {
            // Items of a collection response are entities: never null.
            Some(items) => self.value("/value", &type_ref, false, items),
            None => self.report("", "collection response has no 'value' array".to_owned()),
        }
    }

    fn value(&mut self, pointer: &str, type_ref: &TypeRef, nullable: bool, value: &Value) {
        if !type_ref.collection {
            return self.single(pointer, &type_ref.target, nullable, value);
        }
        // `Nullable` on a collection governs its items; the collection itself
        // is always written as an array (OData JSON 4.0, section 7.3).
        let Some(items) = value.as_array() else {
            return self.report(
                pointer,
                format!(
                    "expected an array for {}, got {}",
                    type_ref.display(),
                    describe(value)
                ),
            );
        };
        for (index, item) in items.iter().enumerate() {
            self.single(
                &child(pointer, &index.to_string()),
                &type_ref.target,
                nullable,
                item,
            );
        }
    }

    fn single(&mut self, pointer: &str, target: &Target, nullable: bool, value: &Value) {
        if value.is_null() {
            if !nullable {
                self.report(
                    pointer,
                    "null is not allowed here (Nullable=\"false\")".to_owned(),
                );
            }
            return;
        }
        match target {
            Target::Primitive(primitive) => {
                if let Err(message) = primitive.check(value) {
                    self.report(pointer, message);
                }
            }
            Target::Named(name) => {
                let model = self.schema.model;
                if model.structured.contains_key(name) {
                    self.object(pointer, name, value);
                } else if model.enums.contains_key(name) {
                    self.enum_member(pointer, name, value);
                } else {
                    self.report(pointer, format!("type {name} is not defined in the schema"));
                }
            }
        }
    }

    fn object(&mut self, pointer: &str, declared: &str, value: &Value) {
        let Some(members) = value.as_object() else {
            return self.report(
                pointer,
                format!(
                    "expected an object of type {declared}, got {}",
                    describe(value)
                ),
            );
        };
        let effective = self.effective_type(pointer, declared, members);
        let schema = self.schema;
        let open = schema.honour_open_types
            && schema
                .model
                .structured
                .get(&effective)
                .is_some_and(|t| t.open);
        for (key, member) in members {
            if is_odata_annotation(key) {
                continue;
            }
            match schema
                .ancestry(&effective)
                .find_map(|t| t.properties.get(key))
            {
                Some(property) => {
                    self.value(
                        &child(pointer, key),
                        &property.type_ref,
                        property.nullable,
                        member,
                    );
                }
                // Dynamic properties of open types are not described by the schema.
                None if open => {}
                None => self.report(
                    &child(pointer, key),
                    format!("unknown property '{key}' on {effective}"),
                ),
            }
        }
    }

    /// The type to validate an object against: its `@odata.type` when that
    /// names the declared type or a type derived from it, else the declared type
    /// (also for abstract declared types, whose own properties still apply).
    fn effective_type(
        &mut self,
        pointer: &str,
        declared: &str,
        members: &Map<String, Value>,
    ) -> String {
        let Some(annotation) = members.get("@odata.type") else {
            return declared.to_owned();
        };
        let at = child(pointer, "@odata.type");
        let Some(text) = annotation.as_str() else {
            self.report(
                &at,
                format!("@odata.type must be a string, got {}", describe(annotation)),
            );
            return declared.to_owned();
        };
        let Some(name) = text.strip_prefix('#') else {
            self.report(&at, format!("@odata.type '{text}' must start with '#'"));
            return declared.to_owned();
        };
        let resolved = self.schema.model.resolve(name);
        if !self.schema.model.structured.contains_key(&resolved) {
            self.report(
                &at,
                format!("@odata.type '{text}' names no entity or complex type"),
            );
            return declared.to_owned();
        }
        if !self.schema.ancestry(&resolved).any(|t| t.name == declared) {
            self.report(
                &at,
                format!("@odata.type '{text}' does not derive from the declared type {declared}"),
            );
            return declared.to_owned();
        }
        resolved
    }

    fn enum_member(&mut self, pointer: &str, enum_name: &str, value: &Value) {
        let Some(enum_type) = self.schema.model.enums.get(enum_name) else {
            return;
        };
        let Some(text) = value.as_str() else {
            return self.report(
                pointer,
                format!(
                    "expected a member name of {enum_name}, got {}",
                    describe(value)
                ),
            );
        };
        // Flags values are comma-separated member names ("a,b" or "a, b").
        let names: Vec<&str> = if enum_type.is_flags {
            text.split(',')
                .enumerate()
                .map(|(i, n)| if i == 0 { n } else { n.trim_start_matches(' ') })
                .collect()
        } else {
            vec![text]
        };
        for name in names {
            if !enum_type.members.iter().any(|m| m == name) {
                self.report(
                    pointer,
                    format!("'{name}' is not a member of enum {enum_name}"),
                );
            }
        }
    }
}
