//! Outreach routes: co-pilot approvals (`GET .../approvals`, any member; approve, reject and
//! edit a draft, members and up), the manual send (`POST .../leads/{id}/send {channel}`,
//! members and up; 202, it goes through the job and its checks), the tenant's sandbox outbox
//! (`GET .../sandbox/messages`, any member) and the public one-click unsubscribe (`GET /u/{token}` shows it, `POST /u/{token}` applies it,
//! as RFC 8058 mail clients do with `List-Unsubscribe=One-Click`). The unsubscribe answers
//! HTML for a browser and JSON when the caller accepts `application/json`; a forged token is
//! 404 and changes nothing.

use agency_domain::LeadId;
use agency_domain::Role;
use agency_engine::outreach::approvals::{self, ApprovalEdit, ManualSend};
use agency_engine::outreach::unsubscribe::UnsubscribeStatus;
use agency_engine::outreach::{sandbox, unsubscribe};
use agency_engine::records::{Approval, SandboxMessage};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Tenant};
use crate::pagination::{Page, Pagination};
use crate::routes::campaigns::actor;
use crate::server::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_approvals))
        .routes(routes!(edit_approval))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(send_to_lead))
        .routes(routes!(sandbox_messages))
}

/// The public routes of this module (no token: the signed link is the credential).
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(unsubscribe_page, unsubscribe_apply))
}

/// Path of one item within a client.
#[derive(Debug, Deserialize)]
pub struct ItemPath {
    /// Client id (checked by `Tenant`).
    pub client_id: Uuid,
    /// Item id.
    pub id: Uuid,
}

/// The client's drafts waiting for approval, the soonest due first (any member).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/approvals", tag = "outreach",
    params(("client_id" = Uuid, Path, description = "Client id"), Pagination),
    responses((status = 200, body = Page<Approval>), (status = 404, body = ErrorBody)))]
pub async fn list_approvals(
    State(state): State<AppState>,
    tenant: Tenant,
    page: Pagination,
) -> ApiResult<ApiJson<Page<Approval>>> {
    let (items, total) = approvals::list(
        &state.services.pool,
        tenant.client_id,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(ApiJson(Page::new(items, total, page)))
}

/// Edits a draft's subject and body (members and up; 409 once decided).
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/approvals/{id}", tag = "outreach",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path, description = "The draft (send) id")),
    request_body = ApprovalEdit,
    responses((status = 200, body = Approval), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn edit_approval(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(p): ApiPath<ItemPath>,
    ApiJson(body): ApiJson<ApprovalEdit>,
) -> ApiResult<ApiJson<Approval>> {
    tenant.require(Role::Member)?;
    let answer = approvals::edit(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        p.id,
        &body,
    )
    .await?;
    Ok(ApiJson(answer))
}

/// Approves a draft: it is sent after the same just-in-time check as any send (members and
/// up; 409 once decided).
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/approvals/{id}/approve", tag = "outreach",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path, description = "The draft (send) id")),
    responses((status = 200, body = Approval), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(p): ApiPath<ItemPath>,
) -> ApiResult<ApiJson<Approval>> {
    tenant.require(Role::Member)?;
    let answer = approvals::approve(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        p.id,
        Utc::now(),
    )
    .await?;
    Ok(ApiJson(answer))
}

/// Rejects a draft: it is never sent (members and up; 409 once decided).
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/approvals/{id}/reject", tag = "outreach",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path, description = "The draft (send) id")),
    responses((status = 200, body = Approval), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(p): ApiPath<ItemPath>,
) -> ApiResult<ApiJson<Approval>> {
    tenant.require(Role::Member)?;
    let answer = approvals::reject(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        p.id,
        Utc::now(),
    )
    .await?;
    Ok(ApiJson(answer))
}

/// Sends to a lead now on a channel (members and up): planned and queued at once (202); the
/// send path checks it like any other and records the outcome.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/leads/{id}/send", tag = "outreach",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path, description = "Lead id")),
    request_body = ManualSend,
    responses((status = 202, body = Approval), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn send_to_lead(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(p): ApiPath<ItemPath>,
    ApiJson(body): ApiJson<ManualSend>,
) -> ApiResult<(StatusCode, ApiJson<Approval>)> {
    tenant.require(Role::Member)?;
    let answer = approvals::manual_send(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        LeadId::from_uuid(p.id),
        &body,
        Utc::now(),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, ApiJson(answer)))
}

/// The messages the sandbox providers took for the client, newest first (any member).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/sandbox/messages", tag = "outreach",
    params(("client_id" = Uuid, Path, description = "Client id"), Pagination),
    responses((status = 200, body = Page<SandboxMessage>), (status = 404, body = ErrorBody)))]
pub async fn sandbox_messages(
    State(state): State<AppState>,
    tenant: Tenant,
    page: Pagination,
) -> ApiResult<ApiJson<Page<SandboxMessage>>> {
    let (items, total) = sandbox::sandbox_messages(
        &state.services.pool,
        tenant.client_id,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(ApiJson(Page::new(items, total, page)))
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: &UnsubscribeStatus, token: &str) -> Html<String> {
    let body = if status.unsubscribed {
        format!(
            "<h1>You are unsubscribed</h1><p>{} will not contact {} again.</p>",
            escape(&status.sender),
            escape(&status.email)
        )
    } else {
        format!(
            "<h1>Unsubscribe</h1><p>Stop all messages from {} to {}?</p>\
             <form method=\"post\" action=\"/u/{}\"><button type=\"submit\">Unsubscribe</button></form>",
            escape(&status.sender),
            escape(&status.email),
            escape(token)
        )
    };
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribe</title></head><body>{body}</body></html>"
    ))
}

fn answer(headers: &HeaderMap, status: UnsubscribeStatus, token: &str) -> Response {
    if wants_json(headers) {
        ApiJson(status).into_response()
    } else {
        page(&status, token).into_response()
    }
}

/// Shows the unsubscribe page of a signed link (public; 404 for a forged link).
#[utoipa::path(get, path = "/u/{token}", tag = "outreach",
    params(("token" = String, Path, description = "The signed unsubscribe token")),
    responses((status = 200, body = UnsubscribeStatus, description = "HTML, or JSON when accepted"),
        (status = 404, body = ErrorBody)))]
pub async fn unsubscribe_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let status =
        unsubscribe::unsubscribe_status(&state.services.pool, &state.settings.links, &token)
            .await?;
    Ok(answer(&headers, status, &token))
}

/// Unsubscribes at once (public, one-click): the address is suppressed and pending sends are
/// cancelled. Repeating it changes nothing.
#[utoipa::path(post, path = "/u/{token}", tag = "outreach",
    params(("token" = String, Path, description = "The signed unsubscribe token")),
    responses((status = 200, body = UnsubscribeStatus, description = "HTML, or JSON when accepted"),
        (status = 404, body = ErrorBody)))]
pub async fn unsubscribe_apply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let status =
        unsubscribe::unsubscribe(&state.services.pool, &state.settings.links, &token).await?;
    Ok(answer(&headers, status, &token))
}
