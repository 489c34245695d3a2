//! Which users a listing keeps, and how that splits between Graph and the service.
//!
//! A filter is a conjunction of conditions. Graph's report evaluates equality on its boolean
//! columns and the user type, a user principal name prefix and "has this one method", joined by
//! "and" only (no "or", "not", "not equal"; graph-api.md §4.2). [`plan`] hands Graph every
//! condition it evaluates exactly as the service would (the [`Pushdown`]; the directory adapter
//! writes it in Graph's query language) and keeps the rest as a residual predicate applied to the
//! stream, so the users are the same either way.

use utoipa::ToSchema;

use super::Registration;

/// A closed set of values a query parameter takes, each with its one spelling. The parser and the
/// OpenAPI schema both come from one declaration ([`vocabulary!`]), so a value cannot be added in
/// one place only.
pub trait Vocabulary: Copy + 'static {
    /// Every value, in the order the error message lists them.
    const ALL: &'static [Self];
    /// The value as the caller spells it.
    fn name(self) -> &'static str;
}

/// Declares a unit-variant enum and its [`Vocabulary`]: each variant with its spelling, which is
/// also its name in the OpenAPI schema.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        pub enum $type:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $name:literal),+ $(,)?
        }
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
        $(#[$meta])*
        pub enum $type {
            $($(#[$variant_meta])* #[schema(rename = $name)] $variant),+
        }

        impl Vocabulary for $type {
            const ALL: &'static [Self] = &[$($type::$variant),+];
            fn name(self) -> &'static str {
                match self {
                    $($type::$variant => $name),+
                }
            }
        }
    };
}

vocabulary! {
    /// `sspr=`: the SSPR columns, alone or as a gap.
    #[schema(description = "Values of the listing's `sspr` filter.")]
    pub enum SsprFilter {
        Registered => "registered",
        NotRegistered => "notRegistered",
        Enabled => "enabled",
        NotEnabled => "notEnabled",
        Capable => "capable",
        NotCapable => "notCapable",
        /// Enabled for SSPR but not registered: a reset would fail.
        EnabledNotRegistered => "enabledNotRegistered",
        RegisteredNotEnabled => "registeredNotEnabled",
    }
}

vocabulary! {
    /// `mfa=`.
    #[schema(description = "Values of the listing's `mfa` filter.")]
    pub enum MfaFilter {
        Registered => "registered",
        NotRegistered => "notRegistered",
        Capable => "capable",
        NotCapable => "notCapable",
    }
}

vocabulary! {
    /// `passwordless=`.
    #[schema(description = "Values of the listing's `passwordless` filter.")]
    pub enum PasswordlessFilter {
        Capable => "capable",
        NotCapable => "notCapable",
    }
}

vocabulary! {
    /// `userType=`.
    #[schema(description = "Values of the listing's `userType` filter.")]
    pub enum UserType {
        Member => "member",
        Guest => "guest",
    }
}

/// `admin=`: a boolean literal.
impl Vocabulary for bool {
    const ALL: &'static [Self] = &[true, false];
    fn name(self) -> &'static str {
        if self { "true" } else { "false" }
    }
}

/// What the caller asked for; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistrationFilter {
    pub sspr: Option<SsprFilter>,
    pub mfa: Option<MfaFilter>,
    pub passwordless: Option<PasswordlessFilter>,
    pub admin: Option<bool>,
    pub user_type: Option<UserType>,
    /// Any of these methods (case-insensitive, as Graph compares them); empty: no condition.
    pub methods: Vec<String>,
    /// The user principal name starts with this (ASCII case-insensitive, as Graph compares).
    pub upn_prefix: Option<String>,
}

/// The filter's query parameters as the caller spelled them.
#[derive(Debug, Clone, Copy, Default)]
pub struct FilterParams<'a> {
    pub sspr: Option<&'a str>,
    pub mfa: Option<&'a str>,
    pub passwordless: Option<&'a str>,
    pub admin: Option<&'a str>,
    pub user_type: Option<&'a str>,
    pub methods: Option<&'a str>,
    pub upn_prefix: Option<&'a str>,
}

