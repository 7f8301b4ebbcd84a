//! `RedisCache`: the primary backend. Every command goes over one shared multiplexed
//! connection (it pipelines concurrent commands), taken from a deadpool-redis pool, which
//! checks it with PING, on first use and again after a connection error. Short timeouts make a
//! dead Redis fail fast.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use deadpool_redis::{Manager, Pool, Runtime};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Cmd, FromRedisValue, Pipeline, RedisError, Script};
use rust_decimal::Decimal;

use crate::CacheError;
use crate::cache::{Cache, WindowHit, require_non_zero};
use crate::error::means_unavailable;
use crate::keys::{daily_key, daily_ttl, ttl_millis, versioned};
use crate::money::{from_micros, to_micros};

/// Connect, command and pool-wait timeout used by [`RedisCache::from_url`].
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(300);

/// Maximum pooled connections (each is multiplexed, so a few go a long way).
const POOL_SIZE: usize = 16;

/// Reads a generation and the value stored under it in one round trip: `KEYS[1]` is the
/// generation key, the value's key is `ARGV[1] .. generation .. ARGV[2]`.
const GET_IN_GENERATION: &str = r"
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ARGV[2])}
";

/// Cache backed by Redis.
#[derive(Clone)]
pub struct RedisCache {
    pool: Pool,
    /// The connection every command shares; `None` until first use and after a connection
    /// error, when the next command takes a checked one from the pool.
    shared: Arc<RwLock<Option<MultiplexedConnection>>>,
    get_in_generation: Arc<Script>,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache").finish_non_exhaustive()
    }
}

impl RedisCache {
    /// Builds a pool for `url` with [`DEFAULT_REDIS_TIMEOUT`]; does not connect yet.
    pub fn from_url(url: &str) -> Result<Self, CacheError> {
        Self::from_url_with_timeout(url, DEFAULT_REDIS_TIMEOUT)
    }

    /// Builds a pool for `url` whose connects, commands and pool waits time out after `timeout`.
    pub fn from_url_with_timeout(url: &str, timeout: Duration) -> Result<Self, CacheError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let manager = Manager::new_with_config(url, config)
            .map_err(|e| CacheError::Config(format!("redis url: {e}")))?;
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .recycle_timeout(Some(timeout))
            .build()
            .map_err(|e| CacheError::Config(format!("redis pool: {e}")))?;
        Ok(Self {
            pool,
            shared: Arc::default(),
            get_in_generation: Arc::new(Script::new(GET_IN_GENERATION)),
        })
    }

    /// Sends PING; fails with [`CacheError::RedisUnavailable`] when Redis cannot be reached.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let _: String = self.query(&redis::cmd("PING")).await?;
        Ok(())
    }

    /// The shared connection (a cheap clone), checked out of the pool when there is none.
    async fn conn(&self) -> Result<MultiplexedConnection, CacheError> {
        if let Some(conn) = self.shared.read().ok().and_then(|s| s.clone()) {
            return Ok(conn);
        }
        let checked = self.pool.get().await?;
        let conn = MultiplexedConnection::clone(&checked);
        if let Ok(mut shared) = self.shared.write() {
            *shared = Some(conn.clone());
        }
        Ok(conn)
    }

    /// The cache error for `e`; drops the shared connection first when `e` may mean it is
    /// broken.
    fn failed(&self, e: RedisError) -> CacheError {
        if means_unavailable(&e)
            && let Ok(mut shared) = self.shared.write()
        {
            *shared = None;
        }
        e.into()
    }

    /// Runs one command on the shared connection.
    async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, CacheError> {
        let mut conn = self.conn().await?;
        cmd.query_async(&mut conn).await.map_err(|e| self.failed(e))
    }

    /// Runs a pipeline on the shared connection.
    pub(crate) async fn query_pipe<T: FromRedisValue>(
        &self,
        pipe: &Pipeline,
    ) -> Result<T, CacheError> {
        let mut conn = self.conn().await?;
        pipe.query_async(&mut conn)
            .await
            .map_err(|e| self.failed(e))
    }

    /// INCRBY + PEXPIRE on a full key, atomically; returns the new value.
    async fn incr_with_ttl(&self, key: &str, by: i64, ttl: Duration) -> Result<i64, CacheError> {
        let (total,): (i64,) = self
            .query_pipe(
                redis::pipe()
                    .atomic()
                    .cmd("INCRBY")
                    .arg(key)
                    .arg(by)
                    .cmd("PEXPIRE")
                    .arg(key)
                    .arg(ttl_millis(ttl))
                    .ignore(),
            )
            .await?;
        Ok(total)
    }

    /// GET of an integer counter at a full key (0 when absent).
    async fn read_int(&self, key: &str) -> Result<i64, CacheError> {
        let value: Option<i64> = self.query(redis::cmd("GET").arg(key)).await?;
        Ok(value.unwrap_or(0))
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.query(redis::cmd("GET").arg(versioned(key))).await
    }

    async fn get_in_generation(
        &self,
        generation_key: &str,
        prefix: &str,
        suffix: &str,
    ) -> Result<(String, Option<Vec<u8>>), CacheError> {
        let mut invocation = self.get_in_generation.key(versioned(generation_key));
        invocation.arg(versioned(prefix)).arg(suffix);
        let mut conn = self.conn().await?;
        invocation
            .invoke_async(&mut conn)
            .await
            .map_err(|e| self.failed(e))
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        require_non_zero("ttl", ttl)?;
        let () = self
            .query(
                redis::cmd("SET")
                    .arg(versioned(key))
                    .arg(value)
                    .arg("PX")
                    .arg(ttl_millis(ttl)),
            )
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let _: i64 = self.query(redis::cmd("DEL").arg(versioned(key))).await?;
        Ok(())
    }

    async fn incr_daily(
        &self,
        name: &str,
        by: i64,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<i64, CacheError> {
        self.incr_with_ttl(&daily_key(name, tz, now), by, daily_ttl(tz, now))
            .await
    }

    async fn read_daily(&self, name: &str, tz: Tz, now: DateTime<Utc>) -> Result<i64, CacheError> {
        self.read_int(&daily_key(name, tz, now)).await
    }

    async fn add_money_daily(
        &self,
        name: &str,
        amount: Decimal,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Decimal, CacheError> {
        let micros = to_micros(amount)?;
        let total = self
            .incr_with_ttl(&daily_key(name, tz, now), micros, daily_ttl(tz, now))
            .await?;
        Ok(from_micros(total))
    }

    async fn read_money_daily(
        &self,
        name: &str,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Decimal, CacheError> {
        Ok(from_micros(self.read_int(&daily_key(name, tz, now)).await?))
    }

    async fn hit_window(&self, key: &str, window: Duration) -> Result<WindowHit, CacheError> {
        require_non_zero("window", window)?;
        let key = versioned(key);
        // SET NX PX starts the window (with its expiry) only on the first hit; INCR keeps the TTL.
        let (count, pttl): (i64, i64) = self
            .query_pipe(
                redis::pipe()
                    .atomic()
                    .cmd("SET")
                    .arg(&key)
                    .arg(0)
                    .arg("PX")
                    .arg(ttl_millis(window))
                    .arg("NX")
                    .ignore()
                    .cmd("INCR")
                    .arg(&key)
                    .cmd("PTTL")
                    .arg(&key),
            )
            .await?;
        let count = u64::try_from(count)
            .map_err(|_| CacheError::Corrupt(format!("negative window count at {key}")))?;
        let resets_in = u64::try_from(pttl).map_or(window, Duration::from_millis);
        Ok(WindowHit { count, resets_in })
    }
}
