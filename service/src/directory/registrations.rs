//! The registration report (`reports/authenticationMethods/userRegistrationDetails`,
//! graph-api.md §4) as a stream of domain records, and the tenant's subscribed SKUs for the
//! licence check (§6.1).
//!
//! The stream pages with `$top=999`, follows `@odata.nextLink` verbatim and fetches the next page
//! while the current one is consumed: at most two pages are held, so memory stays flat for any
//! tenant size.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use futures::future::BoxFuture;
use serde::Deserialize;
use url::form_urlencoded;

use super::DirectoryError;
use super::graph::{Graph, Page};
use super::tenants::ManagedTenant;
use crate::capabilities::licences::Licences;
use crate::capabilities::registration_report::{RegistrationReport, ReportLink, ReportPage};
use crate::domain::licence::{ServicePlan, SubscribedSku};
use crate::domain::registrations::Registration;
use crate::domain::registrations::filter::{Condition, Flag, Pushdown, Vocabulary};

/// The report's collection, below the Graph base URL.
pub const REPORT: &str = "reports/authenticationMethods/userRegistrationDetails";
/// The largest page tools ask the report for; its real maximum is undocumented.
const PAGE_SIZE: u32 = 999;

/// `pushdown` as OData `$filter` text: the conditions joined by `and`; `None` when there are
/// none.
pub fn graph_filter(pushdown: &Pushdown) -> Option<String> {
    let clauses: Vec<String> = pushdown.conditions().iter().map(clause).collect();
    (!clauses.is_empty()).then(|| clauses.join(" and "))
}

/// One condition as a `$filter` clause. The domain only pushes down what Graph evaluates exactly
/// as the service does (see `Condition::graph_evaluates`).
fn clause(condition: &Condition) -> String {
    match condition {
        Condition::Flag(flag, want) => format!("{} eq {want}", column(*flag)),
        Condition::UserType(t) => format!("userType eq '{}'", t.name()),
        Condition::AnyMethod(methods) => {
            // The method names are the report's own spelling (`METHOD_NAMES`); several would need
            // `or`, which the domain never pushes down.
            let any: Vec<String> = methods
                .iter()
                .map(|m| format!("x eq '{}'", odata_text(m)))
                .collect();
            format!("methodsRegistered/any(x:{})", any.join(" or "))
        }
        Condition::UpnPrefix(prefix) => {
            format!("startswith(userPrincipalName,'{}')", odata_text(prefix))
        }
    }
}

/// The report's column holding `flag`.
fn column(flag: Flag) -> &'static str {
    match flag {
        Flag::Admin => "isAdmin",
        Flag::SsprRegistered => "isSsprRegistered",
        Flag::SsprEnabled => "isSsprEnabled",
        Flag::SsprCapable => "isSsprCapable",
        Flag::MfaRegistered => "isMfaRegistered",
        Flag::MfaCapable => "isMfaCapable",
        Flag::PasswordlessCapable => "isPasswordlessCapable",
    }
}

/// An OData string literal's content: a quote is written twice.
fn odata_text(text: &str) -> String {
    text.replace('\'', "''")
}

/// The report's first page, with `graph_filter` as `$filter` (percent-encoded; spaces as `%20`,
/// which every OData server reads as a space).
pub fn first_link(graph_filter: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("$top", &PAGE_SIZE.to_string());
    if let Some(filter) = graph_filter {
        query.append_pair("$filter", filter);
    }
    // Form encoding writes a space as `+` and a literal `+` as `%2B`, so every `+` is a space.
    format!("{REPORT}?{}", query.finish().replace('+', "%20"))
}

/// True when `link` (a relative path or an absolute nextLink) points at the report, so a link
/// from outside (a caller's cursor) can never make the service read anything else.
pub fn is_report_link(link: &str) -> bool {
    // Resolved against a stand-in base, as `Graph` resolves it: dot segments are gone after.
    let base = url::Url::parse("https://graph.invalid/version/").expect("static url");
    base.join(link)
        .is_ok_and(|url| url.path().ends_with(&format!("/{REPORT}")))
}

