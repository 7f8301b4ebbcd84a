//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` annotations as
//! they are registered (utoipa-axum), served at `/api/v1/openapi.json`, and a docs page at
//! `/api/v1/docs` (a static page that loads the Scalar renderer in the browser; nothing is
//! downloaded at build time).

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, FieldError};
use crate::server::AppState;

/// Path of the document.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
/// Path of the docs page.
pub const DOCS_PATH: &str = "/api/v1/docs";

/// The document's static parts (info, security, shared schemas); paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(title = "Agency OS API", description = "The REST API behind the Agency OS dashboard.", version = "1"),
    components(schemas(ErrorBody, FieldError)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The full document (static parts, every registered route and the provider webhooks).
pub fn document() -> Document {
    let mut document = crate::routes::router().into_openapi();
    document.merge(crate::routes::public_router().into_openapi());
    document.merge(crate::routes::webhooks::router().into_openapi());
    document
}

const DOCS_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Agency OS API</title>
</head>
<body>
  <script id="api-reference" data-url="/api/v1/openapi.json"></script>
  <script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
</body>
</html>
"#;

/// Routes serving `document` and the docs page (no authentication).
pub fn router(document: Document) -> Router<AppState> {
    let json = document.to_json().unwrap_or_else(|_| "{}".to_owned());
    Router::new()
        .route(
            OPENAPI_PATH,
            get(move || {
                let json = json.clone();
                async move { ([(header::CONTENT_TYPE, "application/json")], json).into_response() }
            }),
        )
        .route(DOCS_PATH, get(|| async { Html(DOCS_HTML) }))
}
