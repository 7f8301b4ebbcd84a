//! The outreach job handlers: `send_outreach` (one planned send through [`run_send_with_ai`]
//! with the senders and AI gate of the job's `Services`, i.e. the worker's configured ones) and `outreach_sweep`
//! (the hourly safety net, [`sweep`]).

use agency_domain::{ClientId, OutreachSendId};

use super::sandbox_loop::sandbox_feedback;
use super::sweep::sweep;
use super::{AiWriter, SendOutcome, run_send_with_ai};
use crate::jobs::payload::{OutreachSweep, SandboxFeedback, SendOutreach};
use crate::jobs::{EnqueueError, EnqueueOptions, JobContext, JobError, Registry, enqueue};

/// Seconds between a sandboxed send and its scripted webhooks.
const FEEDBACK_DELAY_SECS: i64 = 5;

/// Registers `send_outreach` and `outreach_sweep`.
pub fn register(registry: &mut Registry) -> &mut Registry {
    registry
        .register(send_outreach_job)
        .register(outreach_sweep_job)
        .register(sandbox_feedback)
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
    match &outcome {
        SendOutcome::Failed(reason) => {
            tracing::warn!(send_id = %job.send_id, reason, "send failed for good");
        }
        // Development's sandbox loop: the providers' webhooks follow a few seconds later.
        SendOutcome::Sent { .. } if services.settings.sandbox_feedback => {
            let feedback = SandboxFeedback {
                client_id: job.client_id,
                send_id: job.send_id,
            };
            let options = EnqueueOptions {
                run_at: Some(services.now() + chrono::Duration::seconds(FEEDBACK_DELAY_SECS)),
                idempotency_key: Some(format!("sandbox-feedback/{}", job.send_id)),
                ..EnqueueOptions::default()
            };
            match enqueue(&services.pool, &feedback, options).await {
                Ok(_) | Err(EnqueueError::Duplicate { .. }) => {}
                Err(e) => return Err(JobError::retryable(e)),
            }
        }
        _ => {}
    }
    Ok(())
}

/// Plans due first touches and enqueues due sends.
pub async fn outreach_sweep_job(ctx: JobContext, job: OutreachSweep) -> Result<(), JobError> {
    let summary = sweep(&ctx.services.pool, ctx.services.now()).await?;
    tracing::info!(tick = %job.0.tick, planned = summary.planned, enqueued = summary.enqueued, "outreach sweep done");
    Ok(())
}
