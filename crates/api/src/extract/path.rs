//! `ApiPath<T>`: path parameters; an id that does not parse answers 404 (no such record).

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Parsed path parameters (a tuple, a struct or one value).
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => {
                tracing::debug!(%rejection, "path parameters did not parse");
                Err(ApiError::new(
                    axum::http::StatusCode::NOT_FOUND,
                    "not_found",
                    "The record was not found.",
                ))
            }
        }
    }
}
