//! The problem documents (RFC 9457) every error answer carries.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The problem document as OpenAPI shows it (RFC 9457 plus our extensions). Problems may carry
/// more members where their `code` says so (e.g. `violations`, `findings`, `steps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the kind of problem, relative to the service, e.g. `/problems/unknown-tenant`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    /// The HTTP status of the response.
    pub status: u16,
    pub detail: String,
    /// The kind of problem for programs: the camelCase form of the last segment of `type`
    /// (`/problems/unknown-tenant` is `unknownTenant`). Codes are stable; new ones may be added,
    /// so treat an unknown code by its `status`. The codes: `badRequest`, `malformedJson` and
    /// `invalidCursor` (400); `unauthenticated` (401); `forbidden` and `licenseRequired` (403);
    /// `unknownTenant`, `protectionNotDeployed` and `noRoute` (404); `methodNotAllowed` (405,
    /// with `Allow`); `preconditionFailed` (412); `bodyTooLarge` (413); `uriTooLong` (414);
    /// `unsupportedMediaType` (415); `invalidPolicy`, `invalidPatch`, `sourceUnavailable`,
    /// `planHasErrors`, `enforcedPolicyChange` and `policyRefused` (422);
    /// `preconditionRequired` (428); `headersTooLarge` (431); `internal` and `store` (500);
    /// `upstream`, `upstreamToken`, `portal`, `portalToken` and `changeFailed` (502);
    /// `upstreamUnreachable`, `upstreamThrottled`, `tenantBusy`, `identityProviderUnavailable`
    /// and `timeout` (503, with `Retry-After` where a wait is known). An error answered by a layer below the
    /// API's own (none is expected) has the HTTP reason phrase in camelCase, e.g. `notFound`.
    pub code: String,
    /// The request member at fault: a JSON pointer into the body (e.g. `/control`), or the name
    /// of the query parameter, path parameter or header (e.g. `dryRun`, `content-type`).
    pub field: Option<String>,
    /// Microsoft Graph's `request-id` when Graph caused the problem.
    pub upstream_request_id: Option<String>,
    /// Graph's status and error code when Graph caused the problem.
    pub upstream_status: Option<u16>,
    pub upstream_code: Option<String>,
}
