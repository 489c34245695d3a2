//! Enablement inferred from evidence when the portal back end is not configured (DESIGN §2.3):
//! the per-user `isSsprEnabled` flags of the registration report (graph-api.md §4) across enabled
//! members who are not administrators, and group memberships to name the group that explains a
//! partial enablement.
//!
//! Memory stays proportional to the members considered (16 bytes and a flag each); report pages
//! and member pages are dropped as soon as they are tallied.

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::DirectoryError;
use super::NON_PREMIUM;
use super::graph::{Graph, Page};
use super::tenants::ManagedTenant;
use crate::domain::inference::InferenceOutcome;
use crate::domain::portal::{Evidence, InferredEnablement, InferredScope};

/// The registration report, reduced to the columns the decision needs, in Graph's largest pages.
const REPORT: &str = "reports/authenticationMethods/userRegistrationDetails?$select=id,isSsprEnabled,isAdmin,userType,lastUpdatedDateTime&$top=999";
const GROUPS: &str = "groups?$select=id,displayName&$top=999";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    id: String,
    #[serde(default)]
    is_sspr_enabled: bool,
    #[serde(default)]
    is_admin: Option<bool>,
    #[serde(default)]
    user_type: Option<String>,
    #[serde(default)]
    last_updated_date_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupRow {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct MemberRow {
    id: String,
}

/// The report reduced to what the decision needs.
#[derive(Default)]
struct Tally {
    /// Members considered (enabled accounts, `userType` member, not admins) and whether SSPR is
    /// enabled for each; sorted by id once complete.
    considered: Vec<(Uuid, bool)>,
    enabled: u64,
    /// Oldest `lastUpdatedDateTime` among all rows read, with its original spelling.
    oldest: Option<(OffsetDateTime, String)>,
}

impl Tally {
    fn add(&mut self, row: Row) {
        if let Some(text) = row.last_updated_date_time
            && let Ok(at) = OffsetDateTime::parse(&text, &Rfc3339)
            && self.oldest.as_ref().is_none_or(|(oldest, _)| at < *oldest)
        {
            self.oldest = Some((at, text));
        }
        let member = row
            .user_type
            .is_some_and(|t| t.eq_ignore_ascii_case("member"));
        if !member || row.is_admin == Some(true) {
            return;
        }
        // Object ids are GUIDs; anything else cannot be matched to a group member anyway.
        if let Ok(id) = Uuid::parse_str(&row.id) {
            self.considered.push((id, row.is_sspr_enabled));
            self.enabled += u64::from(row.is_sspr_enabled);
        }
    }

    fn finish(&mut self) {
        self.considered.sort_unstable_by_key(|(id, _)| *id);
        self.considered.dedup_by_key(|(id, _)| *id);
        self.enabled = self.considered.iter().filter(|(_, e)| *e).count() as u64;
    }

    /// `Some(enabled)` when `id` is a considered member.
    fn lookup(&self, id: &str) -> Option<bool> {
        let id = Uuid::parse_str(id).ok()?;
        self.considered
            .binary_search_by_key(&id, |(id, _)| *id)
            .ok()
            .map(|i| self.considered[i].1)
    }

    /// The scope the counts alone decide; `None` when a group must explain a partial set.
    fn scope_from_counts(&self) -> Option<InferredScope> {
        let considered = self.considered.len() as u64;
        if considered == 0 {
            Some(InferredScope::Unknown)
        } else if self.enabled == 0 {
            Some(InferredScope::None)
        } else if self.enabled == considered {
            Some(InferredScope::All)
        } else {
            None
        }
    }
}

/// How many groups explain the enabled set.
enum Explanation {
    NoGroup,
    One { id: String, name: String },
    Several,
}

impl Graph {
    /// Who SSPR is enabled for, inferred from the registration report and group memberships.
    /// A tenant without Entra ID P1 gives [`InferenceOutcome::NeedsPremium`], not an error.
    pub async fn inferred_enablement(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<InferenceOutcome, DirectoryError> {
        let mut tally = Tally::default();
        let mut next = Some(REPORT.to_owned());
        while let Some(link) = next.take() {
            let page: Page<Row> = match self.get_page(tenant, &link).await {
                Ok(page) => page,
                Err(DirectoryError::Upstream {
                    status: 403,
                    code,
                    message,
                    ..
                }) if code == NON_PREMIUM => {
                    return Ok(InferenceOutcome::NeedsPremium { detail: message });
                }
                Err(e) => return Err(e),
            };
            page.value.into_iter().for_each(|row| tally.add(row));
            next = page.next_link;
        }
        tally.finish();
        let read_at = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let scope = match tally.scope_from_counts() {
            Some(scope) => scope,
            None => match self.explaining_group(tenant, &tally).await? {
                Explanation::One { id, name } => InferredScope::Selected {
                    group_id: id,
                    group_name: name,
                },
                Explanation::NoGroup | Explanation::Several => InferredScope::SelectedUnknownGroup,
            },
        };
        Ok(InferenceOutcome::Inferred(InferredEnablement {
            scope,
            evidence: Evidence {
                members_considered: tally.considered.len() as u64,
                members_enabled: tally.enabled,
                oldest_data: tally.oldest.map(|(_, text)| text),
                read_at,
            },
        }))
    }

    /// The group(s) whose members, among the considered ones, are exactly the enabled ones.
    /// Stops at the second match (ambiguous) and reads a group's members only until one of them
    /// contradicts it.
    async fn explaining_group(
        &self,
        tenant: &ManagedTenant,
        tally: &Tally,
    ) -> Result<Explanation, DirectoryError> {
        let mut found: Option<(String, String)> = None;
        let mut next = Some(GROUPS.to_owned());
        while let Some(link) = next.take() {
            let page: Page<GroupRow> = match self.get_page(tenant, &link).await {
                Ok(page) => page,
                Err(DirectoryError::Upstream { status: 403, .. }) => {
                    tracing::warn!(tenant = %tenant.id, "cannot read groups (GroupMember.Read.All not granted?): the group SSPR is enabled for stays unknown");
                    return Ok(Explanation::NoGroup);
                }
                Err(e) => return Err(e),
            };
            for group in page.value {
                // Only object ids go into the path.
                if Uuid::parse_str(&group.id).is_err() {
                    continue;
                }
                if self.group_explains(tenant, &group.id, tally).await? {
                    if found.is_some() {
                        return Ok(Explanation::Several);
                    }
                    found = Some((group.id, group.display_name.unwrap_or_default()));
                }
            }
            next = page.next_link;
        }
        Ok(match found {
            Some((id, name)) => Explanation::One { id, name },
            None => Explanation::NoGroup,
        })
    }

    async fn group_explains(
        &self,
        tenant: &ManagedTenant,
        group_id: &str,
        tally: &Tally,
    ) -> Result<bool, DirectoryError> {
        let mut enabled_members = 0u64;
        let mut next = Some(format!("groups/{group_id}/members?$select=id&$top=999"));
        while let Some(link) = next.take() {
            let page: Page<MemberRow> = self.get_page(tenant, &link).await?;
            for member in &page.value {
                match tally.lookup(&member.id) {
                    Some(true) => enabled_members += 1,
                    // A considered member SSPR is not enabled for: not this group.
                    Some(false) => return Ok(false),
                    None => {}
                }
            }
            next = page.next_link;
        }
        Ok(enabled_members == tally.enabled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u128, enabled: bool, admin: Option<bool>, user_type: &str, at: &str) -> Row {
        Row {
            id: Uuid::from_u128(id).to_string(),
            is_sspr_enabled: enabled,
            is_admin: admin,
            user_type: Some(user_type.into()),
            last_updated_date_time: Some(at.into()),
        }
    }

    #[test]
    fn only_member_non_admins_count_and_the_oldest_row_is_kept() {
        let mut tally = Tally::default();
        tally.add(row(1, true, Some(false), "member", "2026-01-02T00:00:00Z"));
        tally.add(row(2, true, Some(true), "member", "2025-12-01T00:00:00.5Z"));
        tally.add(row(3, false, Some(false), "guest", "2026-01-03T00:00:00Z"));
        tally.add(row(4, false, None, "member", "2026-01-04T00:00:00Z"));
        tally.finish();
        assert_eq!(tally.considered.len(), 2);
        assert_eq!(tally.enabled, 1);
        assert_eq!(
            tally.oldest.as_ref().map(|(_, t)| t.as_str()),
            Some("2025-12-01T00:00:00.5Z")
        );
        assert_eq!(tally.lookup(&Uuid::from_u128(1).to_string()), Some(true));
        assert_eq!(tally.lookup(&Uuid::from_u128(4).to_string()), Some(false));
        assert_eq!(tally.lookup(&Uuid::from_u128(2).to_string()), None);
        assert_eq!(tally.scope_from_counts(), None, "partial: needs a group");
    }

    #[test]
    fn counts_decide_none_all_and_unknown() {
        let at = "2026-01-01T00:00:00Z";
        let mut none = Tally::default();
        none.add(row(1, false, Some(false), "member", at));
        none.finish();
        assert_eq!(none.scope_from_counts(), Some(InferredScope::None));
        let mut all = Tally::default();
        all.add(row(1, true, Some(false), "member", at));
        all.add(row(2, false, Some(true), "member", at));
        all.finish();
        assert_eq!(all.scope_from_counts(), Some(InferredScope::All));
        let mut empty = Tally::default();
        empty.add(row(1, true, Some(true), "member", at));
        empty.finish();
        assert_eq!(empty.scope_from_counts(), Some(InferredScope::Unknown));
    }
}
