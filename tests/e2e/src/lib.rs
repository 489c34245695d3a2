//! The end-to-end harness: a fresh emulator and service per test, on free loopback ports, wired
//! exactly as the demo and production are (HTTPS to the emulator, real tokens, real JWKS).

use std::net::SocketAddr;
use std::time::Duration;

use entra_emulator::{Emulator, EmulatorConfig, TokenSpec, seed};
use sspr_client::{Auth, ClientOptions, SsprClient};
use sspr_service::{Application, Config, RunningService};

pub use entra_emulator;
pub use sspr_client;

pub struct World {
    pub emulator: Emulator,
    pub service: RunningService,
    pub http: reqwest::Client,
}

impl World {
    /// Emulator + service with the demo configuration.
    pub async fn start() -> World {
        World::start_with(|_| {}).await
    }

    /// Emulator + service, the demo configuration changed by `adjust` first.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> World {
        let emulator = Emulator::start(EmulatorConfig::default())
            .await
            .expect("emulator starts");
        let mut config =
            sspr_service::demo::config_for(&emulator, SocketAddr::from(([127, 0, 0, 1], 0)));
        adjust(&mut config);
        let service = Application::build(config)
            .await
            .expect("service builds")
            .spawn();
        World {
            emulator,
            service,
            http: reqwest::Client::new(),
        }
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

    /// Graph calls the emulator served for both customer tenants.
    pub fn customer_graph_calls(&self) -> usize {
        self.emulator.graph_requests(seed::CONTOSO_ID)
            + self.emulator.graph_requests(seed::FABRIKAM_ID)
    }
}
