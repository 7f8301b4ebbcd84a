//! The outreach job handlers: `send_outreach` (one planned send through [`run_send_with_ai`]
//! with the senders and AI gate of the job's `Services`, i.e. the worker's configured ones) and `outreach_sweep`
//! (the hourly safety net, [`sweep`]).

use agency_domain::{ClientId, OutreachSendId};

use super::sweep::sweep;
use super::{AiWriter, SendOutcome, run_send_with_ai};
use crate::jobs::payload::{OutreachSweep, SendOutreach};
use crate::jobs::{JobContext, JobError, Registry};

/// Registers `send_outreach` and `outreach_sweep`.
pub fn register(registry: &mut Registry) -> &mut Registry {
    registry
        .register(send_outreach_job)
        .register(outreach_sweep_job)
}

/// Runs one planned send.
pub async fn send_outreach_job(ctx: JobContext, job: SendOutreach) -> Result<(), JobError> {
    let services = &ctx.services;
    let writer = AiWriter {
        gate: &services.providers.ai,
        cache: services.cache.as_ref(),
    };
    let outcome = run_send_with_ai(
        &services.pool,
        &services.providers.outreach,
        writer,
        services.now(),
        ClientId::from_uuid(job.client_id),
        OutreachSendId::from_uuid(job.send_id),
    )
    .await?;
    if let SendOutcome::Failed(reason) = &outcome {
        tracing::warn!(send_id = %job.send_id, reason, "send failed for good");
    }
    Ok(())
}

/// Plans due first touches and enqueues due sends.
pub async fn outreach_sweep_job(ctx: JobContext, job: OutreachSweep) -> Result<(), JobError> {
    let summary = sweep(&ctx.services.pool, ctx.services.now()).await?;
    tracing::info!(tick = %job.0.tick, planned = summary.planned, enqueued = summary.enqueued, "outreach sweep done");
    Ok(())
}
