//! `reports/authenticationMethods`: the `userRegistrationDetails` list and get, and the two
//! delegated-only summary functions (graph-api.md §4). Rows are computed per request from the
//! tenant state by [`crate::derived`], page by page, never for the whole tenant at once.

use std::{
    cmp::Ordering,
    collections::{BTreeMap, BinaryHeap},
    hash::BuildHasher,
    sync::OnceLock,
};

use axum::http::{Method, StatusCode};
use base64::Engine;
use serde_json::{Value, json};

use super::{Access, Bucket, Ctx, GraphError, Reply, Route, Version};
use crate::{
    calls::now_rfc3339,
    derived::{self, BETA_ONLY_PROPERTIES, Details, Evaluator, V1_PROPERTIES},
    state::{Tenant, User},
};

const READ_REPORTS: &[&str] = &["AuditLog.Read.All"];
/// Page size without `$top`. Graph does not document it for this report (UNVERIFIED); 100 is
/// Graph's usual default and small enough that clients must follow `@odata.nextLink`.
const DEFAULT_PAGE_SIZE: usize = 100;
/// Largest page served. The report's maximum `$top` is undocumented; tools send 999 (the
/// directory maximum), so larger requests are served 999 at a time rather than refused.
const MAX_PAGE_SIZE: usize = 999;
const ENTITY: &str = "reports/authenticationMethods/userRegistrationDetails";

pub(crate) fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, ENTITY, Access::Any(READ_REPORTS), list).bucket(Bucket::Reports),
        Route::new(
            Method::GET,
            "reports/authenticationMethods/userRegistrationDetails/{id}",
            Access::Any(READ_REPORTS),
            get,
        )
        .bucket(Bucket::Reports),
        Route::new(
            Method::GET,
            "reports/authenticationMethods/usersRegisteredByFeature(*)",
            Access::DelegatedOnly(READ_REPORTS),
            by_feature,
        )
        .bucket(Bucket::Reports),
        Route::new(
            Method::GET,
            "reports/authenticationMethods/usersRegisteredByMethod(*)",
            Access::DelegatedOnly(READ_REPORTS),
            by_method,
        )
        .bucket(Bucket::Reports),
    ]
}

// ---------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------

fn list(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let query = ListQuery::from_request(ctx)?;
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    require_premium(tenant)?;
    derived::observe(tenant, ctx.shared.report_delay);
    let tenant: &Tenant = tenant;
    let evaluator = Evaluator::new(
        derived::effective_policies(tenant, ctx.shared.report_delay),
        &tenant.groups,
    );
    let page = match &query.order {
        None => page_in_storage_order(&tenant.users, &evaluator, &query)?,
        Some(order) => page_in_key_order(&tenant.users, &evaluator, &query, *order),
    };
    let beta = ctx.version == Version::Beta;
    let updated = now_rfc3339();
    let value: Vec<Value> = page
        .rows
        .iter()
        .map(|d| derived::project(d.to_json(beta, &updated), &query.select))
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}#{ENTITY}{}", ctx.version.metadata(), select_suffix(&query.select)),
        "value": value,
    });
    if let Some(cursor) = page.next {
        let token = query.token(&cursor);
        body["@odata.nextLink"] =
            json!(ctx.absolute(&format!("{}?$skiptoken={token}", ctx.uri.path())));
    }
    Ok(Reply::Ok(body))
}

fn get(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let select = parse_select(ctx.query.get("$select"), ctx.version)?;
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    require_premium(tenant)?;
    derived::observe(tenant, ctx.shared.report_delay);
    let tenant: &Tenant = tenant;
    let id = ctx.param(0);
    // Disabled users are not in the report (graph-api.md §4.1). The 404 code is Graph's
    // directory spelling (UNVERIFIED for this service).
    let user = tenant
        .users
        .iter()
        .find(|u| u.account_enabled && u.id.eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            GraphError::not_found(
                "Request_ResourceNotFound",
                format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
            )
        })?;
    let evaluator = Evaluator::new(
        derived::effective_policies(tenant, ctx.shared.report_delay),
        &tenant.groups,
    );
    let row = derived::project(
        evaluator
            .details(user)
            .to_json(ctx.version == Version::Beta, &now_rfc3339()),
        &select,
    );
    Ok(Reply::Ok(super::with_context(
        &row,
        format!(
            "{}#{ENTITY}{}/$entity",
            ctx.version.metadata(),
            select_suffix(&select)
        ),
    )))
}

