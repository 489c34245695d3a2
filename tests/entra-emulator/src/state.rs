//! In-memory directory: tenants, their Graph objects and the app registrations that may ask the
//! token endpoint for tokens.
//!
//! The Graph-facing objects are kept as `serde_json::Value` on purpose: tests mutate the exact wire
//! JSON (`t.authorization_policy["allowedToUseSSPR"] = json!(false)`) and the emulator serves it
//! back verbatim, so there is no second model that could drift from what Graph sends.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// One Entra tenant as the emulator knows it.
#[derive(Debug, Clone, Default)]
pub struct Tenant {
    pub id: String,
    /// The initial `*.onmicrosoft.com` domain; the token endpoint also accepts it in place of the id.
    pub domain: String,
    pub display_name: String,
    /// Descriptive seed flag: the tenant has Entra ID P1 (an enabled `AADPremiumService` plan in
    /// `organization.assignedPlans`). Graph serves `organization`, not this flag; use
    /// [`Tenant::set_premium`] to change both together.
    pub premium: bool,
    /// Descriptive seed flag: the tenant syncs from on-premises AD. Graph serves `organization`,
    /// not this flag; use [`Tenant::set_synced`] to change both together.
    pub synced: bool,
    /// `GET /v1.0/policies/authenticationMethodsPolicy` body without `@odata.context`.
    pub authentication_methods_policy: Value,
    /// `GET /v1.0/policies/authorizationPolicy` body without `@odata.context`.
    pub authorization_policy: Value,
    /// The single element of `GET /v1.0/organization`'s `value`.
    pub organization: Value,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// Service principals in this tenant: resources (Graph, our API) and clients (our apps).
    pub service_principals: Vec<ServicePrincipal>,
    /// `GET /v1.0/subscribedSkus` items (wire JSON).
    pub subscribed_skus: Vec<Value>,
    /// Conditional Access policies (wire JSON, `identity/conditionalAccess/policies`).
    pub conditional_access_policies: Vec<Value>,
    /// Named locations (wire JSON with `@odata.type`).
    pub named_locations: Vec<Value>,
    /// `security/secureScores` items (newest first).
    pub secure_scores: Vec<Value>,
    /// `security/secureScoreControlProfiles` items.
    pub secure_score_control_profiles: Vec<Value>,
    /// Beta `directory/recommendations` items.
    pub directory_recommendations: Vec<Value>,
    /// Portal back end `PasswordReset/PasswordResetPolicies` object (graph-api.md §2.3).
    pub password_reset_policies: Value,
    /// Portal back end `PasswordReset/OnPremisesPasswordResetPolicies` object.
    pub on_premises_password_reset_policies: Value,
    /// Recent policy states for the reports' propagation delay (`EmulatorConfig::report_delay`);
    /// empty while the delay is zero.
    pub report_snapshots: crate::derived::ReportSnapshots,
    /// GDAP relationships this (partner) tenant holds with its customers, wire JSON of
    /// `tenantRelationships/delegatedAdminRelationships` (msp-readiness.md §2c). Empty for a
    /// tenant that is nobody's partner.
    pub delegated_admin_relationships: Vec<Value>,
    /// `GET /contracts` items (wire JSON): partner tenants only.
    pub contracts: Vec<Value>,
    /// User-assigned managed identities in this tenant, served by the IMDS token endpoint. Each
    /// has a service principal (`app_id` = its client id) that holds its app roles.
    pub managed_identities: Vec<ManagedIdentity>,
    /// Beta `deviceManagement/configurationPolicies` (settings catalog), each with its
    /// `settings` and `assignments` (msp-readiness.md §3). Served only to a tenant with an
    /// Intune licence (see `seed::intune`).
    pub configuration_policies: Vec<IntuneObject>,
    /// Beta `deviceManagement/deviceConfigurations` (device configuration profiles, e.g.
    /// custom OMA-URI), each with its `assignments`; `settings` stays empty.
    pub device_configurations: Vec<IntuneObject>,
}

/// An Intune object and the navigation collections Graph serves apart from it
/// (`…/{id}/settings`, `…/{id}/assignments`), all wire JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntuneObject {
    /// The entity without its navigation properties.
    pub entity: Value,
    pub settings: Vec<Value>,
    pub assignments: Vec<Value>,
}

