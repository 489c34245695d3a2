use crate::auth::{Caller, Verb};
use crate::directory::tenants::{ManagedTenant, TenantRegistry};

use super::{OpsError, require};

/// The managed tenants this caller may act on.
pub fn visible<'a>(
    registry: &'a TenantRegistry,
    caller: &Caller,
) -> Result<Vec<&'a ManagedTenant>, OpsError> {
    require(caller, Verb::Read)?;
    Ok(registry
        .iter()
        .filter(|t| {
            caller.may_access(
                std::iter::once(t.id.as_str()).chain(t.domains.iter().map(String::as_str)),
            )
        })
        .collect())
}