fn by_feature(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let scope = SummaryScope::parse(ctx.param(0))?;
    let counts = summarize(
        ctx,
        &scope,
        |d, counts: &mut BTreeMap<&'static str, u64>| {
            for (feature, on) in [
                ("ssprRegistered", d.is_sspr_registered),
                ("ssprEnabled", d.is_sspr_enabled),
                ("ssprCapable", d.is_sspr_capable),
                ("passwordlessCapable", d.is_passwordless_capable),
                ("mfaCapable", d.is_mfa_capable),
            ] {
                *counts.entry(feature).or_default() += u64::from(on);
            }
        },
    )?;
    let features = [
        "ssprRegistered",
        "ssprEnabled",
        "ssprCapable",
        "passwordlessCapable",
        "mfaCapable",
    ];
    Ok(Reply::Ok(json!({
        "@odata.context": format!("{}#microsoft.graph.userRegistrationFeatureSummary", ctx.version.metadata()),
        "@odata.type": "#microsoft.graph.userRegistrationFeatureSummary",
        "totalUserCount": counts.total,
        "userTypes": scope.user_types,
        "userRoles": scope.user_roles,
        "userRegistrationFeatureCounts": features
            .iter()
            .map(|f| json!({ "feature": f, "userCount": counts.by_key.get(f).copied().unwrap_or(0) }))
            .collect::<Vec<_>>(),
    })))
}

/// Methods listed even with a zero count (graph-api.md §4.3 values with Microsoft evidence);
/// other strings found in the data follow them.
const SUMMARY_METHODS: &[&str] = &[
    "password",
    "email",
    "mobilePhone",
    "alternateMobilePhone",
    "officePhone",
    "securityQuestion",
    "microsoftAuthenticatorPush",
    "microsoftAuthenticatorPasswordless",
    "softwareOneTimePasscode",
    "hardwareOneTimePasscode",
    "fido2SecurityKey",
    "passKeyDeviceBound",
    "passKeyDeviceBoundAuthenticator",
    "passKeyDeviceBoundWindowsHello",
    "windowsHelloForBusiness",
    "temporaryAccessPass",
    "macOsSecureEnclaveKey",
];

fn by_method(ctx: &Ctx<'_>) -> Result<Reply, GraphError> {
    let scope = SummaryScope::parse(ctx.param(0))?;
    let counts = summarize(ctx, &scope, |d, counts: &mut BTreeMap<String, u64>| {
        for method in &d.user.methods_registered {
            *counts.entry(method.clone()).or_default() += 1;
        }
    })?;
    // Every user in the report has a password (the doc example counts it for all users).
    let mut rows: Vec<Value> = SUMMARY_METHODS
        .iter()
        .map(|m| {
            let n = if *m == "password" {
                counts.total
            } else {
                counts.by_key.get(*m).copied().unwrap_or(0)
            };
            json!({ "authenticationMethod": m, "userCount": n })
        })
        .collect();
    rows.extend(
        counts
            .by_key
            .iter()
            .filter(|(m, _)| !SUMMARY_METHODS.contains(&m.as_str()))
            .map(|(m, n)| json!({ "authenticationMethod": m, "userCount": n })),
    );
    Ok(Reply::Ok(json!({
        "@odata.context": format!("{}#microsoft.graph.userRegistrationMethodSummary", ctx.version.metadata()),
        "@odata.type": "#microsoft.graph.userRegistrationMethodSummary",
        "totalUserCount": counts.total,
        "userTypes": scope.user_types,
        "userRoles": scope.user_roles,
        "userRegistrationMethodCounts": rows,
    })))
}

struct Counts<K> {
    total: u64,
    by_key: BTreeMap<K, u64>,
}

