//! The registration endpoints' query strings and the listing's format, parsed and checked:
//! known parameters, each at most once, with valid values; anything else is a 400 naming it.

use axum::http::{HeaderMap, header};
use url::form_urlencoded;

use crate::api::problem::ApiError;
use crate::domain::registrations::Field;
use crate::domain::registrations::filter::{FilterParams, RegistrationFilter};
use crate::ops::registrations::FleetSelection;

/// JSON page size: default and maximum.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

pub const LIST_PARAMETERS: [&str; 11] = [
    "sspr",
    "mfa",
    "passwordless",
    "admin",
    "userType",
    "methods",
    "upnPrefix",
    "fields",
    "pushdown",
    "limit",
    "cursor",
];

/// How the listing is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Ndjson,
    Csv,
}

/// The listing's format from `Accept`: the acceptable type with the highest `q` (the first on a
/// tie); JSON when none of ours is named.
pub fn negotiate(headers: &HeaderMap) -> Format {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    let mut best: Option<(f32, Format)> = None;
    for range in accept {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let format = match media.as_str() {
            "application/x-ndjson" | "application/jsonl" => Format::Ndjson,
            "text/csv" => Format::Csv,
            "application/json" | "application/*" | "*/*" => Format::Json,
            _ => continue,
        };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, format));
        }
    }
    best.map_or(Format::Json, |(_, f)| f)
}

/// The listing's query, parsed and checked.
pub struct ListQuery {
    pub filter: RegistrationFilter,
    pub fields: Vec<Field>,
    pub pushdown: bool,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

pub fn bad(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::BadRequest {
        detail: detail.into(),
        field: field.to_owned(),
    }
}

/// The listing's query for a response in `format`: `limit` and `cursor` page JSON only.
pub fn parse_list_query(raw: &str, format: Format) -> Result<ListQuery, ApiError> {
    let query = parse_list_parameters(raw)?;
    if format != Format::Json {
        for (name, given) in [
            ("limit", query.limit.is_some()),
            ("cursor", query.cursor.is_some()),
        ] {
            if given {
                return Err(bad(
                    name,
                    format!("{name} pages JSON listings; NDJSON and CSV stream every user."),
                ));
            }
        }
    }
    Ok(query)
}

fn parse_list_parameters(raw: &str) -> Result<ListQuery, ApiError> {
    let mut given: Vec<(String, String)> = Vec::new();
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        if !LIST_PARAMETERS.contains(&name.as_ref()) {
            return Err(bad(
                &name,
                format!(
                    "'{name}' is not a parameter of this listing; it takes {}.",
                    LIST_PARAMETERS.join(", ")
                ),
            ));
        }
        if given.iter().any(|(n, _)| *n == name) {
            return Err(bad(&name, format!("'{name}' is given more than once.")));
        }
        given.push((name.into_owned(), value.into_owned()));
    }
    let get = |name: &str| {
        given
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let filter = RegistrationFilter::parse(FilterParams {
        sspr: get("sspr"),
        mfa: get("mfa"),
        passwordless: get("passwordless"),
        admin: get("admin"),
        user_type: get("userType"),
        methods: get("methods"),
        upn_prefix: get("upnPrefix"),
    })
    .map_err(|e| bad(e.parameter, e.message))?;
    let fields = match get("fields") {
        None => Field::ALL.to_vec(),
        Some(list) => Field::parse_list(list).map_err(|e| bad("fields", e))?,
    };
    let pushdown = match get("pushdown") {
        None | Some("true") => true,
        Some("false") => false,
        Some(other) => {
            return Err(bad(
                "pushdown",
                format!("'{other}' is not a value of pushdown; it takes true or false."),
            ));
        }
    };
    let limit = get("limit")
        .map(|text| {
            text.parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    bad(
                        "limit",
                        format!(
                            "'{text}' is not a page size; give a number from 1 to {MAX_LIMIT}."
                        ),
                    )
                })
        })
        .transpose()?;
    Ok(ListQuery {
        filter,
        fields,
        pushdown,
        limit,
        cursor: get("cursor").map(str::to_owned),
    })
}

