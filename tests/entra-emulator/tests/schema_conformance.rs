//! Walks every Graph GET route the emulator serves, on v1.0 and beta, for a seeded tenant and a
//! generated one, and validates every body against Microsoft's schema: the v1.0 CSDL (closed, so
//! an invented property fails even on open types) and the beta name lists. A route the walk does
//! not know fails the test, so a new route cannot go unchecked.

use std::collections::BTreeSet;

use entra_emulator::{Emulator, EmulatorConfig, GeneratorSpec, ThrottleConfig, TokenSpec, seed};
use graph_schema::{Allow, Schema, Violation, validate_with_allowlist};
use reqwest::Method;
use serde_json::Value;

/// Where live Graph departs from its own v1.0 schema and graph-api.md documents it. Each entry
/// is one quirk the emulator reproduces on purpose; nothing else is tolerated.
const V1_QUIRKS: &[Allow<'static>] = &[
    Allow {
        pointer_suffix: "/registrationEnforcement/authenticationMethodsRegistrationCampaign/enforceRegistrationAfterAllowedSnoozes",
        reason: "graph-api.md §1.3: live v1.0 responses carry it though only the beta schema declares it",
    },
    Allow {
        pointer_suffix: "/value/*/userPreferredMethodForSecondaryAuthentication",
        reason: "graph-api.md §4.2/§10: Graph emits \"\" (not an enum member) when the user has no preferred method",
    },
    Allow {
        pointer_suffix: "/userPreferredMethodForSecondaryAuthentication",
        reason: "graph-api.md §4.2/§10: the same empty string on the single-user GET",
    },
    // `controlScore` is an open type; graph-api.md §7.2 documents these members as what live
    // Graph sends in each control score. The closed check would otherwise refuse them.
    Allow {
        pointer_suffix: "/controlScores/*/count",
        reason: "open type, graph-api.md §7.2",
    },
    Allow {
        pointer_suffix: "/controlScores/*/total",
        reason: "open type, graph-api.md §7.2",
    },
    Allow {
        pointer_suffix: "/controlScores/*/implementationStatus",
        reason: "open type, graph-api.md §7.2",
    },
    Allow {
        pointer_suffix: "/controlScores/*/lastSynced",
        reason: "open type, graph-api.md §7.2",
    },
    Allow {
        pointer_suffix: "/controlScores/*/scoreInPercentage",
        reason: "open type, graph-api.md §7.2",
    },
];

/// Beta bodies are checked by name only; these names are missing from Microsoft's beta lists.
const BETA_QUIRKS: &[Allow<'static>] = &[
    Allow {
        pointer_suffix: "/crlValidationConfiguration",
        reason: "x509 certificate configuration: declared in v1.0, absent from the beta name lists we have",
    },
    // The settings catalog's instance and value types are beta only, so the v1.0 chain that
    // finds inherited names is missing: these are their bases' own names in the beta lists.
    Allow {
        pointer_suffix: "/settingInstance/settingDefinitionId",
        reason: "inherited from deviceManagementConfigurationSettingInstance",
    },
    Allow {
        pointer_suffix: "/settingInstance/settingInstanceTemplateReference",
        reason: "inherited from deviceManagementConfigurationSettingInstance",
    },
    Allow {
        pointer_suffix: "/choiceSettingValue/settingValueTemplateReference",
        reason: "inherited from deviceManagementConfigurationSettingValue",
    },
];

/// The schema type of each GET route, and whether it answers with a collection.
fn type_of(pattern: &str) -> Option<(&'static str, bool)> {
    Some(match pattern {
        "organization" => ("organization", true),
        "groups" => ("group", true),
        "groups/{id}/members" => ("directoryObject", true),
        "policies/authenticationMethodsPolicy" => ("authenticationMethodsPolicy", false),
        "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}" => {
            ("authenticationMethodConfiguration", false)
        }
        "policies/authorizationPolicy" => ("authorizationPolicy", false),
        "subscribedSkus" => ("subscribedSku", true),
        "subscribedSkus/{id}" => ("subscribedSku", false),
        "security/secureScores" => ("secureScore", true),
        "security/secureScores/{id}" => ("secureScore", false),
        "security/secureScoreControlProfiles" => ("secureScoreControlProfile", true),
        "security/secureScoreControlProfiles/{id}" => ("secureScoreControlProfile", false),
        // `recommendation` declares nothing of its own; the beta lists carry no base types, so
        // its properties are checked against its base, `recommendationBase`.
        "directory/recommendations" => ("recommendationBase", true),
        "directory/recommendations/{id}" => ("recommendationBase", false),
        "reports/authenticationMethods/userRegistrationDetails" => {
            ("userRegistrationDetails", true)
        }
        "reports/authenticationMethods/userRegistrationDetails/{id}" => {
            ("userRegistrationDetails", false)
        }
        "reports/authenticationMethods/usersRegisteredByFeature(*)" => {
            ("userRegistrationFeatureSummary", false)
        }
        "reports/authenticationMethods/usersRegisteredByMethod(*)" => {
            ("userRegistrationMethodSummary", false)
        }
        "identity/conditionalAccess/policies" => ("conditionalAccessPolicy", true),
        "identity/conditionalAccess/policies/{id}" => ("conditionalAccessPolicy", false),
        "identity/conditionalAccess/namedLocations" => ("namedLocation", true),
        "identity/conditionalAccess/namedLocations/{id}" => ("namedLocation", false),
        "tenantRelationships/delegatedAdminRelationships" => ("delegatedAdminRelationship", true),
        "tenantRelationships/delegatedAdminCustomers" => ("delegatedAdminCustomer", true),
        "contracts" => ("contract", true),
        "deviceManagement/configurationPolicies" => ("deviceManagementConfigurationPolicy", true),
        "deviceManagement/configurationPolicies/{id}" => {
            ("deviceManagementConfigurationPolicy", false)
        }
        "deviceManagement/configurationPolicies/{id}/settings" => {
            ("deviceManagementConfigurationSetting", true)
        }
        "deviceManagement/configurationPolicies/{id}/assignments" => {
            ("deviceManagementConfigurationPolicyAssignment", true)
        }
        "deviceManagement/deviceConfigurations" => ("deviceConfiguration", true),
        _ => return None,
    })
}