/// Runs `count` over every report row in `scope` (same data and delay as the list).
fn summarize<K: Ord>(
    ctx: &Ctx<'_>,
    scope: &SummaryScope,
    count: impl Fn(&Details<'_>, &mut BTreeMap<K, u64>),
) -> Result<Counts<K>, GraphError> {
    let mut directory = ctx.shared.directory();
    let tenant = ctx.caller.tenant_mut(&mut directory)?;
    require_premium(tenant)?;
    derived::observe(tenant, ctx.shared.report_delay);
    let tenant: &Tenant = tenant;
    let evaluator = Evaluator::new(
        derived::effective_policies(tenant, ctx.shared.report_delay),
        &tenant.groups,
    );
    let mut counts = Counts {
        total: 0,
        by_key: BTreeMap::new(),
    };
    for user in tenant.users.iter().filter(|u| u.account_enabled) {
        let d = evaluator.details(user);
        if scope.includes(&d) {
            counts.total += 1;
            count(&d, &mut counts.by_key);
        }
    }
    Ok(counts)
}

// ---------------------------------------------------------------------------------------------
// Licence
// ---------------------------------------------------------------------------------------------

/// Registration reports need Entra ID P1/P2: an `AADPremiumService` plan in
/// `organization.assignedPlans` that is `Enabled` or in its `Warning` grace period (§6.3), which
/// is what [`Tenant::set_premium`] maintains.
fn require_premium(tenant: &Tenant) -> Result<(), GraphError> {
    let premium = tenant.organization["assignedPlans"]
        .as_array()
        .is_some_and(|plans| {
            plans.iter().any(|p| {
                p["service"] == "AADPremiumService"
                    && matches!(p["capabilityStatus"].as_str(), Some("Enabled" | "Warning"))
            })
        });
    if premium {
        Ok(())
    } else {
        Err(GraphError::forbidden(
            "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
            "Tenant is not a B2C tenant and doesn't have premium license",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Summary function parameters
// ---------------------------------------------------------------------------------------------

/// `includedUserTypes` / `includedUserRoles` of a summary function call.
#[derive(Debug)]
struct SummaryScope {
    user_types: &'static str,
    user_roles: &'static str,
}

/// Roles graph-api.md §4.4 lists as `privilegedAdmin`.
const PRIVILEGED_ROLES: &[&str] = &[
    "Global Administrator",
    "Security Administrator",
    "Conditional Access Administrator",
    "Exchange Administrator",
    "SharePoint Administrator",
    "Helpdesk Administrator",
    "Billing Administrator",
    "User Administrator",
    "Authentication Administrator",
];

impl SummaryScope {
    /// Parses the call's argument list, e.g. `includedUserTypes='all',includedUserRoles='all'`
    /// (empty for the parameterless overload). Enum literals may carry their type prefix.
    fn parse(args: &str) -> Result<SummaryScope, GraphError> {
        let mut scope = SummaryScope {
            user_types: "all",
            user_roles: "all",
        };
        for arg in args.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            let (name, value) = arg.split_once('=').ok_or_else(|| {
                GraphError::bad_request(format!("Invalid function argument '{arg}'."))
            })?;
            let value = enum_literal(value.trim());
            let name = name.trim();
            if name.eq_ignore_ascii_case("includedUserTypes") {
                scope.user_types = pick(
                    value,
                    &["all", "member", "guest", "unknownFutureValue"],
                    name,
                )?;
            } else if name.eq_ignore_ascii_case("includedUserRoles") {
                scope.user_roles = pick(
                    value,
                    &[
                        "all",
                        "privilegedAdmin",
                        "admin",
                        "user",
                        "unknownFutureValue",
                    ],
                    name,
                )?;
            } else {
                return Err(GraphError::bad_request(format!(
                    "The parameter '{name}' is not in scope."
                )));
            }
        }
        Ok(scope)
    }

    fn includes(&self, d: &Details<'_>) -> bool {
        let type_ok = match self.user_types {
            "all" => true,
            wanted => d.user_type() == wanted,
        };
        let roles = &d.user.directory_roles;
        let role_ok = match self.user_roles {
            "all" => true,
            "admin" => d.is_admin,
            "user" => !d.is_admin,
            "privilegedAdmin" => roles
                .iter()
                .any(|r| PRIVILEGED_ROLES.iter().any(|p| p.eq_ignore_ascii_case(r))),
            _ => false,
        };
        type_ok && role_ok
    }
}

/// `'all'` or `microsoft.graph.includedUserTypes'all'` → `all`.
fn enum_literal(raw: &str) -> &str {
    let quoted = raw.find('\'').map_or(raw, |i| &raw[i..]);
    quoted.trim_matches('\'')
}

fn pick(
    value: &str,
    members: &[&'static str],
    parameter: &str,
) -> Result<&'static str, GraphError> {
    members
        .iter()
        .find(|m| m.eq_ignore_ascii_case(value))
        .copied()
        .ok_or_else(|| {
            GraphError::bad_request(format!(
                "The value '{value}' is not valid for the parameter '{parameter}'."
            ))
        })
}

// ---------------------------------------------------------------------------------------------
// Query options
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    UserPrincipalName,
    UserDisplayName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Order {
    key: SortKey,
    descending: bool,
}

/// The list request's options: from the URL on the first page, from the `$skiptoken` after.
#[derive(Debug)]
struct ListQuery {
    filter_text: Option<String>,
    order_text: Option<String>,
    select_text: Option<String>,
    filter: Vec<Predicate>,
    order: Option<Order>,
    select: Vec<String>,
    top: usize,
    cursor: Option<Cursor>,
}

impl ListQuery {
    fn from_request(ctx: &Ctx<'_>) -> Result<ListQuery, GraphError> {
        let q = &ctx.query;
        let owned = |name: &str| q.get(name).map(str::to_owned);
        let (filter_text, order_text, select_text, top, cursor) = match q.get("$skiptoken") {
            None => (
                owned("$filter"),
                owned("$orderby"),
                owned("$select"),
                parse_top(q.get("$top"))?,
                None,
            ),
            Some(token) => {
                let t = SkipToken::decode(token)?;
                // Options repeated next to the token must be the ones it was issued for.
                for (name, issued) in [("$filter", &t.filter), ("$orderby", &t.order)] {
                    if q.get(name).is_some_and(|v| Some(v) != issued.as_deref()) {
                        return Err(invalid_skiptoken());
                    }
                }
                (t.filter, t.order, t.select, t.top, Some(t.cursor))
            }
        };
        Ok(ListQuery {
            filter: match &filter_text {
                Some(f) => parse_filter(f)?,
                None => Vec::new(),
            },
            order: order_text.as_deref().map(parse_orderby).transpose()?,
            select: parse_select(select_text.as_deref(), ctx.version)?,
            filter_text,
            order_text,
            select_text,
            top,
            cursor,
        })
    }

    fn token(&self, cursor: &Cursor) -> String {
        SkipToken {
            filter: self.filter_text.clone(),
            order: self.order_text.clone(),
            select: self.select_text.clone(),
            top: self.top,
            cursor: cursor.clone(),
        }
        .encode()
    }

    fn matches(&self, d: &Details<'_>) -> bool {
        self.filter.iter().all(|p| p.matches(d))
    }
}

fn parse_top(raw: Option<&str>) -> Result<usize, GraphError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_PAGE_SIZE);
    };
    match raw.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n.min(MAX_PAGE_SIZE)),
        _ => Err(GraphError::bad_request(format!(
            "Invalid value '{raw}' for query option '$top'."
        ))),
    }
}

