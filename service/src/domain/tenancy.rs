//! Tenancy rules: how a tenant list is selected (`tag:` selectors), what a tag may look like,
//! and which application permissions each feature needs.

use std::collections::BTreeSet;

use sspr_api::tenants::{Feature, FeatureCheck};

/// One entry of a tenant list (`tenants=` of the fleet, the tenants of a grant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantSelector {
    /// `*` (or `all` in a fleet query): every tenant.
    All,
    /// A tenant id or domain, lower-cased.
    Named(String),
    /// `tag:<tag>`: every tenant with that tag.
    Tag(String),
}

/// What a selector is matched against.
pub trait TenantNames {
    fn id(&self) -> &str;
    fn domains(&self) -> &[String];
    fn tags(&self) -> &[String];
}

impl TenantSelector {
    /// Reads one selector; `Err` says what is wrong with it.
    pub fn parse(text: &str) -> Result<TenantSelector, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(TenantSelector::All);
        }
        if let Some(tag) = text.strip_prefix("tag:") {
            return validate_tag(tag).map(|()| TenantSelector::Tag(tag.to_ascii_lowercase()));
        }
        if text.is_empty() {
            return Err("a tenant selector is empty".into());
        }
        if text.chars().any(|c| c.is_whitespace() || c == ',') {
            return Err(format!(
                "'{text}' is not a tenant id, a domain, tag:<tag> or *"
            ));
        }
        Ok(TenantSelector::Named(text.to_ascii_lowercase()))
    }

    pub fn matches(&self, tenant: &impl TenantNames) -> bool {
        match self {
            TenantSelector::All => true,
            TenantSelector::Named(name) => {
                tenant.id().eq_ignore_ascii_case(name)
                    || tenant
                        .domains()
                        .iter()
                        .any(|d| d.eq_ignore_ascii_case(name))
            }
            TenantSelector::Tag(tag) => tenant.tags().iter().any(|t| t.eq_ignore_ascii_case(tag)),
        }
    }

    /// As it is written in a list.
    pub fn text(&self) -> String {
        match self {
            TenantSelector::All => "*".into(),
            TenantSelector::Named(name) => name.clone(),
            TenantSelector::Tag(tag) => format!("tag:{tag}"),
        }
    }
}

/// The longest tag.
pub const MAX_TAG_CHARS: usize = 64;
/// The most tags one tenant may carry.
pub const MAX_TAGS: usize = 32;

/// A tag is 1–64 characters of lower-case letters, digits and `:` `-` `_` `.`, e.g.
/// `region:eu`: it must survive a query string and a file name unchanged.
pub fn validate_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() || tag.chars().count() > MAX_TAG_CHARS {
        return Err(format!(
            "a tag has 1 to {MAX_TAG_CHARS} characters; '{tag}' has {}",
            tag.chars().count()
        ));
    }
    match tag
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || ":-_.".contains(*c)))
    {
        Some(bad) => Err(format!(
            "tag '{tag}' has '{bad}': tags use lower-case letters, digits and : - _ ."
        )),
        None => Ok(()),
    }
}

/// The tags, each valid, without repeats, in the order given.
pub fn validate_tags(tags: &[String]) -> Result<Vec<String>, String> {
    if tags.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags; {} given", tags.len()));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for tag in tags {
        validate_tag(tag)?;
        if seen.insert(tag.clone()) {
            out.push(tag.clone());
        }
    }
    Ok(out)
}

/// What a feature needs: every clause, each satisfied by any one of its permissions (the first
/// is the least privileged, the one to consent to).
struct Requirement {
    feature: Feature,
    clauses: &'static [&'static [&'static str]],
    licence: Option<&'static str>,
}

/// graph-api.md §0.2 and msp-readiness.md: the least-privileged application permission of each
/// call a feature makes, with the higher ones that also do.
const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        feature: Feature::PolicyRead,
        // authorizationPolicy needs Policy.Read.All, which also reads the methods policy.
        clauses: &[&["Policy.Read.All"]],
        licence: None,
    },
    Requirement {
        feature: Feature::PolicyWrite,
        clauses: &[
            &["Policy.Read.All"],
            &["Policy.ReadWrite.AuthenticationMethod"],
            &["Policy.ReadWrite.Authorization"],
        ],
        licence: None,
    },
    Requirement {
        feature: Feature::Registrations,
        clauses: &[&["AuditLog.Read.All"]],
        licence: Some("Microsoft Entra ID P1"),
    },
    Requirement {
        feature: Feature::ConditionalAccess,
        clauses: &[
            &["Policy.Read.All"],
            &["Policy.ReadWrite.ConditionalAccess"],
        ],
        licence: Some("Microsoft Entra ID P1"),
    },
    Requirement {
        feature: Feature::Licences,
        clauses: &[&[
            "LicenseAssignment.Read.All",
            "Organization.Read.All",
            "Directory.Read.All",
        ]],
        licence: None,
    },
    Requirement {
        feature: Feature::SecureScore,
        clauses: &[&["SecurityEvents.Read.All"]],
        licence: None,
    },
    Requirement {
        feature: Feature::Intune,
        clauses: &[&[
            "DeviceManagementConfiguration.Read.All",
            "DeviceManagementConfiguration.ReadWrite.All",
        ]],
        licence: Some("Microsoft Intune"),
    },
    Requirement {
        feature: Feature::IntuneWrite,
        clauses: &[&["DeviceManagementConfiguration.ReadWrite.All"]],
        licence: Some("Microsoft Intune"),
    },
];

