//! `FallbackCache`: Redis first, PostgreSQL when Redis is not configured or unreachable;
//! tracks the degraded state, logs each transition once, reconciles on recovery, and
//! answers the readiness check.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;

use crate::CacheError;
use crate::cache::{Cache, WindowHit};
use crate::pg_cache::PgCache;
use crate::reconcile::{ReconcileReport, drain};
use crate::redis_cache::RedisCache;

/// How long the fallback serves from PostgreSQL before trying Redis again.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// The backend currently serving requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheBackend {
    /// Redis (the primary).
    Redis,
    /// PostgreSQL UNLOGGED tables (the fallback).
    Postgres,
}

/// Cache health for the readiness endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheStatus {
    /// Backend serving requests now.
    pub backend: CacheBackend,
    /// True when Redis is configured but unreachable, so PostgreSQL is standing in.
    pub degraded: bool,
    /// Human-readable explanation (the last Redis error when degraded).
    pub detail: String,
}

/// Why and until when Redis is being skipped.
struct Outage {
    detail: String,
    retry_at: Instant,
}

/// Redis with a PostgreSQL fallback, behind the [`Cache`] trait.
pub struct FallbackCache {
    redis: Option<RedisCache>,
    pg: PgCache,
    degraded: AtomicBool,
    outage: Mutex<Outage>,
    retry_interval: Duration,
}

impl std::fmt::Debug for FallbackCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FallbackCache")
            .field("status", &self.status())
            .finish_non_exhaustive()
    }
}

impl FallbackCache {
    /// Redis at `redis_url` (None or empty: PostgreSQL only) with `pg` as the fallback.
    pub fn new(redis_url: Option<&str>, pg: PgPool) -> Result<Self, CacheError> {
        let redis = match redis_url.map(str::trim) {
            Some(url) if !url.is_empty() => Some(RedisCache::from_url(url)?),
            _ => None,
        };
        Ok(Self::from_parts(redis, PgCache::new(pg)))
    }

    /// Builds from already configured backends.
    pub fn from_parts(redis: Option<RedisCache>, pg: PgCache) -> Self {
        Self {
            redis,
            pg,
            degraded: AtomicBool::new(false),
            outage: Mutex::new(Outage {
                detail: String::new(),
                retry_at: Instant::now(),
            }),
            retry_interval: DEFAULT_RETRY_INTERVAL,
        }
    }

    /// Sets how long to stay on PostgreSQL before trying Redis again.
    pub fn with_retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// The PostgreSQL backend (for the cleanup job).
    pub fn pg(&self) -> &PgCache {
        &self.pg
    }

    /// Current backend and degraded flag, without any IO.
    pub fn status(&self) -> CacheStatus {
        if self.redis.is_none() {
            return CacheStatus {
                backend: CacheBackend::Postgres,
                degraded: false,
                detail: "REDIS_URL not set: PostgreSQL only".to_owned(),
            };
        }
        if self.degraded.load(Ordering::Acquire) {
            let detail = self
                .outage
                .lock()
                .map(|o| o.detail.clone())
                .unwrap_or_default();
            CacheStatus {
                backend: CacheBackend::Postgres,
                degraded: true,
                detail: format!("redis unavailable, serving from PostgreSQL: {detail}"),
            }
        } else {
            CacheStatus {
                backend: CacheBackend::Redis,
                degraded: false,
                detail: "redis ok".to_owned(),
            }
        }
    }

    /// Readiness probe: PINGs Redis (updating the state), else `SELECT 1` on PostgreSQL.
    /// Errors only when no backend can serve.
    pub async fn check(&self) -> Result<CacheStatus, CacheError> {
        if let Some(redis) = &self.redis {
            match redis.ping().await {
                Ok(()) => {
                    self.mark_up().await;
                    return Ok(self.status());
                }
                Err(e) => self.mark_down(&e),
            }
        }
        self.pg.ping().await?;
        Ok(self.status())
    }

    /// Moves counters, entries and deletes left in PostgreSQL into Redis (run by the
    /// cleanup job too, for rows another process wrote while it was degraded).
    /// Does nothing without Redis or while degraded.
    pub async fn reconcile(&self) -> Result<ReconcileReport, CacheError> {
        match &self.redis {
            Some(redis) if !self.degraded.load(Ordering::Acquire) => drain(&self.pg, redis).await,
            _ => Ok(ReconcileReport::default()),
        }
    }