/// The concrete paths to request for a pattern: ids come from the parent resource's answer.
async fn paths_for(walker: &Walker, version: &str, pattern: &str) -> Vec<String> {
    if pattern.ends_with("(*)") {
        let call = if pattern.contains("ByFeature") {
            "usersRegisteredByFeature(includedUserTypes='all',includedUserRoles='all')"
        } else {
            "usersRegisteredByMethod(includedUserTypes='all',includedUserRoles='all')"
        };
        return vec![format!("reports/authenticationMethods/{call}")];
    }
    if pattern == "groups/{id}/members" {
        let (_, body) = walker.get(version, "groups", false).await;
        return body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["id"].as_str())
            .take(3)
            .map(|id| format!("groups/{id}/members"))
            .collect();
    }
    // A policy's navigation collections (`…/{id}/settings`): one path per listed policy.
    if let Some((parent, navigation)) = pattern.split_once("/{id}/") {
        let (_, body) = walker.get(version, parent, false).await;
        return body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["id"].as_str())
            .take(3)
            .map(|id| format!("{parent}/{id}/{navigation}"))
            .collect();
    }
    let Some(parent) = pattern.strip_suffix("/{id}") else {
        return vec![pattern.to_owned()];
    };
    // Method configurations are inlined in their parent policy rather than listed.
    let (list_path, member) = match parent {
        "policies/authenticationMethodsPolicy/authenticationMethodConfigurations" => (
            "policies/authenticationMethodsPolicy",
            "authenticationMethodConfigurations",
        ),
        other => (other, "value"),
    };
    let (_, body) = walker.get(version, list_path, false).await;
    let ids: Vec<String> = body[member]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["id"].as_str().map(str::to_owned))
                .take(5)
                .collect()
        })
        .unwrap_or_default();
    // A tenant may have none (fabrikam has no CA policies); the test checks that every route
    // was walked for some tenant.
    ids.iter().map(|id| format!("{parent}/{id}")).collect()
}

struct Walker {
    emulator: Emulator,
    http: reqwest::Client,
    app_token: String,
    delegated_token: String,
}

impl Walker {
    fn new(emulator: Emulator, tenant_id: &str) -> Walker {
        let http = reqwest::Client::builder()
            .tls_certs_only(
                reqwest::Certificate::from_pem_bundle(emulator.ca_pem().as_bytes()).expect("ca"),
            )
            .build()
            .expect("client");
        let mut app = TokenSpec {
            tenant_id: tenant_id.into(),
            audience: seed::GRAPH_RESOURCE.into(),
            app_id: seed::GRAPH_APP_CLIENT_ID.into(),
            ..TokenSpec::default()
        };
        app.roles = seed::GRAPH_APP_PERMISSIONS
            .iter()
            .map(|p| (*p).to_owned())
            .collect();
        app.roles.push("DirectoryRecommendations.Read.All".into());
        // The partner routes (GDAP, contracts): what the MSP app holds in its own tenant.
        app.roles.extend(
            seed::GRAPH_APP_OPERATOR_PERMISSIONS
                .iter()
                .map(|p| (*p).to_owned()),
        );
        let app_token = emulator.mint_token(&app);
        let delegated_token = emulator.mint_token(&TokenSpec {
            roles: vec![],
            scp: Some("AuditLog.Read.All Policy.Read.All".into()),
            ..app
        });
        Walker {
            emulator,
            http,
            app_token,
            delegated_token,
        }
    }

