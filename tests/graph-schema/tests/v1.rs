//! v1.0 validation against Microsoft's CSDL: the documented bodies pass, and
//! every kind of departure from the schema is reported at the right pointer.

mod fixtures;

use fixtures::body;
use graph_schema::{Allow, Schema, Violation, assert_valid, validate_with_allowlist};
use serde_json::{Value, json};

/// Display strings of the violations (empty when valid), for exact assertions.
fn messages(result: Result<(), Vec<Violation>>) -> Vec<String> {
    result
        .err()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn authz_with(key: &str, value: Value) -> Value {
    let mut authz = body(fixtures::AUTHZ);
    authz[key] = value;
    authz
}

/// The only member of the §1.10 body that the v1.0 CSDL does not declare.
const SNOOZES: &str = "/registrationEnforcement/authenticationMethodsRegistrationCampaign/enforceRegistrationAfterAllowedSnoozes";

/// How tests of the emulator's v1.0 authentication methods policy should allow it.
const SNOOZES_ALLOW: Allow<'static> = Allow {
    pointer_suffix: "/authenticationMethodsRegistrationCampaign/enforceRegistrationAfterAllowedSnoozes",
    reason: "Learn's v1.0 GET example (graph-api.md §1.10) returns it, but only the beta schema declares it",
};

#[test]
fn amp_v1_body_fails_only_on_the_property_the_v1_csdl_lacks() {
    let result = Schema::v1().validate("authenticationMethodsPolicy", &body(fixtures::AMP));
    assert_eq!(
        messages(result),
        [format!(
            "{SNOOZES}: unknown property 'enforceRegistrationAfterAllowedSnoozes' on \
             microsoft.graph.authenticationMethodsRegistrationCampaign"
        )]
    );
}

#[test]
fn amp_v1_body_passes_once_that_property_is_allowlisted() {
    let result = Schema::v1().validate(
        "microsoft.graph.authenticationMethodsPolicy",
        &body(fixtures::AMP),
    );
    assert_valid(validate_with_allowlist(result, &[SNOOZES_ALLOW]));
}

#[test]
fn authorization_policy_body_is_valid_even_treating_open_types_as_closed() {
    let authz = body(fixtures::AUTHZ);
    assert_valid(Schema::v1().validate("authorizationPolicy", &authz));
    assert_valid(Schema::v1_closed().validate("#microsoft.graph.authorizationPolicy", &authz));
}

#[test]
fn organization_collection_is_valid_even_treating_open_types_as_closed() {
    let organizations = body(fixtures::ORG);
    assert_valid(Schema::v1().validate_collection("organization", &organizations));
    assert_valid(Schema::v1_closed().validate_collection("organization", &organizations));
}

#[test]
fn unknown_property_is_reported() {
    // PowerShell's spelling: case matters on the wire (graph-api.md §2.1).
    let result = Schema::v1().validate(
        "authorizationPolicy",
        &authz_with("allowedToUseSspr", json!(true)),
    );
    assert_eq!(
        messages(result),
        [
            "/allowedToUseSspr: unknown property 'allowedToUseSspr' on microsoft.graph.authorizationPolicy"
        ]
    );
}

#[test]
fn authorization_policy_is_closed_although_directory_object_is_open() {
    // authorizationPolicy → policyBase → directoryObject (OpenType="true"); only
    // types that say OpenType themselves accept dynamic properties.
    let result = Schema::v1().validate("authorizationPolicy", &authz_with("madeUp", json!(1)));
    assert_eq!(messages(result).len(), 1);
}

#[test]
fn wrong_primitive_type_is_reported() {
    let result = Schema::v1().validate(
        "authorizationPolicy",
        &authz_with("allowedToUseSSPR", json!("true")),
    );
    assert_eq!(
        messages(result),
        ["/allowedToUseSSPR: expected a boolean, got string \"true\""]
    );
}

#[test]
fn primitive_formats_are_checked() {
    let mut amp = body(fixtures::AMP);
    amp["lastModifiedDateTime"] = json!("2024-04-26 12:44:42");
    let tap = &mut amp["authenticationMethodConfigurations"][6];
    assert_eq!(tap["id"], "TemporaryAccessPass");
    tap["defaultLifetimeInMinutes"] = json!(60.5);
    tap["defaultLength"] = json!(4_294_967_296_i64);
    let result = validate_with_allowlist(
        Schema::v1().validate("authenticationMethodsPolicy", &amp),
        &[SNOOZES_ALLOW],
    );
    assert_eq!(
        messages(result),
        [
            "/authenticationMethodConfigurations/6/defaultLength: expected an integer in -2147483648..=2147483647, got number 4294967296",
            "/authenticationMethodConfigurations/6/defaultLifetimeInMinutes: expected an integer in -2147483648..=2147483647, got number 60.5",
            "/lastModifiedDateTime: expected an RFC 3339 date-time, got string \"2024-04-26 12:44:42\"",
        ]
    );

    let mut organizations = body(fixtures::ORG);
    organizations["value"][0]["assignedPlans"][0]["servicePlanId"] = json!("AAD_PREMIUM");
    assert_eq!(
        messages(Schema::v1().validate_collection("organization", &organizations)),
        ["/value/0/assignedPlans/0/servicePlanId: expected a GUID, got string \"AAD_PREMIUM\""]
    );
}