    /// Deletes expired PostgreSQL rows (see [`PgCache::purge_expired`]).
    pub async fn purge_expired(&self) -> Result<u64, CacheError> {
        self.pg.purge_expired().await
    }

    /// Redis when configured and either healthy or due for a retry.
    fn redis_if_up(&self) -> Option<&RedisCache> {
        let redis = self.redis.as_ref()?;
        if !self.degraded.load(Ordering::Acquire) {
            return Some(redis);
        }
        let mut outage = self.outage.lock().ok()?;
        let now = Instant::now();
        if now >= outage.retry_at {
            // One caller probes; the rest stay on PostgreSQL until the next retry.
            outage.retry_at = now + self.retry_interval;
            Some(redis)
        } else {
            None
        }
    }

    /// Records a Redis failure; warns on the healthy -> degraded transition only.
    fn mark_down(&self, err: &CacheError) {
        if let Ok(mut outage) = self.outage.lock() {
            outage.detail = err.to_string();
            outage.retry_at = Instant::now() + self.retry_interval;
        }
        if !self.degraded.swap(true, Ordering::AcqRel) {
            tracing::warn!(error = %err, "redis unavailable: cache falling back to PostgreSQL");
        }
    }

    /// Records a Redis success; on the degraded -> healthy transition warns once and
    /// reconciles what PostgreSQL accumulated meanwhile.
    async fn mark_up(&self) {
        if !self.degraded.load(Ordering::Acquire) || !self.degraded.swap(false, Ordering::AcqRel) {
            return;
        }
        tracing::warn!("redis reachable again: cache back on Redis, reconciling");
        if let Some(redis) = &self.redis {
            match drain(&self.pg, redis).await {
                Ok(report) => tracing::info!(?report, "cache reconciled after redis outage"),
                Err(e) => {
                    tracing::warn!(error = %e, "cache reconcile failed; the cleanup job retries")
                }
            }
        }
    }
}

/// Runs `$call` on Redis when it is up (falling back on unavailability), else on PostgreSQL.
macro_rules! route {
    ($self:ident, $backend:ident => $call:expr) => {{
        if let Some($backend) = $self.redis_if_up() {
            match $call.await {
                Ok(v) => {
                    $self.mark_up().await;
                    return Ok(v);
                }
                Err(e) if e.is_redis_unavailable() => $self.mark_down(&e),
                Err(e) => return Err(e),
            }
        }
        let $backend = &$self.pg;
        $call.await
    }};
}

#[async_trait]
impl Cache for FallbackCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        route!(self, c => c.get(key))
    }

    async fn get_in_generation(
        &self,
        generation_key: &str,
        prefix: &str,
        suffix: &str,
    ) -> Result<(String, Option<Vec<u8>>), CacheError> {
        route!(self, c => c.get_in_generation(generation_key, prefix, suffix))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        route!(self, c => c.set(key, value, ttl))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        if let Some(redis) = self.redis_if_up() {
            match redis.delete(key).await {
                Ok(()) => {
                    self.mark_up().await;
                    return Ok(());
                }
                Err(e) if e.is_redis_unavailable() => self.mark_down(&e),
                Err(e) => return Err(e),
            }
        }
        if self.redis.is_some() {
            // Remember the delete so it reaches Redis when it comes back.
            self.pg.delete_with_tombstone(key).await
        } else {
            self.pg.delete(key).await
        }
    }

    async fn incr_daily(
        &self,
        name: &str,
        by: i64,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<i64, CacheError> {
        route!(self, c => c.incr_daily(name, by, tz, now))
    }

    async fn read_daily(&self, name: &str, tz: Tz, now: DateTime<Utc>) -> Result<i64, CacheError> {
        route!(self, c => c.read_daily(name, tz, now))
    }

    async fn add_money_daily(
        &self,
        name: &str,
        amount: Decimal,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Decimal, CacheError> {
        route!(self, c => c.add_money_daily(name, amount, tz, now))
    }

    async fn read_money_daily(
        &self,
        name: &str,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Decimal, CacheError> {
        route!(self, c => c.read_money_daily(name, tz, now))
    }

    async fn hit_window(&self, key: &str, window: Duration) -> Result<WindowHit, CacheError> {
        route!(self, c => c.hit_window(key, window))
    }
}
