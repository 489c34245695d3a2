//! Who the policy would stop from registering freely: the users it applies to who still have to
//! register, and so must do it from a trusted location (or with a Temporary Access Pass, or a
//! managed device, depending on the control). Counted in one pass over the registration report,
//! keeping only counts and a short sample. Pure.
//!
//! A user **must register** when they are enabled for SSPR and not SSPR-registered, or are not
//! MFA-registered. The users counted are the report's members (and guests, when the policy
//! includes guests), minus those the policy excludes: the break-glass users and the members of
//! the excluded groups.

use std::collections::HashSet;

pub use sspr_api::protection::RegistrationImpact;

/// How many user principal names the sample holds.
pub const SAMPLE_SIZE: usize = 20;

/// One user's row of the registration report, as far as the impact goes.
#[derive(Debug, Clone, Copy)]
pub struct UserFacts<'a> {
    pub id: &'a str,
    pub user_principal_name: &'a str,
    pub is_guest: bool,
    pub is_sspr_enabled: bool,
    pub is_sspr_registered: bool,
    pub is_mfa_registered: bool,
}

/// Counts the impact over a stream of report rows.
pub struct ImpactCounter {
    excluded_users: HashSet<String>,
    include_guests: bool,
    impact: RegistrationImpact,
}

impl ImpactCounter {
    /// `excluded_users`: every user id the policy excludes, directly or through a group.
    pub fn new(excluded_users: impl IntoIterator<Item = String>, include_guests: bool) -> Self {
        ImpactCounter {
            excluded_users: excluded_users
                .into_iter()
                .map(|id| id.to_ascii_lowercase())
                .collect(),
            include_guests,
            impact: RegistrationImpact::default(),
        }
    }

    pub fn add(&mut self, user: UserFacts<'_>) {
        let impact = &mut self.impact;
        impact.users_read += 1;
        if user.is_guest && !self.include_guests {
            impact.guests_excluded += 1;
            return;
        }
        if self.excluded_users.contains(&user.id.to_ascii_lowercase()) {
            impact.users_excluded += 1;
            return;
        }
        impact.users_in_scope += 1;
        let sspr_gap = user.is_sspr_enabled && !user.is_sspr_registered;
        let mfa_gap = !user.is_mfa_registered;
        if sspr_gap {
            impact.sspr_enabled_not_registered += 1;
        }
        if mfa_gap {
            impact.not_mfa_registered += 1;
        }
        if sspr_gap || mfa_gap {
            impact.must_register += 1;
            if impact.sample.len() < SAMPLE_SIZE {
                impact.sample.push(user.user_principal_name.to_owned());
            }
        }
    }

    pub fn finish(self) -> RegistrationImpact {
        self.impact
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, guest: bool, enabled: bool, sspr: bool, mfa: bool) -> UserFacts<'_> {
        UserFacts {
            id,
            user_principal_name: id,
            is_guest: guest,
            is_sspr_enabled: enabled,
            is_sspr_registered: sspr,
            is_mfa_registered: mfa,
        }
    }

    #[test]
    fn counts_the_users_in_scope_who_still_have_to_register() {
        let mut counter = ImpactCounter::new(["BG".to_owned()], false);
        counter.add(user("ok", false, true, true, true));
        counter.add(user("sspr-gap", false, true, false, true));
        counter.add(user("mfa-gap", false, false, false, false));
        counter.add(user("both", false, true, false, false));
        counter.add(user("not-enabled-but-mfa", false, false, false, true));
        counter.add(user("bg", false, true, false, false));
        counter.add(user("guest", true, false, false, false));
        let impact = counter.finish();
        assert_eq!(impact.users_read, 7);
        assert_eq!(impact.guests_excluded, 1);
        assert_eq!(impact.users_excluded, 1);
        assert_eq!(impact.users_in_scope, 5);
        assert_eq!(impact.must_register, 3);
        assert_eq!(impact.sspr_enabled_not_registered, 2);
        assert_eq!(impact.not_mfa_registered, 2);
        assert_eq!(impact.sample, ["sspr-gap", "mfa-gap", "both"]);
    }

    #[test]
    fn guests_count_when_included_and_the_sample_is_capped() {
        let mut counter = ImpactCounter::new(Vec::new(), true);
        let ids: Vec<String> = (0..25).map(|i| format!("u{i:02}")).collect();
        for id in &ids {
            counter.add(user(id, true, false, false, false));
        }
        let impact = counter.finish();
        assert_eq!(impact.must_register, 25);
        assert_eq!(impact.guests_excluded, 0);
        assert_eq!(impact.sample.len(), SAMPLE_SIZE);
        assert_eq!(impact.sample[0], "u00");
    }
}
