//! `PgCache`: the PostgreSQL fallback on UNLOGGED tables (`cache_entries`,
//! `cache_counters`); atomic upserts, expired rows read as absent, and the purge.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use sqlx::PgPool;

use crate::CacheError;
use crate::cache::{Cache, WindowHit, require_non_zero};
use crate::keys::{daily_key, daily_ttl, ttl_micros, versioned};
use crate::money::round_money;

/// How long a tombstone (a delete made while Redis was down) waits to be replayed.
pub const TOMBSTONE_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Rows deleted per statement by [`PgCache::purge_expired`].
const PURGE_BATCH: i64 = 10_000;

/// Cache backed by PostgreSQL UNLOGGED tables.
#[derive(Debug, Clone)]
pub struct PgCache {
    pool: PgPool,
}

impl PgCache {
    /// Wraps a pool whose database has the `cache_entries` and `cache_counters` tables.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `SELECT 1`.
    pub async fn ping(&self) -> Result<(), CacheError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Deletes expired entries and counters in batches; returns how many rows went.
    pub async fn purge_expired(&self) -> Result<u64, CacheError> {
        let mut total = 0;
        for sql in [
            "DELETE FROM cache_entries WHERE key IN \
             (SELECT key FROM cache_entries WHERE expires_at <= now() LIMIT $1)",
            "DELETE FROM cache_counters WHERE key IN \
             (SELECT key FROM cache_counters WHERE expires_at <= now() LIMIT $1)",
        ] {
            loop {
                let n = sqlx::query(sql)
                    .bind(PURGE_BATCH)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                total += n;
                if n < PURGE_BATCH.unsigned_abs() {
                    break;
                }
            }
        }
        Ok(total)
    }

    /// Replaces the entry with a tombstone so the delete can be replayed against Redis.
    pub(crate) async fn delete_with_tombstone(&self, key: &str) -> Result<(), CacheError> {
        sqlx::query(
            "INSERT INTO cache_entries (key, value, expires_at) \
             VALUES ($1, NULL, now() + $2 * interval '1 microsecond') \
             ON CONFLICT (key) DO UPDATE SET value = NULL, expires_at = EXCLUDED.expires_at",
        )
        .bind(versioned(key))
        .bind(ttl_micros(TOMBSTONE_TTL))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Adds `by` to a counter at a full key; an expired row restarts from `by`.
    async fn add_counter(
        &self,
        key: &str,
        kind: &str,
        by: Decimal,
        ttl: Duration,
    ) -> Result<Decimal, CacheError> {
        let total: Decimal = sqlx::query_scalar(
            "INSERT INTO cache_counters (key, kind, value, expires_at) \
             VALUES ($1, $2, $3, now() + $4 * interval '1 microsecond') \
             ON CONFLICT (key) DO UPDATE SET \
               value = CASE WHEN cache_counters.expires_at <= now() THEN EXCLUDED.value \
                            ELSE cache_counters.value + EXCLUDED.value END, \
               kind = EXCLUDED.kind, \
               expires_at = EXCLUDED.expires_at \
             RETURNING value",
        )
        .bind(key)
        .bind(kind)
        .bind(by)
        .bind(ttl_micros(ttl))
        .fetch_one(&self.pool)
        .await?;
        Ok(total)
    }

    /// Reads a live counter at a full key (0 when absent or expired).
    async fn read_counter(&self, key: &str) -> Result<Decimal, CacheError> {
        let value: Option<Decimal> = sqlx::query_scalar(
            "SELECT value FROM cache_counters WHERE key = $1 AND expires_at > now()",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(value.unwrap_or_default())
    }
}

/// Converts a stored count to `i64`.
fn to_count(value: Decimal) -> Result<i64, CacheError> {
    i64::try_from(value).map_err(|_| CacheError::Corrupt(format!("counter not an i64: {value}")))
}

#[async_trait]
impl Cache for PgCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let row: Option<Option<Vec<u8>>> = sqlx::query_scalar(
            "SELECT value FROM cache_entries WHERE key = $1 AND expires_at > now()",
        )
        .bind(versioned(key))
        .fetch_optional(&self.pool)
        .await?;
        // A NULL value is a tombstone: absent.
        Ok(row.flatten())
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        require_non_zero("ttl", ttl)?;
        sqlx::query(
            "INSERT INTO cache_entries (key, value, expires_at) \
             VALUES ($1, $2, now() + $3 * interval '1 microsecond') \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at",
        )
        .bind(versioned(key))
        .bind(value)
        .bind(ttl_micros(ttl))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        sqlx::query("DELETE FROM cache_entries WHERE key = $1")
            .bind(versioned(key))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn incr_daily(
        &self,
        name: &str,
        by: i64,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<i64, CacheError> {
        let total = self
            .add_counter(
                &daily_key(name, tz, now),
                "count",
                Decimal::from(by),
                daily_ttl(tz, now),
            )
            .await?;
        to_count(total)
    }

    async fn read_daily(&self, name: &str, tz: Tz, now: DateTime<Utc>) -> Result<i64, CacheError> {
        to_count(self.read_counter(&daily_key(name, tz, now)).await?)
    }

    async fn add_money_daily(
        &self,
        name: &str,
        amount: Decimal,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Decimal, CacheError> {
        let total = self
            .add_counter(
                &daily_key(name, tz, now),
                "money",
                round_money(amount),
                daily_ttl(tz, now),
            )
            .await?;
        Ok(total.normalize())
    }

    async fn read_money_daily(
        &self,
        name: &str,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Decimal, CacheError> {
        Ok(self
            .read_counter(&daily_key(name, tz, now))
            .await?
            .normalize())
    }

    async fn hit_window(&self, key: &str, window: Duration) -> Result<WindowHit, CacheError> {
        require_non_zero("window", window)?;
        // The window's expiry is set by its first hit and kept; an expired window restarts.
        let (count, remaining_us): (i64, i64) = sqlx::query_as(
            "INSERT INTO cache_counters (key, kind, value, expires_at) \
             VALUES ($1, 'window', 1, now() + $2 * interval '1 microsecond') \
             ON CONFLICT (key) DO UPDATE SET \
               value = CASE WHEN cache_counters.expires_at <= now() THEN 1 \
                            ELSE cache_counters.value + 1 END, \
               kind = EXCLUDED.kind, \
               expires_at = CASE WHEN cache_counters.expires_at <= now() THEN EXCLUDED.expires_at \
                                 ELSE cache_counters.expires_at END \
             RETURNING value::bigint, \
               (extract(epoch FROM (expires_at - now())) * 1000000)::bigint",
        )
        .bind(versioned(key))
        .bind(ttl_micros(window))
        .fetch_one(&self.pool)
        .await?;
        let count = u64::try_from(count)
            .map_err(|_| CacheError::Corrupt(format!("negative window count at {key}")))?;
        let resets_in = u64::try_from(remaining_us).map_or(Duration::ZERO, Duration::from_micros);
        Ok(WindowHit { count, resets_in })
    }
}
