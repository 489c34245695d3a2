//! The MSP's own (partner) tenant: the customers of its delegated admin (GDAP) relationships,
//! with whether each is onboarded already.

use reqwest::Method;

pub use sspr_api::partner::{DelegatedAdminRelationship, PartnerCustomer, PartnerCustomerList};

use crate::types::Answer;
use crate::{ClientError, SsprClient};

impl SsprClient {
    /// `GET /v1/partner/customers`: the partner tenant's GDAP customers and their relationships.
    pub async fn partner_customers(&self) -> Result<Answer<PartnerCustomerList>, ClientError> {
        let url = self.endpoint(&["v1", "partner", "customers"])?;
        self.send_json(Method::GET, &url, None, None).await
    }
}