#[cfg(test)]
impl<'a> FilterParams<'a> {
    /// Only `parameter` (as the query spells it) given, as `value`.
    pub(crate) fn only(parameter: &str, value: &'a str) -> FilterParams<'a> {
        let mut params = FilterParams::default();
        let slot = match parameter {
            "sspr" => &mut params.sspr,
            "mfa" => &mut params.mfa,
            "passwordless" => &mut params.passwordless,
            "admin" => &mut params.admin,
            "userType" => &mut params.user_type,
            "methods" => &mut params.methods,
            "upnPrefix" => &mut params.upn_prefix,
            other => panic!("{other} is not a filter parameter"),
        };
        *slot = Some(value);
        params
    }

    /// Every parameter given, each with a value Graph can evaluate.
    pub(crate) fn every_pushable() -> FilterParams<'static> {
        FilterParams {
            sspr: Some("enabledNotRegistered"),
            mfa: Some("notCapable"),
            passwordless: Some("notCapable"),
            admin: Some("true"),
            user_type: Some("member"),
            methods: Some("email"),
            upn_prefix: Some("ada"),
        }
    }
}

/// A query parameter with a value the filter cannot take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidParameter {
    pub parameter: &'static str,
    pub message: String,
}

/// The value of `T` spelled `text` (exactly: these are enum literals, as the OpenAPI document
/// declares them). A wrong case is told the right spelling.
fn choose<T: Vocabulary>(parameter: &'static str, text: &str) -> Result<T, InvalidParameter> {
    if let Some(value) = T::ALL.iter().find(|value| value.name() == text) {
        return Ok(*value);
    }
    let names: Vec<&str> = T::ALL.iter().map(|value| value.name()).collect();
    let hint = names
        .iter()
        .find(|name| name.eq_ignore_ascii_case(text))
        .map(|name| format!(" (values are case-sensitive: '{name}')"))
        .unwrap_or_default();
    Err(InvalidParameter {
        parameter,
        message: format!(
            "'{text}' is not a value of {parameter}; it takes {}{hint}.",
            names.join(", ")
        ),
    })
}

/// The method names of our API (the `methods` parameter takes them, records list them in
/// `methodsRegistered`). They are the names Graph's report uses (graph-api.md §4.3), on purpose:
/// a record shows exactly what Graph sent, so our vocabulary and Graph's are one here.
pub const METHOD_NAMES: &[&str] = &[
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
    "passKeySynced",
    "windowsHelloForBusiness",
    "temporaryAccessPass",
    "macOsSecureEnclaveKey",
    "externalAuthMethod",
    "x509CertificateSingleFactor",
    "x509CertificateMultiFactor",
];

/// The policy document's reset-method names (`methods` of the SSPR policy) that the report
/// spells otherwise, and the [`METHOD_NAMES`] value each stands for. `email`, `mobilePhone` and
/// `officePhone` are spelled the same in both.
pub const POLICY_METHOD_NAMES: &[(&str, &str)] = &[
    ("mobileAppNotification", "microsoftAuthenticatorPush"),
    ("mobileAppCode", "softwareOneTimePasscode"),
    ("securityQuestions", "securityQuestion"),
];

/// The [`METHOD_NAMES`] value `name` stands for: one of them or a policy document name, in any
/// case.
pub fn method_name(name: &str) -> Option<&'static str> {
    METHOD_NAMES
        .iter()
        .copied()
        .find(|m| m.eq_ignore_ascii_case(name))
        .or_else(|| {
            POLICY_METHOD_NAMES
                .iter()
                .find(|(policy, _)| policy.eq_ignore_ascii_case(name))
                .map(|(_, method)| *method)
        })
}

impl RegistrationFilter {
    pub fn parse(params: FilterParams<'_>) -> Result<RegistrationFilter, InvalidParameter> {
        let sspr = params.sspr.map(|t| choose("sspr", t)).transpose()?;
        let mfa = params.mfa.map(|t| choose("mfa", t)).transpose()?;
        let passwordless = params
            .passwordless
            .map(|t| choose("passwordless", t))
            .transpose()?;
        let admin = params.admin.map(|t| choose("admin", t)).transpose()?;
        let user_type = params
            .user_type
            .map(|t| choose("userType", t))
            .transpose()?;
        let methods = params.methods.map(parse_methods).transpose()?;
        let upn_prefix = match params.upn_prefix {
            Some("") => {
                return Err(InvalidParameter {
                    parameter: "upnPrefix",
                    message: "upnPrefix must not be empty; leave it out to list every user.".into(),
                });
            }
            other => other.map(str::to_owned),
        };
        Ok(RegistrationFilter {
            sspr,
            mfa,
            passwordless,
            admin,
            user_type,
            methods: methods.unwrap_or_default(),
            upn_prefix,
        })
    }

