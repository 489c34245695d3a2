//! OData conventions: query options and `@odata.context`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{Ctx, GraphError};

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

/// Page sizes of a collection: without `$top`, and the largest `$top` accepted.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub default: usize,
    pub max: usize,
}

/// The query options of the simple collections (groups, members, GDAP, contracts): `$select`,
/// `$top` and `$skiptoken` paging. `$filter`, `$search`, `$orderby`, `$count` and `$expand` are
/// refused with Graph's 400 rather than ignored, so a client never mistakes an unfiltered answer
/// for a filtered one.
pub(crate) struct ListOptions {
    select: Vec<String>,
    pub top: usize,
    pub skip: usize,
}

impl ListOptions {
    pub(crate) fn parse(
        ctx: &Ctx<'_>,
        properties: &[&str],
        type_name: &str,
        paging: Paging,
    ) -> Result<ListOptions, GraphError> {
        for unsupported in ["$filter", "$search", "$orderby", "$count", "$expand"] {
            if ctx.query.has(unsupported) {
                return Err(GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "Request_UnsupportedQuery",
                    format!("The emulator does not support {unsupported} on this collection."),
                ));
            }
        }
        let mut select = Vec::new();
        for name in ctx
            .query
            .get("$select")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let known = properties
                .iter()
                .find(|p| p.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    GraphError::new(
                        StatusCode::BAD_REQUEST,
                        "Request_BadRequest",
                        format!(
                            "Could not find a property named '{name}' on type 'microsoft.graph.{type_name}'."
                        ),
                    )
                })?;
            select.push((*known).to_owned());
        }
        let top = match ctx.query.get("$top") {
            None => paging.default,
            Some(raw) => match raw.trim().parse::<usize>() {
                Ok(n) if (1..=paging.max).contains(&n) => n,
                _ => {
                    return Err(GraphError::new(
                        StatusCode::BAD_REQUEST,
                        "Request_BadRequest",
                        format!(
                            "Invalid page size specified: '{raw}'. Must be between 1 and {} inclusive.",
                            paging.max
                        ),
                    ));
                }
            },
        };
        let skip = match ctx.query.get("$skiptoken") {
            None => 0,
            Some(token) => token
                .strip_prefix("X'")
                .and_then(|t| t.strip_suffix('\''))
                .and_then(|t| usize::from_str_radix(t, 16).ok())
                .ok_or_else(|| {
                    GraphError::bad_request("Invalid syntax for the $skiptoken value.")
                })?,
        };
        Ok(ListOptions { select, top, skip })
    }

    pub(crate) fn project(&self, item: Value) -> Value {
        crate::derived::project(item, &self.select)
    }

    /// One page of `items` (projected) with the collection body around it.
    pub(crate) fn page_of(&self, ctx: &Ctx<'_>, context: &str, items: &[Value]) -> Value {
        let page: Vec<Value> = items
            .iter()
            .skip(self.skip)
            .take(self.top)
            .map(|i| self.project(i.clone()))
            .collect();
        let more = self.skip + self.top < items.len();
        self.page(ctx, context, page, more)
    }

    /// The collection body, with an `@odata.nextLink` that keeps `$select` and `$top`.
    pub(crate) fn page(
        &self,
        ctx: &Ctx<'_>,
        context: &str,
        items: Vec<Value>,
        more: bool,
    ) -> Value {
        let select = if self.select.is_empty() {
            String::new()
        } else {
            format!("({})", self.select.join(","))
        };
        let mut body = json!({
            "@odata.context": format!("{}#{context}{select}", ctx.version.metadata()),
            "value": items,
        });
        if more {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            if !self.select.is_empty() {
                query.append_pair("$select", &self.select.join(","));
            }
            query.append_pair("$top", &self.top.to_string());
            query.append_pair("$skiptoken", &format!("X'{:x}'", self.skip + self.top));
            body["@odata.nextLink"] =
                json!(ctx.absolute(&format!("{}?{}", ctx.uri.path(), query.finish())));
        }
        body
    }
}
