//! Paged lists: the `Pagination` extractor (`page` from 1, `page_size` 1..=100, default 20;
//! out of range answers 422), the `Page<T>` answer `{items, total, page, page_size,
//! total_pages}`, and an opaque keyset [`Cursor`] over `(created_at, id)` with
//! [`CursorPage<T>`] `{items, next_cursor}` for exports.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, FieldError};

/// Default page size.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// Largest page size.
pub const MAX_PAGE_SIZE: u32 = 100;

/// `page` and `page_size` from the query string (other parameters are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Pagination {
    /// Page number, from 1.
    #[param(minimum = 1, default = 1)]
    pub page: u32,
    /// Items per page, 1-100.
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub page_size: u32,
}

impl Default for Pagination {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }
}

impl Pagination {
    /// Parses and validates the two parameters of a query string.
    pub fn from_query(query: &str) -> Result<Self, ApiError> {
        let mut out = Pagination::default();
        let mut fields = Vec::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let (slot, min, max) = match key.as_ref() {
                "page" => (&mut out.page, 1, u32::MAX),
                "page_size" => (&mut out.page_size, 1, MAX_PAGE_SIZE),
                _ => continue,
            };
            match value.trim().parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => *slot = n,
                _ if key == "page" => fields.push(FieldError {
                    path: "page".into(),
                    message: "must be a whole number of 1 or more".into(),
                }),
                _ => fields.push(FieldError {
                    path: "page_size".into(),
                    message: format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                }),
            }
        }
        if fields.is_empty() {
            Ok(out)
        } else {
            Err(ApiError::validation(fields))
        }
    }

    /// SQL `LIMIT`.
    pub fn limit(&self) -> i64 {
        i64::from(self.page_size)
    }

    /// SQL `OFFSET`.
    pub fn offset(&self) -> i64 {
        (i64::from(self.page) - 1) * i64::from(self.page_size)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Pagination {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Pagination::from_query(parts.uri.query().unwrap_or_default())
    }
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Items matching in all pages.
    pub total: i64,
    /// This page's number, from 1.
    pub page: u32,
    /// The page size asked for.
    pub page_size: u32,
    /// Number of pages (0 when there are no items).
    pub total_pages: i64,
}

impl<T> Page<T> {
    /// A page of `items` out of `total`.
    pub fn new(items: Vec<T>, total: i64, p: Pagination) -> Self {
        let size = i64::from(p.page_size.max(1));
        let total = total.max(0);
        Self {
            items,
            total,
            page: p.page,
            page_size: p.page_size,
            total_pages: (total + size - 1) / size,
        }
    }

    /// Maps the items (e.g. rows into DTOs).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            page_size: self.page_size,
            total_pages: self.total_pages,
        }
    }
}

/// A keyset position: the `(created_at, id)` of the last item returned. Lists ordered by
/// `created_at DESC, id DESC` continue with `WHERE (created_at, id) < ($1, $2)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last item's creation time.
    pub created_at: DateTime<Utc>,
    /// The last item's id.
    pub id: Uuid,
}

impl Cursor {
    /// The opaque text form (URL-safe base64).
    pub fn encode(&self) -> String {
        let raw = format!("{}|{}", self.created_at.timestamp_micros(), self.id);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// Parses the text form; a bad cursor answers 422 on the `cursor` parameter.
    pub fn decode(text: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::field("cursor", "is not a cursor returned by this API");
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        let raw = String::from_utf8(bytes).map_err(|_| bad())?;
        let (micros, id) = raw.split_once('|').ok_or_else(bad)?;
        let micros: i64 = micros.parse().map_err(|_| bad())?;
        let created_at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
        let id = Uuid::parse_str(id).map_err(|_| bad())?;
        Ok(Cursor { created_at, id })
    }
}

/// A keyset page: the items and the cursor of the next page (`None` at the end).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CursorPage<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` when this is the last.
    pub next_cursor: Option<String>,
}

impl<T> CursorPage<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only signals that
    /// more exist; `key` gives an item's `(created_at, id)`.
    pub fn from_rows(mut rows: Vec<T>, limit: usize, key: impl Fn(&T) -> Cursor) -> Self {
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if more {
            rows.last().map(|r| key(r).encode())
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagination_defaults_and_ranges() {
        assert_eq!(
            Pagination::from_query("").ok(),
            Some(Pagination {
                page: 1,
                page_size: 20
            })
        );
        let p = Pagination::from_query("page=3&page_size=100&status=x").expect("ok");
        assert_eq!(
            (p.page, p.page_size, p.offset(), p.limit()),
            (3, 100, 200, 100)
        );
        for bad in [
            "page=0",
            "page_size=0",
            "page_size=101",
            "page=x",
            "page=-1",
        ] {
            let e = Pagination::from_query(bad).expect_err(bad);
            assert_eq!(e.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(e.fields[0].path, bad.split('=').next().unwrap_or_default());
        }
    }

    #[test]
    fn page_counts_pages() {
        let p = Pagination {
            page: 1,
            page_size: 20,
        };
        assert_eq!(Page::new(Vec::<u8>::new(), 0, p).total_pages, 0);
        assert_eq!(Page::new(vec![1], 20, p).total_pages, 1);
        assert_eq!(Page::new(vec![1], 21, p).total_pages, 2);
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            created_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).expect("ts"),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode()).ok(), Some(c));
        assert!(Cursor::decode("not-a-cursor").is_err());
        let rows: Vec<u32> = (0..6).collect();
        let page = CursorPage::from_rows(rows, 5, |_| c);
        assert_eq!(page.items.len(), 5);
        assert!(page.next_cursor.is_some());
        let page = CursorPage::from_rows(vec![1u32], 5, |_| c);
        assert!(page.next_cursor.is_none());
    }
}