    async fn get(&self, version: &str, path: &str, delegated: bool) -> (u16, Value) {
        let url = format!("{}{version}/{path}", self.emulator.base_url());
        let token = if delegated {
            &self.delegated_token
        } else {
            &self.app_token
        };
        let response = self
            .http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("emulator answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn check(
    version: &str,
    type_name: &str,
    collection: bool,
    body: &Value,
) -> Result<(), Vec<Violation>> {
    if version == "v1.0" {
        let schema = Schema::v1_closed();
        let result = if collection {
            schema.validate_collection(type_name, body)
        } else {
            schema.validate(type_name, body)
        };
        validate_with_allowlist(result, V1_QUIRKS)
    } else {
        let names = Schema::beta();
        let result = if collection {
            names.validate_collection(type_name, body)
        } else {
            names.validate(type_name, body)
        };
        validate_with_allowlist(result, BETA_QUIRKS)
    }
}

/// Walks every GET route for the walker's tenant; returns the `version pattern`s it requested.
async fn walk(walker: &Walker, label: &str) -> BTreeSet<String> {
    let mut failures = Vec::new();
    let mut walked = BTreeSet::new();
    let mut unknown = BTreeSet::new();
    for (method, pattern, versions) in entra_emulator::graph_routes() {
        if method != Method::GET {
            continue;
        }
        let Some((type_name, collection)) = type_of(pattern) else {
            unknown.insert(pattern);
            continue;
        };
        let delegated = pattern.ends_with("(*)");
        for version in versions {
            for path in paths_for(walker, version, pattern).await {
                let (status, body) = walker.get(version, &path, delegated).await;
                walked.insert(format!("{version} {pattern}"));
                if status == 403
                    && body["error"]["code"]
                        == "Authentication_RequestFromNonPremiumTenantOrB2CTenant"
                {
                    continue; // A tenant without P1 answers reports with Graph's licence error.
                }
                if status == 400
                    && body["error"]["message"] == "Request not applicable to target tenant."
                {
                    continue; // A tenant without Intune answers Intune's routes so.
                }
                if status != 200 {
                    failures.push(format!("{label} GET {version}/{path}: {status} {body}"));
                    continue;
                }
                if let Err(violations) = check(version, type_name, collection, &body) {
                    for v in violations {
                        failures.push(format!("{label} GET {version}/{path} as {type_name}: {v}"));
                    }
                }
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "routes the walk does not know (add them to type_of): {unknown:?}"
    );
    assert!(
        failures.is_empty(),
        "{} schema failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    walked
}

fn config(generate: Option<GeneratorSpec>) -> EmulatorConfig {
    EmulatorConfig {
        // The walk makes many report calls in a burst; throttling has its own tests.
        throttling: ThrottleConfig {
            enabled: false,
            ..ThrottleConfig::default()
        },
        generate,
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn every_get_route_serves_schema_valid_json_for_the_seeded_tenants() {
    let emulator = Emulator::start(config(None)).await.expect("emulator");
    let mut walked = walk(&Walker::new(emulator.clone(), seed::CONTOSO_ID), "contoso").await;
    walked.extend(
        walk(
            &Walker::new(emulator.clone(), seed::FABRIKAM_ID),
            "fabrikam",
        )
        .await,
    );
    walked.extend(
        walk(
            &Walker::new(emulator.clone(), seed::TAILSPIN_ID),
            "tailspin",
        )
        .await,
    );
    // The partner tenant: the only one whose GDAP and contract collections are not empty.
    walked.extend(
        walk(
            &Walker::new(emulator.clone(), seed::OPERATOR_ID),
            "operator",
        )
        .await,
    );
    let every_get: BTreeSet<String> = entra_emulator::graph_routes()
        .into_iter()
        .filter(|(method, ..)| method == Method::GET)
        .flat_map(|(_, pattern, versions)| {
            versions.into_iter().map(move |v| format!("{v} {pattern}"))
        })
        .collect();
    let missed: Vec<&String> = every_get.difference(&walked).collect();
    assert!(
        missed.is_empty(),
        "GET routes no seeded tenant exercised: {missed:?}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn generated_tenants_serve_schema_valid_json_too() {
    let spec = GeneratorSpec {
        tenants: 4,
        users_per_tenant: 150,
        seed: 7,
    };
    let emulator = Emulator::start(config(Some(spec))).await.expect("emulator");
    let generated: Vec<String> = emulator.with_directory(|d| {
        d.tenants
            .iter()
            .map(|t| t.id.clone())
            .filter(|id| {
                ![
                    seed::CONTOSO_ID,
                    seed::FABRIKAM_ID,
                    seed::OPERATOR_ID,
                    seed::TAILSPIN_ID,
                ]
                .contains(&id.as_str())
            })
            .collect()
    });
    assert_eq!(generated.len(), 4);
    for id in &generated {
        walk(&Walker::new(emulator.clone(), id), id).await;
    }
    emulator.shutdown().await;
}
