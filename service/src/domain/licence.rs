//! Whether a tenant has the licence the registration report and Conditional Access need: Microsoft Entra ID P1 or P2
//! (graph-api.md §4.1, §6). Decided from the tenant's subscribed SKUs: an SKU that is `Enabled`
//! (or in its `Warning` grace period) and carries the `AAD_PREMIUM` or `AAD_PREMIUM_P2` service
//! plan provisioned with `Success`. Suspended, locked-out and deleted SKUs do not count.

/// Service plan id of Entra ID P1 (`AAD_PREMIUM`); every P1/P2-bearing product carries it.
pub const AAD_PREMIUM: &str = "41781fb2-bc02-4b7c-bd55-b576c07bb09d";
/// Service plan id of Entra ID P2 (`AAD_PREMIUM_P2`), always shipped with `AAD_PREMIUM`.
pub const AAD_PREMIUM_P2: &str = "eec0eb4f-6444-4f95-aba0-50c24d67f998";

/// What the report needs, in the words the caller gets.
pub const REQUIRED: &str =
    "Microsoft Entra ID P1 or P2 (service plan AAD_PREMIUM or AAD_PREMIUM_P2)";

/// One subscribed SKU, reduced to what the decision needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribedSku {
    pub sku_part_number: String,
    /// `Enabled`, `Warning`, `Suspended`, `Deleted` or `LockedOut`.
    pub capability_status: String,
    pub service_plans: Vec<ServicePlan>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePlan {
    pub service_plan_id: String,
    pub service_plan_name: String,
    /// `Success`, `Disabled`, `Error`, `PendingInput`, `PendingActivation`, `PendingProvisioning`.
    pub provisioning_status: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Licence {
    /// The tenant has P1 or P2 through `sku` (its part number).
    Premium { sku: String },
    /// It has not; `detail` names what is missing and, when an SKU carries the plan but does not
    /// count, why.
    Missing { detail: String },
}

fn is_premium_plan(plan: &ServicePlan) -> bool {
    plan.service_plan_id.eq_ignore_ascii_case(AAD_PREMIUM)
        || plan.service_plan_id.eq_ignore_ascii_case(AAD_PREMIUM_P2)
}

/// The verdict for a tenant with these SKUs.
pub fn licence(skus: &[SubscribedSku]) -> Licence {
    let active =
        |sku: &SubscribedSku| matches!(sku.capability_status.as_str(), "Enabled" | "Warning");
    if let Some(sku) = skus.iter().find(|sku| {
        active(sku)
            && sku
                .service_plans
                .iter()
                .any(|p| is_premium_plan(p) && p.provisioning_status == "Success")
    }) {
        return Licence::Premium {
            sku: sku.sku_part_number.clone(),
        };
    }
    // Say why an SKU that carries the plan does not count: that is what the admin must fix.
    let reasons: Vec<String> = skus
        .iter()
        .filter_map(|sku| {
            let plan = sku.service_plans.iter().find(|p| is_premium_plan(p))?;
            Some(if active(sku) {
                format!(
                    "{} carries {} but it is {}",
                    sku.sku_part_number, plan.service_plan_name, plan.provisioning_status
                )
            } else {
                format!("{} is {}", sku.sku_part_number, sku.capability_status)
            })
        })
        .collect();
    Licence::Missing {
        detail: if reasons.is_empty() {
            REQUIRED.to_owned()
        } else {
            format!("{REQUIRED}; {}", reasons.join("; "))
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(id: &str, name: &str, status: &str) -> ServicePlan {
        ServicePlan {
            service_plan_id: id.into(),
            service_plan_name: name.into(),
            provisioning_status: status.into(),
        }
    }

    fn sku(part: &str, status: &str, plans: Vec<ServicePlan>) -> SubscribedSku {
        SubscribedSku {
            sku_part_number: part.into(),
            capability_status: status.into(),
            service_plans: plans,
        }
    }

    fn p1(status: &str) -> ServicePlan {
        plan(AAD_PREMIUM, "AAD_PREMIUM", status)
    }

    const E1_EXCHANGE: &str = "9aaf7827-d63c-4b61-89c3-182f06f82e5c";

    #[test]
    fn an_enabled_or_warning_sku_with_a_provisioned_premium_plan_counts() {
        for status in ["Enabled", "Warning"] {
            assert_eq!(
                licence(&[sku("SPB", status, vec![p1("Success")])]),
                Licence::Premium { sku: "SPB".into() }
            );
        }
        let p2_only = sku(
            "AAD_PREMIUM_P2",
            "Enabled",
            vec![plan(AAD_PREMIUM_P2, "AAD_PREMIUM_P2", "Success")],
        );
        assert!(matches!(licence(&[p2_only]), Licence::Premium { .. }));
    }

    #[test]
    fn no_premium_plan_names_what_is_missing() {
        let e1 = sku(
            "STANDARDPACK",
            "Enabled",
            vec![plan(E1_EXCHANGE, "EXCHANGE_S_STANDARD", "Success")],
        );
        assert_eq!(
            licence(&[e1]),
            Licence::Missing {
                detail: REQUIRED.into()
            }
        );
        assert_eq!(
            licence(&[]),
            Licence::Missing {
                detail: REQUIRED.into()
            }
        );
    }

    #[test]
    fn suspended_locked_out_deleted_or_unprovisioned_do_not_count_and_say_why() {
        for status in ["Suspended", "LockedOut", "Deleted"] {
            let Licence::Missing { detail } =
                licence(&[sku("AAD_PREMIUM", status, vec![p1("Success")])])
            else {
                panic!("{status} must not count");
            };
            assert!(detail.starts_with(REQUIRED), "{detail}");
            assert!(
                detail.contains(&format!("AAD_PREMIUM is {status}")),
                "{detail}"
            );
        }
        let Licence::Missing { detail } =
            licence(&[sku("SPE_E3", "Enabled", vec![p1("PendingActivation")])])
        else {
            panic!("an unprovisioned plan must not count");
        };
        assert!(
            detail.contains("SPE_E3 carries AAD_PREMIUM but it is PendingActivation"),
            "{detail}"
        );
    }
}
