//! `POST /api/v1/clients/{client_id}/campaigns/{id}/leads/import`: a CSV body streamed into the
//! engine's all-or-nothing lead import (the body is never buffered whole). It runs under
//! `IMPORT_TIMEOUT_SECS` (default 300 s) instead of the global request timeout.

use agency_domain::CampaignId;
use std::io;

use agency_domain::Role;
use agency_engine::import::{self, ImportReport};
use axum::body::Body;
use axum::extract::State;
use futures::TryStreamExt;
use tokio_util::io::StreamReader;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Tenant};
use crate::routes::campaigns::actor;
use crate::routes::with_import_body_limit;
use crate::server::AppState;

/// The route's path template (also the one the longer import timeout is chosen on,
/// `crate::layers::Timeouts`).
pub const PATH: &str = "/api/v1/clients/{client_id}/campaigns/{id}/leads/import";

/// The routes of this module (with the import body limit).
pub fn router() -> OpenApiRouter<AppState> {
    with_import_body_limit(OpenApiRouter::new().routes(routes!(import_leads)))
}

/// Turns a body-stream failure into an I/O error; an exceeded size cap keeps a
/// `FileTooLarge` kind so the import answers 413.
fn body_error(err: axum::Error) -> io::Error {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return io::Error::new(
                io::ErrorKind::FileTooLarge,
                "the body exceeds the upload limit",
            );
        }
        source = e.source();
    }
    io::Error::other(err)
}

/// Import leads from a CSV (`text/csv`, a header row; common column names are recognised; at
/// most 100,000 rows). All or nothing: a failure imports nothing.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/campaigns/{id}/leads/import", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    request_body(content = String, content_type = "text/csv",
        description = "Header row with columns such as email, first name, last name, phone, title, company, website, linkedin, industry, employees, country"),
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn import_leads(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
    body: Body,
) -> ApiResult<ApiJson<ImportReport>> {
    tenant.require(Role::Member)?;
    let reader = StreamReader::new(body.into_data_stream().map_err(body_error));
    let report = import::import_csv(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        CampaignId::from_uuid(id),
        reader,
    )
    .await?;
    agency_engine::leads::invalidate_counts(state.services.cache.as_ref(), tenant.client_id).await;
    Ok(ApiJson(report))
}
