//! Registration reporting's use cases against in-memory fakes of the report and the licences:
//! the licence gate, the summary cache, the fleet's partial failures and cursor binding.

use super::*;
use std::collections::HashMap;

use crate::directory::DirectoryError;
use crate::directory::NON_PREMIUM;
use crate::domain::registrations::filter::FilterParams;
use crate::domain::registrations::sample;
use crate::ops::fakes::{FakeLicences, FakeReport};

fn user(upn: &str, sspr_registered: bool) -> Registration {
    Registration {
        id: upn.into(),
        user_principal_name: upn.into(),
        is_sspr_registered: sspr_registered,
        ..sample()
    }
}

const CONTOSO: &str = "11111111-0000-0000-0000-000000000001";
const FABRIKAM: &str = "22222222-0000-0000-0000-000000000002";
const NORTHWIND: &str = "33333333-0000-0000-0000-000000000003";

fn registry() -> TenantRegistry {
    TenantRegistry::for_tests(vec![
        ManagedTenant::for_tests(CONTOSO, "contoso.example"),
        ManagedTenant::for_tests(FABRIKAM, "fabrikam.example"),
        ManagedTenant::for_tests(NORTHWIND, "northwind.example"),
    ])
}

fn reader() -> Caller {
    Caller::for_tests(&["SSPR.Read"])
}

fn registrations() -> Registrations {
    Registrations::new(&RegistrationsConfig {
        cache_max_age_secs: 300,
        fleet_concurrency: 4,
    })
}

fn reporting<'a>(report: &'a FakeReport, licences: &'a FakeLicences) -> Reporting<'a> {
    Reporting { report, licences }
}

/// The tenants and the summary cache the summary tests read through.
struct Summaries {
    tenants: TenantRegistry,
    registrations: Registrations,
}

impl Summaries {
    fn new() -> Summaries {
        Summaries {
            tenants: registry(),
            registrations: registrations(),
        }
    }