#[test]
fn bad_enum_member_is_reported() {
    let result = Schema::v1().validate(
        "authorizationPolicy",
        &authz_with("allowInvitesFrom", json!("anyone")),
    );
    assert_eq!(
        messages(result),
        ["/allowInvitesFrom: 'anyone' is not a member of enum microsoft.graph.allowInvitesFrom"]
    );
    // A non-flags enum takes exactly one member.
    let result = Schema::v1().validate(
        "authorizationPolicy",
        &authz_with("allowInvitesFrom", json!("none,everyone")),
    );
    assert_eq!(messages(result).len(), 1);
    // Members are names, not numeric values.
    let result = Schema::v1().validate(
        "authorizationPolicy",
        &authz_with("allowInvitesFrom", json!(3)),
    );
    assert_eq!(messages(result).len(), 1);
}

#[test]
fn flags_enum_accepts_member_lists_and_reports_each_bad_member() {
    let guests =
        |types: &str| json!({ "externalTenants": null, "guestOrExternalUserTypes": types });
    let schema = Schema::v1();
    for good in [
        "internalGuest",
        "internalGuest,b2bCollaborationGuest",
        "internalGuest, b2bCollaborationGuest, serviceProvider",
    ] {
        assert_valid(schema.validate("conditionalAccessGuestsOrExternalUsers", &guests(good)));
    }
    let result = schema.validate(
        "conditionalAccessGuestsOrExternalUsers",
        &guests("internalGuest, partnerGuest"),
    );
    assert_eq!(
        messages(result),
        [
            "/guestOrExternalUserTypes: 'partnerGuest' is not a member of enum microsoft.graph.conditionalAccessGuestOrExternalUserTypes"
        ]
    );
}

#[test]
fn null_for_a_non_nullable_property_is_reported() {
    let result = Schema::v1().validate(
        "authorizationPolicy",
        &authz_with("allowedToUseSSPR", Value::Null),
    );
    assert_eq!(
        messages(result),
        ["/allowedToUseSSPR: null is not allowed here (Nullable=\"false\")"]
    );
    // Nullable by default: blockMsolPowerShell is null in the documented body.
    assert_valid(Schema::v1().validate(
        "authorizationPolicy",
        &authz_with("description", Value::Null),
    ));
}

#[test]
fn collection_properties_must_be_arrays_of_valid_items() {
    let mut authz = body(fixtures::AUTHZ);
    authz["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"] =
        json!("just-user-read");
    assert_eq!(
        messages(Schema::v1().validate("authorizationPolicy", &authz)),
        [
            "/defaultUserRolePermissions/permissionGrantPoliciesAssigned: expected an array for Collection(Edm.String), got string \"just-user-read\""
        ]
    );
    authz["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"] = json!(["ok", 7]);
    assert_eq!(
        messages(Schema::v1().validate("authorizationPolicy", &authz)),
        [
            "/defaultUserRolePermissions/permissionGrantPoliciesAssigned/1: expected a string, got number 7"
        ]
    );
}

#[test]
fn odata_type_must_derive_from_the_declared_type() {
    let mut amp = body(fixtures::AMP);
    let sms = &mut amp["authenticationMethodConfigurations"][1];
    assert_eq!(sms["id"], "Sms");
    sms["@odata.type"] = json!("#microsoft.graph.user");
    let found = messages(validate_with_allowlist(
        Schema::v1().validate("authenticationMethodsPolicy", &amp),
        &[SNOOZES_ALLOW],
    ));
    // Validation goes on against the declared (abstract) type, which has no includeTargets.
    assert_eq!(
        found,
        [
            "/authenticationMethodConfigurations/1/@odata.type: @odata.type '#microsoft.graph.user' does not derive \
             from the declared type microsoft.graph.authenticationMethodConfiguration",
            "/authenticationMethodConfigurations/1/includeTargets: unknown property 'includeTargets' on \
             microsoft.graph.authenticationMethodConfiguration",
        ]
    );
}

