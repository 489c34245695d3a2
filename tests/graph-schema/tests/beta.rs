//! Names-only checks of beta bodies against Microsoft's beta type lists.

mod fixtures;

use fixtures::body;
use graph_schema::{Schema, Violation, assert_valid};
use serde_json::{Value, json};

fn messages(result: Result<(), Vec<Violation>>) -> Vec<String> {
    result
        .err()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The §1.10 body as beta serves it: plus the beta-only settings of §1.4/§1.5
/// and the `HardwareOath` configuration, a type that exists only in beta.
fn beta_amp() -> Value {
    let mut amp = body(fixtures::AMP);
    amp["reportSuspiciousActivitySettings"] = json!({ "state": "disabled", "voiceReportingCode": 0, "includeTarget": { "id": "all_users", "targetType": "group" } });
    amp["systemCredentialPreferences"] = json!({ "state": "disabled", "excludeTargets": [], "includeTargets": [ { "id": "all_users", "targetType": "group" } ] });
    let configs = amp["authenticationMethodConfigurations"]
        .as_array_mut()
        .expect("array");
    // The beta lists do not name x509's crlValidationConfiguration (v1.0 does);
    // see `beta_lists_lack_x509_crl_validation_configuration`.
    configs[7]
        .as_object_mut()
        .expect("object")
        .remove("crlValidationConfiguration");
    configs.push(json!({
        "@odata.type": "#microsoft.graph.hardwareOathAuthenticationMethodConfiguration",
        "id": "HardwareOath", "state": "disabled", "excludeTargets": [],
        "includeTargets": [ { "targetType": "group", "id": "all_users", "isRegistrationRequired": false } ]
    }));
    amp
}

#[test]
fn beta_amp_body_passes_including_a_beta_only_configuration_type() {
    // hardwareOath… exists only in beta; its inherited `state`/`excludeTargets`
    // are found through the v1.0 declared type of authenticationMethodConfigurations.
    assert!(
        Schema::v1()
            .structured_type("hardwareOathAuthenticationMethodConfiguration")
            .is_none()
    );
    assert_valid(Schema::beta().validate("authenticationMethodsPolicy", &beta_amp()));
}

#[test]
fn beta_lists_lack_x509_crl_validation_configuration() {
    let result = Schema::beta().validate("authenticationMethodsPolicy", &body(fixtures::AMP));
    assert_eq!(
        messages(result),
        [
            "/authenticationMethodConfigurations/7/crlValidationConfiguration: unknown property \
          'crlValidationConfiguration' on beta type microsoft.graph.x509CertificateAuthenticationMethodConfiguration"
        ]
    );
}

#[test]
fn unknown_top_level_property_is_reported() {
    let mut amp = beta_amp();
    amp["reportSuspiciousActivity"] = json!({});
    assert_eq!(
        messages(Schema::beta().validate("authenticationMethodsPolicy", &amp)),
        [
            "/reportSuspiciousActivity: unknown property 'reportSuspiciousActivity' on beta type microsoft.graph.authenticationMethodsPolicy"
        ]
    );
}

#[test]
fn objects_carrying_odata_type_are_checked_others_are_not() {
    let mut amp = beta_amp();
    amp["authenticationMethodConfigurations"][1]["isUsableForSignIn"] = json!(true);
    // Limit: a nested object without @odata.type is not checked.
    amp["reportSuspiciousActivitySettings"]["notChecked"] = json!(1);
    assert_eq!(
        messages(Schema::beta().validate("authenticationMethodsPolicy", &amp)),
        [
            "/authenticationMethodConfigurations/1/isUsableForSignIn: unknown property 'isUsableForSignIn' on beta \
          type microsoft.graph.smsAuthenticationMethodConfiguration"
        ]
    );
}

#[test]
fn unknown_odata_type_is_reported() {
    let mut amp = beta_amp();
    amp["authenticationMethodConfigurations"][0]["@odata.type"] =
        json!("#microsoft.graph.pigeonConfiguration");
    let found = messages(Schema::beta().validate("authenticationMethodsPolicy", &amp));
    assert_eq!(
        found,
        [
            "/authenticationMethodConfigurations/0/@odata.type: @odata.type string \"#microsoft.graph.pigeonConfiguration\" \
          names no beta entity or complex type"
        ]
    );
}

#[test]
fn beta_collections_and_lookups() {
    let beta = Schema::beta();
    assert_valid(beta.validate_collection("organization", &body(fixtures::ORG)));
    assert_eq!(
        messages(beta.validate("noSuchType", &json!({}))),
        ["(root): unknown beta type 'noSuchType'"]
    );
    assert_eq!(
        messages(beta.validate_collection(
            "organization",
            &json!({ "value": [ { "id": "x", "nope": 1 } ] })
        )),
        ["/value/0/nope: unknown property 'nope' on beta type microsoft.graph.organization"]
    );
    let states = beta.enum_members("advancedConfigState").expect("enum");
    assert!(states.iter().any(|m| m == "enabled"));
    assert!(
        beta.names("microsoft.graph.authenticationMethodsPolicy")
            .is_some_and(|n| n.contains("systemCredentialPreferences"))
    );
}
