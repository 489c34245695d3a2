//! In-memory fakes of the capabilities, for the use cases' unit tests: a registration report of
//! fixed pages and the tenants' licences, both counting their reads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use futures::stream::{self, BoxStream};

use crate::capabilities::licences::Licences;
use crate::capabilities::registration_report::{RegistrationReport, ReportLink, ReportPage};
use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;
use crate::domain::licence::{AAD_PREMIUM, ServicePlan, SubscribedSku};
use crate::domain::registrations::Registration;
use crate::domain::registrations::filter::Pushdown;

/// A report of fixed pages per tenant (a page's link is `page:<n>`), or a failure per tenant.
/// Counts every read; a read may wait for [`FakeReport::gate`].
#[derive(Default)]
pub(crate) struct FakeReport {
    pub(crate) pages: HashMap<String, Vec<Vec<Registration>>>,
    /// Graph's refusal (status, code) of a tenant's report.
    pub(crate) failures: HashMap<String, (u16, &'static str)>,
    pub(crate) reads: AtomicUsize,
    /// When set, a read waits here for a permit (to hold a read open while others arrive).
    pub(crate) gate: Option<tokio::sync::Semaphore>,
}

impl FakeReport {
    pub(crate) fn with_users(tenant: &str, pages: Vec<Vec<Registration>>) -> FakeReport {
        let mut report = FakeReport::default();
        report.pages.insert(tenant.to_owned(), pages);
        report
    }

    pub(crate) fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    /// The tenant's users as the report streams them, the failure in place of them.
    async fn rows(
        &self,
        tenant: &ManagedTenant,
        pushdown: Pushdown,
    ) -> Vec<Result<Registration, DirectoryError>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.gate {
            let _permit = gate.acquire().await.expect("gate open");
        }
        if let Some((status, code)) = self.failures.get(&tenant.id) {
            return vec![Err(upstream(*status, code))];
        }
        self.pages
            .get(&tenant.id)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|r| pushdown.matches(r))
            .cloned()
            .map(Ok)
            .collect()
    }
}

#[async_trait::async_trait]
impl RegistrationReport for FakeReport {
    fn registrations<'a>(
        &'a self,
        tenant: &'a ManagedTenant,
    ) -> BoxStream<'a, Result<Registration, DirectoryError>> {
        self.filtered(tenant, &Pushdown::default())
    }

    fn filtered<'a>(
        &'a self,
        tenant: &'a ManagedTenant,
        pushdown: &Pushdown,
    ) -> BoxStream<'a, Result<Registration, DirectoryError>> {
        let pushdown = pushdown.clone();
        Box::pin(
            stream::once(async move { stream::iter(self.rows(tenant, pushdown).await) }).flatten(),
        )
    }

    fn first_page(&self, _pushdown: &Pushdown) -> ReportLink {
        ReportLink::checked("page:0".into())
    }

    fn report_link(&self, text: &str) -> Option<ReportLink> {
        text.starts_with("page:")
            .then(|| ReportLink::checked(text.to_owned()))
    }

    async fn page(
        &self,
        tenant: &ManagedTenant,
        link: &ReportLink,
    ) -> Result<ReportPage, DirectoryError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if let Some((status, code)) = self.failures.get(&tenant.id) {
            return Err(upstream(*status, code));
        }
        let pages = self.pages.get(&tenant.id).cloned().unwrap_or_default();
        let n: usize = link.as_str()["page:".len()..].parse().expect("a fake link");
        Ok(ReportPage {
            records: pages.get(n).cloned().unwrap_or_default(),
            next: (n + 1 < pages.len()).then(|| ReportLink::checked(format!("page:{}", n + 1))),
        })
    }
}

/// The tenants' SKUs: one answer for every tenant, reads counted.
pub(crate) struct FakeLicences {
    /// The SKUs, or Graph's refusal (status, code).
    pub(crate) answer: Result<Vec<SubscribedSku>, (u16, &'static str)>,
    pub(crate) reads: AtomicUsize,
}

impl FakeLicences {
    pub(crate) fn premium() -> FakeLicences {
        FakeLicences::answering(Ok(vec![sku(AAD_PREMIUM)]))
    }

    pub(crate) fn without_premium() -> FakeLicences {
        FakeLicences::answering(Ok(vec![sku("9aaf7827-d63c-4b61-89c3-182f06f82e5c")]))
    }

    /// The app may not read the SKUs.
    pub(crate) fn unreadable() -> FakeLicences {
        FakeLicences::answering(Err((403, "Authorization_RequestDenied")))
    }