#[test]
fn odata_type_must_name_a_type_and_start_with_a_hash() {
    let config = |odata_type: &str| json!({ "@odata.type": odata_type, "id": "Sms", "state": "enabled", "excludeTargets": [] });
    let schema = Schema::v1();
    assert_valid(schema.validate(
        "authenticationMethodConfiguration",
        &config("#microsoft.graph.smsAuthenticationMethodConfiguration"),
    ));
    assert_valid(schema.validate(
        "authenticationMethodConfiguration",
        &config("#graph.smsAuthenticationMethodConfiguration"),
    ));
    assert_eq!(
        messages(schema.validate(
            "authenticationMethodConfiguration",
            &config("microsoft.graph.smsAuthenticationMethodConfiguration")
        )),
        [
            "/@odata.type: @odata.type 'microsoft.graph.smsAuthenticationMethodConfiguration' must start with '#'"
        ]
    );
    assert_eq!(
        messages(schema.validate(
            "authenticationMethodConfiguration",
            &config("#microsoft.graph.carrierPigeonConfiguration")
        )),
        [
            "/@odata.type: @odata.type '#microsoft.graph.carrierPigeonConfiguration' names no entity or complex type"
        ]
    );
}

#[test]
fn derived_properties_need_the_odata_type_of_the_derived_type() {
    let mut amp = body(fixtures::AMP);
    let voice = amp["authenticationMethodConfigurations"][2]
        .as_object_mut()
        .expect("object");
    voice.remove("@odata.type");
    let found = messages(validate_with_allowlist(
        Schema::v1().validate("authenticationMethodsPolicy", &amp),
        &[SNOOZES_ALLOW],
    ));
    assert_eq!(
        found,
        [
            "/authenticationMethodConfigurations/2/includeTargets: unknown property 'includeTargets' on microsoft.graph.authenticationMethodConfiguration",
            "/authenticationMethodConfigurations/2/isOfficePhoneAllowed: unknown property 'isOfficePhoneAllowed' on microsoft.graph.authenticationMethodConfiguration",
        ]
    );
}

#[test]
fn odata_control_information_and_property_annotations_are_allowed_anywhere() {
    let mut authz = body(fixtures::AUTHZ);
    authz["@odata.etag"] = json!("W/\"1\"");
    authz["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned@odata.type"] =
        json!("#Collection(String)");
    assert_valid(Schema::v1().validate("authorizationPolicy", &authz));
    // Other instance annotations are not part of what Graph returns here.
    authz["@microsoft.graph.tips"] = json!("hi");
    assert_eq!(
        messages(Schema::v1().validate("authorizationPolicy", &authz)).len(),
        1
    );
}

#[test]
fn open_types_accept_dynamic_properties_but_still_check_declared_ones() {
    let score = json!({
        "id": "00000000-0000-0000-0000-000000000001_2026-07-01",
        "azureTenantId": "00000000-0000-0000-0000-000000000001",
        "currentScore": 42.5,
        "maxScore": 100,
        "createdDateTime": "2026-07-01T00:00:00Z",
        "aNewDynamicProperty": { "anything": [1, 2] }
    });
    assert_valid(Schema::v1().validate("secureScore", &score));
    assert_eq!(
        messages(Schema::v1_closed().validate("secureScore", &score)),
        [
            "/aNewDynamicProperty: unknown property 'aNewDynamicProperty' on microsoft.graph.secureScore"
        ]
    );
    let mut bad = score.clone();
    bad["currentScore"] = json!("high");
    assert_eq!(
        messages(Schema::v1().validate("secureScore", &bad)).len(),
        1
    );
    assert!(
        Schema::v1()
            .structured_type("secureScoreControlProfile")
            .is_some_and(|t| t.open)
    );
}

#[test]
fn collection_response_envelope_is_checked() {
    let schema = Schema::v1();
    let mut organizations = body(fixtures::ORG);
    organizations["@odata.nextLink"] =
        json!("https://graph.microsoft.com/v1.0/organization?$skiptoken=x");
    assert_valid(schema.validate_collection("organization", &organizations));

    organizations["count"] = json!(1);
    organizations["value"]
        .as_array_mut()
        .expect("array")
        .push(Value::Null);
    assert_eq!(
        messages(schema.validate_collection("organization", &organizations)),
        [
            "/count: unknown member 'count' of a collection response",
            "/value/1: null is not allowed here (Nullable=\"false\")",
        ]
    );
    assert_eq!(
        messages(schema.validate_collection("organization", &json!({ "@odata.context": "x" }))),
        ["(root): collection response has no 'value' array"]
    );
    assert_eq!(
        messages(schema.validate_collection("organization", &json!({ "value": {} }))),
        ["/value: expected an array for Collection(microsoft.graph.organization), got an object"]
    );
    // A collection response is not an entity (`organization` is open, so only
    // the closed view reports `value` as unknown).
    assert_eq!(
        messages(Schema::v1_closed().validate("organization", &body(fixtures::ORG))),
        ["/value: unknown property 'value' on microsoft.graph.organization"]
    );
    assert!(
        schema
            .validate_collection("authorizationPolicy", &body(fixtures::AUTHZ))
            .is_err()
    );
}

