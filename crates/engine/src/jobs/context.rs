//! What a handler receives ([`JobContext`]) and returns ([`JobError`]).

use super::kind::JobKind;
use crate::Services;
use crate::error::UseCaseError;

/// The environment of one job attempt.
#[derive(Clone)]
pub struct JobContext {
    /// Pool, cache, providers, clock and settings (the same value the API holds).
    pub services: Services,
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
    /// A context for running a job of `kind` in-process outside the worker (tests, the drain
    /// helper, examples): a fresh job id, first of five attempts.
    pub fn in_process(services: Services, kind: JobKind) -> Self {
        Self {
            services,
            job_id: uuid::Uuid::now_v7().to_string(),
            kind,
            attempt: 1,
            max_attempts: 5,
        }
    }

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
        UseCaseError::from(e).into()
    }
}

impl From<agency_store::StoreError> for JobError {
    fn from(e: agency_store::StoreError) -> Self {
        UseCaseError::from(e).into()
    }
}

impl From<UseCaseError> for JobError {
    /// Retryable or permanent as [`UseCaseError::is_permanent`] says; the message keeps the
    /// whole cause chain (it is stored in the job's `last_result`).
    fn from(e: UseCaseError) -> Self {
        let message = cause_chain(&e);
        if e.is_permanent() {
            Self::Permanent(message)
        } else {
            Self::Retryable(message)
        }
    }
}

/// `error: cause: cause ...`, the way the job's last result records a failure.
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