    pub(crate) fn answering(
        answer: Result<Vec<SubscribedSku>, (u16, &'static str)>,
    ) -> FakeLicences {
        FakeLicences {
            answer,
            reads: AtomicUsize::new(0),
        }
    }

    pub(crate) fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Licences for FakeLicences {
    async fn subscribed_skus(
        &self,
        _tenant: &ManagedTenant,
    ) -> Result<Vec<SubscribedSku>, DirectoryError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.answer
            .clone()
            .map_err(|(status, code)| upstream(status, code))
    }
}

pub(crate) fn sku(plan_id: &str) -> SubscribedSku {
    SubscribedSku {
        sku_part_number: "SKU".into(),
        capability_status: "Enabled".into(),
        service_plans: vec![ServicePlan {
            service_plan_id: plan_id.into(),
            service_plan_name: "PLAN".into(),
            provisioning_status: "Success".into(),
        }],
    }
}

pub(crate) fn upstream(status: u16, code: &str) -> DirectoryError {
    DirectoryError::Upstream {
        status,
        code: code.into(),
        message: "refused".into(),
        request_id: None,
    }
}

/// The application permissions a tenant's token grants: fixed, the same for every tenant.
pub(crate) struct FakePermissions {
    pub granted: std::collections::BTreeSet<String>,
}

impl FakePermissions {
    /// Every permission every feature needs.
    pub(crate) fn all() -> FakePermissions {
        FakePermissions {
            granted: crate::domain::tenancy::every_required_permission()
                .into_iter()
                .collect(),
        }
    }

    pub(crate) fn all_but(missing: &str) -> FakePermissions {
        let mut fake = FakePermissions::all();
        fake.granted.remove(missing);
        fake
    }

    fn token(&self, tenant: &ManagedTenant) -> crate::directory::credentials::GrantedToken {
        crate::directory::credentials::GrantedToken {
            tenant_id: tenant.id.clone(),
            permissions: self.granted.clone(),
        }
    }
}

#[async_trait::async_trait]
impl crate::capabilities::app_permissions::AppPermissions for FakePermissions {
    async fn granted(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<crate::directory::credentials::GrantedToken, DirectoryError> {
        Ok(self.token(tenant))
    }

    async fn fresh(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<crate::directory::credentials::GrantedToken, DirectoryError> {
        Ok(self.token(tenant))
    }
}

/// The tenant store in memory: tenants and grants kept in insertion order.
#[derive(Default)]
pub(crate) struct FakeTenantStore {
    tenants: std::sync::Mutex<Vec<crate::capabilities::tenant_store::TenantRecord>>,
    grants: std::sync::Mutex<Vec<crate::capabilities::tenant_store::GrantRecord>>,
}

#[async_trait::async_trait]
impl crate::capabilities::tenant_store::TenantStore for FakeTenantStore {
    async fn tenants(
        &self,
    ) -> Result<Vec<crate::capabilities::tenant_store::TenantRecord>, crate::store::StoreError>
    {
        Ok(self.tenants.lock().expect("tenants").clone())
    }

    async fn tenant(
        &self,
        id: &str,
    ) -> Result<Option<crate::capabilities::tenant_store::TenantRecord>, crate::store::StoreError>
    {
        Ok(self
            .tenants
            .lock()
            .expect("tenants")
            .iter()
            .find(|t| t.id == id)
            .cloned())
    }

    async fn insert_tenant(
        &self,
        record: crate::capabilities::tenant_store::TenantRecord,
    ) -> Result<(), crate::store::StoreError> {
        let mut tenants = self.tenants.lock().expect("tenants");
        if tenants.iter().any(|t| t.id == record.id) {
            return Err(crate::store::StoreError::Exists(record.id));
        }
        tenants.push(record);
        Ok(())
    }

    async fn replace_tenant(
        &self,
        record: crate::capabilities::tenant_store::TenantRecord,
    ) -> Result<bool, crate::store::StoreError> {
        let mut tenants = self.tenants.lock().expect("tenants");
        match tenants.iter_mut().find(|t| t.id == record.id) {
            Some(kept) => {
                *kept = record;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn delete_tenant(&self, id: &str) -> Result<bool, crate::store::StoreError> {
        let mut tenants = self.tenants.lock().expect("tenants");
        let before = tenants.len();
        tenants.retain(|t| t.id != id);
        Ok(tenants.len() < before)
    }

    async fn set_verification(
        &self,
        id: &str,
        verification: String,
    ) -> Result<(), crate::store::StoreError> {
        if let Some(kept) = self
            .tenants
            .lock()
            .expect("tenants")
            .iter_mut()
            .find(|t| t.id == id)
        {
            kept.verification = Some(verification);
        }
        Ok(())
    }

    async fn grants(
        &self,
    ) -> Result<Vec<crate::capabilities::tenant_store::GrantRecord>, crate::store::StoreError> {
        Ok(self.grants.lock().expect("grants").clone())
    }

    async fn insert_grant(
        &self,
        record: crate::capabilities::tenant_store::GrantRecord,
    ) -> Result<(), crate::store::StoreError> {
        self.grants.lock().expect("grants").push(record);
        Ok(())
    }

    async fn ping(&self) -> Result<(), crate::store::StoreError> {
        Ok(())
    }

    async fn delete_grant(&self, id: &str) -> Result<bool, crate::store::StoreError> {
        let mut grants = self.grants.lock().expect("grants");
        let before = grants.len();
        grants.retain(|g| g.id != id);
        Ok(grants.len() < before)
    }
}
