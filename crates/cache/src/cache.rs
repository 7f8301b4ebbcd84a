//! The `Cache` trait every backend implements, its result types, and JSON helpers.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Serialize, de::DeserializeOwned};

use crate::CacheError;

/// Result of one hit on a fixed-window rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowHit {
    /// Hits in the current window, this one included (1 for the first hit).
    pub count: u64,
    /// Time until the window ends and the count starts again from zero.
    pub resets_in: Duration,
}

/// Cache, daily counters, money counters and rate-limit windows behind one object-safe
/// interface (used as `Arc<dyn Cache>`). Keys are logical: backends add the `v1:` prefix.
#[async_trait]
pub trait Cache: Send + Sync {
    /// Reads a value; expired or missing keys give `None`.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;

    /// Reads the generation at `generation_key` ("0" when absent) and the value stored at
    /// `{prefix}{generation}{suffix}`, in one step where the backend allows (one round trip
    /// on Redis). Generations let a writer make a family of values stale at once.
    async fn get_in_generation(
        &self,
        generation_key: &str,
        prefix: &str,
        suffix: &str,
    ) -> Result<(String, Option<Vec<u8>>), CacheError> {
        let generation = match self.get(generation_key).await? {
            Some(bytes) => String::from_utf8(bytes)
                .map_err(|_| CacheError::Corrupt(format!("generation at {generation_key}")))?,
            None => "0".to_owned(),
        };
        let value = self.get(&format!("{prefix}{generation}{suffix}")).await?;
        Ok((generation, value))
    }

    /// Stores a value for `ttl` (must be non-zero), replacing any previous one.
    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;

    /// Removes a value; removing a missing key is not an error.
    async fn delete(&self, key: &str) -> Result<(), CacheError>;

    /// Adds `by` to the counter `name` for the local day of `now` in `tz`; returns the new total.
    async fn incr_daily(
        &self,
        name: &str,
        by: i64,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<i64, CacheError>;

    /// Reads the counter `name` for the local day of `now` in `tz` (0 when absent).
    async fn read_daily(&self, name: &str, tz: Tz, now: DateTime<Utc>) -> Result<i64, CacheError>;

    /// Adds an AUD amount (rounded to micro-units) to the money counter `name` for the local
    /// day of `now` in `tz`; returns the new total.
    async fn add_money_daily(
        &self,
        name: &str,
        amount: Decimal,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Decimal, CacheError>;

    /// Reads the money counter `name` for the local day of `now` in `tz` (0 when absent).
    async fn read_money_daily(
        &self,
        name: &str,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Decimal, CacheError>;

    /// Counts a hit in the fixed window `key`; the window starts at its first hit and lasts
    /// `window` (must be non-zero).
    async fn hit_window(&self, key: &str, window: Duration) -> Result<WindowHit, CacheError>;
}

/// JSON helpers over any [`Cache`] (generic, so kept out of the object-safe trait).
#[async_trait]
pub trait CacheJsonExt: Cache {
    /// Reads and deserializes a JSON value; `None` when absent.
    async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        match self.get(key).await? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Serializes a value as JSON and stores it for `ttl`.
    async fn set_json<T: Serialize + Sync>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let bytes = serde_json::to_vec(value)?;
        self.set(key, &bytes, ttl).await
    }
}

impl<C: Cache + ?Sized> CacheJsonExt for C {}

/// Rejects a zero duration where a TTL or window is required.
pub(crate) fn require_non_zero(what: &str, d: Duration) -> Result<(), CacheError> {
    if d.is_zero() {
        Err(CacheError::InvalidInput(format!("{what} must be non-zero")))
    } else {
        Ok(())
    }
}
