//! The test drain: runs every due job to completion in this process, one at a time, lane by
//! lane (critical first), including the jobs those jobs enqueue, until nothing is due. A
//! failure is recorded exactly as the worker records it (retry after backoff, or dead letter),
//! so a retried job is not due again within the drain. Deterministic: no polling, no
//! deadlines. For tests and examples; the worker's runner is the production loop.

use agency_store::StoreError;

use super::context::{JobContext, JobError};
use super::kind::{JobKind, Lane};
use super::queue::{self, FailureOutcome};
use super::registry::Registry;
use crate::Services;

/// The worker name drained jobs are locked by.
pub const DRAIN_WORKER: &str = "test-drain";

/// Jobs run by one drain before it stops (a job that always enqueues another would otherwise
/// never end); reaching it is reported in [`DrainReport::hit_limit`].
pub const DRAIN_LIMIT: usize = 100_000;

/// What one drain did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DrainReport {
    /// Jobs that succeeded.
    pub succeeded: usize,
    /// Failed attempts, in order: the kind's name and the error.
    pub failed: Vec<(String, String)>,
    /// Jobs dead-lettered among the failures.
    pub dead_lettered: usize,
    /// True when [`DRAIN_LIMIT`] stopped the drain with jobs still due.
    pub hit_limit: bool,
}

/// Runs every due job of `registry`'s kinds (see the module doc).
pub async fn drain(services: &Services, registry: &Registry) -> Result<DrainReport, StoreError> {
    let pool = &services.pool;
    queue::register_worker(pool, DRAIN_WORKER).await?;
    let kinds: Vec<String> = registry
        .kinds()
        .iter()
        .map(|k| k.name().to_owned())
        .collect();
    let mut report = DrainReport::default();
    let mut ran = 0usize;
    'drain: loop {
        let mut claimed_any = false;
        for lane in [Lane::Critical, Lane::Default, Lane::Bulk] {
            let jobs = queue::claim(pool, DRAIN_WORKER, lane, &kinds, 1).await?;
            let Some(job) = jobs.into_iter().next() else {
                continue;
            };
            claimed_any = true;
            ran += 1;
            let kind: Option<JobKind> = job.job_type.parse().ok();
            let result = match kind {
                Some(kind) => {
                    let ctx = JobContext {
                        services: services.clone(),
                        job_id: job.id.clone(),
                        kind,
                        attempt: u32::try_from(job.attempts).unwrap_or(1),
                        max_attempts: u32::try_from(job.max_attempts).unwrap_or(1),
                    };
                    match registry.prepare(kind, ctx, &job.job) {
                        Ok(prepared) => prepared.future.await,
                        Err(e) => Err(e),
                    }
                }
                None => Err(JobError::Permanent(format!(
                    "unknown job kind {}",
                    job.job_type
                ))),
            };
            match result {
                Ok(()) => {
                    queue::complete(pool, DRAIN_WORKER, std::slice::from_ref(&job.id)).await?;
                    report.succeeded += 1;
                }
                Err(error) => {
                    let outcome =
                        queue::settle_failure(pool, DRAIN_WORKER, &job, kind, &error).await?;
                    if outcome == FailureOutcome::DeadLettered {
                        report.dead_lettered += 1;
                    }
                    report
                        .failed
                        .push((job.job_type.clone(), error.to_string()));
                }
            }
            if ran >= DRAIN_LIMIT {
                report.hit_limit = true;
                break 'drain;
            }
            // Restart from the critical lane after every job, as the worker's priorities do.
            break;
        }
        if !claimed_any {
            break;
        }
    }
    Ok(report)
}
