//! Replicas sharing a store see each other's registry changes: each one reads the onboarded
//! tenants and the access grants back from the store every few seconds and applies what changed
//! to its own snapshot. A change made through this replica is already in its snapshot; reading
//! it back finds nothing to do.

use std::collections::HashMap;

use super::CredentialSettings;
use super::credential;
use crate::auth::Authenticator;
use crate::capabilities::tenant_store::{TenantRecord, TenantStore};
use crate::directory::tenants::{TenantBuilder, TenantRegistry};

/// What the store held at the last look, by tenant id.
#[derive(Debug, Default)]
pub struct StoreFollower {
    seen: HashMap<String, TenantRecord>,
}

/// What one look changed in this replica's registry.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Followed {
    pub added: usize,
    pub replaced: usize,
    pub removed: usize,
}

impl StoreFollower {
    /// A follower that has seen what `store` holds now (the registry was built from it).
    pub async fn start(store: &dyn TenantStore) -> Result<StoreFollower, crate::store::StoreError> {
        let seen = store
            .tenants()
            .await?
            .into_iter()
            .map(|record| (record.id.clone(), record))
            .collect();
        Ok(StoreFollower { seen })
    }

    /// Applies to `registry` and `auth` what other replicas changed in `store` since the last
    /// look. A record that cannot be built (its sealed secret does not open here, a name taken
    /// by a configured tenant) is logged and left out, and tried again next time.
    pub async fn follow(
        &mut self,
        store: &dyn TenantStore,
        registry: &TenantRegistry,
        builder: &TenantBuilder,
        credentials: &CredentialSettings,
        auth: &Authenticator,
    ) -> Result<Followed, crate::store::StoreError> {
        let mut followed = Followed::default();
        let records = store.tenants().await?;
        let in_store: std::collections::HashSet<String> =
            records.iter().map(|record| record.id.clone()).collect();
        let mut now: HashMap<String, TenantRecord> = HashMap::with_capacity(records.len());
        // The registry as this look began: what this replica changed itself is already in it.
        let registered: std::collections::HashSet<String> =
            registry.snapshot().iter().map(|t| t.id.clone()).collect();
        for record in records {
            let known = self.seen.get(&record.id);
            let present = registered.contains(&record.id);
            let changed = known != Some(&record);
            if changed || !present {
                let built = credential::definition_of(&record, credentials)
                    .map_err(|why| why.to_string())
                    .and_then(|definition| builder.build(definition).map_err(|e| e.to_string()));
                match built {
                    Ok(tenant) if present => {
                        let same_credential = known.is_some_and(|k| {
                            k.credential == record.credential
                                && k.sealed_secret == record.sealed_secret
                        });
                        match registry.replace(tenant, same_credential) {
                            Ok(_) => followed.replaced += 1,
                            Err(error) => {
                                tracing::warn!(tenant = %record.id, %error, "an onboarded tenant changed in the store cannot replace this replica's");
                                continue;
                            }
                        }
                    }
                    Ok(tenant) => match registry.add(tenant) {
                        Ok(_) => followed.added += 1,
                        Err(error) => {
                            tracing::warn!(tenant = %record.id, %error, "a tenant onboarded through another replica cannot be added here");
                            continue;
                        }
                    },
                    Err(why) => {
                        tracing::warn!(tenant = %record.id, %why, "a tenant in the store cannot be built here");
                        continue;
                    }
                }
            }
            now.insert(record.id.clone(), record);
        }
        for id in self.seen.keys().filter(|id| !in_store.contains(*id)) {
            if registry.remove(id).is_some() {
                followed.removed += 1;
            }
        }
        self.seen = now;
        match super::super::access::stored_grants(store).await {
            Ok(grants) => auth.set_granted(grants),
            Err(error) => tracing::warn!(%error, "the access grants in the store cannot be read"),
        }
        Ok(followed)
    }
}