fn parse_orderby(raw: &str) -> Result<Order, GraphError> {
    let mut words = raw.split_whitespace();
    let property = words.next().unwrap_or_default();
    let key = if property.eq_ignore_ascii_case("userPrincipalName") {
        SortKey::UserPrincipalName
    } else if property.eq_ignore_ascii_case("userDisplayName") {
        SortKey::UserDisplayName
    } else {
        return Err(GraphError::bad_request(format!(
            "Order by '{raw}' is not supported. Supported properties: userPrincipalName, userDisplayName."
        )));
    };
    let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => {
            return Err(GraphError::bad_request(format!(
                "Invalid $orderby expression '{raw}'."
            )));
        }
    };
    if words.next().is_some() {
        return Err(GraphError::bad_request(format!(
            "Invalid $orderby expression '{raw}'."
        )));
    }
    Ok(Order { key, descending })
}

/// `$select` names, validated against the version's `userRegistrationDetails` properties and
/// normalized to their schema spelling.
fn parse_select(raw: Option<&str>, version: Version) -> Result<Vec<String>, GraphError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|name| {
            V1_PROPERTIES
                .iter()
                .chain(if version == Version::Beta {
                    BETA_ONLY_PROPERTIES
                } else {
                    &[]
                })
                .find(|p| p.eq_ignore_ascii_case(name))
                .map(|p| p.to_string())
                .ok_or_else(|| {
                    GraphError::bad_request(format!(
                        "Could not find a property named '{name}' on type 'microsoft.graph.userRegistrationDetails'."
                    ))
                })
        })
        .collect()
}

fn select_suffix(select: &[String]) -> String {
    if select.is_empty() {
        String::new()
    } else {
        format!("({})", select.join(","))
    }
}

// ---------------------------------------------------------------------------------------------
// $filter
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BoolProperty {
    Admin,
    SsprRegistered,
    SsprEnabled,
    SsprCapable,
    MfaRegistered,
    MfaCapable,
    PasswordlessCapable,
    SystemPreferredEnabled,
}

