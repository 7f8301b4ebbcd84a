//! Users: one row per Supabase account (`id` = the JWT `sub`), created on first sight.

use agency_domain::UserId;
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use crate::StoreError;

/// A user as the API sees it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct UserRow {
    /// The JWT `sub`.
    pub id: Uuid,
    /// The email from the token (lowercased), when known.
    pub email: Option<String>,
    /// Operator of the platform.
    pub is_platform_admin: bool,
}

/// Returns the user `id`, inserting it with `email` when it is new. When another account
/// already holds the email, the row is created without it (emails are unique).
pub async fn ensure(pool: &PgPool, id: UserId, email: Option<&str>) -> Result<UserRow, StoreError> {
    let email = email
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty());
    match ensure_with(pool, id, email.as_deref()).await {
        Err(e) if e.is_conflict_on("users_email_lower_idx") => {
            tracing::warn!(user_id = %id, "token email belongs to another user; stored without email");
            ensure_with(pool, id, None).await
        }
        other => other,
    }
}

async fn ensure_with(
    pool: &PgPool,
    id: UserId,
    email: Option<&str>,
) -> Result<UserRow, StoreError> {
    if let Some(row) = get(pool, id).await? {
        return Ok(row);
    }
    let row = sqlx::query_as::<_, UserRow>(
        "INSERT INTO users (id, email) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET updated_at = users.updated_at
         RETURNING id, email, is_platform_admin",
    )
    .bind(id)
    .bind(email)
    .fetch_one(pool)
    .await?;
    Ok(row)
}

/// The user `id`, if known.
pub async fn get(pool: &PgPool, id: UserId) -> Result<Option<UserRow>, StoreError> {
    Ok(
        sqlx::query_as::<_, UserRow>(
            "SELECT id, email, is_platform_admin FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?,
    )
}

/// Marks or unmarks the user as a platform admin.
pub async fn set_platform_admin(pool: &PgPool, id: UserId, admin: bool) -> Result<(), StoreError> {
    let done =
        sqlx::query("UPDATE users SET is_platform_admin = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(admin)
            .execute(pool)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