    /// The conditions, all of which a user must meet.
    pub fn conditions(&self) -> Vec<Condition> {
        use Flag::*;
        let mut out = Vec::new();
        if let Some(sspr) = self.sspr {
            let pairs: &[(Flag, bool)] = match sspr {
                SsprFilter::Registered => &[(SsprRegistered, true)],
                SsprFilter::NotRegistered => &[(SsprRegistered, false)],
                SsprFilter::Enabled => &[(SsprEnabled, true)],
                SsprFilter::NotEnabled => &[(SsprEnabled, false)],
                SsprFilter::Capable => &[(SsprCapable, true)],
                SsprFilter::NotCapable => &[(SsprCapable, false)],
                SsprFilter::EnabledNotRegistered => &[(SsprEnabled, true), (SsprRegistered, false)],
                SsprFilter::RegisteredNotEnabled => &[(SsprRegistered, true), (SsprEnabled, false)],
            };
            out.extend(pairs.iter().map(|(f, v)| Condition::Flag(*f, *v)));
        }
        if let Some(mfa) = self.mfa {
            out.push(match mfa {
                MfaFilter::Registered => Condition::Flag(MfaRegistered, true),
                MfaFilter::NotRegistered => Condition::Flag(MfaRegistered, false),
                MfaFilter::Capable => Condition::Flag(MfaCapable, true),
                MfaFilter::NotCapable => Condition::Flag(MfaCapable, false),
            });
        }
        if let Some(p) = self.passwordless {
            out.push(Condition::Flag(
                PasswordlessCapable,
                p == PasswordlessFilter::Capable,
            ));
        }
        if let Some(admin) = self.admin {
            out.push(Condition::Flag(Admin, admin));
        }
        if let Some(t) = self.user_type {
            out.push(Condition::UserType(t));
        }
        if !self.methods.is_empty() {
            out.push(Condition::AnyMethod(self.methods.clone()));
        }
        if let Some(prefix) = &self.upn_prefix {
            out.push(Condition::UpnPrefix(prefix.clone()));
        }
        out
    }

    /// A canonical spelling of the filter: equal filters, however the caller spelled them, give
    /// the same text (methods sorted, case folded).
    pub fn canonical(&self) -> String {
        let mut methods: Vec<String> = self
            .methods
            .iter()
            .map(|m| m.to_ascii_lowercase())
            .collect();
        methods.sort();
        format!(
            "sspr={:?};mfa={:?};passwordless={:?};admin={:?};userType={:?};methods={};upnPrefix={:?}",
            self.sspr,
            self.mfa,
            self.passwordless,
            self.admin,
            self.user_type,
            methods.join(","),
            self.upn_prefix.as_deref().map(str::to_ascii_lowercase),
        )
    }
}

