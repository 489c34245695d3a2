//! The REST surface: routes, the caller extractor, the OpenAPI document. Handlers stay thin:
//! they call one use case in `ops` and turn its answer into HTTP.

pub mod audit;
mod health;
mod policy;
pub mod problem;
mod protection;
mod registrations;
mod tenants;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::{Authenticator, Caller};
use crate::directory::graph::Graph;
use crate::directory::tenants::TenantRegistry;
use crate::store::Store;
use problem::ApiError;

/// Everything a handler may use.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub auth: Authenticator,
    pub tenants: TenantRegistry,
    pub graph: Graph,
    /// The embedded store; `store.audit()` is the audit trail.
    pub store: Store,
    /// Registration reporting's licence verdicts and summary cache.
    pub registrations: crate::ops::registrations::Registrations,
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

/// A caller whose bearer token verified.
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(crate::auth::AuthError::Missing)?;
        let token = header
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthenticated("the Authorization header is not 'Bearer <token>'".into())
            })?;
        let caller = state.auth.verify(token).await?;
        Ok(Authenticated(caller))
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "sspr", description = "Reads and sets the Entra ID self-service password reset policy across tenants. Every value says where it came from: graph, portal, inferred or unavailable."),
    modifiers(&BearerAuth),
    components(schemas(problem::Problem)),
    tags(
        (name = "tenants", description = "The tenants the caller may act on"),
        (name = "policy", description = "The tenant's SSPR policy document"),
        (name = "audit", description = "The audit trail of write attempts"),
        (name = "registrations", description = "Who registered which authentication methods: listings, summaries, the fleet"),
        (name = "registration-protection", description = "The Conditional Access policy that guards security-info registration: plan, grade, deploy, generate"),
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

/// Every documented route. `routes!` only accepts handlers that carry `#[utoipa::path]`, so a
/// route added here cannot be missing from the document.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(tenants::list))
        .routes(routes!(policy::get, policy::patch))
        .routes(routes!(audit::list))
        .routes(routes!(protection::plan))
        .routes(routes!(protection::status, protection::apply))
        .routes(routes!(protection::generate))
        .routes(routes!(registrations::list))
        .routes(routes!(registrations::summary))
        .routes(routes!(registrations::fleet))
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

pub fn router(state: AppState) -> Router {
    let (routes, api) = documented_parts();
    routes
        // The only routes outside the document: the document itself and its viewer.
        .merge(SwaggerUi::new("/docs").url("/openapi.json", api))
        .fallback(problem::no_route)
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::new([AUTHORIZATION]))
        .with_state(state)
}
