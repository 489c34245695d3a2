//! The end-to-end harness: a fresh emulator and service per test, on free loopback ports, wired
//! exactly as the demo and production are (HTTPS to the emulator, real tokens, real JWKS).

use std::net::SocketAddr;
use std::time::Duration;

use entra_emulator::{Emulator, EmulatorConfig, GeneratorSpec, TokenSpec, seed};
use sspr_client::{Auth, ClientOptions, SsprClient};
use sspr_service::config::{CredentialConfig, TenantConfig};
use sspr_service::{Application, Config, RunningService};

pub use entra_emulator;
pub use sspr_client;

pub struct World {
    pub emulator: Emulator,
    pub service: RunningService,
    pub http: reqwest::Client,
}

/// A tenant the emulator generated (`tenant0001.onmicrosoft.com`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedTenant {
    pub id: String,
    pub domain: String,
}

impl World {
    /// Emulator + service with the demo configuration.
    pub async fn start() -> World {
        World::start_with(|_| {}).await
    }

    /// Emulator + service, the demo configuration changed by `adjust` first.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> World {
        World::start_generated(0, 0, adjust).await.0
    }

    /// Emulator with `tenants` generated tenants of `users` users each besides the seeded ones,
    /// and the service managing the demo tenants and every generated one (Graph app credential,
    /// no portal connector), each in every access grant of the demo configuration. `adjust`
    /// changes the configuration last. Returns the generated tenants too, in domain order.
    pub async fn start_generated(
        tenants: usize,
        users: usize,
        adjust: impl FnOnce(&mut Config),
    ) -> (World, Vec<GeneratedTenant>) {
        World::generated(tenants, users, false, adjust).await
    }

    /// As [`World::start_generated`], each generated tenant also with the portal back end's
    /// connector (its Global Administrator's refresh token), as Contoso has.
    pub async fn start_generated_with_portal(
        tenants: usize,
        users: usize,
        adjust: impl FnOnce(&mut Config),
    ) -> (World, Vec<GeneratedTenant>) {
        World::generated(tenants, users, true, adjust).await
    }

    async fn generated(
        tenants: usize,
        users: usize,
        with_portal: bool,
        adjust: impl FnOnce(&mut Config),
    ) -> (World, Vec<GeneratedTenant>) {
        let emulator = Emulator::start(EmulatorConfig::default())
            .await
            .expect("emulator starts");
        let mut config =
            sspr_service::demo::config_for(&emulator, SocketAddr::from(([127, 0, 0, 1], 0)));
        let mut generated = Vec::new();
        if tenants > 0 {
            emulator.reseed(GeneratorSpec {
                tenants,
                users_per_tenant: users,
                seed: 7,
            });
            generated = emulator.with_directory(|d| {
                d.tenants
                    .iter()
                    .filter(|t| t.domain.starts_with("tenant"))
                    .map(|t| GeneratedTenant {
                        id: t.id.clone(),
                        domain: t.domain.clone(),
                    })
                    .collect::<Vec<_>>()
            });
            generated.sort_by(|a, b| a.domain.cmp(&b.domain));
            for tenant in &generated {
                config.tenants.push(TenantConfig {
                    id: tenant.id.clone(),
                    domains: vec![tenant.domain.clone()],
                    display_name: None,
                    tags: Vec::new(),
                    credential: CredentialConfig::ClientSecret {
                        client_id: seed::GRAPH_APP_CLIENT_ID.to_owned(),
                        client_secret: emulator.graph_app_secret().into(),
                    },
                    portal: with_portal
                        .then(|| emulator.admin_refresh_token(&tenant.id))
                        .flatten()
                        .map(|refresh_token| sspr_service::config::PortalConfig {
                            refresh_token: refresh_token.into(),
                            client_id: sspr_service::config::AZURE_POWERSHELL_CLIENT_ID.to_owned(),
                        }),
                });
                for grant in &mut config.auth.access {
                    grant.tenants.push(tenant.domain.clone());
                }
            }
        }
        adjust(&mut config);
        let service = Application::build(config)
            .await
            .expect("service builds")
            .spawn();
        let world = World {
            emulator,
            service,
            http: reqwest::Client::new(),
        };
        (world, generated)
    }

    /// A token for the service from the operator tenant, as the demo operator, with `roles`.
    pub fn token(&self, roles: &[&str]) -> String {
        self.emulator.mint_token(&TokenSpec {
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            ..TokenSpec::default()
        })
    }

    pub fn client(&self, token: String) -> SsprClient {
        SsprClient::new(
            self.service.url.clone(),
            Auth::Token(token),
            ClientOptions {
                ca_file: None,
                timeout: Duration::from_secs(30),
            },
        )
        .expect("client builds")
    }

    /// A client with the SSPR.ReadWrite role and access to both demo tenants.
    pub fn operator(&self) -> SsprClient {
        self.client(self.token(&["SSPR.ReadWrite"]))
    }

    /// GET `path` on the service with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .get(self.service.url.join(path).expect("path joins"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("service answers")
    }

    /// `method path` on the service with a bearer token and an optional JSON body: the status
    /// and the JSON answer (`null` when the body is not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let url = self.service.url.join(path).expect("path joins");
        let mut request = self.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("service answers");
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// The fleet summary of `tenants` (a `tenants=` query) as NDJSON text, expecting a 200.
    pub async fn fleet_ndjson(&self, tenants: &str, token: &str) -> String {
        let url = self
            .service
            .url
            .join(&format!("v1/registrations/summary?tenants={tenants}"))
            .expect("path joins");
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .header("accept", "application/x-ndjson")
            .send()
            .await
            .expect("service answers");
        assert_eq!(response.status(), 200, "tenants={tenants}");
        response.text().await.expect("body")
    }

    /// Graph calls the emulator served for both customer tenants.
    pub fn customer_graph_calls(&self) -> usize {
        self.emulator.graph_requests(seed::CONTOSO_ID)
            + self.emulator.graph_requests(seed::FABRIKAM_ID)
    }
}