/// Every user of the report meeting `pushdown` (all users when `None`), in Graph's order, as
/// pages arrive. A failed page ends the stream with its error.
pub fn registrations<'a>(
    graph: &'a Graph,
    tenant: &'a ManagedTenant,
    pushdown: Option<&Pushdown>,
) -> impl Stream<Item = Result<Registration, DirectoryError>> + Send + 'a {
    let filter = pushdown.and_then(graph_filter);
    registrations_from(graph, tenant, first_link(filter.as_deref()))
}

/// The stream of [`registrations`] starting at `link` (the first page's path or a nextLink).
pub fn registrations_from<'a>(
    graph: &'a Graph,
    tenant: &'a ManagedTenant,
    link: String,
) -> impl Stream<Item = Result<Registration, DirectoryError>> + Send + 'a {
    Prefetching {
        graph,
        tenant,
        rows: Vec::new().into_iter(),
        next: Some(Fetch::Running(fetch(graph, tenant, link))),
    }
}

/// The page at `link` (the first page's path or a nextLink).
#[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
pub async fn page(
    graph: &Graph,
    tenant: &ManagedTenant,
    link: &str,
) -> Result<ReportPage, DirectoryError> {
    let page: Page<wire::Row> = graph.get_page(tenant, link).await?;
    Ok(ReportPage {
        records: page.value.into_iter().map(wire::Row::into_domain).collect(),
        // Graph's nextLink points at the report it was answered from.
        next: page.next_link.map(ReportLink::checked),
    })
}

/// The tenant's subscribed SKUs (one page in practice; later pages are followed all the same).
#[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
pub async fn subscribed_skus(
    graph: &Graph,
    tenant: &ManagedTenant,
) -> Result<Vec<SubscribedSku>, DirectoryError> {
    let (skus, _) = graph
        .get_all::<wire::Sku>(
            tenant,
            "subscribedSkus?$select=skuPartNumber,capabilityStatus,servicePlans",
        )
        .await?;
    Ok(skus.into_iter().map(wire::Sku::into_domain).collect())
}

#[async_trait::async_trait]
impl RegistrationReport for Graph {
    fn registrations<'a>(
        &'a self,
        tenant: &'a ManagedTenant,
    ) -> futures::stream::BoxStream<'a, Result<Registration, DirectoryError>> {
        Box::pin(registrations(self, tenant, None))
    }

    fn filtered<'a>(
        &'a self,
        tenant: &'a ManagedTenant,
        pushdown: &Pushdown,
    ) -> futures::stream::BoxStream<'a, Result<Registration, DirectoryError>> {
        Box::pin(registrations(self, tenant, Some(pushdown)))
    }

    fn first_page(&self, pushdown: &Pushdown) -> ReportLink {
        ReportLink::checked(first_link(graph_filter(pushdown).as_deref()))
    }

    fn report_link(&self, text: &str) -> Option<ReportLink> {
        is_report_link(text).then(|| ReportLink::checked(text.to_owned()))
    }

    async fn page(
        &self,
        tenant: &ManagedTenant,
        link: &ReportLink,
    ) -> Result<ReportPage, DirectoryError> {
        page(self, tenant, link.as_str()).await
    }
}

#[async_trait::async_trait]
impl Licences for Graph {
    async fn subscribed_skus(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<Vec<SubscribedSku>, DirectoryError> {
        subscribed_skus(self, tenant).await
    }
}

type PageResult = Result<Page<wire::Row>, DirectoryError>;

fn fetch<'a>(
    graph: &'a Graph,
    tenant: &'a ManagedTenant,
    link: String,
) -> BoxFuture<'a, PageResult> {
    Box::pin(async move { graph.get_page(tenant, &link).await })
}

/// The next page: still on its way, or arrived and waiting for the current one to be consumed.
enum Fetch<'a> {
    Running(BoxFuture<'a, PageResult>),
    Arrived(PageResult),
}

/// Yields the current page's rows while the next page is fetched: each poll first drives the
/// fetch, then hands out a row.
struct Prefetching<'a> {
    graph: &'a Graph,
    tenant: &'a ManagedTenant,
    rows: std::vec::IntoIter<wire::Row>,
    /// `None` once the last page has arrived (or a page failed).
    next: Option<Fetch<'a>>,
}

