//! `ApiJson<T>`: a JSON body. Unreadable JSON answers 400; JSON that parses but does not fit
//! `T` (wrong type, unknown field with `#[serde(deny_unknown_fields)]`, missing field)
//! answers 422 naming the field's path; so does a NUL character (`\u0000`) in any string,
//! which PostgreSQL text cannot hold. The body limit answers 413. Also the JSON response
//! type (it serialises like `axum::Json`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// A JSON request body (or response).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or_default().trim().to_owned();
            if !(essence == "application/json" || essence.ends_with("+json")) {
                return Err(ApiError::bad_request(
                    "unsupported_content_type",
                    "The body must be JSON (Content-Type: application/json).",
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large()
            } else {
                ApiError::bad_request("unreadable_body", "The request body could not be read.")
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses `bytes` as `T` with the envelope's 400/422 rules.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "malformed_json",
            "The request body is empty; JSON was expected.",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de);
    if value.is_ok() {
        de.end().map_err(|e| {
            ApiError::bad_request(
                "malformed_json",
                format!("The request body is not valid JSON: {e}."),
            )
        })?;
    }
    let value = value.map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let path = if path == "." { String::new() } else { path };
                let message = strip_position(&inner.to_string());
                // A missing field is reported at its parent: name the field itself (the
                // envelope's detail makes "<field> is required." of it).
                let (path, message) = match missing_field(&message) {
                    Some(field) if path.is_empty() => (field.to_owned(), "is required".to_owned()),
                    Some(field) => (format!("{path}.{field}"), "is required".to_owned()),
                    None => (path, message),
                };
                ApiError::validation(vec![FieldError { path, message }])
            }
            _ => ApiError::bad_request(
                "malformed_json",
                format!("The request body is not valid JSON: {inner}."),
            ),
        }
    })?;
    // JSON can only carry NUL escaped; look for the field only when the escape is there.
    if bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
        && let Ok(tree) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(path) = nul_path(&tree, String::new())
    {
        return Err(ApiError::validation(vec![FieldError {
            path,
            message: "must not contain NUL characters".to_owned(),
        }]));
    }
    Ok(value)
}

/// The path (`leads[2].first_name`) of the first string holding a NUL character, if any.
fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                return Some(here);
            }
            nul_path(v, here)
        }),
        _ => None,
    }
}

/// The field of serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next().filter(|f| !f.is_empty())
}

/// Drops serde_json's " at line 1 column 17" suffix from a data error.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        items: Vec<Inner>,
    }

    #[test]
    fn a_nul_character_is_422_naming_the_field() {
        let e = parse::<Outer>(br#"{"name":"a\u0000b","items":[]}"#).expect_err("nul");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.fields[0].path, "name");
        let e = parse::<serde_json::Value>(br#"{"leads":[{"a":"x"},{"b":["ok","\u0000"]}]}"#)
            .expect_err("nul");
        assert_eq!(e.fields[0].path, "leads[1].b[1]");
        // An escaped backslash before `u0000` is no NUL.
        assert!(parse::<Outer>(br#"{"name":"a\\u0000","items":[]}"#).is_ok());
    }

    #[test]
    fn syntax_errors_are_400_and_type_errors_422_with_path() {
        let e = parse::<Outer>(b"{\"name\": ").expect_err("bad");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = parse::<Outer>(br#"{"name":"a","items":[{"n":1},{"n":"x"}]}"#).expect_err("bad");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.fields[0].path, "items[1].n");
        let e = parse::<Outer>(br#"{"name":"a","items":[],"extra":1}"#).expect_err("bad");
        assert_eq!(e.fields[0].path, "extra");
        assert!(
            e.fields[0].message.contains("unknown field"),
            "{}",
            e.fields[0].message
        );
        let e = parse::<Outer>(br#"{"items":[]}"#).expect_err("bad");
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            (e.fields[0].path.as_str(), e.fields[0].message.as_str()),
            ("name", "is required")
        );
        let e = parse::<Outer>(br#"{"name":"a","items":[{}]}"#).expect_err("bad");
        assert_eq!(e.fields[0].path, "items[0].n");
        let e = parse::<Outer>(br#"{"name":"a","items":[]} trailing"#).expect_err("bad");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
