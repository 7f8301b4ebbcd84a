//! A client's own Twilio account (SPEC 5: a client may bring its own Twilio account): whether
//! one is set (any member), store or replace it (`{account_sid, auth_token}`, admin or owner;
//! the token is sealed at rest and never answered), remove it (admin or owner). The rules are
//! the engine's (`agency_engine::twilio_accounts`).

use agency_engine::twilio_accounts::{self, TwilioAccountInput, TwilioAccountView};
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, Tenant};
use crate::server::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_account, put_account, delete_account))
}

/// Whether the client sends SMS through its own Twilio account, and which (any member).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/twilio-account", tag = "resources",
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 200, body = TwilioAccountView), (status = 404, body = ErrorBody)))]
pub async fn get_account(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<ApiJson<TwilioAccountView>> {
    Ok(ApiJson(
        twilio_accounts::get(&state.services, &tenant.context()).await?,
    ))
}

/// Stores or replaces the client's Twilio account (admin or owner). The auth token is sealed
/// at rest and never shown again.
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/twilio-account", tag = "resources",
    request_body = TwilioAccountInput,
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 200, body = TwilioAccountView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_account(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<TwilioAccountInput>,
) -> ApiResult<ApiJson<TwilioAccountView>> {
    Ok(ApiJson(
        twilio_accounts::set(&state.services, &tenant.context(), &body).await?,
    ))
}

/// Removes the client's Twilio account (admin or owner); its numbers send through the
/// platform's account again.
#[utoipa::path(delete, path = "/api/v1/clients/{client_id}/twilio-account", tag = "resources",
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_account(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<StatusCode> {
    twilio_accounts::delete(&state.services, &tenant.context()).await?;
    Ok(StatusCode::NO_CONTENT)
}
