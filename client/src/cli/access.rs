//! `sspr access …`: the roles as the command line takes them, and the grants as a table.

use clap::ValueEnum;
use sspr_client::access::{AccessGrant, GrantOrigin, Role};

use super::render::{NONE, format_timestamp, new_table};

/// The role a grant gives, spelled as the service's app roles.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleChoice {
    /// Read policies, registrations and protection status.
    #[value(name = "SSPR.Read")]
    Read,
    /// Read, and change policies and registration protection.
    #[value(name = "SSPR.ReadWrite")]
    ReadWrite,
    /// Everything, with the audit trail, the tenant registry and access grants.
    #[value(name = "SSPR.Admin")]
    Admin,
}

impl From<RoleChoice> for Role {
    fn from(choice: RoleChoice) -> Role {
        match choice {
            RoleChoice::Read => Role::Read,
            RoleChoice::ReadWrite => Role::ReadWrite,
            RoleChoice::Admin => Role::Admin,
        }
    }
}

/// The grants: ID, PRINCIPAL, TENANTS, ROLE, ORIGIN, CREATED.
pub fn grants_table(grants: &[AccessGrant], width: Option<u16>) -> String {
    let mut table = new_table(width);
    table.set_header(["ID", "PRINCIPAL", "TENANTS", "ROLE", "ORIGIN", "CREATED"]);
    super::render::keep_whole(&mut table, &[0, 1, 2]);
    for grant in grants {
        let created = match (&grant.created_at, &grant.created_by) {
            (Some(at), Some(by)) => format!("{} by {by}", format_timestamp(at)),
            (Some(at), None) => format_timestamp(at),
            (None, _) => NONE.to_owned(),
        };
        table.add_row([
            grant.id.clone(),
            grant.principal.clone(),
            grant.tenants.join(", "),
            grant.role.map_or_else(
                || "(the token's)".to_owned(),
                |role| super::render::wire_name(&role),
            ),
            match grant.origin {
                GrantOrigin::Config => "config",
                GrantOrigin::Api => "api",
            }
            .to_owned(),
            created,
        ]);
    }
    table.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspr_client::access::AccessList;

    #[test]
    fn the_roles_are_the_services_names() {
        for (choice, name) in [
            (RoleChoice::Read, "SSPR.Read"),
            (RoleChoice::ReadWrite, "SSPR.ReadWrite"),
            (RoleChoice::Admin, "SSPR.Admin"),
        ] {
            assert_eq!(RoleChoice::from_str(name, false), Ok(choice));
            assert_eq!(
                serde_json::to_value(Role::from(choice)).expect("json"),
                name
            );
        }
    }

    #[test]
    fn the_grants_table_shows_each_grant_and_its_origin() {
        let list: AccessList =
            serde_json::from_value(sspr_api::examples::access_list()).expect("the example");
        let text = grants_table(&list.value, Some(200));
        let config = text
            .lines()
            .find(|l| l.contains("config-1"))
            .expect("config row");
        assert!(
            config.contains('*') && config.contains("(the token's)") && config.contains("config"),
            "{config}"
        );
        let api = text
            .lines()
            .find(|l| l.contains("7d3f5a2e-1b4c-4d6e-8f9a-0b1c2d3e4f5a"))
            .expect("api row");
        assert!(
            api.contains("tag:region:eu")
                && api.contains("SSPR.Read")
                && api.contains("2026-12-06 09:20:00 UTC by demo.admin@northwind.onmicrosoft.com"),
            "{api}"
        );
    }
}
