//! Derived state: `userRegistrationDetails` rows computed from a tenant's users, groups and
//! policies (never stored), and the per-tenant policy snapshots that emulate the report's
//! propagation delay.
//!
//! Inputs (graph-api.md §1.8, §2.1, §2.3, §4.2):
//! - the portal `PasswordResetPolicies` object decides who may use SSPR (`enablementType` 0 none,
//!   1 selected group, 2 all), how many methods a reset needs and the legacy method toggles;
//! - administrators follow the separate admin policy instead: `authorizationPolicy.allowedToUseSSPR`
//!   with the fixed "two-gate" rules (two methods, no security questions);
//! - the authentication methods policy decides which registered methods are usable for sign-in
//!   (always) and for SSPR (from `migrationInProgress` on; alone once `migrationComplete`).
//!
//! Everything here is a pure function of its inputs; the HTTP side lives in `graph/reports.rs`.

use std::{
    collections::{HashMap, HashSet},
    time::{Duration, Instant},
};

use serde_json::{Map, Value, json};

use crate::state::{Group, Tenant, User};

/// The magic target id meaning "every user" in method configurations.
const ALL_USERS: &str = "all_users";

// ---------------------------------------------------------------------------------------------
// Propagation delay
// ---------------------------------------------------------------------------------------------

/// The policy objects a report row depends on, as one comparable value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySnapshot {
    portal: Value,
    authorization: Value,
    methods: Value,
}

/// Policy states a tenant went through recently, oldest first, each with the instant it was first
/// seen (`None`: the baseline, effective since forever). Empty while the report delay is zero:
/// then reports read the live objects and nothing is copied.
#[derive(Debug, Clone, Default)]
pub struct ReportSnapshots {
    entries: Vec<(Option<Instant>, PolicySnapshot)>,
}

/// Borrowed view of the three policy objects, live or from a snapshot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolicyRefs<'a> {
    pub portal: &'a Value,
    pub authorization: &'a Value,
    pub methods: &'a Value,
}

impl PolicyRefs<'_> {
    fn live(tenant: &Tenant) -> PolicyRefs<'_> {
        PolicyRefs {
            portal: &tenant.password_reset_policies,
            authorization: &tenant.authorization_policy,
            methods: &tenant.authentication_methods_policy,
        }
    }

    fn same_as(&self, s: &PolicySnapshot) -> bool {
        *self.portal == s.portal
            && *self.authorization == s.authorization
            && *self.methods == s.methods
    }

    fn to_snapshot(self) -> PolicySnapshot {
        PolicySnapshot {
            portal: self.portal.clone(),
            authorization: self.authorization.clone(),
            methods: self.methods.clone(),
        }
    }
}

impl ReportSnapshots {
    /// Record the live policies if they differ from the newest snapshot (the first call records
    /// the baseline), then forget snapshots that can never be effective again.
    fn observe(&mut self, live: PolicyRefs<'_>, now: Instant, delay: Duration) {
        match self.entries.last() {
            None => self.entries.push((None, live.to_snapshot())),
            Some((_, newest)) if !live.same_as(newest) => {
                self.entries.push((Some(now), live.to_snapshot()));
            }
            Some(_) => {}
        }
        if let Some(effective) = self.effective_index(now, delay) {
            self.entries.drain(..effective);
        }
    }

    /// Index of the newest snapshot at least `delay` old.
    fn effective_index(&self, now: Instant, delay: Duration) -> Option<usize> {
        self.entries.iter().rposition(|(seen, _)| match seen {
            None => true,
            Some(seen) => now.saturating_duration_since(*seen) >= delay,
        })
    }

    fn effective(&self, now: Instant, delay: Duration) -> Option<&PolicySnapshot> {
        self.effective_index(now, delay).map(|i| &self.entries[i].1)
    }
}

/// Note the tenant's current policies for the report delay. Call it before and after anything
/// that may change the portal object, the authorization policy or the methods policy; with a zero
/// delay it does nothing (and drops any snapshots left from a non-zero delay).
pub(crate) fn observe(tenant: &mut Tenant, delay: Duration) {
    if delay.is_zero() {
        tenant.report_snapshots.entries.clear();
        return;
    }
    let mut snapshots = std::mem::take(&mut tenant.report_snapshots);
    snapshots.observe(PolicyRefs::live(tenant), Instant::now(), delay);
    tenant.report_snapshots = snapshots;
}

