//! Cache, daily counters, AI-spend counters and API rate-limit windows for Agency OS:
//! Redis (deadpool-redis) as the primary, PostgreSQL UNLOGGED tables as the fallback, both
//! behind the object-safe [`Cache`] trait (used as `Arc<dyn Cache>`).
//!
//! # Key layout
//! Callers pass logical keys; the backends prefix [`KEY_VERSION_PREFIX`] (`v1:`) in one
//! place ([`keys::versioned`]), in Redis and in the PostgreSQL tables alike, so bumping the
//! version invalidates everything at once.
//! - entries: `v1:{key}` (e.g. `v1:enrichment:{domain}:{sha256}`), with a TTL.
//! - daily counters: `v1:{name}:{yyyy-mm-dd}`, the day being the local calendar day of `now`
//!   in the caller's timezone, so counters roll over at local midnight (23- and 25-hour DST
//!   days included). They expire [`keys::DAILY_COUNTER_GRACE`] after their day ends,
//!   measured from the `now` the caller passes. Examples: `v1:ratelimit:{type}:{id}:{day}`,
//!   `v1:ai_spend:{client}:{day}`.
//! - money counters use the same layout; amounts are AUD `Decimal`s rounded to micro-units
//!   (6 places, midpoint away from zero): Redis stores integer micro-AUD (INCRBY, exact),
//!   PostgreSQL a `numeric`. Never floating point.
//! - rate-limit windows: `v1:{key}`, a fixed window starting at the first hit.
//!
//! # Backends
//! - [`RedisCache`]: pooled, connect/command/pool-wait timeouts of 300 ms so an outage is
//!   detected fast; multi-command updates run in MULTI/EXEC.
//! - [`PgCache`]: `cache_entries` and `cache_counters` (migration
//!   `20261126000200_cache_tables.sql`); each update is one `INSERT ... ON CONFLICT DO
//!   UPDATE ... RETURNING`, expired rows read as absent and restart when hit again;
//!   [`PgCache::purge_expired`] deletes them in batches.
//!
//! # Fallback semantics ([`FallbackCache`])
//! - No `REDIS_URL`: PostgreSQL only, reported as backend `postgres`, not degraded.
//! - Redis configured: every call goes to Redis. A connectivity failure (refused, timeout,
//!   dropped, pool exhausted) marks the cache degraded (one warning), the call is served
//!   from PostgreSQL, and PostgreSQL keeps serving for [`fallback::DEFAULT_RETRY_INTERVAL`]
//!   before one call probes Redis again. Other Redis errors are returned, not masked.
//! - [`FallbackCache::status`] / [`FallbackCache::check`] report backend and degraded flag
//!   for the readiness endpoint.
//! - When Redis comes back (one warning), what PostgreSQL accumulated is moved into Redis:
//!   daily and money counters are *added* (INCRBY) to the Redis counters of the same key,
//!   entries written during the outage are copied (SET with the remaining TTL), and
//!   deletes made during the outage are replayed (DEL) from tombstones; the rows are then
//!   removed from PostgreSQL. Rate-limit windows are dropped (they last seconds). The cleanup
//!   job should call [`FallbackCache::reconcile`] with [`FallbackCache::purge_expired`] to
//!   pick up rows other processes left behind.
//! - Known limit: while degraded, PostgreSQL cannot see what Redis counted earlier that day,
//!   so a daily cap can be exceeded by up to one cap's worth during an outage; after
//!   reconciliation the day's total in Redis is complete again.

pub mod cache;
pub mod error;
pub mod fallback;
pub mod keys;
pub mod money;
pub mod pg_cache;
mod reconcile;
pub mod redis_cache;

pub use cache::{Cache, CacheJsonExt, WindowHit};
pub use error::CacheError;
pub use fallback::{CacheBackend, CacheStatus, FallbackCache};
pub use keys::KEY_VERSION_PREFIX;
pub use pg_cache::PgCache;
pub use reconcile::ReconcileReport;
pub use redis_cache::RedisCache;
