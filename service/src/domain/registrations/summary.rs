//! Counts over the registration report, accumulated one record at a time (Graph's own summary
//! functions refuse app-only tokens, graph-api.md §4.4), so memory stays flat however many users
//! stream by.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Registration;
pub use sspr_api::registrations::{
    FeatureCounts, GapCounts, MemberCounts, RegistrationSummary, SummarySource,
};
use sspr_api::tenants::TenantRef;

/// The counts of one pass over a tenant's report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationCounts {
    pub total_users: u64,
    pub features: FeatureCounts,
    /// Users per registered method string, as Graph spells it (sorted by name).
    pub methods: BTreeMap<String, u64>,
    pub gaps: GapCounts,
    pub members: MemberCounts,
}

impl RegistrationCounts {
    pub fn add(&mut self, r: &Registration) {
        self.total_users += 1;
        let f = &mut self.features;
        f.sspr_registered += u64::from(r.is_sspr_registered);
        f.sspr_enabled += u64::from(r.is_sspr_enabled);
        f.sspr_capable += u64::from(r.is_sspr_capable);
        f.mfa_registered += u64::from(r.is_mfa_registered);
        f.mfa_capable += u64::from(r.is_mfa_capable);
        f.passwordless_capable += u64::from(r.is_passwordless_capable);
        let g = &mut self.gaps;
        g.enabled_not_registered += u64::from(r.is_sspr_enabled && !r.is_sspr_registered);
        g.registered_not_enabled += u64::from(r.is_sspr_registered && !r.is_sspr_enabled);
        g.admins_without_mfa += u64::from(r.is_admin && !r.is_mfa_capable);
        let guest = r.user_type.eq_ignore_ascii_case("guest");
        g.guests += u64::from(guest);
        if !guest && r.is_sspr_enabled {
            self.members.sspr_enabled += 1;
            self.members.sspr_enabled_registered += u64::from(r.is_sspr_registered);
        }
        for (i, method) in r.methods_registered.iter().enumerate() {
            // A user counts once per method, even if Graph repeated the string.
            if r.methods_registered[..i].contains(method) {
                continue;
            }
            match self.methods.get_mut(method) {
                Some(n) => *n += 1,
                None => {
                    self.methods.insert(method.clone(), 1);
                }
            }
        }
    }
}

/// The summary of `tenant` from the counts of one pass over its report, read at `read_at`.
pub fn registration_summary(
    tenant: TenantRef,
    read_at: String,
    counts: RegistrationCounts,
) -> RegistrationSummary {
    RegistrationSummary {
        tenant,
        read_at,
        source: SummarySource::Graph,
        total_users: counts.total_users,
        features: counts.features,
        methods: counts.methods,
        gaps: counts.gaps,
        members: counts.members,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registrations::sample;

    fn user(
        admin: bool,
        sspr: (bool, bool),
        mfa: (bool, bool),
        guest: bool,
        methods: &[&str],
    ) -> Registration {
        Registration {
            is_admin: admin,
            is_sspr_registered: sspr.0,
            is_sspr_enabled: sspr.1,
            is_sspr_capable: sspr.0 && sspr.1,
            is_mfa_registered: mfa.0,
            is_mfa_capable: mfa.1,
            is_passwordless_capable: methods.contains(&"fido2SecurityKey"),
            user_type: if guest { "guest" } else { "member" }.into(),
            methods_registered: methods.iter().map(|m| m.to_string()).collect(),
            ..sample()
        }
    }

    #[test]
    fn features_methods_and_gaps_are_counted_once_per_user() {
        let users = [
            // Enabled, not registered; an admin without MFA.
            user(true, (false, true), (false, false), false, &["email"]),
            // Registered, not enabled; MFA registered but not allowed.
            user(
                false,
                (true, false),
                (true, false),
                false,
                &["email", "mobilePhone"],
            ),
            // Capable everywhere, passwordless; Graph repeats a method string.
            user(
                true,
                (true, true),
                (true, true),
                false,
                &["fido2SecurityKey", "mobilePhone", "fido2SecurityKey"],
            ),
            // A guest with nothing.
            user(false, (false, false), (false, false), true, &[]),
        ];
        let mut counts = RegistrationCounts::default();
        users.iter().for_each(|u| counts.add(u));
        assert_eq!(counts.total_users, 4);
        assert_eq!(
            counts.features,
            FeatureCounts {
                sspr_registered: 2,
                sspr_enabled: 2,
                sspr_capable: 1,
                mfa_registered: 2,
                mfa_capable: 1,
                passwordless_capable: 1,
            }
        );
        assert_eq!(
            counts.methods,
            BTreeMap::from([
                ("email".to_owned(), 2),
                ("fido2SecurityKey".to_owned(), 1),
                ("mobilePhone".to_owned(), 2),
            ])
        );
        assert_eq!(
            counts.gaps,
            GapCounts {
                enabled_not_registered: 1,
                registered_not_enabled: 1,
                admins_without_mfa: 1,
                guests: 1,
            }
        );
        assert_eq!(
            counts.members,
            MemberCounts {
                sspr_enabled: 2,
                sspr_enabled_registered: 1,
            }
        );
        let mut with_an_enabled_guest = counts.clone();
        with_an_enabled_guest.add(&user(false, (true, true), (true, true), true, &["email"]));
        assert_eq!(
            with_an_enabled_guest.members, counts.members,
            "guests are counted apart"
        );
    }
}
