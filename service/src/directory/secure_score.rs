//! The Secure Score adapter: `security/secureScores?$top=1` (the newest daily snapshot) and each
//! control's profile (`security/secureScoreControlProfiles/{name}`) for its `maxScore`
//! (graph-api.md §7, msp-readiness.md §4). `SecurityEvents.Read.All`.

use super::DirectoryError;
use super::graph::Graph;
use super::tenants::ManagedTenant;
use crate::capabilities::secure_score::SecureScore;
use crate::domain::secure_score::ControlScore;

mod wire {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Score {
        #[serde(default)]
        pub control_scores: Vec<Control>,
    }

    /// An open type: `count` and `total` are strings in live captures.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Control {
        pub control_name: String,
        pub score: Option<f64>,
        pub count: Option<String>,
        pub total: Option<String>,
        pub implementation_status: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Profile {
        pub max_score: Option<f64>,
    }
}

#[async_trait::async_trait]
impl SecureScore for Graph {
    async fn control_scores(
        &self,
        tenant: &ManagedTenant,
        controls: &[&str],
    ) -> Result<Vec<ControlScore>, DirectoryError> {
        // Graph lists the snapshots newest first; the first is today's.
        let latest = self
            .get_page::<wire::Score>(tenant, "security/secureScores?$top=1")
            .await?
            .value
            .into_iter()
            .next();
        let listed = latest.map(|s| s.control_scores).unwrap_or_default();
        let mut scores = Vec::with_capacity(controls.len());
        for &control in controls {
            let max_score = match self
                .get_entity::<wire::Profile>(
                    tenant,
                    &format!("security/secureScoreControlProfiles/{control}"),
                )
                .await
            {
                Ok((profile, _)) => profile.max_score,
                // A control this tenant's Secure Score does not know: no points to show.
                Err(DirectoryError::Upstream { status: 404, .. }) => None,
                Err(other) => return Err(other),
            };
            let found = listed
                .iter()
                .find(|c| c.control_name.eq_ignore_ascii_case(control));
            let number =
                |text: &Option<String>| text.as_deref().and_then(|t| t.trim().parse().ok());
            scores.push(ControlScore {
                control: control.to_owned(),
                score: found.and_then(|c| c.score),
                max_score,
                count: found.and_then(|c| number(&c.count)),
                total: found.and_then(|c| number(&c.total)),
                implementation_status: found.and_then(|c| c.implementation_status.clone()),
            });
        }
        Ok(scores)
    }
}