impl Stream for Prefetching<'_> {
    type Item = Result<Registration, DirectoryError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(Fetch::Running(future)) = &mut this.next
                && let Poll::Ready(result) = future.as_mut().poll(cx)
            {
                this.next = Some(Fetch::Arrived(result));
            }
            if let Some(row) = this.rows.next() {
                return Poll::Ready(Some(Ok(row.into_domain())));
            }
            match this.next.take() {
                None => return Poll::Ready(None),
                // Polled above: the waker is registered.
                Some(running @ Fetch::Running(_)) => {
                    this.next = Some(running);
                    return Poll::Pending;
                }
                Some(Fetch::Arrived(Err(error))) => return Poll::Ready(Some(Err(error))),
                Some(Fetch::Arrived(Ok(page))) => {
                    this.rows = page.value.into_iter();
                    this.next = page
                        .next_link
                        .map(|link| Fetch::Running(fetch(this.graph, this.tenant, link)));
                }
            }
        }
    }
}

/// Graph's JSON, exactly as it arrives. Unknown properties are ignored, never refused.
mod wire {
    use super::*;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Row {
        pub id: String,
        #[serde(default)]
        pub user_principal_name: Option<String>,
        #[serde(default)]
        pub user_display_name: Option<String>,
        #[serde(default)]
        pub user_type: Option<String>,
        #[serde(default)]
        pub is_admin: Option<bool>,
        #[serde(default)]
        pub is_sspr_registered: Option<bool>,
        #[serde(default)]
        pub is_sspr_enabled: Option<bool>,
        #[serde(default)]
        pub is_sspr_capable: Option<bool>,
        #[serde(default)]
        pub is_mfa_registered: Option<bool>,
        #[serde(default)]
        pub is_mfa_capable: Option<bool>,
        #[serde(default)]
        pub is_passwordless_capable: Option<bool>,
        #[serde(default)]
        pub methods_registered: Option<Vec<String>>,
        #[serde(default)]
        pub last_updated_date_time: Option<String>,
    }

