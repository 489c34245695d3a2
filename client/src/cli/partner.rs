//! `sspr partner customers`: the partner tenant's GDAP customers as a table.

use sspr_client::partner::{DelegatedAdminRelationship, PartnerCustomerList};

use super::render::{NONE, format_timestamp, new_table};

/// `Partner tenant: …`, then TENANT ID, NAME, DOMAIN, ONBOARDED, RELATIONSHIPS.
pub fn customers_table(list: &PartnerCustomerList, width: Option<u16>) -> String {
    let mut table = new_table(width);
    table.set_header(["TENANT ID", "NAME", "DOMAIN", "ONBOARDED", "RELATIONSHIPS"]);
    super::render::keep_whole(&mut table, &[0, 2]);
    for customer in &list.value {
        let relationships: Vec<String> = customer
            .relationships
            .iter()
            .map(relationship_text)
            .collect();
        table.add_row([
            customer.tenant_id.clone(),
            customer.display_name.clone(),
            customer
                .default_domain
                .clone()
                .unwrap_or_else(|| NONE.to_owned()),
            if customer.onboarded { "yes" } else { "no" }.to_owned(),
            relationships.join("\n"),
        ]);
    }
    format!("Partner tenant: {}\n{table}", list.partner_tenant_id)
}

/// `active: Contoso helpdesk (ends 2027-06-01 00:00:00 UTC)`.
fn relationship_text(relationship: &DelegatedAdminRelationship) -> String {
    let ends = relationship
        .end_date_time
        .as_deref()
        .map(|end| format!(" (ends {})", format_timestamp(end)))
        .unwrap_or_default();
    format!(
        "{}: {}{ends}",
        relationship.status, relationship.display_name
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_customer_shows_whether_it_is_onboarded_and_its_relationships() {
        let list: PartnerCustomerList =
            serde_json::from_value(sspr_api::examples::partner_customers()).expect("the example");
        let text = customers_table(&list, Some(200));
        assert!(
            text.starts_with("Partner tenant: 5c7d9e1f-2a4b-4c6d-8e0f-1a2b3c4d5e6f\n"),
            "{text}"
        );
        let contoso = text
            .lines()
            .find(|l| l.contains("Contoso"))
            .expect("contoso row");
        assert!(
            contoso.contains("contoso.onmicrosoft.com")
                && contoso.contains("yes")
                && contoso.contains("active: Contoso helpdesk (ends 2027-06-01 00:00:00 UTC)"),
            "{contoso}"
        );
        let adatum = text
            .lines()
            .find(|l| l.contains("Adatum Corporation"))
            .expect("adatum row");
        assert!(
            adatum.contains(NONE)
                && adatum.contains(" no ")
                && adatum.contains("active: Adatum default"),
            "{adatum}"
        );
    }
}
