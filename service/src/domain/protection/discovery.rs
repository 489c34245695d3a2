//! Break-glass accounts: the ones the caller declares, and the ones the tenant's own policies
//! reveal. Emergency-access accounts are, by design, excluded from (nearly) every CA policy, so
//! an object excluded from more than half of the enabled and report-only policies is taken for
//! one (Maester's "most-excluded object" heuristic, made explicit). Pure.

use std::collections::BTreeMap;

pub use sspr_api::protection::{BreakGlass, BreakGlassObject, BreakGlassSource};

use super::generate::Exclusions;
use super::{CaPolicy, PolicyFacts};

/// User keywords that are not objects (§5.2).
const USER_KEYWORDS: &[&str] = &["All", "None", "GuestsOrExternalUsers"];

/// Finding the break-glass accounts (the accounts are a wire type of the contract crate).
pub trait BreakGlassDiscovery {
    /// Declared accounts plus, when `discover` is set, those most policies exclude.
    fn find(
        policies: &[CaPolicy],
        declared_users: &[String],
        declared_groups: &[String],
        discover: bool,
    ) -> Self;
    /// No account is declared or discovered.
    fn is_empty(&self) -> bool;
    fn has_user(&self, id: &str) -> bool;
    fn has_group(&self, id: &str) -> bool;
    /// What the generated policy excludes.
    fn exclusions(&self) -> Exclusions;
}

impl BreakGlassDiscovery for BreakGlass {
    fn find(
        policies: &[CaPolicy],
        declared_users: &[String],
        declared_groups: &[String],
        discover: bool,
    ) -> BreakGlass {
        let considered: Vec<&CaPolicy> = policies
            .iter()
            .filter(|p| p.is_active() && !p.is_ours())
            .collect();
        let mut user_counts: BTreeMap<String, usize> = BTreeMap::new();
        let mut group_counts: BTreeMap<String, usize> = BTreeMap::new();
        for policy in &considered {
            let users = distinct(
                policy
                    .users
                    .exclude_users
                    .iter()
                    .filter(|id| !USER_KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(id))),
            );
            for id in users {
                *user_counts.entry(id).or_default() += 1;
            }
            for id in distinct(policy.users.exclude_groups.iter()) {
                *group_counts.entry(id).or_default() += 1;
            }
        }
        let total = considered.len();
        BreakGlass {
            policies_considered: total,
            users: objects(declared_users, &user_counts, total, discover),
            groups: objects(declared_groups, &group_counts, total, discover),
        }
    }

    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }

    fn has_user(&self, id: &str) -> bool {
        self.users.iter().any(|o| o.id.eq_ignore_ascii_case(id))
    }

    fn has_group(&self, id: &str) -> bool {
        self.groups.iter().any(|o| o.id.eq_ignore_ascii_case(id))
    }

    fn exclusions(&self) -> Exclusions {
        Exclusions::new(
            self.users.iter().map(|o| o.id.clone()),
            self.groups.iter().map(|o| o.id.clone()),
        )
    }
}

fn distinct<'a>(ids: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut v: Vec<String> = ids.map(|id| id.to_ascii_lowercase()).collect();
    v.sort();
    v.dedup();
    v
}