/// The policies reports must use now: the newest state at least `delay` old, or the live objects
/// when there is no delay (or nothing was observed yet).
pub(crate) fn effective_policies(tenant: &Tenant, delay: Duration) -> PolicyRefs<'_> {
    if delay.is_zero() {
        return PolicyRefs::live(tenant);
    }
    match tenant.report_snapshots.effective(Instant::now(), delay) {
        Some(s) => PolicyRefs {
            portal: &s.portal,
            authorization: &s.authorization,
            methods: &s.methods,
        },
        None => PolicyRefs::live(tenant),
    }
}

// ---------------------------------------------------------------------------------------------
// Method vocabulary (graph-api.md §4.3)
// ---------------------------------------------------------------------------------------------

/// Methods that count for `isMfaRegistered`: everything but email OTP, security questions, TAP
/// (a bootstrap credential) and single-factor certificates.
fn is_strong(method: &str) -> bool {
    matches!(
        method,
        "mobilePhone"
            | "alternateMobilePhone"
            | "officePhone"
            | "microsoftAuthenticatorPush"
            | "microsoftAuthenticatorPasswordless"
            | "softwareOneTimePasscode"
            | "hardwareOneTimePasscode"
            | "fido2SecurityKey"
            | "passKeyDeviceBound"
            | "passKeyDeviceBoundAuthenticator"
            | "passKeyDeviceBoundWindowsHello"
            | "passKeySynced"
            | "windowsHelloForBusiness"
            | "macOsSecureEnclaveKey"
            | "x509CertificateMultiFactor"
    )
}

/// Methods that count for `isPasswordlessCapable` (FIDO2/passkeys, WHfB, Authenticator
/// passwordless, platform credential).
fn is_passwordless(method: &str) -> bool {
    matches!(
        method,
        "microsoftAuthenticatorPasswordless"
            | "fido2SecurityKey"
            | "passKeyDeviceBound"
            | "passKeyDeviceBoundAuthenticator"
            | "passKeyDeviceBoundWindowsHello"
            | "passKeySynced"
            | "windowsHelloForBusiness"
            | "macOsSecureEnclaveKey"
    )
}