#[test]
fn type_names_resolve_across_namespaces_and_aliases() {
    let schema = Schema::v1();
    let full = |name: &str| schema.find_type(name);
    assert_eq!(full("user").as_deref(), Some("microsoft.graph.user"));
    assert_eq!(full("graph.user").as_deref(), Some("microsoft.graph.user"));
    assert_eq!(
        full("#microsoft.graph.user").as_deref(),
        Some("microsoft.graph.user")
    );
    assert_eq!(
        full("callRecords.callRecord").as_deref(),
        Some("microsoft.graph.callRecords.callRecord")
    );
    assert_eq!(
        full("microsoft.graph.callRecords.callRecord").as_deref(),
        Some("microsoft.graph.callRecords.callRecord")
    );
    assert_eq!(full("noSuchType"), None);
    // The security schema's alias is `self`; its base types are stored resolved.
    let record = schema
        .structured_type("microsoft.graph.security.a365AiExecuteTool")
        .expect("security type");
    assert_eq!(
        record.base.as_deref(),
        Some("microsoft.graph.security.auditData")
    );
    assert!(schema.derives_from("smsAuthenticationMethodConfiguration", "entity"));
    assert!(!schema.derives_from("user", "authenticationMethodConfiguration"));
    assert_eq!(
        schema
            .property("authorizationPolicy", "id")
            .map(|p| p.nullable),
        Some(false)
    );
    assert!(
        schema
            .property(
                "authenticationMethodsPolicy",
                "authenticationMethodConfigurations"
            )
            .is_some_and(|p| p.contains_target)
    );
    assert!(
        schema
            .enum_type("authenticationMethodModes")
            .is_some_and(|e| e.is_flags)
    );

    assert_eq!(
        messages(schema.validate("noSuchType", &json!({}))),
        ["(root): unknown type 'noSuchType'"]
    );
    assert_eq!(
        messages(schema.validate("authorizationPolicy", &json!([]))),
        ["(root): expected an object of type microsoft.graph.authorizationPolicy, got an array"]
    );
}

#[test]
fn wildcard_allowlist_entry_covers_every_item_of_a_collection() {
    // graph-api.md §4.2: Graph returns "" for users without a preferred method,
    // which is not a member of the enum the CSDL declares.
    let reports = body(fixtures::USER_REGISTRATION_DETAILS);
    let result = Schema::v1().validate_collection("userRegistrationDetails", &reports);
    assert_eq!(
        messages(result.clone()),
        [
            "/value/1/userPreferredMethodForSecondaryAuthentication: '' is not a member of enum microsoft.graph.userDefaultAuthenticationMethod"
        ]
    );
    let allow = [Allow {
        pointer_suffix: "/value/*/userPreferredMethodForSecondaryAuthentication",
        reason: "real Graph returns \"\" when a user has no preferred method (graph-api.md §4.2)",
    }];
    assert_valid(validate_with_allowlist(result, &allow));
}

#[test]
fn allowlist_matches_whole_segments_and_wildcards_only_array_indexes() {
    let entry = Allow {
        pointer_suffix: "/value/*/foo",
        reason: "test",
    };
    assert!(entry.matches("/value/0/foo"));
    assert!(entry.matches("/outer/value/12/foo"));
    assert!(!entry.matches("/value/x/foo"));
    assert!(!entry.matches("/value/0/bar/foo"));
    assert!(!entry.matches("/value/0/foo/bar"));
    assert!(
        !Allow {
            pointer_suffix: "/foo",
            reason: "test"
        }
        .matches("/barfoo")
    );
    assert!(!entry.matches(""));

    let violations = vec![
        Violation {
            pointer: "/value/0/foo".into(),
            message: "a".into(),
        },
        Violation {
            pointer: "/value/0/bar".into(),
            message: "b".into(),
        },
    ];
    let remaining = validate_with_allowlist(Err(violations), &[entry]).expect_err("bar stays");
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].to_string(), "/value/0/bar: b");
}

#[test]
#[should_panic(expected = "must give a reason")]
fn allowlist_entries_need_a_reason() {
    let _ = validate_with_allowlist(
        Ok(()),
        &[Allow {
            pointer_suffix: "/foo",
            reason: " ",
        }],
    );
}

#[test]
#[should_panic(
    expected = "body does not match the Graph schema:\n  /allowedToUseSspr: unknown property"
)]
fn assert_valid_lists_violations() {
    assert_valid(Schema::v1().validate(
        "authorizationPolicy",
        &authz_with("allowedToUseSspr", json!(true)),
    ));
}