const BOOL_PROPERTIES: &[(&str, BoolProperty)] = &[
    ("isAdmin", BoolProperty::Admin),
    ("isSsprRegistered", BoolProperty::SsprRegistered),
    ("isSsprEnabled", BoolProperty::SsprEnabled),
    ("isSsprCapable", BoolProperty::SsprCapable),
    ("isMfaRegistered", BoolProperty::MfaRegistered),
    ("isMfaCapable", BoolProperty::MfaCapable),
    ("isPasswordlessCapable", BoolProperty::PasswordlessCapable),
    (
        "isSystemPreferredAuthenticationMethodEnabled",
        BoolProperty::SystemPreferredEnabled,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextProperty {
    UserPrincipalName,
    UserDisplayName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collection {
    MethodsRegistered,
    SystemPreferredMethods,
}

/// One documented filter clause (graph-api.md §4.2, §10). Clauses combine with `and` only: the
/// reference documents no `or`, `ne` or `not` for this report.
#[derive(Debug, Clone, PartialEq)]
enum Predicate {
    Bool(BoolProperty, bool),
    UserType(String),
    TextEq(TextProperty, String),
    TextStartsWith(TextProperty, String),
    Any(Collection, String),
    PreferredMethod(String),
}

impl Predicate {
    fn matches(&self, d: &Details<'_>) -> bool {
        let user = d.user;
        let text = |p: &TextProperty| match p {
            TextProperty::UserPrincipalName => user.user_principal_name.as_str(),
            TextProperty::UserDisplayName => user.display_name.as_str(),
        };
        match self {
            Predicate::Bool(p, want) => bool_value(d, *p) == *want,
            Predicate::UserType(t) => d.user_type().eq_ignore_ascii_case(t),
            // Case-insensitive, as documented for UPN and display name.
            Predicate::TextEq(p, v) => text(p).eq_ignore_ascii_case(v),
            Predicate::TextStartsWith(p, v) => starts_with_ignore_case(text(p), v),
            Predicate::Any(Collection::MethodsRegistered, v) => user
                .methods_registered
                .iter()
                .any(|m| m.eq_ignore_ascii_case(v)),
            Predicate::Any(Collection::SystemPreferredMethods, v) => d
                .system_preferred
                .is_some_and(|m| m.eq_ignore_ascii_case(v)),
            Predicate::PreferredMethod(v) => user.preferred_method.eq_ignore_ascii_case(v),
        }
    }
}

fn bool_value(d: &Details<'_>, p: BoolProperty) -> bool {
    match p {
        BoolProperty::Admin => d.is_admin,
        BoolProperty::SsprRegistered => d.is_sspr_registered,
        BoolProperty::SsprEnabled => d.is_sspr_enabled,
        BoolProperty::SsprCapable => d.is_sspr_capable,
        BoolProperty::MfaRegistered => d.is_mfa_registered,
        BoolProperty::MfaCapable => d.is_mfa_capable,
        BoolProperty::PasswordlessCapable => d.is_passwordless_capable,
        BoolProperty::SystemPreferredEnabled => d.is_system_preferred_enabled,
    }
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
    Comma,
    Colon,
}

fn invalid_filter(detail: impl std::fmt::Display) -> GraphError {
    GraphError::bad_request(format!("Invalid filter clause: {detail}"))
}

fn tokenize(raw: &str) -> Result<Vec<Token>, GraphError> {
    let mut tokens = Vec::new();
    let mut chars = raw.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            _ if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' | ':' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    ',' => Token::Comma,
                    _ => Token::Colon,
                });
            }
            '\'' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        // `''` is an escaped quote inside an OData string literal.
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            text.push('\'');
                        }
                        Some('\'') => break,
                        Some(ch) => text.push(ch),
                        None => return Err(invalid_filter("unterminated string literal.")),
                    }
                }
                tokens.push(Token::Text(text));
            }
            _ => {
                let mut word = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_alphanumeric() || matches!(ch, '/' | '.' | '_' | '-' | '@') {
                        word.push(ch);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if word.is_empty() {
                    return Err(invalid_filter(format!("unexpected character '{c}'.")));
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// Parses `$filter` into a conjunction of [`Predicate`]s.
fn parse_filter(raw: &str) -> Result<Vec<Predicate>, GraphError> {
    let tokens = tokenize(raw)?;
    let mut parser = FilterParser { tokens, at: 0 };
    let predicates = parser.conjunction()?;
    if parser.at != parser.tokens.len() {
        return Err(invalid_filter(format!(
            "unexpected '{}'.",
            parser.describe()
        )));
    }
    Ok(predicates)
}

struct FilterParser {
    tokens: Vec<Token>,
    at: usize,
}

impl FilterParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn describe(&self) -> String {
        match self.peek() {
            Some(Token::Word(w)) => w.clone(),
            Some(Token::Text(t)) => format!("'{t}'"),
            Some(Token::Open) => "(".into(),
            Some(Token::Close) => ")".into(),
            Some(Token::Comma) => ",".into(),
            Some(Token::Colon) => ":".into(),
            None => "end of expression".into(),
        }
    }

    fn expect(&mut self, want: Token) -> Result<(), GraphError> {
        if self.peek() == Some(&want) {
            self.at += 1;
            Ok(())
        } else {
            Err(invalid_filter(format!("unexpected '{}'.", self.describe())))
        }
    }

    fn keyword(&mut self, word: &str) -> Result<(), GraphError> {
        match self.next() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case(word) => Ok(()),
            Some(Token::Word(w)) if is_unsupported_operator(&w) => Err(invalid_filter(format!(
                "the operator '{w}' is not supported for this resource."
            ))),
            _ => {
                self.at -= 1;
                Err(invalid_filter(format!(
                    "expected '{word}' but found '{}'.",
                    self.describe()
                )))
            }
        }
    }

    fn text(&mut self) -> Result<String, GraphError> {
        match self.next() {
            Some(Token::Text(t)) => Ok(t),
            _ => {
                self.at -= 1;
                Err(invalid_filter(format!(
                    "expected a string literal but found '{}'.",
                    self.describe()
                )))
            }
        }
    }

    fn conjunction(&mut self) -> Result<Vec<Predicate>, GraphError> {
        let mut predicates = self.clause()?;
        while let Some(Token::Word(w)) = self.peek() {
            if w.eq_ignore_ascii_case("and") {
                self.at += 1;
                predicates.extend(self.clause()?);
            } else if w.eq_ignore_ascii_case("or") {
                return Err(invalid_filter(
                    "the operator 'or' is not supported for this resource.",
                ));
            } else {
                break;
            }
        }
        Ok(predicates)
    }

    fn clause(&mut self) -> Result<Vec<Predicate>, GraphError> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.conjunction()?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("startswith") => {
                self.expect(Token::Open)?;
                let property = self.text_property()?;
                self.expect(Token::Comma)?;
                let prefix = self.text()?;
                self.expect(Token::Close)?;
                Ok(vec![Predicate::TextStartsWith(property, prefix)])
            }
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("not") => Err(invalid_filter(
                "the operator 'not' is not supported for this resource.",
            )),
            Some(Token::Word(w)) => self.comparison(&w).map(|p| vec![p]),
            _ => {
                self.at -= 1;
                Err(invalid_filter(format!("unexpected '{}'.", self.describe())))
            }
        }
    }

    fn text_property(&mut self) -> Result<TextProperty, GraphError> {
        match self.next() {
            Some(Token::Word(w)) => text_property(&w).ok_or_else(|| unsupported_property(&w)),
            _ => {
                self.at -= 1;
                Err(invalid_filter(format!("unexpected '{}'.", self.describe())))
            }
        }
    }

    /// `property eq literal` or `collection/any(x:x eq 'value')`.
    fn comparison(&mut self, property: &str) -> Result<Predicate, GraphError> {
        if let Some((collection, lambda)) = property.split_once('/') {
            if !lambda.eq_ignore_ascii_case("any") {
                return Err(invalid_filter(format!(
                    "the lambda operator '{lambda}' is not supported for this resource."
                )));
            }
            let collection = if collection.eq_ignore_ascii_case("methodsRegistered") {
                Collection::MethodsRegistered
            } else if collection.eq_ignore_ascii_case("systemPreferredAuthenticationMethods") {
                Collection::SystemPreferredMethods
            } else {
                return Err(unsupported_property(collection));
            };
            return self.any(collection);
        }
        self.keyword("eq")?;
        if let Some((_, p)) = BOOL_PROPERTIES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(property))
        {
            let value = match self.next() {
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => true,
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => false,
                _ => {
                    self.at -= 1;
                    return Err(invalid_filter(format!(
                        "expected true or false but found '{}'.",
                        self.describe()
                    )));
                }
            };
            return Ok(Predicate::Bool(*p, value));
        }
        if let Some(p) = text_property(property) {
            return Ok(Predicate::TextEq(p, self.text()?));
        }
        if property.eq_ignore_ascii_case("userType") {
            let value = enum_member(self.text()?, SIGN_IN_USER_TYPES, "signInUserType")?;
            return Ok(Predicate::UserType(value));
        }
        if property.eq_ignore_ascii_case("userPreferredMethodForSecondaryAuthentication") {
            let value = enum_member(
                self.text()?,
                USER_DEFAULT_AUTHENTICATION_METHODS,
                "userDefaultAuthenticationMethod",
            )?;
            return Ok(Predicate::PreferredMethod(value));
        }
        Err(unsupported_property(property))
    }

    fn any(&mut self, collection: Collection) -> Result<Predicate, GraphError> {
        self.expect(Token::Open)?;
        let variable = match self.next() {
            Some(Token::Word(v)) => v,
            _ => return Err(invalid_filter("expected a lambda variable.")),
        };
        self.expect(Token::Colon)?;
        match self.next() {
            Some(Token::Word(v)) if v == variable => {}
            _ => return Err(invalid_filter("the lambda body must compare its variable.")),
        }
        self.keyword("eq")?;
        let value = self.text()?;
        self.expect(Token::Close)?;
        Ok(Predicate::Any(collection, value))
    }
}