    impl Row {
        pub fn into_domain(self) -> Registration {
            let flag = |v: Option<bool>| v.unwrap_or(false);
            Registration {
                id: self.id,
                user_principal_name: self.user_principal_name.unwrap_or_default(),
                user_display_name: self.user_display_name.unwrap_or_default(),
                user_type: self.user_type.unwrap_or_default(),
                is_admin: flag(self.is_admin),
                is_sspr_registered: flag(self.is_sspr_registered),
                is_sspr_enabled: flag(self.is_sspr_enabled),
                is_sspr_capable: flag(self.is_sspr_capable),
                is_mfa_registered: flag(self.is_mfa_registered),
                is_mfa_capable: flag(self.is_mfa_capable),
                is_passwordless_capable: flag(self.is_passwordless_capable),
                methods_registered: self.methods_registered.unwrap_or_default(),
                last_updated_date_time: self.last_updated_date_time,
            }
        }
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Sku {
        #[serde(default)]
        pub sku_part_number: Option<String>,
        #[serde(default)]
        pub capability_status: Option<String>,
        #[serde(default)]
        pub service_plans: Vec<Plan>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Plan {
        #[serde(default)]
        pub service_plan_id: Option<String>,
        #[serde(default)]
        pub service_plan_name: Option<String>,
        #[serde(default)]
        pub provisioning_status: Option<String>,
    }

    impl Sku {
        pub fn into_domain(self) -> SubscribedSku {
            SubscribedSku {
                sku_part_number: self.sku_part_number.unwrap_or_default(),
                capability_status: self.capability_status.unwrap_or_default(),
                service_plans: self
                    .service_plans
                    .into_iter()
                    .map(|p| ServicePlan {
                        service_plan_id: p.service_plan_id.unwrap_or_default(),
                        service_plan_name: p.service_plan_name.unwrap_or_default(),
                        provisioning_status: p.provisioning_status.unwrap_or_default(),
                    })
                    .collect(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_row_translates_and_nulls_read_as_false() {
        let json = serde_json::json!({
            "id": "c6ad1942-4afa-47f8-8d48-afb5d8d69d2f",
            "userPrincipalName": "AllanD@Contoso.com",
            "userDisplayName": "Allan Deyoung",
            "userType": "guest",
            "isAdmin": null,
            "isSsprRegistered": false, "isSsprEnabled": false, "isSsprCapable": false,
            "isMfaRegistered": true, "isMfaCapable": true, "isPasswordlessCapable": false,
            "isSystemPreferredAuthenticationMethodEnabled": true,
            "systemPreferredAuthenticationMethods": [],
            "userPreferredMethodForSecondaryAuthentication": "",
            "methodsRegistered": ["microsoftAuthenticatorPush", "aMethodFromTheFuture"],
            "lastUpdatedDateTime": "2023-03-13T19:15:41.6195833Z"
        });
        let row: wire::Row = serde_json::from_value(json).expect("parses");
        let r = row.into_domain();
        assert_eq!(r.user_type, "guest");
        assert!(!r.is_admin);
        assert!(r.is_mfa_capable && !r.is_sspr_registered);
        assert_eq!(
            r.methods_registered,
            ["microsoftAuthenticatorPush", "aMethodFromTheFuture"]
        );
        assert_eq!(
            r.last_updated_date_time.as_deref(),
            Some("2023-03-13T19:15:41.6195833Z")
        );
        let sparse: wire::Row =
            serde_json::from_value(serde_json::json!({"id": "x", "methodsRegistered": null}))
                .expect("parses");
        let r = sparse.into_domain();
        assert!(r.methods_registered.is_empty() && r.user_type.is_empty());
    }

    use crate::domain::registrations::filter::{
        FilterParams, METHOD_NAMES, POLICY_METHOD_NAMES, RegistrationFilter, plan,
    };

    /// The `$filter` text the service sends for a listing with these parameters, pushed down.
    fn sent(params: FilterParams<'_>) -> Option<String> {
        let filter = RegistrationFilter::parse(params).expect("valid");
        graph_filter(&plan(&filter, true).pushdown)
    }

    #[test]
    fn each_sspr_value_is_sent_as_its_columns() {
        let expected = [
            ("registered", "isSsprRegistered eq true"),
            ("notRegistered", "isSsprRegistered eq false"),
            ("enabled", "isSsprEnabled eq true"),
            ("notEnabled", "isSsprEnabled eq false"),
            ("capable", "isSsprCapable eq true"),
            ("notCapable", "isSsprCapable eq false"),
            (
                "enabledNotRegistered",
                "isSsprEnabled eq true and isSsprRegistered eq false",
            ),
            (
                "registeredNotEnabled",
                "isSsprRegistered eq true and isSsprEnabled eq false",
            ),
        ];
        for (value, graph) in expected {
            let params = FilterParams {
                sspr: Some(value),
                ..Default::default()
            };
            assert_eq!(sent(params).as_deref(), Some(graph), "{value}");
        }
    }

    #[test]
    fn mfa_passwordless_admin_user_type_method_and_prefix_are_sent_as_odata() {
        let cases = [
            ("mfa", "registered", "isMfaRegistered eq true"),
            ("mfa", "notRegistered", "isMfaRegistered eq false"),
            ("mfa", "capable", "isMfaCapable eq true"),
            ("mfa", "notCapable", "isMfaCapable eq false"),
            ("passwordless", "capable", "isPasswordlessCapable eq true"),
            (
                "passwordless",
                "notCapable",
                "isPasswordlessCapable eq false",
            ),
            ("admin", "true", "isAdmin eq true"),
            ("userType", "guest", "userType eq 'guest'"),
            ("methods", "email", "methodsRegistered/any(x:x eq 'email')"),
            (
                "upnPrefix",
                "o'brien",
                "startswith(userPrincipalName,'o''brien')",
            ),
        ];
        for (parameter, value, graph) in cases {
            let params = FilterParams::only(parameter, value);
            assert_eq!(sent(params).as_deref(), Some(graph), "{parameter}={value}");
        }
        let kept_in_the_service = FilterParams {
            methods: Some("email,mobilePhone"),
            admin: Some("false"),
            user_type: Some("member"),
            ..Default::default()
        };
        assert_eq!(
            sent(kept_in_the_service).as_deref(),
            Some("userType eq 'member'")
        );
        assert_eq!(graph_filter(&Pushdown::default()), None);
    }

    #[test]
    fn everything_combined_is_joined_with_and() {
        let params = FilterParams::every_pushable();
        assert_eq!(
            sent(params).as_deref(),
            Some(
                "isSsprEnabled eq true and isSsprRegistered eq false and isMfaCapable eq false and isPasswordlessCapable eq false and isAdmin eq true and userType eq 'member' and methodsRegistered/any(x:x eq 'email') and startswith(userPrincipalName,'ada')"
            )
        );
        let filter = RegistrationFilter::parse(params).expect("valid");
        assert_eq!(graph_filter(&plan(&filter, false).pushdown), None);
    }

    #[test]
    fn method_names_are_sent_as_the_report_spells_them() {
        for (policy, method) in POLICY_METHOD_NAMES {
            let expected = Some(format!("methodsRegistered/any(x:x eq '{method}')"));
            for given in [
                policy.to_string(),
                policy.to_uppercase(),
                method.to_lowercase(),
            ] {
                let params = FilterParams {
                    methods: Some(&given),
                    ..Default::default()
                };
                assert_eq!(sent(params), expected, "{given}");
            }
        }
        for method in METHOD_NAMES {
            let params = FilterParams {
                methods: Some(method),
                ..Default::default()
            };
            assert_eq!(
                sent(params),
                Some(format!("methodsRegistered/any(x:x eq '{method}')"))
            );
        }
    }

    #[test]
    fn the_first_link_encodes_the_filter_for_the_query() {
        assert_eq!(first_link(None), format!("{REPORT}?%24top=999"));
        let link = first_link(Some(
            "startswith(userPrincipalName,'a+b&c''d') and isAdmin eq true",
        ));
        assert_eq!(
            link,
            format!(
                "{REPORT}?%24top=999&%24filter=startswith%28userPrincipalName%2C%27a%2Bb%26c%27%27d%27%29%20and%20isAdmin%20eq%20true"
            )
        );
        let query = link.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let filter = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "$filter")
            .map(|(_, v)| v.into_owned());
        assert_eq!(
            filter.as_deref(),
            Some("startswith(userPrincipalName,'a+b&c''d') and isAdmin eq true")
        );
    }

    #[test]
    fn only_report_links_are_report_links() {
        assert!(is_report_link(&first_link(None)));
        assert!(is_report_link(
            "https://graph.microsoft.com/v1.0/reports/authenticationMethods/userRegistrationDetails?$skiptoken=x"
        ));
        assert!(!is_report_link("users?$select=id"));
        assert!(!is_report_link(
            "https://graph.microsoft.com/v1.0/reports/authenticationMethods/userRegistrationDetails/x"
        ));
        assert!(!is_report_link(
            "https://graph.microsoft.com/v1.0/users#/reports/authenticationMethods/userRegistrationDetails"
        ));
        assert!(!is_report_link(
            "reports/authenticationMethods/userRegistrationDetails/%2e%2e/%2e%2e/%2e%2e/users"
        ));
    }

    #[test]
    fn a_sku_translates_with_its_plans() {
        let json = serde_json::json!({
            "skuPartNumber": "SPB", "capabilityStatus": "Enabled", "consumedUnits": 14,
            "servicePlans": [{ "servicePlanId": "41781fb2-bc02-4b7c-bd55-b576c07bb09d",
                "servicePlanName": "AAD_PREMIUM", "provisioningStatus": "Success", "appliesTo": "User" }]
        });
        let sku: wire::Sku = serde_json::from_value(json).expect("parses");
        let sku = sku.into_domain();
        assert_eq!(sku.sku_part_number, "SPB");
        assert_eq!(sku.service_plans[0].service_plan_name, "AAD_PREMIUM");
        assert_eq!(sku.service_plans[0].provisioning_status, "Success");
    }
}
