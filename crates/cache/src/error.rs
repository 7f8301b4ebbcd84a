//! The crate's error type and the rule that decides when Redis counts as unavailable.

use thiserror::Error;

/// Errors from any cache backend.
#[derive(Debug, Error)]
pub enum CacheError {
    /// Redis could not be reached in time (refused, timed out, dropped, pool exhausted).
    #[error("redis unavailable: {0}")]
    RedisUnavailable(String),
    /// Redis answered with an error that is not about connectivity.
    #[error("redis error: {0}")]
    Redis(redis::RedisError),
    /// A PostgreSQL query failed.
    #[error("postgres error: {0}")]
    Postgres(#[from] sqlx::Error),
    /// The Redis URL or pool configuration is invalid.
    #[error("invalid cache configuration: {0}")]
    Config(String),
    /// A value could not be encoded or decoded as JSON.
    #[error("json error: {0}")]
    Json(#[from] serde_json::Error),
    /// An argument was rejected (zero TTL, amount out of range, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A stored value had an unexpected shape.
    #[error("unexpected stored value: {0}")]
    Corrupt(String),
}

impl CacheError {
    /// True when the error means Redis is unreachable, so the fallback should take over.
    pub fn is_redis_unavailable(&self) -> bool {
        matches!(self, Self::RedisUnavailable(_))
    }
}

/// Whether a Redis error means Redis could not be reached in time, or the connection is
/// broken (refused, timed out, dropped, unrecoverable), rather than a refused command.
pub(crate) fn means_unavailable(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || e.is_unrecoverable_error()
}

impl From<redis::RedisError> for CacheError {
    fn from(e: redis::RedisError) -> Self {
        if means_unavailable(&e) {
            Self::RedisUnavailable(e.to_string())
        } else {
            Self::Redis(e)
        }
    }
}

impl From<deadpool_redis::PoolError> for CacheError {
    fn from(e: deadpool_redis::PoolError) -> Self {
        match e {
            deadpool_redis::PoolError::Backend(e) => e.into(),
            other => Self::RedisUnavailable(other.to_string()),
        }
    }
}