/// Members of the enums these filters compare with (v1.0 CSDL).
const SIGN_IN_USER_TYPES: &[&str] = &["member", "guest", "unknownFutureValue"];
const USER_DEFAULT_AUTHENTICATION_METHODS: &[&str] = &[
    "push",
    "oath",
    "voiceMobile",
    "voiceAlternateMobile",
    "voiceOffice",
    "sms",
    "none",
    "unknownFutureValue",
];

/// An enum literal compared with an enum property must name one of its members.
fn enum_member(value: String, members: &[&str], enum_name: &str) -> Result<String, GraphError> {
    if members.iter().any(|m| m.eq_ignore_ascii_case(&value)) {
        Ok(value)
    } else {
        Err(invalid_filter(format!(
            "'{value}' is not a member of the enum type 'microsoft.graph.{enum_name}'."
        )))
    }
}

fn text_property(name: &str) -> Option<TextProperty> {
    if name.eq_ignore_ascii_case("userPrincipalName") {
        Some(TextProperty::UserPrincipalName)
    } else if name.eq_ignore_ascii_case("userDisplayName") {
        Some(TextProperty::UserDisplayName)
    } else {
        None
    }
}

fn is_unsupported_operator(word: &str) -> bool {
    ["ne", "gt", "ge", "lt", "le", "in", "has"]
        .iter()
        .any(|op| op.eq_ignore_ascii_case(word))
}

fn unsupported_property(name: &str) -> GraphError {
    invalid_filter(format!(
        "filtering on the property '{name}' is not supported for this resource."
    ))
}

// ---------------------------------------------------------------------------------------------
// Paging
// ---------------------------------------------------------------------------------------------

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq)]
enum Cursor {
    /// Storage order: index of the next user to look at, and that user's id to find it again
    /// should users have been inserted or removed before it.
    Index { next: usize, id: String },
    /// `$orderby`: the sort key and id of the last row served (keyset paging).
    After { key: String, id: String },
}

