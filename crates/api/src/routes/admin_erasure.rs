//! `POST /api/v1/admin/erasure` (platform admins): a person's request to be forgotten; their
//! email and/or phone erased or anonymised in every tenant at once, answered with the digests
//! kept and the rows changed per table (see `agency_engine::erasure`).

use agency_engine::erasure::{self, ErasureReport};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, PlatformAdmin};
use crate::request_id;
use crate::server::AppState;
use axum::extract::State;

/// `POST /admin/erasure` body: the person's email and/or phone (at least one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The email address to erase.
    pub email: Option<String>,
    /// The phone number to erase (national numbers read as Australian).
    pub phone: Option<String>,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(erase_person))
}

/// Erases a person's personal data in every tenant.
#[utoipa::path(post, path = "/api/v1/admin/erasure", tag = "admin", request_body = ErasureRequest,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn erase_person(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    ApiJson(body): ApiJson<ErasureRequest>,
) -> ApiResult<ApiJson<ErasureReport>> {
    let report = erasure::erase_person(
        &state.services,
        admin.id,
        request_id::current(),
        body.email.as_deref(),
        body.phone.as_deref(),
    )
    .await?;
    Ok(ApiJson(report))
}