/// A user-assigned managed identity: what IMDS needs to issue its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedIdentity {
    /// The `client_id` callers name at IMDS (and the `appid`/`azp` of its tokens).
    pub client_id: String,
    /// Object id of its service principal (`oid` and `sub` of its tokens).
    pub principal_id: String,
    pub display_name: String,
    /// Azure resource id (`xms_mirid` of its tokens).
    pub resource_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub display_name: String,
    pub user_principal_name: String,
    /// `"Member"` or `"Guest"`, as Graph spells it.
    pub user_type: String,
    pub account_enabled: bool,
    /// Directory role display names, e.g. `"Global Administrator"`.
    pub directory_roles: Vec<String>,
    /// Registered authentication methods as `userRegistrationDetails.methodsRegistered` spells
    /// them (graph-api.md §4.3), e.g. `"microsoftAuthenticatorPush"`, `"mobilePhone"`, `"email"`.
    pub methods_registered: Vec<String>,
    /// `userPreferredMethodForSecondaryAuthentication`; `""` when none (as Graph emits it).
    pub preferred_method: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub display_name: String,
    /// Object ids of member users.
    pub members: Vec<String>,
}

/// A service principal: the local instance of an application in one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePrincipal {
    /// Object id of the service principal in this tenant (the `oid` of its app-only tokens).
    pub id: String,
    /// Client id of the application it instantiates.
    pub app_id: String,
    pub display_name: String,
    /// Names a client may put in front of `/.default` to request a token for this resource.
    /// The first entry is what goes into `aud`.
    pub service_principal_names: Vec<String>,
    /// App roles granted to this principal, keyed by the resource's `app_id`.
    pub granted_app_roles: BTreeMap<String, Vec<String>>,
}

/// An application registration that can authenticate at the token endpoint with a secret, a
/// certificate assertion or a federated (workload identity) assertion.
impl ServicePrincipal {
    /// The `aud` of tokens for this resource: its first service principal name (the App ID
    /// URI, as Entra puts it), else its app id.
    pub fn token_audience(&self) -> String {
        self.service_principal_names
            .first()
            .cloned()
            .unwrap_or_else(|| self.app_id.clone())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppRegistration {
    pub client_id: String,
    pub display_name: String,
    pub home_tenant_id: String,
    pub client_secret: String,
    /// Uploaded certificates (public part only), for client assertions (graph-api.md §9.2).
    pub certificates: Vec<AppCertificate>,
    /// Federated identity credentials (graph-api.md §9.3).
    pub federated_credentials: Vec<FederatedCredential>,
    /// Microsoft Graph application permissions the app asks for (`requiredResourceAccess`):
    /// what an admin grants through `/adminconsent` with `scope=https://graph.microsoft.com/.default`.
    pub required_permissions: Vec<String>,
    /// Registered redirect URIs; `/adminconsent` redirects only to one of these (exact match).
    pub redirect_uris: Vec<String>,
}

/// The public part of a certificate credential: enough to pick it by thumbprint and verify an
/// RS256 client assertion. Register one with `Emulator::register_certificate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCertificate {
    /// base64url(SHA-1 of the certificate DER): the assertion header's `x5t`.
    pub x5t: String,
    /// base64url(SHA-256 of the certificate DER): the assertion header's `x5t#S256`.
    pub x5t_s256: String,
    /// PKCS#1 `RSAPublicKey` DER of the certificate's key.
    pub rsa_public_key_der: Vec<u8>,
}

/// A federated identity credential: tokens from `issuer` about `subject` for one of `audiences`
/// may stand in for a client secret. Matching is exact and case-sensitive, like Entra's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedCredential {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

impl Tenant {
    /// Turn Entra ID P1 on or off: updates the flag and the `AADPremiumService` plan in
    /// `organization.assignedPlans` (added as `Enabled`, or removed).
    pub fn set_premium(&mut self, premium: bool) {
        self.premium = premium;
        let plans = &mut self.organization["assignedPlans"];
        if !plans.is_array() {
            *plans = json!([]);
        }
        if let Some(plans) = plans.as_array_mut() {
            // P2 never comes without P1, so losing P1 loses both.
            plans.retain(|p| {
                p["servicePlanId"] != crate::seed::AAD_PREMIUM_PLAN_ID
                    && p["servicePlanId"] != crate::seed::wire::AAD_PREMIUM_P2.id
            });
            if premium {
                plans.push(json!({
                    "assignedDateTime": "2025-01-01T00:00:00Z",
                    "capabilityStatus": "Enabled",
                    "service": "AADPremiumService",
                    "servicePlanId": crate::seed::AAD_PREMIUM_PLAN_ID,
                }));
            }
        }
        self.set_premium_skus(premium);
    }