/// The legacy SSPR method a registered method counts as (§1.8). Two strings of the same category
/// (Authenticator push and passwordless) are one method towards the required count.
fn sspr_category(method: &str) -> Option<SsprMethod> {
    Some(match method {
        "email" => SsprMethod::Email,
        "mobilePhone" => SsprMethod::MobilePhone,
        "officePhone" => SsprMethod::OfficePhone,
        "securityQuestion" => SsprMethod::SecurityQuestions,
        "microsoftAuthenticatorPush" | "microsoftAuthenticatorPasswordless" => {
            SsprMethod::AppNotification
        }
        // The legacy "Mobile app code" option covers authenticator apps and hardware tokens.
        "softwareOneTimePasscode" | "hardwareOneTimePasscode" => SsprMethod::AppCode,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SsprMethod {
    Email,
    MobilePhone,
    OfficePhone,
    SecurityQuestions,
    AppNotification,
    AppCode,
}

impl SsprMethod {
    const ALL: [SsprMethod; 6] = [
        SsprMethod::Email,
        SsprMethod::MobilePhone,
        SsprMethod::OfficePhone,
        SsprMethod::SecurityQuestions,
        SsprMethod::AppNotification,
        SsprMethod::AppCode,
    ];

    /// The portal's `…Enabled` and `…Allowed` flag names for this method (§2.3; the two app
    /// flags lack the word `Option`).
    fn portal_flags(self) -> (&'static str, &'static str) {
        match self {
            SsprMethod::Email => ("emailOptionEnabled", "emailOptionAllowed"),
            SsprMethod::MobilePhone => ("mobilePhoneOptionEnabled", "mobilePhoneOptionAllowed"),
            SsprMethod::OfficePhone => ("officePhoneOptionEnabled", "officePhoneOptionAllowed"),
            SsprMethod::SecurityQuestions => (
                "securityQuestionsOptionEnabled",
                "securityQuestionsOptionAllowed",
            ),
            SsprMethod::AppNotification => (
                "mobileAppNotificationEnabled",
                "mobileAppNotificationOptionAllowed",
            ),
            SsprMethod::AppCode => ("mobileAppCodeEnabled", "mobileAppCodeOptionAllowed"),
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

// ---------------------------------------------------------------------------------------------
// Policy evaluation
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Migration {
    Pre,
    InProgress,
    /// Also `null`/absent, as ScubaGear treats it (§1.8).
    Complete,
}

#[derive(Debug)]
enum SsprScope<'a> {
    Nobody,
    Groups(Vec<&'a str>),
    Everyone,
}

/// One method configuration reduced to what evaluation needs.
#[derive(Debug, Default)]
struct MethodConfig<'a> {
    enabled: bool,
    /// `(target id, authenticationMode)` of each include target.
    include: Vec<(&'a str, Option<&'a str>)>,
    exclude: Vec<&'a str>,
    raw: Option<&'a Value>,
}

/// The method configurations the evaluation knows, by configuration id.
#[derive(Debug, Default)]
struct Configs<'a> {
    authenticator: MethodConfig<'a>,
    sms: MethodConfig<'a>,
    voice: MethodConfig<'a>,
    email: MethodConfig<'a>,
    software_oath: MethodConfig<'a>,
    hardware_oath: MethodConfig<'a>,
    fido2: MethodConfig<'a>,
    tap: MethodConfig<'a>,
    x509: MethodConfig<'a>,
}

impl<'a> Configs<'a> {
    fn parse(methods_policy: &'a Value) -> Configs<'a> {
        let mut configs = Configs::default();
        let items = methods_policy["authenticationMethodConfigurations"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for item in items {
            let id = item["id"].as_str().unwrap_or_default().to_ascii_lowercase();
            let slot = match id.as_str() {
                "microsoftauthenticator" => &mut configs.authenticator,
                "sms" => &mut configs.sms,
                "voice" => &mut configs.voice,
                "email" => &mut configs.email,
                "softwareoath" => &mut configs.software_oath,
                "hardwareoath" => &mut configs.hardware_oath,
                "fido2" => &mut configs.fido2,
                "temporaryaccesspass" => &mut configs.tap,
                "x509certificate" => &mut configs.x509,
                _ => continue,
            };
            *slot = MethodConfig::parse(item);
        }
        configs
    }

    fn all(&self) -> [&MethodConfig<'a>; 9] {
        [
            &self.authenticator,
            &self.sms,
            &self.voice,
            &self.email,
            &self.software_oath,
            &self.hardware_oath,
            &self.fido2,
            &self.tap,
            &self.x509,
        ]
    }
}

impl<'a> MethodConfig<'a> {
    fn parse(item: &'a Value) -> MethodConfig<'a> {
        let ids = |key: &str| -> Vec<&'a Value> {
            item.get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default()
        };
        MethodConfig {
            enabled: item["state"] == "enabled",
            include: ids("includeTargets")
                .into_iter()
                .filter_map(|t| Some((t["id"].as_str()?, t["authenticationMode"].as_str())))
                .collect(),
            exclude: ids("excludeTargets")
                .into_iter()
                .filter_map(|t| t["id"].as_str())
                .collect(),
            raw: Some(item),
        }
    }

    fn flag(&self, name: &str) -> bool {
        self.raw.is_some_and(|r| r[name] == true)
    }

    fn group_ids(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.include
            .iter()
            .map(|(id, _)| *id)
            .chain(self.exclude.iter().copied())
    }
}

/// Computes report rows for the users of one tenant under one policy state. Build it once per
/// request: it indexes the members of every group the policies target, so each row is then a
/// handful of set lookups.
pub(crate) struct Evaluator<'a> {
    sspr_scope: SsprScope<'a>,
    admin_sspr_allowed: bool,
    methods_required: usize,
    /// Bit set of [`SsprMethod`]s the legacy portal toggles offer.
    legacy_methods: u8,
    migration: Migration,
    configs: Configs<'a>,
    system_preferred_enabled: bool,
    members: HashMap<&'a str, HashSet<&'a str>>,
}

/// The derived values of one user's row.
#[derive(Debug, Clone)]
pub(crate) struct Details<'u> {
    pub user: &'u User,
    pub is_admin: bool,
    pub is_sspr_registered: bool,
    pub is_sspr_enabled: bool,
    pub is_sspr_capable: bool,
    pub is_mfa_registered: bool,
    pub is_mfa_capable: bool,
    pub is_passwordless_capable: bool,
    pub is_system_preferred_enabled: bool,
    /// `systemPreferredAuthenticationMethods` (at most one entry).
    pub system_preferred: Option<&'static str>,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(policies: PolicyRefs<'a>, groups: &'a [Group]) -> Evaluator<'a> {
        let portal = policies.portal;
        let sspr_scope = match portal["enablementType"].as_i64() {
            Some(2) => SsprScope::Everyone,
            Some(1) => SsprScope::Groups(
                portal["passwordResetEnabledGroupIds"]
                    .as_array()
                    .map(|ids| ids.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default(),
            ),
            _ => SsprScope::Nobody,
        };
        let legacy_methods = if portal.is_object() {
            SsprMethod::ALL
                .iter()
                .filter(|m| {
                    let (enabled, allowed) = m.portal_flags();
                    // A missing `…Allowed` flag does not forbid the method.
                    portal[enabled] == true && portal[allowed] != false
                })
                .fold(0, |bits, m| bits | m.bit())
        } else {
            // A tenant that never saved the blade: the portal back end serves email and mobile
            // phone as the enabled methods (with SSPR itself off).
            SsprMethod::Email.bit() | SsprMethod::MobilePhone.bit()
        };
        let migration = match portal_str(policies.methods, "policyMigrationState") {
            Some("preMigration") => Migration::Pre,
            Some("migrationInProgress") => Migration::InProgress,
            _ => Migration::Complete,
        };
        let configs = Configs::parse(policies.methods);
        let mut wanted: HashSet<&str> = configs.all().iter().flat_map(|c| c.group_ids()).collect();
        if let SsprScope::Groups(ids) = &sspr_scope {
            wanted.extend(ids.iter().copied());
        }
        let members = groups
            .iter()
            .filter(|g| wanted.contains(g.id.as_str()))
            .map(|g| {
                (
                    g.id.as_str(),
                    g.members.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        Evaluator {
            sspr_scope,
            // Microsoft's default is `true`; only an explicit `false` turns admin SSPR off.
            admin_sspr_allowed: policies.authorization["allowedToUseSSPR"] != false,
            methods_required: portal["numberOfAuthenticationMethodsRequired"]
                .as_u64()
                .map_or(1, |n| n.clamp(1, 2) as usize),
            legacy_methods,
            migration,
            configs,
            // Beta `systemCredentialPreferences`; `default` is Microsoft-managed, which is on.
            system_preferred_enabled: policies.methods["systemCredentialPreferences"]["state"]
                != "disabled",
            members,
        }
    }

    /// The derived values for `user`.
    pub(crate) fn details<'u>(&self, user: &'u User) -> Details<'u> {
        let is_admin = !user.directory_roles.is_empty();
        let is_sspr_enabled = self.sspr_enabled(user, is_admin);
        let is_sspr_registered = self.sspr_registered(user, is_admin);
        let methods = &user.methods_registered;
        let allowed = |m: &&String| self.allows_sign_in(user, m);
        Details {
            user,
            is_admin,
            is_sspr_registered,
            is_sspr_enabled,
            is_sspr_capable: is_sspr_enabled && is_sspr_registered,
            is_mfa_registered: methods.iter().any(|m| is_strong(m)),
            is_mfa_capable: methods.iter().filter(allowed).any(|m| is_strong(m)),
            is_passwordless_capable: methods.iter().filter(allowed).any(|m| is_passwordless(m)),
            is_system_preferred_enabled: self.system_preferred_enabled,
            system_preferred: self.system_preferred(user),
        }
    }

    fn is_member(&self, user: &User, target: &str) -> bool {
        target == ALL_USERS
            // Legacy user targets name the user directly (§1.9).
            || target.eq_ignore_ascii_case(&user.id)
            || self
                .members
                .get(target)
                .is_some_and(|m| m.contains(user.id.as_str()))
    }

    /// Guests reset their password in their home tenant, never here; administrators follow the
    /// admin policy; everyone else the portal scope.
    fn sspr_enabled(&self, user: &User, is_admin: bool) -> bool {
        if !user.user_type.eq_ignore_ascii_case("member") {
            return false;
        }
        if is_admin {
            return self.admin_sspr_allowed;
        }
        match &self.sspr_scope {
            SsprScope::Nobody => false,
            SsprScope::Everyone => true,
            SsprScope::Groups(ids) => ids.iter().any(|g| self.is_member(user, g)),
        }
    }

    fn sspr_registered(&self, user: &User, is_admin: bool) -> bool {
        let mut categories = 0u8;
        for method in &user.methods_registered {
            let Some(category) = sspr_category(method) else {
                continue;
            };
            let usable = if is_admin {
                // The two-gate admin policy: fixed methods, never security questions.
                category != SsprMethod::SecurityQuestions
            } else {
                self.usable_for_sspr(user, method, category)
            };
            if usable {
                categories |= category.bit();
            }
        }
        let required = if is_admin { 2 } else { self.methods_required };
        categories.count_ones() as usize >= required
    }

    /// §1.8: before migration only the legacy toggles count, during migration either policy
    /// enables a method, after it only the methods policy — except security questions, which the
    /// methods policy does not have and which stay a legacy setting.
    fn usable_for_sspr(&self, user: &User, method: &str, category: SsprMethod) -> bool {
        let legacy = self.legacy_methods & category.bit() != 0;
        if category == SsprMethod::SecurityQuestions {
            return legacy;
        }
        let modern = || self.allows_sign_in(user, method);
        match self.migration {
            Migration::Pre => legacy,
            Migration::InProgress => legacy || modern(),
            Migration::Complete => modern(),
        }
    }

    /// Whether the methods policy lets `user` use `method` (sign-in; also SSPR once migrating).
    fn allows_sign_in(&self, user: &User, method: &str) -> bool {
        let c = &self.configs;
        let on = |config: &MethodConfig<'_>| self.applies(config, user).is_some();
        match method {
            "email" => on(&c.email),
            "mobilePhone" => on(&c.sms) || on(&c.voice),
            "alternateMobilePhone" => on(&c.voice),
            "officePhone" => on(&c.voice) && c.voice.flag("isOfficePhoneAllowed"),
            "microsoftAuthenticatorPush" => on(&c.authenticator),
            // `authenticationMode: "push"` targets may use notifications but not phone sign-in.
            "microsoftAuthenticatorPasswordless" => self
                .applies(&c.authenticator, user)
                .is_some_and(|mode| mode != Some("push")),
            "softwareOneTimePasscode" => {
                on(&c.software_oath)
                    || (on(&c.authenticator) && c.authenticator.flag("isSoftwareOathEnabled"))
            }
            "hardwareOneTimePasscode" => on(&c.hardware_oath),
            "fido2SecurityKey"
            | "passKeyDeviceBound"
            | "passKeyDeviceBoundAuthenticator"
            | "passKeyDeviceBoundWindowsHello"
            | "passKeySynced" => on(&c.fido2),
            "temporaryAccessPass" => on(&c.tap),
            "x509CertificateSingleFactor" | "x509CertificateMultiFactor" => on(&c.x509),
            // Platform credentials are governed outside the methods policy.
            "windowsHelloForBusiness" | "macOsSecureEnclaveKey" => true,
            _ => false,
        }
    }

    /// The include target through which `config` applies to `user` (its `authenticationMode`),
    /// or `None` when the method is disabled, the user is excluded or not targeted.
    fn applies<'c>(&self, config: &MethodConfig<'c>, user: &User) -> Option<Option<&'c str>> {
        if !config.enabled || config.exclude.iter().any(|g| self.is_member(user, g)) {
            return None;
        }
        config
            .include
            .iter()
            .find(|(id, _)| self.is_member(user, id))
            .map(|(_, mode)| *mode)
    }

    /// The most secure registered and allowed method in Microsoft's system-preferred order,
    /// spelled as `userDefaultAuthenticationMethod` (only its documented members).
    fn system_preferred(&self, user: &User) -> Option<&'static str> {
        let has = |m: &str| {
            user.methods_registered.iter().any(|r| r == m) && self.allows_sign_in(user, m)
        };
        let c = &self.configs;
        let phone = user.methods_registered.iter().any(|r| r == "mobilePhone");
        if has("microsoftAuthenticatorPush") || has("microsoftAuthenticatorPasswordless") {
            Some("push")
        } else if has("softwareOneTimePasscode") || has("hardwareOneTimePasscode") {
            Some("oath")
        } else if phone && self.applies(&c.sms, user).is_some() {
            Some("sms")
        } else if phone && self.applies(&c.voice, user).is_some() {
            Some("voiceMobile")
        } else if has("alternateMobilePhone") {
            Some("voiceAlternateMobile")
        } else if has("officePhone") {
            Some("voiceOffice")
        } else {
            None
        }
    }
}

fn portal_str<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

// ---------------------------------------------------------------------------------------------
// Wire JSON
// ---------------------------------------------------------------------------------------------

/// Property names of `userRegistrationDetails` per version (v1.0 CSDL; beta adds
/// `defaultMfaMethod`).
pub(crate) const V1_PROPERTIES: &[&str] = &[
    "id",
    "isAdmin",
    "isMfaCapable",
    "isMfaRegistered",
    "isPasswordlessCapable",
    "isSsprCapable",
    "isSsprEnabled",
    "isSsprRegistered",
    "isSystemPreferredAuthenticationMethodEnabled",
    "lastUpdatedDateTime",
    "methodsRegistered",
    "systemPreferredAuthenticationMethods",
    "userDisplayName",
    "userPreferredMethodForSecondaryAuthentication",
    "userPrincipalName",
    "userType",
];
pub(crate) const BETA_ONLY_PROPERTIES: &[&str] = &["defaultMfaMethod"];

impl Details<'_> {
    /// `signInUserType`: `member`, `guest`, or `unknownFutureValue` for anything else.
    pub(crate) fn user_type(&self) -> &'static str {
        let t = &self.user.user_type;
        if t.eq_ignore_ascii_case("member") {
            "member"
        } else if t.eq_ignore_ascii_case("guest") {
            "guest"
        } else {
            "unknownFutureValue"
        }
    }

    /// The row as Graph serves it. `beta` adds `defaultMfaMethod`; `last_updated` is the row's
    /// refresh time.
    pub(crate) fn to_json(&self, beta: bool, last_updated: &str) -> Value {
        let u = self.user;
        let mut row = json!({
            "id": u.id,
            "userPrincipalName": u.user_principal_name,
            "userDisplayName": u.display_name,
            "userType": self.user_type(),
            "isAdmin": self.is_admin,
            "isSsprRegistered": self.is_sspr_registered,
            "isSsprEnabled": self.is_sspr_enabled,
            "isSsprCapable": self.is_sspr_capable,
            "isMfaRegistered": self.is_mfa_registered,
            "isMfaCapable": self.is_mfa_capable,
            "isPasswordlessCapable": self.is_passwordless_capable,
            "isSystemPreferredAuthenticationMethodEnabled": self.is_system_preferred_enabled,
            "systemPreferredAuthenticationMethods": self.system_preferred.into_iter().collect::<Vec<_>>(),
            // Graph sends `""` for users without a preference (graph-api.md §4.2, §10).
            "userPreferredMethodForSecondaryAuthentication": u.preferred_method,
            "methodsRegistered": u.methods_registered,
            "lastUpdatedDateTime": last_updated,
        });
        if beta && let Some(fields) = row.as_object_mut() {
            fields.insert(
                "defaultMfaMethod".into(),
                json!(default_mfa_method(&u.preferred_method)),
            );
        }
        row
    }
}

/// Beta `defaultMfaMethodType` for a `userDefaultAuthenticationMethod` preference.
fn default_mfa_method(preferred: &str) -> &'static str {
    match preferred {
        "push" => "microsoftAuthenticatorPush",
        "oath" => "softwareOneTimePasscode",
        "sms" | "voiceMobile" => "mobilePhone",
        "voiceAlternateMobile" => "alternateMobilePhone",
        "voiceOffice" => "officePhone",
        _ => "none",
    }
}

