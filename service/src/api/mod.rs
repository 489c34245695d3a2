//! The REST surface: routes, the application state, the OpenAPI document. Handlers stay thin:
//! they call one use case in `ops` and turn its answer into HTTP.

mod access;
pub mod audit;
mod caching;
mod deadline;
mod edge;
pub mod extract;
mod health;
mod partner;
mod policy;
pub mod problem;
mod protection;
mod readiness;
mod registrations;
pub mod responses;
mod tenants;
mod unique_keys;
mod windows_link;

use std::sync::Arc;

use axum::Router;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, Request};
use axum::middleware;
use tower::util::MapRequestLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::Authenticator;
use crate::config::ServerConfig;
use crate::directory::tenants::TenantRegistry;
pub use extract::Authenticated;
use responses::SharedResponses;

/// Everything a handler may use.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub auth: Authenticator,
    pub tenants: TenantRegistry,
    /// Builds the tenants onboarded at run time.
    pub tenant_builder: crate::directory::tenants::TenantBuilder,
    /// The tenants and access grants made through the API.
    pub tenant_store: Arc<dyn crate::capabilities::tenant_store::TenantStore>,
    /// Which tenant a verified domain belongs to (OpenID Connect discovery).
    pub tenant_discovery: Arc<dyn crate::capabilities::tenant_discovery::TenantDiscovery>,
    /// The partner tenant's GDAP relationships and contracts (the Graph adapter).
    pub partner_directory: Arc<dyn crate::capabilities::partner_directory::PartnerDirectory>,
    /// How tenants are onboarded: sealing, the default app, consent, the partner tenant.
    pub tenancy: crate::ops::onboarding::Tenancy,
    /// The audit trail.
    pub audit: Arc<dyn crate::capabilities::audit_log::AuditLog>,
    /// Registration reporting's licence verdicts and summary cache.
    pub registrations: crate::ops::registrations::Registrations,
    /// The policy documents' cache.
    pub policies: crate::ops::policy::Policies,
    /// Graph's side of the SSPR policy.
    pub policy_directory: Arc<dyn crate::capabilities::policy_directory::PolicyDirectory>,
    /// The portal back end's side of the SSPR policy.
    pub password_reset_portal:
        Arc<dyn crate::capabilities::password_reset_portal::PasswordResetPortal>,
    /// Signs and checks paging cursors.
    pub cursors: crate::ops::cursor::CursorSigner,
    /// Conditional Access (the Graph adapter).
    pub conditional_access: Arc<dyn crate::capabilities::conditional_access::ConditionalAccess>,
    /// The registration report (the Graph adapter).
    pub registration_report: Arc<dyn crate::capabilities::registration_report::RegistrationReport>,
    /// The tenants' licences (the Graph adapter).
    pub licences: Arc<dyn crate::capabilities::licences::Licences>,
    /// The application permissions the tenants granted (read from their tokens).
    pub permissions: Arc<dyn crate::capabilities::app_permissions::AppPermissions>,
    /// Secure Score (the Graph adapter), for readiness's points.
    pub secure_score: Arc<dyn crate::capabilities::secure_score::SecureScore>,
    /// Intune's device configuration (the Graph adapter), for the Windows sign-in link.
    pub device_configuration:
        Arc<dyn crate::capabilities::device_configuration::DeviceConfiguration>,
    /// What the readiness checks are decided against, and the fleet's fan-out.
    pub readiness: crate::ops::readiness::ReadinessSettings,
    /// On once the service is shutting down: `/readyz` then answers 503.
    pub draining: crate::server::Draining,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "sspr", description = "Reads and sets the Entra ID self-service password reset policy across tenants. Every value says where it came from: graph, portal, inferred or unavailable."),
    modifiers(&BearerAuth, &SharedResponses),
    components(schemas(problem::Problem)),
    tags(
        (name = "tenants", description = "The tenant registry: the tenants the caller may act on, onboarding, consent and verification"),
        (name = "access", description = "Who may act on which tenants: access grants"),
        (name = "partner", description = "The MSP's own tenant: its GDAP customers"),
        (name = "policy", description = "The tenant's SSPR policy document"),
        (name = "audit", description = "The audit trail of write attempts"),
        (name = "registrations", description = "Who registered which authentication methods: listings, summaries, the fleet"),
        (name = "registration-protection", description = "The Conditional Access policy that guards security-info registration: plan, grade, deploy, generate"),
        (name = "readiness", description = "The SSPR guide's checklist per tenant and across the fleet, as JSON or a page people read, and the users' guide"),
        (name = "windows-reset-link", description = "The Windows sign-in screen's \"Reset password\" link: Intune status, plan, deploy, registry scripts"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// utoipa marks an optional request body (`content = Option<T>`) as not required but also
/// makes its schema nullable; the body may be left out, `null` is not a valid body.
struct OptionalBodies;

impl Modify for OptionalBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{OneOf, Schema, Type};
        use utoipa::openapi::{RefOr, Required};
        let operations = openapi.paths.paths.values_mut().flat_map(|item| {
            [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ]
        });
        for operation in operations.flatten() {
            let Some(RefOr::T(body)) = operation.request_body.as_mut() else {
                continue;
            };
            if body.required == Some(Required::True) {
                continue;
            }
            for content in body.content.values_mut() {
                let RefOr::T(content) = content else {
                    continue;
                };
                let Some(RefOr::T(Schema::OneOf(OneOf { items, .. }))) = &content.schema else {
                    continue;
                };
                let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(o)) if o.schema_type == Type::Null.into());
                if let [only, null] = items.as_slice()
                    && is_null(null)
                {
                    content.schema = Some(only.clone());
                }
            }
        }
    }
}

