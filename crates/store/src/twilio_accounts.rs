//! Clients' own Twilio accounts (`client_twilio_accounts`): the account SID in clear and the
//! auth token sealed (key id, nonce, ciphertext; sealing and opening live in
//! `agency_providers::sealed`). One account per client, one client per account.

use agency_domain::ClientId;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// A stored account.
#[derive(Debug, Clone, FromRow)]
pub struct TwilioAccountRow {
    /// Owning client.
    pub client_id: Uuid,
    /// `AC...`.
    pub account_sid: String,
    /// The key that sealed the token.
    pub key_id: String,
    /// The seal's nonce.
    pub token_nonce: Vec<u8>,
    /// The sealed token.
    pub token_sealed: Vec<u8>,
    /// First stored.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// What is written.
#[derive(Debug, Clone)]
pub struct NewTwilioAccount<'a> {
    /// `AC...`.
    pub account_sid: &'a str,
    /// The key that sealed the token.
    pub key_id: &'a str,
    /// The seal's nonce.
    pub token_nonce: &'a [u8],
    /// The sealed token.
    pub token_sealed: &'a [u8],
}

const COLUMNS: &str =
    "client_id, account_sid, key_id, token_nonce, token_sealed, created_at, updated_at";

/// Stores (or replaces) the client's account. `Conflict` when another client holds the SID.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    account: &NewTwilioAccount<'_>,
) -> Result<TwilioAccountRow, StoreError> {
    let sql = format!(
        "INSERT INTO client_twilio_accounts (client_id, account_sid, key_id, token_nonce, token_sealed)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (client_id) DO UPDATE
            SET account_sid = EXCLUDED.account_sid, key_id = EXCLUDED.key_id,
                token_nonce = EXCLUDED.token_nonce, token_sealed = EXCLUDED.token_sealed,
                updated_at = now()
         RETURNING {COLUMNS}"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(client_id)
        .bind(account.account_sid)
        .bind(account.key_id)
        .bind(account.token_nonce)
        .bind(account.token_sealed)
        .fetch_one(db)
        .await?)
}

/// The client's account, if it has one.
pub async fn get(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
) -> Result<Option<TwilioAccountRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM client_twilio_accounts WHERE client_id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(client_id)
        .fetch_optional(db)
        .await?)
}

/// The account with this SID (how a webhook names its tenant).
pub async fn by_sid(
    db: impl PgExecutor<'_>,
    account_sid: &str,
) -> Result<Option<TwilioAccountRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM client_twilio_accounts WHERE account_sid = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(account_sid)
        .fetch_optional(db)
        .await?)
}

/// Removes the client's account; true when there was one.
pub async fn delete(db: impl PgExecutor<'_>, client_id: ClientId) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM client_twilio_accounts WHERE client_id = $1")
        .bind(client_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Every account sealed by another key than `current_key_id` (rotation), locked for update.
pub async fn sealed_by_other_keys(
    db: impl PgExecutor<'_>,
    current_key_id: &str,
) -> Result<Vec<TwilioAccountRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM client_twilio_accounts WHERE key_id <> $1 ORDER BY client_id FOR UPDATE"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(current_key_id)
        .fetch_all(db)
        .await?)
}

/// Replaces the seal of one account (rotation), keeping the SID.
pub async fn reseal(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    key_id: &str,
    token_nonce: &[u8],
    token_sealed: &[u8],
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE client_twilio_accounts
            SET key_id = $2, token_nonce = $3, token_sealed = $4, updated_at = now()
          WHERE client_id = $1",
    )
    .bind(client_id)
    .bind(key_id)
    .bind(token_nonce)
    .bind(token_sealed)
    .execute(db)
    .await?;
    Ok(())
}
