//! The HTTP API of Agency OS: the axum router the dashboard calls, its extractors (auth,
//! tenant, pagination), the error envelope, the middleware stack, the OpenAPI document and
//! the server. `main.rs` only parses configuration and calls [`serve`].

pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod layers;
pub mod openapi;
pub mod pagination;
pub mod request_id;
pub mod routes;
pub mod server;

pub use config::{ApiConfig, ApiSettings, AuthSettings, CorsOrigins};
pub use error::{ApiError, ApiResult, ErrorBody, FieldError};
pub use server::{AppState, build_router, serve};
