//! Inputs and payloads of dispatch.

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::NaiveDate;

use crate::graphql::types::dispatch::{DispatchChannel, DispatchProof};
use crate::graphql::types::requests::SubjectRequest;

/// How an approved (or carried-out) request's answer goes out.
#[derive(InputObject, Debug)]
pub struct DispatchRequestInput {
    /// The request (APPROVED, or EXECUTING with every execution task done).
    pub request_id: ID,
    /// The `version` the decision is based on; CONFLICT if the request changed since.
    pub version: i32,
    /// How it goes out.
    pub channel: DispatchChannel,
    /// EMAIL: one of the request's e-mail addresses (default: a verified one, else
    /// the first). POSTAL: the postal address the letter went to (default: the
    /// request's postal address). PORTAL: leave out.
    pub recipient: Option<String>,
    /// EMAIL: attach the answer package to the message (VALIDATION when it is
    /// larger than the configured limit, or there is no package).
    #[graphql(default = false)]
    pub attach_package: bool,
    /// POSTAL (required): the day the letter was posted; not in the future and not
    /// before the request was received.
    pub sent_on: Option<NaiveDate>,
    /// POSTAL: the carrier's tracking reference (at most 200 characters).
    pub tracking_reference: Option<String>,
}

/// Withdraws the subject's download link of a dispatched request.
#[derive(InputObject, Debug)]
pub struct RevokeDownloadLinkInput {
    /// The request.
    pub request_id: ID,
}

/// The request after dispatch, and the proof.
#[derive(SimpleObject)]
pub struct DispatchRequestPayload {
    /// The request, now DISPATCHED: its content is final.
    pub request: SubjectRequest,
    /// The proof of what went out.
    pub proof: DispatchProof,
    /// PORTAL: the download link to show the subject. It is not stored and is
    /// returned only here; null for other channels (the e-mail carries it).
    pub download_url: Option<String>,
}

/// The proof after the link was withdrawn.
#[derive(SimpleObject)]
pub struct RevokeDownloadLinkPayload {
    /// The proof, `downloadLink.revokedAt` set.
    pub proof: DispatchProof,
}
