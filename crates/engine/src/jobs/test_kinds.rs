//! Job kinds for tests and benchmarks only (cargo feature `test-kinds`, enabled by the
//! dev-dependencies of the crates whose tests use them): `noop` (does nothing) and `probe`
//! (sleeps, fails on demand, then counts one hit in `job_probe_hits`, once per job), their
//! handlers, and the creation of `job_probe_hits` in a test database (its statements are in
//! `agency_store::job_probe_hits`). A production build has neither the kinds nor the table.

use std::time::Duration;

use agency_store::{PgPool, StoreError, job_probe_hits};
use serde::{Deserialize, Serialize};

use super::context::{JobContext, JobError};
use super::idempotency;
use super::kind::JobKind;
use super::payload::JobPayload;
use super::registry::Registry;

/// Does nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Noop {}

impl JobPayload for Noop {
    const KIND: JobKind = JobKind::Noop;
}

/// Sleeps `sleep_ms`, fails while its attempt is `<= fail_attempts` (permanently when
/// `permanent`), then adds one hit to `job_probe_hits(name)`, once per job however often it
/// is delivered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    /// The counter to bump.
    pub name: String,
    /// Pause before the effect.
    #[serde(default)]
    pub sleep_ms: u64,
    /// Attempts 1..=fail_attempts fail.
    #[serde(default)]
    pub fail_attempts: u32,
    /// Failures are permanent (dead-letter at once) instead of retryable.
    #[serde(default)]
    pub permanent: bool,
}

impl JobPayload for Probe {
    const KIND: JobKind = JobKind::Probe;
}

/// Registers the handlers of `noop` and `probe`.
pub(super) fn register(r: &mut Registry) {
    r.register(noop).register(probe);
}

/// Creates `job_probe_hits` (idempotent): call it in a test's set-up before running probes.
pub async fn create_probe_table(pool: &PgPool) -> Result<(), StoreError> {
    job_probe_hits::create(pool).await
}

/// Does nothing.
pub async fn noop(_ctx: JobContext, _job: Noop) -> Result<(), JobError> {
    Ok(())
}

/// Sleeps, fails on the first `fail_attempts` attempts, then bumps `job_probe_hits` once per job.
pub async fn probe(ctx: JobContext, job: Probe) -> Result<(), JobError> {
    if job.sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(job.sleep_ms)).await;
    }
    if ctx.attempt <= job.fail_attempts {
        let message = format!("probe {} failing attempt {}", job.name, ctx.attempt);
        return Err(if job.permanent {
            JobError::Permanent(message)
        } else {
            JobError::Retryable(message)
        });
    }
    let mut tx = ctx.services.pool.begin().await?;
    let key = format!("probe:{}", ctx.job_id);
    if idempotency::first_time(&mut tx, &ctx, &key).await? {
        job_probe_hits::hit(&mut tx, &job.name).await?;
    }
    tx.commit().await?;
    Ok(())
}