struct Page<'u> {
    rows: Vec<Details<'u>>,
    next: Option<Cursor>,
}

/// One page in storage order, scanning only from the cursor onwards: paging through the whole
/// tenant touches each user once.
fn page_in_storage_order<'u>(
    users: &'u [User],
    evaluator: &Evaluator<'_>,
    query: &ListQuery,
) -> Result<Page<'u>, GraphError> {
    let start = match &query.cursor {
        None => 0,
        Some(Cursor::Index { next, id }) => resume_index(users, *next, id),
        Some(Cursor::After { .. }) => return Err(invalid_skiptoken()),
    };
    let mut rows = Vec::new();
    for (index, user) in users.iter().enumerate().skip(start) {
        if !user.account_enabled {
            continue;
        }
        let d = evaluator.details(user);
        if !query.matches(&d) {
            continue;
        }
        if rows.len() == query.top {
            // Another matching row exists: the next page starts at it (no empty last pages).
            return Ok(Page {
                rows,
                next: Some(Cursor::Index {
                    next: index,
                    id: user.id.clone(),
                }),
            });
        }
        rows.push(d);
    }
    Ok(Page { rows, next: None })
}

/// The index the cursor meant: itself when the user there is still the one it named, else
/// wherever that user moved; if the user is gone, the old index.
fn resume_index(users: &[User], next: usize, id: &str) -> usize {
    if users.get(next).is_some_and(|u| u.id == id) {
        return next;
    }
    users.iter().position(|u| u.id == id).unwrap_or(next)
}

/// A row ordered by (case-insensitive key, id).
struct Keyed<'u> {
    key: String,
    details: Details<'u>,
}

impl Keyed<'_> {
    fn sort_tuple(&self) -> (&str, &str) {
        (&self.key, &self.details.user.id)
    }
}

impl PartialEq for Keyed<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.sort_tuple() == other.sort_tuple()
    }
}
impl Eq for Keyed<'_> {}
impl PartialOrd for Keyed<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Keyed<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_tuple().cmp(&other.sort_tuple())
    }
}

fn sort_key(user: &User, key: SortKey) -> String {
    match key {
        SortKey::UserPrincipalName => user.user_principal_name.to_lowercase(),
        SortKey::UserDisplayName => user.display_name.to_lowercase(),
    }
}

/// One page in `$orderby` order: the `top` smallest rows after the cursor, kept in a bounded
/// heap, so memory stays O(top) whatever the tenant size.
fn page_in_key_order<'u>(
    users: &'u [User],
    evaluator: &Evaluator<'_>,
    query: &ListQuery,
    order: Order,
) -> Page<'u> {
    let after = match &query.cursor {
        Some(Cursor::After { key, id }) => Some((key.as_str(), id.as_str())),
        _ => None,
    };
    // Descending order is ascending order of the reversed comparison.
    let direction = |o: Ordering| if order.descending { o.reverse() } else { o };
    let mut heap: BinaryHeap<Directed<'u>> = BinaryHeap::new();
    for user in users.iter().filter(|u| u.account_enabled) {
        let key = sort_key(user, order.key);
        if let Some(after) = after
            && direction((key.as_str(), user.id.as_str()).cmp(&after)) != Ordering::Greater
        {
            continue;
        }
        let details = evaluator.details(user);
        if !query.matches(&details) {
            continue;
        }
        heap.push(Directed {
            row: Keyed { key, details },
            descending: order.descending,
        });
        if heap.len() > query.top + 1 {
            heap.pop();
        }
    }
    let mut rows: Vec<Keyed<'u>> = heap.into_sorted_vec().into_iter().map(|d| d.row).collect();
    let more = rows.len() > query.top;
    rows.truncate(query.top);
    let next = more
        .then(|| rows.last())
        .flatten()
        .map(|last| Cursor::After {
            key: last.key.clone(),
            id: last.details.user.id.clone(),
        });
    Page {
        rows: rows.into_iter().map(|k| k.details).collect(),
        next,
    }
}

/// [`Keyed`] in the requested direction: the heap's maximum is the row that sorts last.
struct Directed<'u> {
    row: Keyed<'u>,
    descending: bool,
}

impl PartialEq for Directed<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.row == other.row
    }
}
impl Eq for Directed<'_> {}
impl PartialOrd for Directed<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Directed<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        let o = self.row.cmp(&other.row);
        if self.descending { o.reverse() } else { o }
    }
}

// ---------------------------------------------------------------------------------------------
// $skiptoken
// ---------------------------------------------------------------------------------------------

/// What a `$skiptoken` carries: the whole query and the cursor, so a nextLink needs nothing else
/// (like Graph's). Encoded as base64url JSON plus a keyed checksum: any edit is refused.
#[derive(Debug, Clone, PartialEq)]
struct SkipToken {
    filter: Option<String>,
    order: Option<String>,
    select: Option<String>,
    top: usize,
    cursor: Cursor,
}