/// `methods=`: a comma list of method names, each one of [`METHOD_NAMES`] or a policy document
/// name (see [`method_name`]), in any case; kept as [`METHOD_NAMES`] spells them, duplicates
/// dropped.
fn parse_methods(text: &str) -> Result<Vec<String>, InvalidParameter> {
    let mut methods: Vec<String> = Vec::new();
    for name in text.split(',').map(str::trim) {
        if name.is_empty() {
            return Err(InvalidParameter {
                parameter: "methods",
                message: "an empty method name; give method names separated by single commas, e.g. email,mobilePhone.".into(),
            });
        }
        let method = method_name(name).ok_or_else(|| InvalidParameter {
            parameter: "methods",
            message: format!(
                "'{name}' is not a method name. Graph's names are {}; the policy document's names are accepted too: {}.",
                METHOD_NAMES.join(", "),
                POLICY_METHOD_NAMES
                    .iter()
                    .map(|(policy, graph)| format!("{policy} (= {graph})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
        if !methods.iter().any(|m| m == method) {
            methods.push(method.to_owned());
        }
    }
    Ok(methods)
}

/// A boolean column of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Admin,
    SsprRegistered,
    SsprEnabled,
    SsprCapable,
    MfaRegistered,
    MfaCapable,
    PasswordlessCapable,
}

impl Flag {
    fn of(self, r: &Registration) -> bool {
        match self {
            Flag::Admin => r.is_admin,
            Flag::SsprRegistered => r.is_sspr_registered,
            Flag::SsprEnabled => r.is_sspr_enabled,
            Flag::SsprCapable => r.is_sspr_capable,
            Flag::MfaRegistered => r.is_mfa_registered,
            Flag::MfaCapable => r.is_mfa_capable,
            Flag::PasswordlessCapable => r.is_passwordless_capable,
        }
    }
}

/// One condition a user must meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Flag(Flag, bool),
    UserType(UserType),
    /// The user has at least one of these methods.
    AnyMethod(Vec<String>),
    UpnPrefix(String),
}

impl Condition {
    pub fn matches(&self, r: &Registration) -> bool {
        match self {
            Condition::Flag(flag, want) => flag.of(r) == *want,
            Condition::UserType(t) => r.user_type.eq_ignore_ascii_case(t.name()),
            Condition::AnyMethod(wanted) => r
                .methods_registered
                .iter()
                .any(|m| wanted.iter().any(|w| w.eq_ignore_ascii_case(m))),
            Condition::UpnPrefix(prefix) => r
                .user_principal_name
                .as_bytes()
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes())),
        }
    }

    /// True when Graph's report evaluates this condition exactly as [`Condition::matches`] does.
    pub fn graph_evaluates(&self) -> bool {
        match self {
            // `isAdmin` is nullable in Graph and the service reads null as false; Graph's
            // "admin is false" would drop the nulls, so only `true` goes down.
            Condition::Flag(Flag::Admin, false) => false,
            Condition::Flag(..) | Condition::UserType(_) | Condition::UpnPrefix(_) => true,
            // "Any of several" needs "or", which the report does not take.
            Condition::AnyMethod(methods) => methods.len() == 1,
        }
    }
}

/// The conditions Graph's report evaluates for a listing (all of them must hold); the directory
/// adapter writes them in Graph's query language. Empty: Graph returns every user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushdown(Vec<Condition>);

impl Pushdown {
    pub fn conditions(&self) -> &[Condition] {
        &self.0
    }

    pub fn matches(&self, r: &Registration) -> bool {
        self.0.iter().all(|c| c.matches(r))
    }
}

/// The conditions the service checks itself, on each record as it streams by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Residual(Vec<Condition>);

impl Residual {
    pub fn matches(&self, r: &Registration) -> bool {
        self.0.iter().all(|c| c.matches(r))
    }

    pub fn conditions(&self) -> &[Condition] {
        &self.0
    }
}

/// How a filter is evaluated: `pushdown` by Graph, `residual` in the service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub pushdown: Pushdown,
    pub residual: Residual,
}