/// The fleet summary's `tenants`: `all` or names separated by commas.
pub fn parse_fleet_query(raw: &str) -> Result<FleetSelection, ApiError> {
    let mut tenants = None;
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        if name != "tenants" {
            return Err(bad(
                &name,
                format!("'{name}' is not a parameter of the fleet summary; it takes tenants."),
            ));
        }
        if tenants.replace(value.into_owned()).is_some() {
            return Err(bad("tenants", "'tenants' is given more than once."));
        }
    }
    let tenants = tenants.ok_or_else(|| {
        bad(
            "tenants",
            "tenants is required: 'all', or tenant ids, domains and tag:<tag> separated by commas.",
        )
    })?;
    if tenants.trim() == "all" {
        return Ok(FleetSelection::All);
    }
    let names: Vec<String> = tenants.split(',').map(|n| n.trim().to_owned()).collect();
    if names.iter().any(String::is_empty) {
        return Err(bad(
            "tenants",
            "an empty tenant name; give 'all' or tenant ids/domains separated by single commas.",
        ));
    }
    if let Some(why) = names
        .iter()
        .filter_map(|n| n.strip_prefix("tag:"))
        .find_map(|tag| crate::domain::tenancy::validate_tag(tag).err())
    {
        return Err(bad("tenants", why));
    }
    Ok(FleetSelection::Named(names))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn accept_picks_the_preferred_format_and_defaults_to_json() {
        assert_eq!(negotiate(&HeaderMap::new()), Format::Json);
        assert_eq!(negotiate(&accept("text/csv")), Format::Csv);
        assert_eq!(negotiate(&accept("application/x-ndjson")), Format::Ndjson);
        assert_eq!(
            negotiate(&accept("application/json;q=0.5, text/csv")),
            Format::Csv
        );
        assert_eq!(
            negotiate(&accept("text/csv;q=0.2, application/x-ndjson;q=0.9")),
            Format::Ndjson
        );
        assert_eq!(negotiate(&accept("text/html")), Format::Json);
        assert_eq!(negotiate(&accept("*/*")), Format::Json);
        assert_eq!(negotiate(&accept("text/csv;q=0, */*")), Format::Json);
    }

    #[test]
    fn list_queries_refuse_unknown_repeated_and_invalid_parameters() {
        let field = |raw: &str| match parse_list_query(raw, Format::Json) {
            Err(ApiError::BadRequest { field, .. }) => field,
            Err(other) => panic!("{raw}: {other:?}"),
            Ok(_) => panic!("{raw} must be refused"),
        };
        assert_eq!(field("ssp=registered"), "ssp");
        assert_eq!(field("sspr=registered&sspr=enabled"), "sspr");
        assert_eq!(field("sspr=yes"), "sspr");
        assert_eq!(field("userType=robot"), "userType");
        assert_eq!(field("fields=id,nope"), "fields");
        assert_eq!(field("pushdown=maybe"), "pushdown");
        assert_eq!(field("limit=0"), "limit");
        assert_eq!(field("limit=1001"), "limit");
        let ok = parse_list_query(
            "methods=email%2CmobilePhone&upnPrefix=o%27b&limit=5&pushdown=false",
            Format::Json,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.filter.methods, ["email", "mobilePhone"]);
        assert_eq!(ok.filter.upn_prefix.as_deref(), Some("o'b"));
        assert_eq!(ok.limit, Some(5));
        assert!(!ok.pushdown);
        assert_eq!(ok.fields, Field::ALL);
    }

    #[test]
    fn limit_and_cursor_page_json_only() {
        for format in [Format::Ndjson, Format::Csv] {
            for (raw, name) in [("limit=5", "limit"), ("cursor=abc", "cursor")] {
                match parse_list_query(raw, format) {
                    Err(ApiError::BadRequest { field, .. }) => assert_eq!(field, name),
                    _ => panic!("{raw} must be refused for {format:?}"),
                }
            }
        }
        assert!(parse_list_query("limit=5&cursor=abc", Format::Json).is_ok());
    }

    #[test]
    fn fleet_queries_need_tenants() {
        assert_eq!(
            parse_fleet_query("tenants=all").ok(),
            Some(FleetSelection::All)
        );
        assert_eq!(
            parse_fleet_query("tenants=a.com,%20b.com").ok(),
            Some(FleetSelection::Named(vec!["a.com".into(), "b.com".into()]))
        );
        for raw in [
            "",
            "tenants=",
            "tenants=a,,b",
            "tenant=all",
            "tenants=a&tenants=b",
        ] {
            assert!(
                matches!(parse_fleet_query(raw), Err(ApiError::BadRequest { .. })),
                "{raw}"
            );
        }
    }
}
