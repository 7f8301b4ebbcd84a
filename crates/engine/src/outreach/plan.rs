//! Planning sends: a lead's steps (the campaign's sequence, else the default sequence of its
//! tier), its first touch once allocated, and its next step once a send went out. Each planned
//! step is an `outreach_sends` row (unique per lead, campaign, step and channel, so planning
//! twice plans once) and a `send_outreach` job due at the step's time.

use agency_domain::sequence::{LeadProgress, Step, default_sequence, next_step};
use agency_domain::{
    CampaignId, Channel, ClientId, LeadId, LeadStatus, OutreachSendId, SendOrigin, Tier,
};
use agency_store::StoreError;
use agency_store::campaigns;
use agency_store::outreach::LeadPlanFacts;
use agency_store::outreach::{self as store, NewSend, SendRow};
use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use super::send::enqueue_planned;
use crate::jobs::JobError;

fn store_err(e: StoreError) -> JobError {
    match e {
        StoreError::NotFound => JobError::permanent("lead not found"),
        other => JobError::retryable(other),
    }
}

fn decode<T: std::str::FromStr>(what: &str, value: &str) -> Result<T, JobError>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e: T::Err| JobError::permanent(format!("{what}: {e}")))
}

/// The lead's steps in the campaign: the campaign's sequence when it has one, else the
/// default sequence of the lead's tier starting on its allocated channel.
pub async fn lead_steps(
    conn: &mut PgConnection,
    client_id: ClientId,
    campaign_id: CampaignId,
    facts: &LeadPlanFacts,
) -> Result<Vec<Step>, JobError> {
    let stored = campaigns::sequence(&mut *conn, client_id, campaign_id)
        .await
        .map_err(store_err)?;
    if !stored.is_empty() {
        return stored
            .iter()
            .map(|s| {
                Ok(Step {
                    step_number: s.step_number,
                    channel: decode("step channel", &s.channel)?,
                    delay_days: s.delay_days,
                    skip_if_replied: s.skip_if_replied,
                    skip_if_bounced: s.skip_if_bounced,
                })
            })
            .collect();
    }
    let Some(tier) = facts.als_tier.as_deref() else {
        return Ok(Vec::new());
    };
    let tier: Tier = decode("tier", tier)?;
    let first = facts
        .first_touch_channel
        .as_deref()
        .map(|c| decode::<Channel>("first touch channel", c))
        .transpose()?;
    Ok(default_sequence(tier, first))
}

/// The step after `after` the lead may get now, or `None` (sequence over or stopped).
async fn choose(
    conn: &mut PgConnection,
    client_id: ClientId,
    campaign_id: CampaignId,
    lead_id: LeadId,
    after: i32,
) -> Result<Option<(Step, LeadPlanFacts)>, JobError> {
    let facts = store::lead_plan_facts(&mut *conn, client_id, lead_id, campaign_id)
        .await
        .map_err(store_err)?;
    let status: LeadStatus = decode("lead status", &facts.status)?;
    if matches!(
        status,
        LeadStatus::Unsubscribed | LeadStatus::Bounced | LeadStatus::Converted | LeadStatus::Paused
    ) {
        return Ok(None);
    }
    let allowed: Vec<Channel> = facts
        .als_channels
        .iter()
        .flatten()
        .map(|c| decode::<Channel>("lead channel", c))
        .collect::<Result<_, _>>()?;
    let progress = LeadProgress {
        replied: facts.replied,
        bounced: facts.bounced,
        has_phone: facts.phone.as_deref().is_some_and(|p| !p.trim().is_empty()),
    };
    let steps = lead_steps(conn, client_id, campaign_id, &facts).await?;
    Ok(next_step(&steps, after, &allowed, progress).map(|s| (s, facts)))
}

/// Plans the lead's next step after the sent `row` (in the caller's transaction) and enqueues
/// it for its due time; answers that time, or `None` when the sequence is over or stopped.
pub async fn plan_next_step(
    conn: &mut PgConnection,
    row: &SendRow,
    sent_at: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, JobError> {
    let Some((step, _)) = choose(
        conn,
        row.client_id,
        row.campaign_id,
        row.lead_id,
        row.step_number,
    )
    .await?
    else {
        return Ok(None);
    };
    let due = sent_at + Duration::days(i64::from(step.delay_days));
    plan_step(
        conn,
        row.client_id,
        row.campaign_id,
        row.lead_id,
        step,
        due,
        None,
    )
    .await?;
    Ok(Some(due))
}

/// Plans an allocated lead's first touch for `due` (in the caller's transaction): the first
/// step the lead may get, using the resource allocation reserved when the channels match.
/// `None` when the lead gets nothing (or its first touch was planned before).
pub async fn plan_first_touch(
    conn: &mut PgConnection,
    client_id: ClientId,
    campaign_id: CampaignId,
    lead_id: LeadId,
    due: DateTime<Utc>,
) -> Result<Option<OutreachSendId>, JobError> {
    let Some((step, facts)) = choose(conn, client_id, campaign_id, lead_id, 0).await? else {
        return Ok(None);
    };
    let reserved = (facts.first_touch_channel.as_deref() == Some(step.channel.as_str()))
        .then_some(facts.allocated_resource_id)
        .flatten();
    let due = due + Duration::days(i64::from(step.delay_days));
    plan_step(conn, client_id, campaign_id, lead_id, step, due, reserved).await
}

async fn plan_step(
    conn: &mut PgConnection,
    client_id: ClientId,
    campaign_id: CampaignId,
    lead_id: LeadId,
    step: Step,
    due: DateTime<Utc>,
    resource_id: Option<uuid::Uuid>,
) -> Result<Option<OutreachSendId>, JobError> {
    let new = NewSend {
        campaign_id,
        lead_id,
        step_number: step.step_number,
        channel: step.channel,
        origin: SendOrigin::Sequence,
        due_at: due,
        resource_id,
    };
    let Some(id) = store::plan(&mut *conn, client_id, &new)
        .await
        .map_err(store_err)?
    else {
        return Ok(None);
    };
    enqueue_planned(conn, client_id, id, due).await?;
    Ok(Some(id))
}
