//! OData conventions: query options and `@odata.context`.

use serde_json::Value;

/// The request's query options. OData system options are case-insensitive (`$TOP` = `$top`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(raw: &str) -> Query {
        Query {
            pairs: url::form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// `entity` with `@odata.context` first, as Graph orders it.
pub(crate) fn with_context(entity: &Value, context: String) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("@odata.context".into(), Value::String(context));
    if let Some(fields) = entity.as_object() {
        for (k, v) in fields {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}