/// Splits `filter`: with `pushdown`, every condition Graph can evaluate goes to Graph; without
/// it (a diagnostic), everything stays in the service.
pub fn plan(filter: &RegistrationFilter, pushdown: bool) -> Plan {
    let (down, residual) = filter
        .conditions()
        .into_iter()
        .partition(|condition| pushdown && condition.graph_evaluates());
    Plan {
        pushdown: Pushdown(down),
        residual: Residual(residual),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registrations::sample;

    fn filter(params: FilterParams<'_>) -> RegistrationFilter {
        RegistrationFilter::parse(params).expect("valid")
    }

    fn record(flags: [bool; 7], user_type: &str, upn: &str, methods: &[&str]) -> Registration {
        Registration {
            user_type: user_type.into(),
            user_principal_name: upn.into(),
            is_admin: flags[0],
            is_sspr_registered: flags[1],
            is_sspr_enabled: flags[2],
            is_sspr_capable: flags[3],
            is_mfa_registered: flags[4],
            is_mfa_capable: flags[5],
            is_passwordless_capable: flags[6],
            methods_registered: methods.iter().map(|m| m.to_string()).collect(),
            ..sample()
        }
    }

    /// Every record shape the conditions can tell apart: all 128 flag combinations, both user
    /// types and an unknown one, UPNs with and without the prefix in other cases, methods.
    fn population() -> Vec<Registration> {
        let mut out = Vec::new();
        for bits in 0u8..128 {
            let flags = std::array::from_fn(|i| bits & (1 << i) != 0);
            for (i, user_type) in ["member", "guest", "unknownFutureValue"].iter().enumerate() {
                let upn = [
                    "o'brien@contoso.com",
                    "O'BRIEN.x@contoso.com",
                    "ada@contoso.com",
                ][i];
                let methods: &[&str] = match bits % 4 {
                    0 => &[],
                    1 => &["email"],
                    2 => &["MobilePhone", "fido2SecurityKey"],
                    _ => &["someFutureMethod"],
                };
                out.push(record(flags, user_type, upn, methods));
            }
        }
        out
    }

    /// What a filter means, written out independently of [`Condition`].
    fn meaning(f: &RegistrationFilter, r: &Registration) -> bool {
        let sspr = match f.sspr {
            None => true,
            Some(SsprFilter::Registered) => r.is_sspr_registered,
            Some(SsprFilter::NotRegistered) => !r.is_sspr_registered,
            Some(SsprFilter::Enabled) => r.is_sspr_enabled,
            Some(SsprFilter::NotEnabled) => !r.is_sspr_enabled,
            Some(SsprFilter::Capable) => r.is_sspr_capable,
            Some(SsprFilter::NotCapable) => !r.is_sspr_capable,
            Some(SsprFilter::EnabledNotRegistered) => r.is_sspr_enabled && !r.is_sspr_registered,
            Some(SsprFilter::RegisteredNotEnabled) => r.is_sspr_registered && !r.is_sspr_enabled,
        };
        let mfa = match f.mfa {
            None => true,
            Some(MfaFilter::Registered) => r.is_mfa_registered,
            Some(MfaFilter::NotRegistered) => !r.is_mfa_registered,
            Some(MfaFilter::Capable) => r.is_mfa_capable,
            Some(MfaFilter::NotCapable) => !r.is_mfa_capable,
        };
        let passwordless = match f.passwordless {
            None => true,
            Some(PasswordlessFilter::Capable) => r.is_passwordless_capable,
            Some(PasswordlessFilter::NotCapable) => !r.is_passwordless_capable,
        };
        let admin = f.admin.is_none_or(|a| a == r.is_admin);
        let user_type = f.user_type.is_none_or(|t| match t {
            UserType::Member => r.user_type.to_lowercase() == "member",
            UserType::Guest => r.user_type.to_lowercase() == "guest",
        });
        let methods = f.methods.is_empty()
            || r.methods_registered.iter().any(|m| {
                f.methods
                    .iter()
                    .any(|w| w.to_lowercase() == m.to_lowercase())
            });
        let upn = f.upn_prefix.as_ref().is_none_or(|p| {
            r.user_principal_name
                .to_lowercase()
                .starts_with(&p.to_lowercase())
        });
        sspr && mfa && passwordless && admin && user_type && methods && upn
    }

    const SSPR: [&str; 8] = [
        "registered",
        "notRegistered",
        "enabled",
        "notEnabled",
        "capable",
        "notCapable",
        "enabledNotRegistered",
        "registeredNotEnabled",
    ];

    #[test]
    fn each_sspr_value_pushes_down_its_columns() {
        use Flag::*;
        let expected: [&[(Flag, bool)]; 8] = [
            &[(SsprRegistered, true)],
            &[(SsprRegistered, false)],
            &[(SsprEnabled, true)],
            &[(SsprEnabled, false)],
            &[(SsprCapable, true)],
            &[(SsprCapable, false)],
            &[(SsprEnabled, true), (SsprRegistered, false)],
            &[(SsprRegistered, true), (SsprEnabled, false)],
        ];
        for (value, columns) in SSPR.iter().zip(expected) {
            let p = plan(
                &filter(FilterParams {
                    sspr: Some(value),
                    ..Default::default()
                }),
                true,
            );
            let want: Vec<Condition> = columns
                .iter()
                .map(|(flag, v)| Condition::Flag(*flag, *v))
                .collect();
            assert_eq!(p.pushdown.conditions(), want.as_slice(), "{value}");
            assert!(p.residual.conditions().is_empty(), "{value}");
        }
    }

    #[test]
    fn mfa_passwordless_user_type_one_method_and_prefix_push_down() {
        use Flag::*;
        let cases = [
            ("mfa", "registered", Condition::Flag(MfaRegistered, true)),
            (
                "mfa",
                "notRegistered",
                Condition::Flag(MfaRegistered, false),
            ),
            ("mfa", "capable", Condition::Flag(MfaCapable, true)),
            ("mfa", "notCapable", Condition::Flag(MfaCapable, false)),
            (
                "passwordless",
                "capable",
                Condition::Flag(PasswordlessCapable, true),
            ),
            (
                "passwordless",
                "notCapable",
                Condition::Flag(PasswordlessCapable, false),
            ),
            ("admin", "true", Condition::Flag(Admin, true)),
            ("userType", "guest", Condition::UserType(UserType::Guest)),
            (
                "methods",
                "email",
                Condition::AnyMethod(vec!["email".into()]),
            ),
            (
                "upnPrefix",
                "o'brien",
                Condition::UpnPrefix("o'brien".into()),
            ),
        ];
        for (parameter, value, condition) in cases {
            let p = plan(&filter(FilterParams::only(parameter, value)), true);
            assert_eq!(p.pushdown.conditions(), [condition], "{parameter}={value}");
            assert!(p.residual.conditions().is_empty(), "{parameter}={value}");
        }
    }

    #[test]
    fn several_methods_and_admin_false_stay_in_the_service() {
        let p = plan(
            &filter(FilterParams {
                methods: Some("email,mobilePhone"),
                admin: Some("false"),
                user_type: Some("member"),
                ..Default::default()
            }),
            true,
        );
        assert_eq!(
            p.pushdown.conditions(),
            [Condition::UserType(UserType::Member)]
        );
        assert_eq!(
            p.residual.conditions(),
            [
                Condition::Flag(Flag::Admin, false),
                Condition::AnyMethod(vec!["email".into(), "mobilePhone".into()]),
            ]
        );
    }

    #[test]
    fn everything_combined_goes_down_in_order_and_without_pushdown_nothing_does() {
        let f = filter(FilterParams::every_pushable());
        let down = plan(&f, true);
        assert_eq!(down.pushdown.conditions(), f.conditions().as_slice());
        assert_eq!(down.pushdown.conditions().len(), 8);
        assert!(down.residual.conditions().is_empty());
        let local = plan(&f, false);
        assert!(local.pushdown.conditions().is_empty());
        assert_eq!(local.residual.conditions(), f.conditions().as_slice());
    }

    #[test]
    fn every_filter_and_combination_keeps_the_same_users_pushed_down_or_not() {
        let population = population();
        let sspr = std::iter::once(None).chain(SSPR.map(Some));
        let mfa = [
            None,
            Some("registered"),
            Some("notRegistered"),
            Some("capable"),
            Some("notCapable"),
        ];
        let mut checked = 0;
        for s in sspr {
            for m in mfa {
                for pl in [None, Some("capable"), Some("notCapable")] {
                    for admin in [None, Some("true"), Some("false")] {
                        // The text conditions in a few mixes (each is independent of the flags).
                        for (user_type, methods, upn_prefix) in [
                            (None, None, None),
                            (Some("member"), Some("email"), Some("O'Brien")),
                            (Some("guest"), Some("email,mobilePhone"), None),
                            (None, Some("mobilephone"), Some("ada")),
                        ] {
                            let f = filter(FilterParams {
                                sspr: s,
                                mfa: m,
                                passwordless: pl,
                                admin,
                                user_type,
                                methods,
                                upn_prefix,
                            });
                            let down = plan(&f, true);
                            let local = plan(&f, false);
                            for r in &population {
                                let want = meaning(&f, r);
                                assert_eq!(local.residual.matches(r), want, "{f:?} {r:?}");
                                assert_eq!(
                                    down.pushdown.matches(r) && down.residual.matches(r),
                                    want,
                                    "{f:?} {r:?}"
                                );
                            }
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 9 * 5 * 3 * 3 * 4);
    }

    #[test]
    fn invalid_values_name_their_parameter_and_the_choices() {
        let cases = [
            (
                FilterParams {
                    sspr: Some("Registered"),
                    ..Default::default()
                },
                "sspr",
                "enabledNotRegistered",
            ),
            (
                FilterParams {
                    mfa: Some("enabled"),
                    ..Default::default()
                },
                "mfa",
                "notCapable",
            ),
            (
                FilterParams {
                    passwordless: Some("yes"),
                    ..Default::default()
                },
                "passwordless",
                "capable",
            ),
            (
                FilterParams {
                    admin: Some("1"),
                    ..Default::default()
                },
                "admin",
                "true, false",
            ),
            (
                FilterParams {
                    user_type: Some("robot"),
                    ..Default::default()
                },
                "userType",
                "member, guest",
            ),
            (
                FilterParams {
                    methods: Some("email,,sms"),
                    ..Default::default()
                },
                "methods",
                "single commas",
            ),
            (
                FilterParams {
                    methods: Some("email,sms"),
                    ..Default::default()
                },
                "methods",
                "'sms' is not a method name",
            ),
            (
                FilterParams {
                    methods: Some("e-mail"),
                    ..Default::default()
                },
                "methods",
                "'e-mail'",
            ),
            (
                FilterParams {
                    upn_prefix: Some(""),
                    ..Default::default()
                },
                "upnPrefix",
                "empty",
            ),
        ];
        for (params, parameter, hint) in cases {
            let error = RegistrationFilter::parse(params).expect_err(parameter);
            assert_eq!(error.parameter, parameter);
            assert!(error.message.contains(hint), "{}", error.message);
        }
    }

    #[test]
    fn policy_document_names_stand_for_their_method_names_in_any_case() {
        let methods = |methods: &str| {
            filter(FilterParams {
                methods: Some(methods),
                ..Default::default()
            })
            .methods
        };
        for (policy, method) in POLICY_METHOD_NAMES {
            assert_eq!(methods(policy), [*method], "{policy}");
            assert_eq!(methods(method), [*method], "{method}");
            assert_eq!(methods(&policy.to_uppercase()), [*method], "{policy}");
            assert_eq!(methods(&method.to_lowercase()), [*method], "{method}");
        }
        // The names both documents share.
        for same in ["email", "mobilePhone", "officePhone"] {
            assert_eq!(method_name(same), Some(same));
        }
        let both = filter(FilterParams {
            methods: Some("mobileAppNotification,MicrosoftAuthenticatorPush,securityQuestions"),
            ..Default::default()
        });
        assert_eq!(
            both.methods,
            ["microsoftAuthenticatorPush", "securityQuestion"],
            "kept as Graph spells them, once each"
        );
        let canonical = |methods| {
            filter(FilterParams {
                methods: Some(methods),
                ..Default::default()
            })
            .canonical()
        };
        assert_eq!(
            canonical("mobileAppNotification"),
            canonical("microsoftAuthenticatorPush"),
            "one listing, so one cursor for both spellings"
        );
        // Every Graph value is its own name.
        for method in METHOD_NAMES {
            assert_eq!(method_name(method), Some(*method));
        }
    }

    #[test]
    fn an_unknown_method_lists_the_valid_names() {
        let error = RegistrationFilter::parse(FilterParams {
            methods: Some("email,bogus"),
            ..Default::default()
        })
        .expect_err("bogus");
        assert_eq!(error.parameter, "methods");
        assert!(
            error.message.starts_with("'bogus' is not a method name"),
            "{}",
            error.message
        );
        for name in METHOD_NAMES {
            assert!(error.message.contains(name), "{name}: {}", error.message);
        }
        for (policy, graph) in POLICY_METHOD_NAMES {
            assert!(
                error.message.contains(&format!("{policy} (= {graph})")),
                "{}",
                error.message
            );
        }
    }

    #[test]
    fn a_value_in_the_wrong_case_is_told_the_spelling() {
        let error = RegistrationFilter::parse(FilterParams {
            sspr: Some("NotRegistered"),
            ..Default::default()
        })
        .expect_err("case");
        assert!(
            error.message.contains("case-sensitive: 'notRegistered'"),
            "{}",
            error.message
        );
        let error = RegistrationFilter::parse(FilterParams {
            user_type: Some("admin"),
            ..Default::default()
        })
        .expect_err("unknown");
        assert!(
            !error.message.contains("case-sensitive"),
            "{}",
            error.message
        );
        assert!(error.message.contains("member, guest"), "{}", error.message);
    }

    #[test]
    fn the_canonical_form_ignores_spelling_but_not_meaning() {
        let a = filter(FilterParams {
            methods: Some("email,MobilePhone,email"),
            upn_prefix: Some("Ada"),
            ..Default::default()
        });
        let b = filter(FilterParams {
            methods: Some("mobilephone,EMAIL"),
            upn_prefix: Some("ada"),
            ..Default::default()
        });
        assert_eq!(a.methods.len(), 2, "duplicates dropped");
        assert_eq!(a.canonical(), b.canonical());
        let c = filter(FilterParams {
            methods: Some("email"),
            upn_prefix: Some("ada"),
            ..Default::default()
        });
        assert_ne!(a.canonical(), c.canonical());
        assert_ne!(
            RegistrationFilter::default().canonical(),
            filter(FilterParams {
                admin: Some("false"),
                ..Default::default()
            })
            .canonical()
        );
    }
}
