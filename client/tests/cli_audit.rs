//! `sspr audit list`: the real binary against a running demo whose store holds records.

use entra_emulator::seed;
use serde_json::{Value, json};
use sspr_service::demo::Demo;
use sspr_service::store::audit::{Actor, NewAuditRecord, Outcome};

mod common;
use common::{demo, env_with_roles, sspr};

async fn append(demo: &Demo, tenant: &str, upn: &str, outcome: Outcome) -> i64 {
    demo.service
        .store()
        .audit()
        .append(NewAuditRecord {
            request_id: None,
            actor: Actor {
                oid: None,
                upn: Some(upn.to_owned()),
                app_id: Some(seed::CLI_APP_CLIENT_ID.to_owned()),
                roles: vec!["SSPR.ReadWrite".to_owned()],
            },
            tenant_id: tenant.to_owned(),
            operation: "policy.patch".to_owned(),
            before: Some(json!({"registration": {"reconfirmationInDays": 180}})),
            after: None,
            diff: None,
            outcome,
            error: (outcome == Outcome::Failed).then(|| "portal PUT failed".to_owned()),
            compensation: None,
        })
        .await
        .expect("append")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_list_prints_filters_and_pages_the_trail() {
    let demo = demo().await;
    let mut ids = Vec::new();
    for (tenant, upn, outcome) in [
        (seed::CONTOSO_ID, "ada@contoso.com", Outcome::Succeeded),
        (seed::FABRIKAM_ID, "bob@fabrikam.com", Outcome::Failed),
        (seed::CONTOSO_ID, "ada@contoso.com", Outcome::RolledBack),
    ] {
        ids.push(append(&demo, tenant, upn, outcome).await);
    }
    let admin = env_with_roles(&demo, &["SSPR.Admin"]);

    let table = sspr(&["audit", "list"], &admin).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    for text in [
        "TIME",
        "TENANT",
        "ACTOR",
        "OPERATION",
        "OUTCOME",
        seed::CONTOSO_DOMAIN,
        seed::FABRIKAM_DOMAIN,
        "bob@fabrikam.com",
        "policy.patch",
        "rolledBack",
    ] {
        assert!(table.stdout.contains(text), "{text}:\n{}", table.stdout);
    }

    let json = sspr(
        &[
            "audit",
            "list",
            "--tenant",
            "contoso.com",
            "--outcome",
            "rolledBack",
            "--output",
            "json",
        ],
        &admin,
    )
    .await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let records: Value = serde_json::from_str(&json.stdout).expect("json output");
    assert_eq!(records.as_array().map(Vec::len), Some(1), "{records}");
    assert_eq!(records[0]["id"], ids[2]);
    assert_eq!(records[0]["tenantId"], seed::CONTOSO_ID);
    assert_eq!(
        records[0]["before"]["registration"]["reconfirmationInDays"],
        180
    );

    // One page of one record says there is more; --all follows every nextLink.
    let first = sspr(
        &["audit", "list", "--limit", "1", "--output", "json"],
        &admin,
    )
    .await;
    assert_eq!(first.code, 0, "{}", first.stderr);
    let records: Value = serde_json::from_str(&first.stdout).expect("json output");
    assert_eq!(records.as_array().map(Vec::len), Some(1));
    assert!(first.stderr.contains("--all"), "{}", first.stderr);
    let all = sspr(
        &[
            "audit",
            "list",
            "--limit",
            "1",
            "--all",
            "--actor",
            "ada@contoso.com",
            "--since",
            "2020-01-01T00:00:00Z",
            "--output",
            "json",
        ],
        &admin,
    )
    .await;
    assert_eq!(all.code, 0, "{}", all.stderr);
    let records: Value = serde_json::from_str(&all.stdout).expect("json output");
    let got: Vec<i64> = records
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(got, [ids[2], ids[0]]);

    // Without SSPR.Admin: exit code 3 and the problem on stderr.
    let refused = sspr(
        &["audit", "list"],
        &env_with_roles(&demo, &["SSPR.ReadWrite"]),
    )
    .await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(refused.stderr.contains("SSPR.Admin"), "{}", refused.stderr);
    assert!(refused.stdout.is_empty());

    // A bad --since is a usage error naming the field.
    let bad = sspr(&["audit", "list", "--since", "yesterday"], &admin).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("field: since"), "{}", bad.stderr);
    demo.stop().await.expect("stops");
}
