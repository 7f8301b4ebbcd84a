//! What a handler receives ([`JobContext`]) and returns ([`JobError`]).

use std::sync::Arc;

use agency_cache::FallbackCache;
use sqlx::PgPool;

use super::kind::JobKind;

/// The environment of one job attempt.
#[derive(Clone)]
pub struct JobContext {
    /// The query pool (may be a transaction pooler: no session state).
    pub pool: PgPool,
    /// Cache, counters and rate limits.
    pub cache: Arc<FallbackCache>,
    /// The job's id (`apalis.jobs.id`); stable across attempts and redeliveries.
    pub job_id: String,
    /// This job's kind.
    pub kind: JobKind,
    /// The attempt being run, starting at 1.
    pub attempt: u32,
    /// Attempts allowed in total.
    pub max_attempts: u32,
}

impl std::fmt::Debug for JobContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobContext")
            .field("job_id", &self.job_id)
            .field("kind", &self.kind)
            .field("attempt", &self.attempt)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl JobContext {
    /// True when a failure of this attempt will not be retried.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }
}

/// Why an attempt failed: retried later, or dead-lettered at once.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobError {
    /// A transient failure (provider down, database hiccup, timeout): retried with backoff.
    #[error("{0}")]
    Retryable(String),
    /// Retrying cannot help (bad payload, missing record, refused by a rule): dead-lettered.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    /// A retryable error from anything displayable.
    pub fn retryable(e: impl std::fmt::Display) -> Self {
        Self::Retryable(e.to_string())
    }

    /// A permanent error from anything displayable.
    pub fn permanent(e: impl std::fmt::Display) -> Self {
        Self::Permanent(e.to_string())
    }

    /// True for [`JobError::Permanent`].
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::Permanent("record not found".into()),
            other => Self::Retryable(format!("database: {other}")),
        }
    }
}