    /// One summary of `tenant`, read afresh (no cached summary is young enough).
    async fn fresh(
        &self,
        report: &FakeReport,
        licences: &FakeLicences,
        tenant: &str,
    ) -> Result<SummaryRead, OpsError> {
        summary(
            &self.registrations,
            &self.tenants,
            reporting(report, licences),
            &reader(),
            tenant,
            Some(Duration::ZERO),
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// The licence gate
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn without_p1_or_p2_the_answer_is_license_required_and_the_report_is_never_read() {
    let summaries = Summaries::new();
    let report = FakeReport::with_users(CONTOSO, vec![vec![user("ada", true)]]);
    let licences = FakeLicences::without_premium();
    let result = summaries.fresh(&report, &licences, CONTOSO).await;
    let Err(OpsError::LicenseRequired { tenant, detail }) = result else {
        panic!("expected licenseRequired, got {result:?}");
    };
    assert_eq!(tenant, "contoso.example");
    assert!(detail.contains("P1 or P2"), "{detail}");
    assert_eq!(
        report.reads(),
        0,
        "the report is not read without the licence"
    );
}

#[tokio::test]
async fn the_licence_verdict_is_reused_within_the_hour() {
    let summaries = Summaries::new();
    let report = FakeReport::with_users(CONTOSO, vec![vec![user("ada", true)]]);
    let licences = FakeLicences::premium();
    for _ in 0..3 {
        summaries
            .fresh(&report, &licences, CONTOSO)
            .await
            .expect("licensed");
    }
    assert_eq!(report.reads(), 3, "every summary was read afresh");
    assert_eq!(licences.reads(), 1, "the SKUs were read once");
}

#[tokio::test]
async fn unreadable_skus_let_the_request_through_to_the_report() {
    let summaries = Summaries::new();
    let report = FakeReport::with_users(CONTOSO, vec![vec![user("ada", true), user("bo", false)]]);
    let licences = FakeLicences::unreadable();
    let read = summaries
        .fresh(&report, &licences, CONTOSO)
        .await
        .expect("Graph's report decides");
    assert_eq!(read.summary.total_users, 2);
    assert_eq!(report.reads(), 1);
}

#[tokio::test]
async fn the_reports_non_premium_refusal_is_license_required_and_remembered() {
    let summaries = Summaries::new();
    let mut report = FakeReport::default();
    report.failures.insert(CONTOSO.into(), (403, NON_PREMIUM));
    let licences = FakeLicences::unreadable();
    for attempt in 0..2 {
        let result = summaries.fresh(&report, &licences, CONTOSO).await;
        assert!(
            matches!(result, Err(OpsError::LicenseRequired { .. })),
            "attempt {attempt}: {result:?}"
        );
    }
    assert_eq!(report.reads(), 1, "the second request trusted the verdict");
    // Another 403 (not the licence) stays Graph's error and is not remembered as a verdict.
    let mut denied = FakeReport::default();
    denied
        .failures
        .insert(FABRIKAM.into(), (403, "Authorization_RequestDenied"));
    let result = summaries.fresh(&denied, &licences, FABRIKAM).await;
    assert!(
        matches!(
            result,
            Err(OpsError::Directory(DirectoryError::Upstream {
                status: 403,
                ..
            }))
        ),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Summaries and the fleet
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn concurrent_summaries_of_one_tenant_share_one_read() {
    let Summaries {
        tenants,
        registrations,
    } = Summaries::new();
    let mut report = FakeReport::with_users(CONTOSO, vec![vec![user("ada", true)]]);
    report.gate = Some(tokio::sync::Semaphore::new(0));
    let licences = FakeLicences::premium();
    let caller = reader();
    let ask = || {
        summary(
            &registrations,
            &tenants,
            reporting(&report, &licences),
            &caller,
            CONTOSO,
            None,
        )
    };
    // The first read is held at the gate until every request has asked.
    let open_gate = async {
        tokio::task::yield_now().await;
        report.gate.as_ref().expect("gate").add_permits(10);
    };
    let (a, b, c, ()) = futures::join!(ask(), ask(), ask(), open_gate);
    let (a, b, c) = (a.expect("a"), b.expect("b"), c.expect("c"));
    assert_eq!(report.reads(), 1, "one Graph read for three callers");
    assert_eq!(a.etag, b.etag);
    assert_eq!(b.etag, c.etag);
    assert_eq!(a.summary.total_users, 1);
    // Served from the cache afterwards, too.
    ask().await.expect("cached");
    assert_eq!(report.reads(), 1);
}

#[tokio::test]
async fn a_failing_tenant_does_not_stop_the_fleet_and_says_why() {
    let Summaries {
        tenants,
        registrations,
    } = Summaries::new();
    let mut report = FakeReport::default();
    report.pages.insert(
        CONTOSO.into(),
        vec![vec![user("ada", true)], vec![user("bo", false)]],
    );
    report
        .pages
        .insert(NORTHWIND.into(), vec![vec![user("cy", true)]]);
    report
        .failures
        .insert(FABRIKAM.into(), (503, "serviceUnavailable"));
    let licences = FakeLicences::premium();
    let caller = reader();
    let asked = FleetSelection::Named(vec![
        "contoso.example".into(),
        FABRIKAM.into(),
        "northwind.example".into(),
        "CONTOSO.example".into(),
    ]);
    let targets = fleet_targets(&tenants, &caller, &asked).expect("all accessible");
    let ids: Vec<&str> = targets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, [CONTOSO, FABRIKAM, NORTHWIND], "as asked, each once");
    let results: Vec<(std::sync::Arc<ManagedTenant>, Result<SummaryRead, OpsError>)> =
        fleet(&registrations, reporting(&report, &licences), targets, None)
            .collect()
            .await;
    assert_eq!(results.len(), 3, "every tenant answers");
    let by_id: HashMap<&str, &Result<SummaryRead, OpsError>> = results
        .iter()
        .map(|(tenant, result)| (tenant.id.as_str(), result))
        .collect();
    let totals = |id: &str| match by_id[id] {
        Ok(read) => read.summary.total_users,
        Err(error) => panic!("{id}: {error}"),
    };
    assert_eq!(totals(CONTOSO), 2);
    assert_eq!(totals(NORTHWIND), 1);
    assert!(
        matches!(
            by_id[FABRIKAM],
            Err(OpsError::Directory(DirectoryError::Upstream {
                status: 503,
                ..
            }))
        ),
        "the failed tenant carries Graph's error: {:?}",
        by_id[FABRIKAM]
    );
}

#[test]
fn the_fleet_refuses_an_unknown_or_inaccessible_tenant_before_any_read() {
    let tenants = registry();
    let unknown = FleetSelection::Named(vec!["contoso.example".into(), "nowhere.example".into()]);
    assert!(matches!(
        fleet_targets(&tenants, &reader(), &unknown),
        Err(OpsError::UnknownTenant(_))
    ));
    let no_role = Caller::for_tests(&[]);
    assert!(matches!(
        fleet_targets(&tenants, &no_role, &FleetSelection::All),
        Err(OpsError::Forbidden(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Listings and cursors
// ---------------------------------------------------------------------------------------------

fn parse(params: FilterParams<'_>) -> RegistrationFilter {
    RegistrationFilter::parse(params).expect("valid")
}

struct Fixture {
    tenants: TenantRegistry,
    report: FakeReport,
    licences: FakeLicences,
    cursors: CursorSigner,
}

impl Fixture {
    /// Contoso and Fabrikam with five users each over three pages, every other one registered.
    fn new() -> Fixture {
        let users = |prefix: &str| -> Vec<Vec<Registration>> {
            let all: Vec<Registration> = (0..5)
                .map(|i| user(&format!("{prefix}{i}"), i % 2 == 0))
                .collect();
            all.chunks(2).map(<[Registration]>::to_vec).collect()
        };
        let mut report = FakeReport::default();
        report.pages.insert(CONTOSO.into(), users("c"));
        report.pages.insert(FABRIKAM.into(), users("f"));
        Fixture {
            tenants: registry(),
            report,
            licences: FakeLicences::premium(),
            cursors: CursorSigner::random(time::Duration::hours(1)),
        }
    }

    fn sources(&self) -> ListingSources<'_> {
        ListingSources {
            tenants: &self.tenants,
            reporting: reporting(&self.report, &self.licences),
            cursors: &self.cursors,
        }
    }

    /// One JSON page: its users' UPNs and its next cursor.
    async fn page(
        &self,
        tenant: &str,
        filter: &RegistrationFilter,
        pushdown: bool,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<String>, Option<String>), OpsError> {
        let caller = reader();
        let request = ListingRequest {
            caller: &caller,
            tenant,
            filter,
            pushdown,
            cursor,
        };
        let listing = open(self.sources(), request).await?;
        let page = page(&listing, limit).await?;
        let upns = page
            .records
            .iter()
            .map(|r| r.user_principal_name.clone())
            .collect();
        Ok((upns, page.next.as_ref().map(|p| listing.cursor(p))))
    }
}

#[tokio::test]
async fn cursors_walk_the_listing_across_report_pages_without_an_empty_last_page() {
    let fixture = Fixture::new();
    let non_admins = parse(FilterParams {
        admin: Some("false"), // Kept in the service; every sample user is an admin.
        ..Default::default()
    });
    let everyone = parse(FilterParams::default());
    let (first, cursor) = fixture
        .page(CONTOSO, &everyone, true, None, 2)
        .await
        .expect("first page");
    assert_eq!(first, ["c0", "c1"]);
    let (second, cursor) = fixture
        .page(CONTOSO, &everyone, true, cursor.as_deref(), 2)
        .await
        .expect("second page");
    assert_eq!(second, ["c2", "c3"]);
    let (last, cursor) = fixture
        .page(CONTOSO, &everyone, true, cursor.as_deref(), 2)
        .await
        .expect("last page");
    assert_eq!((last, cursor), (vec!["c4".to_owned()], None));
    // The service-side condition drops every record.
    let (none, cursor) = fixture
        .page(CONTOSO, &non_admins, true, None, 2)
        .await
        .expect("filtered");
    assert!(none.is_empty() && cursor.is_none(), "{none:?}");
}

#[tokio::test]
async fn a_cursor_from_another_query_or_tenant_is_refused_before_any_read() {
    let fixture = Fixture::new();
    let everyone = parse(FilterParams::default());
    let (_, cursor) = fixture
        .page(CONTOSO, &everyone, true, None, 2)
        .await
        .expect("first page");
    let cursor = cursor.expect("more users");
    let (reads, skus) = (fixture.report.reads(), fixture.licences.reads());
    let guests = parse(FilterParams {
        user_type: Some("guest"),
        ..Default::default()
    });
    let refusals = [
        ("another filter", CONTOSO, &guests, true),
        ("another pushdown", CONTOSO, &everyone, false),
        ("another tenant", FABRIKAM, &everyone, true),
    ];
    for (why, tenant, filter, pushdown) in refusals {
        let result = fixture
            .page(tenant, filter, pushdown, Some(&cursor), 2)
            .await;
        assert!(
            matches!(result, Err(OpsError::BadCursor(_))),
            "{why}: {result:?}"
        );
    }
    assert_eq!(
        fixture.report.reads(),
        reads,
        "no report read for a refused cursor"
    );
    assert_eq!(fixture.licences.reads(), skus, "nor a licence read");
    // The same query takes it.
    let (next, _) = fixture
        .page(CONTOSO, &everyone, true, Some(&cursor), 2)
        .await
        .expect("same query");
    assert_eq!(next, ["c2", "c3"]);
}

#[tokio::test]
async fn a_signed_cursor_whose_link_is_not_the_reports_is_refused() {
    let fixture = Fixture::new();
    let everyone = parse(FilterParams::default());
    let caller = reader();
    let request = ListingRequest {
        caller: &caller,
        tenant: CONTOSO,
        filter: &everyone,
        pushdown: true,
        cursor: None,
    };
    let listing = open(fixture.sources(), request).await.expect("opens");
    let foreign = listing.cursor(&Position {
        link: "users?$select=id".into(),
        index: 0,
    });
    let result = fixture
        .page(CONTOSO, &everyone, true, Some(&foreign), 2)
        .await;
    assert!(matches!(result, Err(OpsError::BadCursor(_))), "{result:?}");
}

#[tokio::test]
async fn a_streamed_listing_applies_the_residual_and_a_first_page_failure_is_the_requests() {
    let fixture = Fixture::new();
    let caller = reader();
    let registered = parse(FilterParams {
        sspr: Some("registered"),
        ..Default::default()
    });
    let request = ListingRequest {
        caller: &caller,
        tenant: CONTOSO,
        filter: &registered,
        pushdown: false,
        cursor: None,
    };
    let listing = open(fixture.sources(), request).await.expect("opens");
    let rows: Vec<String> = records(&listing)
        .await
        .expect("first page arrives")
        .map(|r| r.expect("row").user_principal_name)
        .collect()
        .await;
    assert_eq!(rows, ["c0", "c2", "c4"], "filtered in the service");

    let mut refused = FakeReport::default();
    refused.failures.insert(CONTOSO.into(), (403, NON_PREMIUM));
    let licences = FakeLicences::unreadable();
    let sources = ListingSources {
        reporting: reporting(&refused, &licences),
        ..fixture.sources()
    };
    let listing = open(sources, request).await.expect("opens");
    assert!(matches!(
        records(&listing).await.err(),
        Some(OpsError::LicenseRequired { .. })
    ));
}
