//! The platform-wide suppression list: emails and phones never contacted for any client.

use agency_domain::{SuppressionId, UserId};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::StoreError;

/// One suppressed address.
#[derive(Debug, Clone, FromRow)]
pub struct SuppressionRow {
    /// Id.
    pub id: Uuid,
    /// Normalised email.
    pub email: Option<String>,
    /// E.164 phone.
    pub phone: Option<String>,
    /// Reason text.
    pub reason: String,
    /// Where it came from (`admin`, `resend`, ...).
    pub source: String,
    /// Added.
    pub created_at: DateTime<Utc>,
}

/// A new entry (already normalised; at least one of email and phone).
#[derive(Debug, Clone)]
pub struct NewSuppression {
    /// Normalised email.
    pub email: Option<String>,
    /// E.164 phone.
    pub phone: Option<String>,
    /// Reason text.
    pub reason: String,
    /// Source.
    pub source: String,
    /// The admin who added it.
    pub created_by: Option<UserId>,
}

fn like_pattern(search: &str) -> String {
    let escaped = search
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A page of entries, newest first, optionally filtered by a substring of email or phone.
pub async fn list(
    conn: &mut PgConnection,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SuppressionRow>, i64), StoreError> {
    let pattern = search.filter(|s| !s.trim().is_empty()).map(like_pattern);
    let filter = "($1::text IS NULL OR email ILIKE $1 OR phone ILIKE $1)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM global_suppression WHERE {filter}"
    )))
    .bind(&pattern)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as::<_, SuppressionRow>(sqlx::AssertSqlSafe(format!(
        "SELECT id, email, phone, reason, source, created_at FROM global_suppression WHERE {filter}
          ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    )))
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    Ok((rows, total))
}

/// Adds an entry; an address already listed conflicts on `global_suppression_email_idx` or
/// `global_suppression_phone_idx`.
pub async fn insert(
    conn: &mut PgConnection,
    new: &NewSuppression,
) -> Result<SuppressionRow, StoreError> {
    Ok(sqlx::query_as::<_, SuppressionRow>(
        "INSERT INTO global_suppression (id, email, phone, reason, source, created_by) VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, email, phone, reason, source, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(&new.email)
    .bind(&new.phone)
    .bind(&new.reason)
    .bind(&new.source)
    .bind(new.created_by)
    .fetch_one(conn)
    .await?)
}

/// Removes an entry and returns it.
pub async fn delete(
    conn: &mut PgConnection,
    id: SuppressionId,
) -> Result<SuppressionRow, StoreError> {
    sqlx::query_as::<_, SuppressionRow>(
        "DELETE FROM global_suppression WHERE id = $1 RETURNING id, email, phone, reason, source, created_at",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Suppresses an email and/or phone from a provider event; an address listed already keeps
/// its first entry. Answers how many entries were added.
pub async fn add_if_absent(
    conn: &mut PgConnection,
    email: Option<&str>,
    phone: Option<&str>,
    reason: &str,
    source: &str,
) -> Result<u64, StoreError> {
    let mut added = 0;
    if let Some(email) = email {
        added += sqlx::query(
            "INSERT INTO global_suppression (id, email, reason, source) VALUES ($1, lower($2), $3, $4)
             ON CONFLICT (email) WHERE email IS NOT NULL DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(email)
        .bind(reason)
        .bind(source)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    if let Some(phone) = phone {
        added += sqlx::query(
            "INSERT INTO global_suppression (id, phone, reason, source) VALUES ($1, $2, $3, $4)
             ON CONFLICT (phone) WHERE phone IS NOT NULL DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(phone)
        .bind(reason)
        .bind(source)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(added)
}