fn requirement(feature: Feature) -> &'static Requirement {
    REQUIREMENTS
        .iter()
        .find(|r| r.feature == feature)
        .expect("every feature has a requirement")
}

/// Whether `granted` lets `feature` work, and what to consent to when not.
pub fn check_feature(feature: Feature, granted: &BTreeSet<String>) -> FeatureCheck {
    let requirement = requirement(feature);
    let holds = |permission: &str| granted.iter().any(|g| g.eq_ignore_ascii_case(permission));
    let missing: Vec<String> = requirement
        .clauses
        .iter()
        .filter(|clause| !clause.iter().any(|p| holds(p)))
        .map(|clause| clause[0].to_owned())
        .collect();
    FeatureCheck {
        feature,
        available: missing.is_empty(),
        missing_permissions: missing,
        required_permissions: requirement
            .clauses
            .iter()
            .map(|c| c[0].to_owned())
            .collect(),
        licence: requirement.licence.map(str::to_owned),
    }
}

/// Every feature, checked.
pub fn check_features(granted: &BTreeSet<String>) -> Vec<FeatureCheck> {
    REQUIREMENTS
        .iter()
        .map(|r| check_feature(r.feature, granted))
        .collect()
}

/// The permissions an admin consents to for every feature (the least privileged of each
/// clause), sorted.
pub fn every_required_permission() -> Vec<String> {
    REQUIREMENTS
        .iter()
        .flat_map(|r| r.clauses.iter().map(|c| c[0].to_owned()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tenant {
        id: String,
        domains: Vec<String>,
        tags: Vec<String>,
    }
    impl TenantNames for Tenant {
        fn id(&self) -> &str {
            &self.id
        }
        fn domains(&self) -> &[String] {
            &self.domains
        }
        fn tags(&self) -> &[String] {
            &self.tags
        }
    }

    fn contoso() -> Tenant {
        Tenant {
            id: "3f2b".into(),
            domains: vec!["contoso.com".into()],
            tags: vec!["region:eu".into(), "tier:gold".into()],
        }
    }

    #[test]
    fn selectors_match_by_id_domain_tag_or_everything() {
        let cases = [
            ("*", true),
            ("3F2B", true),
            ("Contoso.com", true),
            ("tag:region:eu", true),
            ("tag:region:us", false),
            ("fabrikam.com", false),
        ];
        for (text, expected) in cases {
            let selector = TenantSelector::parse(text).expect(text);
            assert_eq!(selector.matches(&contoso()), expected, "{text}");
        }
        assert_eq!(
            TenantSelector::parse("tag:region:eu").unwrap().text(),
            "tag:region:eu"
        );
    }

    #[test]
    fn bad_selectors_and_tags_say_why() {
        assert!(TenantSelector::parse("").unwrap_err().contains("empty"));
        assert!(
            TenantSelector::parse("tag:")
                .unwrap_err()
                .contains("1 to 64")
        );
        assert!(
            TenantSelector::parse("tag:Region EU")
                .unwrap_err()
                .contains("'R'")
        );
        assert!(TenantSelector::parse("a b").unwrap_err().contains("'a b'"));
        assert_eq!(
            validate_tags(&["region:eu".into(), "region:eu".into(), "tier:gold".into()]),
            Ok(vec!["region:eu".to_owned(), "tier:gold".to_owned()])
        );
        let many: Vec<String> = (0..33).map(|i| format!("t{i}")).collect();
        assert!(validate_tags(&many).unwrap_err().contains("at most 32"));
    }

    #[test]
    fn a_feature_names_the_least_privileged_missing_permission_of_each_clause() {
        let granted: BTreeSet<String> = ["Policy.Read.All", "AuditLog.Read.All"]
            .map(str::to_owned)
            .into();
        let ca = check_feature(Feature::ConditionalAccess, &granted);
        assert!(!ca.available);
        assert_eq!(
            ca.missing_permissions,
            ["Policy.ReadWrite.ConditionalAccess"]
        );
        assert_eq!(ca.licence.as_deref(), Some("Microsoft Entra ID P1"));
        assert!(check_feature(Feature::Registrations, &granted).available);
        // A higher permission of a clause satisfies it.
        let directory: BTreeSet<String> = ["Directory.Read.All".to_owned()].into();
        assert!(check_feature(Feature::Licences, &directory).available);
        let none = BTreeSet::new();
        let intune = check_feature(Feature::Intune, &none);
        assert_eq!(
            intune.missing_permissions,
            ["DeviceManagementConfiguration.Read.All"]
        );
        assert_eq!(check_features(&none).len(), 8);
        assert!(every_required_permission().contains(&"SecurityEvents.Read.All".to_owned()));
    }
}