/// Every documented route: each area lists its own in its `routes()`. `routes!` only accepts
/// handlers that carry `#[utoipa::path]`, so a route cannot be missing from the document.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::routes())
        .merge(tenants::routes())
        .merge(access::routes())
        .merge(partner::routes())
        .merge(policy::routes())
        .merge(audit::routes())
        .merge(protection::routes())
        .merge(windows_link::routes())
        .merge(registrations::routes())
        .merge(readiness::routes())
}

/// The OpenAPI document the service serves at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented_parts().1
}

/// The routes and their document, finished once the operations are in it.
fn documented_parts() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut api) = documented().split_for_parts();
    OptionalBodies.modify(&mut api);
    (routes, api)
}

pub fn router(state: AppState, server: &ServerConfig) -> Router {
    let (routes, api) = documented_parts();
    let routes = routes.route_layer(middleware::from_fn_with_state(
        deadline::Deadlines::from(&server.timeouts),
        deadline::enforce,
    ));
    let app = routes
        // The only routes outside the document: the document itself and its viewer.
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api))
        .method_not_allowed_fallback(problem::method_not_allowed)
        .fallback(problem::no_route);
    edge::layers(app, server)
        .layer(middleware::from_fn(crate::telemetry::http::observe))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(MapRequestLayer::new(drop_unsafe_request_id))
        .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]))
        .with_state(state)
}

/// The span of one request, at `info` so that it is kept wherever request logs are: every line
/// logged while serving the request (the handler's, the use case's, the adapters') carries its
/// `x-request-id`, set by the request-id layer outside this one, its route template, and the
/// tenant its path names (recorded by `telemetry::http::observe`).
fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %request.uri(),
        version = ?request.version(),
        request_id,
        route = crate::telemetry::http::route_of(request),
        tenant = tracing::field::Empty,
    )
}

/// The longest caller-chosen `x-request-id` the service keeps.
const MAX_REQUEST_ID: usize = 128;

/// A caller's `x-request-id` is logged, echoed and kept in audit records, so it is kept only
/// when it is short and harmless there: 1 to 128 of `A-Z a-z 0-9 . _ -`. Otherwise (or when
/// several are sent) it is dropped here, before `SetRequestIdLayer`, which then makes a UUID.
fn drop_unsafe_request_id<B>(mut request: Request<B>) -> Request<B> {
    let mut ids = request.headers().get_all("x-request-id").iter();
    let keep = matches!((ids.next(), ids.next()), (Some(id), None) if is_safe_request_id(id));
    if !keep {
        request.headers_mut().remove("x-request-id");
    }
    request
}

fn is_safe_request_id(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    (1..=MAX_REQUEST_ID).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_ids_of_safe_characters_are_kept() {
        let safe =
            |text: &[u8]| is_safe_request_id(&HeaderValue::from_bytes(text).expect("header"));
        for kept in [
            &b"a"[..],
            b"caller-chosen_1.2",
            b"0f8fad5b-d9cb-469f-a165-70867728950e",
            &[b'x'; MAX_REQUEST_ID],
        ] {
            assert!(safe(kept), "{}", String::from_utf8_lossy(kept));
        }
        for replaced in [
            &b""[..],
            &[b'x'; MAX_REQUEST_ID + 1],
            b"with space",
            b"tab\there",
            b"quote\"d",
            b"it's",
            b"semi;colon",
            b"slash/ed",
            b"%0A",
            "caf\u{e9}".as_bytes(),
            "\u{1F600}".as_bytes(),
        ] {
            assert!(!safe(replaced), "{}", String::from_utf8_lossy(replaced));
        }
        // A newline cannot be in a header value at all (hyper refuses it), and neither here.
        assert!(HeaderValue::from_bytes(b"a\nb").is_err());
    }

    #[test]
    fn the_request_span_carries_the_request_id() {
        use std::sync::{Arc, Mutex};
        use tracing_subscriber::layer::SubscriberExt as _;

        /// Records the `request_id` of every new span.
        struct RequestIds(Arc<Mutex<Vec<String>>>);
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RequestIds {
            fn on_new_span(
                &self,
                attributes: &tracing::span::Attributes<'_>,
                _: &tracing::span::Id,
                _: tracing_subscriber::layer::Context<'_, S>,
            ) {
                struct Visit<'a>(&'a Mutex<Vec<String>>);
                impl tracing::field::Visit for Visit<'_> {
                    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                        if field.name() == "request_id" {
                            self.0.lock().expect("ids").push(value.to_owned());
                        }
                    }
                    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {
                    }
                }
                attributes.record(&mut Visit(&self.0));
            }
        }
        let ids = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(RequestIds(Arc::clone(&ids)));
        tracing::subscriber::with_default(subscriber, || {
            let request = Request::builder()
                .uri("/v1/tenants")
                .header("x-request-id", "req-42")
                .body(())
                .expect("request");
            drop(request_span(&request));
        });
        assert_eq!(*ids.lock().expect("ids"), ["req-42"]);
    }

    #[test]
    fn an_unsafe_or_repeated_id_is_dropped_and_a_safe_one_kept() {
        let request = |ids: &[&str]| {
            let mut builder = Request::builder();
            for id in ids {
                builder = builder.header("x-request-id", *id);
            }
            drop_unsafe_request_id(builder.body(()).expect("request"))
        };
        let kept = request(&["abc-123"]);
        assert_eq!(kept.headers()["x-request-id"], "abc-123");
        for dropped in [&["a b"][..], &["abc", "def"], &[""]] {
            let request = request(dropped);
            assert!(
                request.headers().get("x-request-id").is_none(),
                "{dropped:?}"
            );
        }
    }
}