/// Declared objects first (in their order), then discovered ones, most-excluded first.
fn objects(
    declared: &[String],
    counts: &BTreeMap<String, usize>,
    total: usize,
    discover: bool,
) -> Vec<BreakGlassObject> {
    let count = |id: &str| counts.get(&id.to_ascii_lowercase()).copied().unwrap_or(0);
    let mut out: Vec<BreakGlassObject> = distinct(declared.iter())
        .into_iter()
        .map(|id| BreakGlassObject {
            excluded_from: count(&id),
            id,
            source: BreakGlassSource::Declared,
        })
        .collect();
    if discover {
        let mut found: Vec<BreakGlassObject> = counts
            .iter()
            .filter(|(id, n)| 2 * **n > total && !out.iter().any(|o| &o.id == *id))
            .map(|(id, n)| BreakGlassObject {
                id: id.clone(),
                source: BreakGlassSource::Discovered,
                excluded_from: *n,
            })
            .collect();
        found.sort_by(|a, b| b.excluded_from.cmp(&a.excluded_from).then(a.id.cmp(&b.id)));
        out.extend(found);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{PolicyState, UserCondition};
    use super::*;

    const BG: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c08";
    const BG_GROUP: &str = "dad4ae4a-730c-4e52-826c-0d9094971f04";
    const ALEX: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02";

    fn policy(state: PolicyState, users: &[&str], groups: &[&str]) -> CaPolicy {
        CaPolicy {
            display_name: "p".into(),
            state,
            users: UserCondition {
                include_users: vec!["All".into()],
                exclude_users: users.iter().map(|s| (*s).to_owned()).collect(),
                exclude_groups: groups.iter().map(|s| (*s).to_owned()).collect(),
                ..UserCondition::default()
            },
            ..CaPolicy::default()
        }
    }

    #[test]
    fn objects_excluded_from_more_than_half_of_the_active_policies_are_discovered() {
        let policies = vec![
            policy(
                PolicyState::Enabled,
                &[BG, "GuestsOrExternalUsers"],
                &[BG_GROUP],
            ),
            policy(PolicyState::ReportOnly, &[BG, ALEX], &[BG_GROUP]),
            policy(PolicyState::Enabled, &[BG.to_uppercase().as_str()], &[]),
            policy(PolicyState::Enabled, &[], &[]),
            // Disabled policies say nothing about what the tenant relies on.
            policy(PolicyState::Disabled, &[ALEX], &[]),
            policy(PolicyState::Disabled, &[ALEX], &[]),
        ];
        let found = BreakGlass::find(&policies, &[], &[], true);
        assert_eq!(found.policies_considered, 4);
        assert_eq!(found.users.len(), 1, "{found:?}");
        assert_eq!(found.users[0].id, BG);
        assert_eq!(found.users[0].excluded_from, 3);
        assert_eq!(found.users[0].source, BreakGlassSource::Discovered);
        // Exactly half is not "most".
        assert!(found.groups.is_empty(), "{found:?}");
        assert!(found.has_user(&BG.to_uppercase()) && !found.has_user(ALEX));
    }

    #[test]
    fn declared_accounts_come_first_and_are_not_repeated() {
        let policies = vec![policy(PolicyState::Enabled, &[BG], &[BG_GROUP])];
        let found = BreakGlass::find(&policies, &[BG.to_owned(), ALEX.to_owned()], &[], true);
        let ids: Vec<(&str, BreakGlassSource, usize)> = found
            .users
            .iter()
            .map(|o| (o.id.as_str(), o.source, o.excluded_from))
            .collect();
        assert_eq!(
            ids,
            [
                (ALEX, BreakGlassSource::Declared, 0),
                (BG, BreakGlassSource::Declared, 1)
            ]
        );
        assert_eq!(found.groups[0].source, BreakGlassSource::Discovered);
        assert_eq!(found.exclusions().users, [ALEX, BG]);
    }

    #[test]
    fn discovery_can_be_turned_off_and_ignores_our_own_policy() {
        let mut ours = policy(PolicyState::Enabled, &[ALEX], &[]);
        ours.display_name = format!("x {}", super::super::MARKER);
        let policies = vec![policy(PolicyState::Enabled, &[BG], &[]), ours];
        assert!(BreakGlass::find(&policies, &[], &[], false).is_empty());
        let found = BreakGlass::find(&policies, &[], &[], true);
        assert_eq!(found.policies_considered, 1);
        assert_eq!(found.exclusions().users, [BG]);
    }

    #[test]
    fn a_tenant_without_policies_reveals_nothing() {
        let found = BreakGlass::find(&[], &[], &[], true);
        assert!(found.is_empty());
        assert_eq!(found.policies_considered, 0);
    }
}