    /// `subscribedSkus` side of [`Tenant::set_premium`]: drop every SKU carrying `AAD_PREMIUM`,
    /// or add a standalone Entra ID P1 SKU when none carries it.
    fn set_premium_skus(&mut self, premium: bool) {
        use crate::seed::wire;
        let carries_p1 = |sku: &Value| {
            sku["servicePlans"].as_array().is_some_and(|plans| {
                plans
                    .iter()
                    .any(|p| p["servicePlanId"] == crate::seed::AAD_PREMIUM_PLAN_ID)
            })
        };
        if !premium {
            self.subscribed_skus.retain(|sku| !carries_p1(sku));
            return;
        }
        if self.subscribed_skus.iter().any(carries_p1) {
            return;
        }
        let members = self
            .users
            .iter()
            .filter(|u| u.user_type == "Member")
            .count();
        let seats = i32::try_from(members).unwrap_or(i32::MAX);
        let account_id = self
            .subscribed_skus
            .first()
            .and_then(|sku| sku["accountId"].as_str())
            .unwrap_or(&self.id)
            .to_string();
        let sku = wire::subscribed_sku(
            &self.id,
            (&account_id, &self.display_name),
            &wire::Subscription {
                sku: wire::SKU_AAD_PREMIUM,
                prepaid: seats.saturating_add(5),
                consumed: seats,
                subscription_id: uuid::Uuid::new_v4().to_string(),
            },
        );
        self.subscribed_skus.push(sku);
    }

    /// Set on-premises sync: `true` sets `onPremisesSyncEnabled: true` with a recent last-sync
    /// time, `false` sets it to `null` (never synced), matching the seed tenants.
    pub fn set_synced(&mut self, synced: bool) {
        self.synced = synced;
        if synced {
            self.organization["onPremisesSyncEnabled"] = json!(true);
            self.organization["onPremisesLastSyncDateTime"] = json!(crate::calls::now_rfc3339());
        } else {
            self.organization["onPremisesSyncEnabled"] = Value::Null;
            self.organization["onPremisesLastSyncDateTime"] = Value::Null;
        }
    }

    pub fn group_by_name(&self, display_name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.display_name == display_name)
    }

    /// The service principal that answers to `resource` (an SPN such as
    /// `https://graph.microsoft.com` or `api://sspr`, or an app id), compared like Entra does:
    /// case-insensitive, trailing slash ignored.
    pub fn resource_principal(&self, resource: &str) -> Option<&ServicePrincipal> {
        let wanted = normalize_resource(resource);
        self.service_principals.iter().find(|sp| {
            sp.app_id.eq_ignore_ascii_case(&wanted)
                || sp
                    .service_principal_names
                    .iter()
                    .any(|n| normalize_resource(n) == wanted)
        })
    }

    /// One of `organization.verifiedDomains[].name`, compared case-insensitively.
    pub fn has_verified_domain(&self, domain: &str) -> bool {
        self.organization["verifiedDomains"]
            .as_array()
            .is_some_and(|domains| {
                domains.iter().any(|d| {
                    d["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(domain))
                })
            })
    }

    pub fn principal_for_app(&self, app_id: &str) -> Option<&ServicePrincipal> {
        self.service_principals
            .iter()
            .find(|sp| sp.app_id.eq_ignore_ascii_case(app_id))
    }
}

fn normalize_resource(s: &str) -> String {
    s.trim_end_matches('/').to_ascii_lowercase()
}

/// Everything the emulator serves, behind one lock.
#[derive(Debug, Clone)]
pub struct Directory {
    pub tenants: Vec<Tenant>,
    pub apps: Vec<AppRegistration>,
}

impl Directory {
    /// Find a tenant by id, initial domain or any other verified domain
    /// (`organization.verifiedDomains[].name`), case-insensitively, as Entra's endpoints do.
    pub fn tenant(&self, id_or_domain: &str) -> Option<&Tenant> {
        self.tenant_index(id_or_domain).map(|i| &self.tenants[i])
    }

    pub fn tenant_mut(&mut self, id_or_domain: &str) -> Option<&mut Tenant> {
        self.tenant_index(id_or_domain)
            .map(move |i| &mut self.tenants[i])
    }

    /// Ids and initial domains first: they are what nearly every request names, and looking at
    /// them never touches a tenant's JSON.
    fn tenant_index(&self, id_or_domain: &str) -> Option<usize> {
        self.tenants
            .iter()
            .position(|t| matches_tenant(t, id_or_domain))
            .or_else(|| {
                self.tenants
                    .iter()
                    .position(|t| t.has_verified_domain(id_or_domain))
            })
    }

    pub fn app(&self, client_id: &str) -> Option<&AppRegistration> {
        self.apps
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }
}

fn matches_tenant(t: &Tenant, id_or_domain: &str) -> bool {
    t.id.eq_ignore_ascii_case(id_or_domain) || t.domain.eq_ignore_ascii_case(id_or_domain)
}
