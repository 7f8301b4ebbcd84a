//! `PipelineError`: what can stop a pipeline step, and how a job treats it.

use agency_cache::CacheError;
use agency_store::StoreError;

use crate::jobs::{EnqueueError, JobError};

/// Why a pipeline step failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The lead, campaign or client does not exist in the tenant.
    #[error("not found")]
    NotFound,
    /// A stored value breaks an invariant (bad timezone, bad email).
    #[error("invalid stored data: {0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
    /// The cache (Redis and its PostgreSQL fallback) failed.
    #[error("cache: {0}")]
    Cache(#[from] CacheError),
    /// Every provider that could answer failed transiently; try again later.
    #[error("enrichment providers unavailable: {0}")]
    ProvidersUnavailable(String),
    /// A follow-up job could not be enqueued.
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
}

impl From<StoreError> for PipelineError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PipelineError::NotFound,
            other => PipelineError::Store(other),
        }
    }
}

impl From<sqlx::Error> for PipelineError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<PipelineError> for JobError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::NotFound | PipelineError::Invalid(_) => JobError::permanent(e),
            other => JobError::retryable(other),
        }
    }
}
