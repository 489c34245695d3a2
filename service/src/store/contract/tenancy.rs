//! The tenant store's contract, run against both back ends.

use super::Harness;
use crate::capabilities::tenant_store::{GrantRecord, TenantRecord};
use crate::store::StoreError;

super::contract_tests!(tenants_and_grants_survive_a_reopen_and_a_second_insert_is_refused);

fn tenant(id: &str) -> TenantRecord {
    TenantRecord {
        id: id.to_owned(),
        display_name: Some("Contoso".to_owned()),
        domains: vec!["contoso.example".to_owned()],
        tags: vec!["region:eu".to_owned()],
        credential: r#"{"kind":"clientSecret","clientId":"6f1c"}"#.to_owned(),
        sealed_secret: Some(vec![1, 2, 3]),
        created_at: "2026-12-07T08:00:00Z".to_owned(),
        created_by: "admin@contoso.example".to_owned(),
        verification: None,
    }
}

async fn tenants_and_grants_survive_a_reopen_and_a_second_insert_is_refused(harness: &Harness) {
    {
        let store = harness.open().await;
        let tenants = store.tenants();
        tenants.insert_tenant(tenant("t1")).await.expect("insert");
        assert!(matches!(
            tenants.insert_tenant(tenant("t1")).await,
            Err(StoreError::Exists(_))
        ));
        tenants
            .insert_grant(GrantRecord {
                id: "g1".to_owned(),
                principal: "oid-1".to_owned(),
                tenants: vec!["tag:region:eu".to_owned()],
                role: "SSPR.Read".to_owned(),
                created_at: "2026-12-07T08:00:00Z".to_owned(),
                created_by: "admin".to_owned(),
            })
            .await
            .expect("grant");
    }
    let store = harness.open().await;
    let tenants = store.tenants();
    assert_eq!(tenants.tenants().await.expect("list"), [tenant("t1")]);
    assert_eq!(tenants.tenant("t1").await.expect("one"), Some(tenant("t1")));
    assert_eq!(tenants.tenant("t2").await.expect("none"), None);
    let mut changed = tenant("t1");
    changed.tags = vec!["tier:gold".to_owned()];
    changed.sealed_secret = None;
    assert!(
        tenants
            .replace_tenant(changed.clone())
            .await
            .expect("replace")
    );
    tenants
        .set_verification("t1", r#"{"tokenIssued":true}"#.to_owned())
        .await
        .expect("verdict");
    let kept = tenants.tenants().await.expect("list");
    assert_eq!(kept[0].tags, ["tier:gold"]);
    assert_eq!(kept[0].sealed_secret, None);
    assert_eq!(
        kept[0].verification.as_deref(),
        Some(r#"{"tokenIssued":true}"#)
    );
    assert_eq!(
        tenants.grants().await.expect("grants")[0].principal,
        "oid-1"
    );
    assert!(tenants.delete_grant("g1").await.expect("revoke"));
    assert!(!tenants.delete_grant("g1").await.expect("gone"));
    assert!(tenants.delete_tenant("t1").await.expect("offboard"));
    assert!(!tenants.delete_tenant("t1").await.expect("gone"));
    assert!(tenants.tenants().await.expect("list").is_empty());
}