/// Keep only the `select`ed properties of a row (all when `select` is empty).
pub(crate) fn project(row: Value, select: &[String]) -> Value {
    if select.is_empty() {
        return row;
    }
    let Value::Object(mut fields) = row else {
        return row;
    };
    let mut out = Map::new();
    for name in select {
        if let Some((key, value)) = fields.remove_entry(name.as_str()) {
            out.insert(key, value);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SSPR_GROUP: &str = "g-sspr";
    const EXCLUDED: &str = "g-excluded";

    fn user(id: &str, roles: &[&str], methods: &[&str]) -> User {
        User {
            id: id.into(),
            display_name: id.into(),
            user_principal_name: format!("{id}@contoso.com"),
            user_type: "Member".into(),
            account_enabled: true,
            directory_roles: roles.iter().map(|r| r.to_string()).collect(),
            methods_registered: methods.iter().map(|m| m.to_string()).collect(),
            preferred_method: String::new(),
        }
    }

    fn groups() -> Vec<Group> {
        vec![
            Group {
                id: SSPR_GROUP.into(),
                display_name: "SSPR".into(),
                members: vec!["in-group".into()],
            },
            Group {
                id: EXCLUDED.into(),
                display_name: "Excluded".into(),
                members: vec!["excluded".into()],
            },
        ]
    }

    fn portal(enablement: i64, required: u64) -> Value {
        json!({
            "objectId": "default",
            "enablementType": enablement,
            "passwordResetEnabledGroupIds": [SSPR_GROUP],
            "numberOfAuthenticationMethodsRequired": required,
            "emailOptionEnabled": true,
            "mobilePhoneOptionEnabled": true,
            "officePhoneOptionEnabled": false,
            "securityQuestionsOptionEnabled": true,
            "mobileAppNotificationEnabled": false,
            "mobileAppCodeEnabled": false,
            "emailOptionAllowed": true,
            "mobilePhoneOptionAllowed": true,
            "officePhoneOptionAllowed": true,
            "securityQuestionsOptionAllowed": true,
            "mobileAppNotificationOptionAllowed": true,
            "mobileAppCodeOptionAllowed": true,
        })
    }

    fn config(id: &str, state: &str, include: &str, exclude: &[&str]) -> Value {
        json!({
            "id": id,
            "state": state,
            "includeTargets": [{ "id": include, "targetType": "group", "authenticationMode": "any" }],
            "excludeTargets": exclude.iter().map(|g| json!({ "id": g, "targetType": "group" })).collect::<Vec<_>>(),
        })
    }

    fn methods_policy(migration: &str) -> Value {
        json!({
            "policyMigrationState": migration,
            "authenticationMethodConfigurations": [
                config("MicrosoftAuthenticator", "enabled", ALL_USERS, &[EXCLUDED]),
                config("Sms", "enabled", ALL_USERS, &[]),
                config("Voice", "disabled", ALL_USERS, &[]),
                config("Email", "disabled", ALL_USERS, &[]),
                config("Fido2", "enabled", SSPR_GROUP, &[]),
            ],
        })
    }

    struct Fixture {
        portal: Value,
        authorization: Value,
        methods: Value,
        groups: Vec<Group>,
    }

    impl Fixture {
        fn new(enablement: i64, migration: &str) -> Fixture {
            Fixture {
                portal: portal(enablement, 1),
                authorization: json!({ "allowedToUseSSPR": false }),
                methods: methods_policy(migration),
                groups: groups(),
            }
        }

        fn details<'u>(&self, u: &'u User) -> Details<'u> {
            let refs = PolicyRefs {
                portal: &self.portal,
                authorization: &self.authorization,
                methods: &self.methods,
            };
            Evaluator::new(refs, &self.groups).details(u)
        }
    }

    #[test]
    fn enablement_follows_the_portal_scope_and_group_membership() {
        let member = user("in-group", &[], &[]);
        let other = user("other", &[], &[]);
        for (enablement, want_member, want_other) in
            [(0, false, false), (1, true, false), (2, true, true)]
        {
            let f = Fixture::new(enablement, "preMigration");
            assert_eq!(
                f.details(&member).is_sspr_enabled,
                want_member,
                "{enablement}"
            );
            assert_eq!(
                f.details(&other).is_sspr_enabled,
                want_other,
                "{enablement}"
            );
        }
    }

    #[test]
    fn administrators_follow_the_admin_policy_and_guests_are_never_enabled() {
        let admin = user("admin", &["Global Administrator"], &[]);
        let mut f = Fixture::new(2, "preMigration");
        assert!(!f.details(&admin).is_sspr_enabled);
        f.authorization = json!({ "allowedToUseSSPR": true });
        f.portal = portal(0, 1);
        assert!(f.details(&admin).is_sspr_enabled);
        let mut guest = user("guest", &[], &["email"]);
        guest.user_type = "Guest".into();
        let f = Fixture::new(2, "preMigration");
        let d = f.details(&guest);
        assert!(!d.is_sspr_enabled);
        assert_eq!(d.user_type(), "guest");
    }

    #[test]
    fn registration_counts_methods_usable_under_the_migration_state() {
        // Email is a legacy toggle but disabled in the methods policy.
        let u = user("u", &[], &["email"]);
        assert!(
            Fixture::new(2, "preMigration")
                .details(&u)
                .is_sspr_registered
        );
        assert!(
            Fixture::new(2, "migrationInProgress")
                .details(&u)
                .is_sspr_registered
        );
        assert!(
            !Fixture::new(2, "migrationComplete")
                .details(&u)
                .is_sspr_registered
        );
        // The Authenticator is off in the legacy toggles but on in the methods policy.
        let app = user("app", &[], &["microsoftAuthenticatorPush"]);
        assert!(
            !Fixture::new(2, "preMigration")
                .details(&app)
                .is_sspr_registered
        );
        assert!(
            Fixture::new(2, "migrationInProgress")
                .details(&app)
                .is_sspr_registered
        );
        // … unless the user is excluded from it.
        let excluded = user("excluded", &[], &["microsoftAuthenticatorPush"]);
        assert!(
            !Fixture::new(2, "migrationComplete")
                .details(&excluded)
                .is_sspr_registered
        );
        // A tenant that never saved the blade: SSPR off, email and mobile phone offered.
        let mut never_saved = Fixture::new(2, "preMigration");
        never_saved.portal = Value::Null;
        let d = never_saved.details(&u);
        assert!(d.is_sspr_registered && !d.is_sspr_enabled);
        // Security questions stay a legacy setting even after migration.
        let sq = user("sq", &[], &["securityQuestion"]);
        assert!(
            Fixture::new(2, "migrationComplete")
                .details(&sq)
                .is_sspr_registered
        );
    }

    #[test]
    fn the_required_count_and_the_admin_two_gate_rule_apply() {
        let mut f = Fixture::new(2, "preMigration");
        f.portal = portal(2, 2);
        let one = user("one", &[], &["email"]);
        let two = user("two", &[], &["email", "mobilePhone"]);
        assert!(!f.details(&one).is_sspr_registered);
        assert!(f.details(&two).is_sspr_registered);
        let admin_one = user(
            "a1",
            &["Helpdesk Administrator"],
            &["email", "securityQuestion"],
        );
        let admin_two = user("a2", &["Helpdesk Administrator"], &["email", "mobilePhone"]);
        let f = Fixture::new(2, "preMigration");
        assert!(!f.details(&admin_one).is_sspr_registered);
        assert!(f.details(&admin_two).is_sspr_registered);
        assert!(!f.details(&admin_two).is_sspr_capable, "admin SSPR is off");
    }

    #[test]
    fn mfa_and_passwordless_capability_need_the_methods_policy() {
        let f = Fixture::new(2, "migrationComplete");
        let voice_only = user("v", &[], &["alternateMobilePhone"]);
        let d = f.details(&voice_only);
        assert!(d.is_mfa_registered && !d.is_mfa_capable);
        let email_only = user("e", &[], &["email"]);
        assert!(!f.details(&email_only).is_mfa_registered);
        let key_in_group = user("in-group", &[], &["fido2SecurityKey"]);
        let key_outside = user("other", &[], &["fido2SecurityKey"]);
        assert!(f.details(&key_in_group).is_passwordless_capable);
        assert!(!f.details(&key_outside).is_passwordless_capable);
        let whfb = user("w", &[], &["windowsHelloForBusiness"]);
        assert!(f.details(&whfb).is_passwordless_capable);
    }

    #[test]
    fn system_preferred_method_and_json_shape() {
        let f = Fixture::new(2, "migrationComplete");
        let mut u = user(
            "u",
            &["Global Administrator"],
            &["mobilePhone", "microsoftAuthenticatorPush"],
        );
        let d = f.details(&u);
        assert_eq!(d.system_preferred, Some("push"));
        let row = d.to_json(false, "2026-01-01T00:00:00Z");
        let mut keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut want = V1_PROPERTIES.to_vec();
        want.sort_unstable();
        assert_eq!(keys, want);
        assert_eq!(row["userPreferredMethodForSecondaryAuthentication"], "");
        assert_eq!(row["userType"], "member");
        assert_eq!(row["isAdmin"], true);
        u.preferred_method = "sms".into();
        u.methods_registered = vec!["mobilePhone".into()];
        let beta = f.details(&u).to_json(true, "x");
        assert_eq!(beta["defaultMfaMethod"], "mobilePhone");
        assert_eq!(beta["systemPreferredAuthenticationMethods"], json!(["sms"]));
        let selected = project(beta, &["id".into(), "isAdmin".into()]);
        assert_eq!(selected, json!({ "id": "u", "isAdmin": true }));
    }

    #[test]
    fn snapshots_lag_by_the_delay_and_copy_nothing_without_one() {
        let mut tenant = Tenant {
            password_reset_policies: portal(0, 1),
            ..Tenant::default()
        };
        observe(&mut tenant, Duration::ZERO);
        assert!(tenant.report_snapshots.entries.is_empty());

        let delay = Duration::from_secs(3600);
        observe(&mut tenant, delay);
        tenant.password_reset_policies = portal(2, 1);
        observe(&mut tenant, delay);
        let seen = effective_policies(&tenant, delay);
        assert_eq!(
            seen.portal["enablementType"], 0,
            "old state within the delay"
        );
        assert_eq!(
            effective_policies(&tenant, Duration::ZERO).portal["enablementType"],
            2
        );

        // Once the newer state is old enough the baseline is dropped.
        let mut s = tenant.report_snapshots.clone();
        let later = Instant::now() + delay;
        s.observe(PolicyRefs::live(&tenant), later, delay);
        assert_eq!(s.entries.len(), 1);
        assert_eq!(
            s.effective(later, delay).unwrap().portal["enablementType"],
            2
        );
    }
}
