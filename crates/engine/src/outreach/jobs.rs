//! The outreach job handlers: `send_outreach` (one planned send, through [`run_send`] with the
//! worker's senders) and `outreach_sweep` (the hourly safety net, [`sweep`]). The sweep needs
//! only the database, so it is in the build's registry (which enables its schedule); the send
//! handler is registered by the worker with the senders it built from its configuration.

use std::sync::Arc;

use agency_domain::{ClientId, OutreachSendId};
use chrono::Utc;

use super::sweep::sweep;
use super::{OutreachEnv, SendOutcome, run_send};
use crate::jobs::payload::{OutreachSweep, SendOutreach};
use crate::jobs::{JobContext, JobError, Registry};

/// Registers `outreach_sweep`.
pub fn register_sweep(registry: &mut Registry) -> &mut Registry {
    registry.register(outreach_sweep_job)
}

/// Registers `send_outreach` with `env`'s senders and links.
pub fn register_sender(registry: &mut Registry, env: Arc<OutreachEnv>) -> &mut Registry {
    registry.register(move |ctx: JobContext, job: SendOutreach| {
        let env = Arc::clone(&env);
        async move { send_outreach_job(ctx, &env, job).await }
    })
}

/// Runs one planned send.
pub async fn send_outreach_job(
    ctx: JobContext,
    env: &OutreachEnv,
    job: SendOutreach,
) -> Result<(), JobError> {
    let outcome = run_send(
        &ctx.pool,
        env,
        Utc::now(),
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
    let summary = sweep(&ctx.pool, Utc::now()).await?;
    tracing::info!(tick = %job.0.tick, planned = summary.planned, enqueued = summary.enqueued, "outreach sweep done");
    Ok(())
}