/// Per-process random key for the checksum (SipHash with random keys): tokens cannot be forged
/// or edited, and need not survive a restart.
fn token_key() -> &'static std::collections::hash_map::RandomState {
    static KEY: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    KEY.get_or_init(Default::default)
}

fn invalid_skiptoken() -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        "The $skiptoken value is invalid or does not belong to this query.",
    )
}

impl SkipToken {
    fn encode(&self) -> String {
        let cursor = match &self.cursor {
            Cursor::Index { next, id } => json!({ "n": next, "id": id }),
            Cursor::After { key, id } => json!({ "k": key, "id": id }),
        };
        let payload = json!({
            "f": self.filter, "o": self.order, "s": self.select, "t": self.top, "c": cursor,
        })
        .to_string();
        let tag = token_key().hash_one(&payload);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{tag:016x}", b64.encode(payload))
    }

    fn decode(token: &str) -> Result<SkipToken, GraphError> {
        let (body, tag) = token.split_once('.').ok_or_else(invalid_skiptoken)?;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(invalid_skiptoken)?;
        if format!("{:016x}", token_key().hash_one(&payload)) != tag {
            return Err(invalid_skiptoken());
        }
        let v: Value = serde_json::from_str(&payload).map_err(|_| invalid_skiptoken())?;
        let text = |key: &str| v[key].as_str().map(str::to_owned);
        let c = &v["c"];
        let id = c["id"].as_str().ok_or_else(invalid_skiptoken)?.to_owned();
        let cursor = match (c["n"].as_u64(), c["k"].as_str()) {
            (Some(next), None) => Cursor::Index {
                next: usize::try_from(next).map_err(|_| invalid_skiptoken())?,
                id,
            },
            (None, Some(key)) => Cursor::After {
                key: key.to_owned(),
                id,
            },
            _ => return Err(invalid_skiptoken()),
        };
        Ok(SkipToken {
            filter: text("f"),
            order: text("o"),
            select: text("s"),
            top: v["t"]
                .as_u64()
                .and_then(|t| usize::try_from(t).ok())
                .filter(|t| (1..=MAX_PAGE_SIZE).contains(t))
                .ok_or_else(invalid_skiptoken)?,
            cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_filters_parse() {
        let p = parse_filter("isSsprEnabled eq true and methodsRegistered/any(x:x eq 'email')")
            .expect("parses");
        assert_eq!(
            p,
            vec![
                Predicate::Bool(BoolProperty::SsprEnabled, true),
                Predicate::Any(Collection::MethodsRegistered, "email".into()),
            ]
        );
        let p = parse_filter("(startswith(userPrincipalName,'O''Brien')) and userType eq 'guest'")
            .expect("parses");
        assert_eq!(
            p,
            vec![
                Predicate::TextStartsWith(TextProperty::UserPrincipalName, "O'Brien".into()),
                Predicate::UserType("guest".into()),
            ]
        );
        assert!(parse_filter("userDisplayName eq 'Contoso'").is_ok());
    }

    #[test]
    fn unsupported_filters_are_refused() {
        for bad in [
            "isAdmin eq true or isMfaCapable eq true",
            "isAdmin ne true",
            "not isAdmin eq true",
            "id eq 'x'",
            "isAdmin eq 'yes'",
            "methodsRegistered/all(x:x eq 'email')",
            "startswith(userType,'m')",
            "isAdmin eq true and",
            "userPrincipalName eq 'unterminated",
            "userType eq 'robot'",
            "userPreferredMethodForSecondaryAuthentication eq 'carrierPigeon'",
        ] {
            let e = parse_filter(bad).expect_err(bad);
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(e.code, "BadRequest", "{bad}");
        }
    }

    #[test]
    fn skiptokens_round_trip_and_reject_edits() {
        let t = SkipToken {
            filter: Some("isAdmin eq true".into()),
            order: None,
            select: None,
            top: 999,
            cursor: Cursor::Index {
                next: 1234,
                id: "abc".into(),
            },
        };
        let encoded = t.encode();
        assert_eq!(SkipToken::decode(&encoded).expect("decodes"), t);
        let mut chars: Vec<char> = encoded.chars().collect();
        chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
        let edited: String = chars.into_iter().collect();
        assert!(SkipToken::decode(&edited).is_err());
        assert!(SkipToken::decode("garbage").is_err());
    }

    #[test]
    fn summary_arguments_parse() {
        let s = SummaryScope::parse("includedUserTypes='member',includedUserRoles=microsoft.graph.includedUserRoles'privilegedAdmin'")
            .expect("parses");
        assert_eq!((s.user_types, s.user_roles), ("member", "privilegedAdmin"));
        assert!(SummaryScope::parse("includedUserTypes='robots'").is_err());
        assert!(SummaryScope::parse("color='red'").is_err());
        let s = SummaryScope::parse("").expect("parameterless overload");
        assert_eq!((s.user_types, s.user_roles), ("all", "all"));
    }
}
