//! Allocation (SPEC 3.2): the first touch of scored leads, in four steps: load (the client's
//! active, verified resources), plan ([`agency_domain::allocation::planner`] decides each
//! lead's channel, time and resource, hot leads first, from the counters read for it), reserve
//! (the cache's daily counters) and save (one UPDATE, and the waiting-leads jobs).
//!
//! Counters: one daily counter per resource on the cache crate, `ratelimit:{kind}:{resource}`,
//! for the day of the planned send in the client's timezone (rolls over at its midnight). A
//! reservation made here is the slot the first touch uses: the send path must not count it
//! again. A batch reads each counter once, assigns in memory, then adds its reservations with
//! one increment per resource and day; when another allocator raced past a cap, the excess is
//! given back and those leads wait. When the plans cannot be stored (the database transaction
//! fails), every reservation of the run is given back before the error returns, so a failed
//! run never holds capacity until midnight and its retry reserves afresh.
//!
//! Waiting: a lead with no resource free (or none of the kind), or whose send window is more
//! than a day ahead, keeps its channel, gets `next_action_at` and a wait reason, and one
//! `rescore_campaign` job (waiting leads only) per campaign and window is scheduled for it.

use agency_domain::ClientId;
use std::collections::HashMap;

use agency_cache::Cache;
use agency_cache::keys::end_of_local_day;
use agency_domain::allocation::planner::{
    self, AllocationInput, CampaignFacts, Counter, LeadFacts, Outcome, Reservation,
    ResourceCapacity, Usage, WaitReason,
};
use agency_domain::{CampaignId, Channel, LeadId, ResourceId, ResourceKind, next_send_window};
use agency_store::PgPool;
use agency_store::campaigns::{self, CampaignPipeline};
use agency_store::clients::{self, ClientPipeline};
use agency_store::leads::allocation::{self as store, AllocationUpdate};
use agency_store::leads::scoring::scoring_rows;
use agency_store::sending_resources::{self, SendingResource};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sqlx::Connection;
use uuid::Uuid;

use super::enrich::client_timezone;
use super::scoring::{Scored, campaign_allocation};
use crate::error::UseCaseError;
use crate::jobs::payload::RescoreCampaign;
use crate::jobs::{EnqueueError, EnqueueOptions, enqueue_on};

/// Wait reason: every resource of the channel's kind is at its daily cap.
pub const WAIT_CAPACITY: &str = WaitReason::CapacityFull.as_str();
/// Wait reason: the client has no active resource of the channel's kind.
pub const WAIT_NO_RESOURCE: &str = WaitReason::NoResource.as_str();
/// Wait reason: the send window is more than a day away (reserved when it comes).
pub const WAIT_WINDOW: &str = WaitReason::OutsideSendWindow.as_str();

/// What an allocation run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AllocationSummary {
    /// Leads given a channel and (except mail) a resource.
    pub allocated: u64,
    /// Leads waiting for capacity or their window.
    pub waiting: u64,
    /// Leads with no channel to receive (dead, or none allowed and reachable).
    pub no_channel: u64,
    /// Leads that kept an earlier reservation.
    pub kept: u64,
    /// Leads not allocatable now (campaign not active, status past scoring).
    pub skipped: u64,
}

impl AllocationSummary {
    /// Adds another run's counts.
    pub fn add(&mut self, other: &AllocationSummary) {
        self.allocated += other.allocated;
        self.waiting += other.waiting;
        self.no_channel += other.no_channel;
        self.kept += other.kept;
        self.skipped += other.skipped;
    }
}

/// The counter name of a resource (the cache adds `v1:` and the day).
pub fn counter_name(kind: ResourceKind, resource_id: Uuid) -> String {
    format!("ratelimit:{}:{resource_id}", kind.as_str())
}

/// The planner's view of a resource.
fn capacity(resource: &SendingResource) -> ResourceCapacity {
    ResourceCapacity {
        id: ResourceId::from_uuid(resource.id),
        kind: resource.kind,
        warmup_started_on: resource.warmup_started_on,
        daily_cap_override: resource.daily_cap_override,
    }
}

/// Warm-up day of an email domain on `day` (1 = its first day); `None` when warmed up.
pub fn warmup_day(resource: &SendingResource, day: NaiveDate) -> Option<u32> {
    capacity(resource).warmup_day(day)
}

/// A resource's cap on `day`: the kind's (with warm-up), lowered by its override.
pub fn effective_cap(resource: &SendingResource, day: NaiveDate) -> u32 {
    capacity(resource).cap(day)
}

/// The window a waiting lead is planned for: the next day's (in the client's timezone)
/// business-hours window in `tz`.
pub fn next_day_window(now: DateTime<Utc>, client_tz: Tz, tz: Tz) -> DateTime<Utc> {
    next_send_window(end_of_local_day(client_tz, now), tz)
}

/// Takes up to `n` slots of the daily counter `name` under `cap`: adds `n`, gives back what
/// went past the cap, and answers how many it kept (the one reserve-or-give-back of every
/// daily capacity: allocation, sends, the enrichment fallback).
pub async fn reserve_under_cap(
    cache: &dyn Cache,
    name: &str,
    n: i64,
    cap: i64,
    tz: Tz,
    at: DateTime<Utc>,
) -> Result<i64, agency_cache::CacheError> {
    let total = cache.incr_daily(name, n, tz, at).await?;
    let overflow = (total - cap).clamp(0, n);
    if overflow > 0 {
        cache.incr_daily(name, -overflow, tz, at).await?;
    }
    Ok(n - overflow)
}

/// Plans the first touch of scored leads (see the module doc) and stores the plans.
pub async fn allocate_scored(
    pool: &PgPool,
    cache: &dyn Cache,
    client: &ClientPipeline,
    campaigns: &HashMap<CampaignId, CampaignPipeline>,
    scored: &[Scored],
    now: DateTime<Utc>,
) -> Result<AllocationSummary, UseCaseError> {
    let client_tz = client_timezone(&client.timezone)?;
    let resources = allocatable_resources(pool, client.id).await?;
    let leads: Vec<LeadFacts<'_>> = scored.iter().map(|s| lead_facts(s, campaigns)).collect();
    let plan = planner::plan(&AllocationInput {
        now,
        day_end: end_of_local_day(client_tz, now),
        client_tz,
        resources: &resources,
        leads: &leads,
    });
    let used = read_counters(cache, &plan.counters(), client_tz).await?;
    let assignment = plan.assign(&used);
    let (kept, reserved) = reserve(cache, assignment.reservations(), client_tz).await?;
    let outcomes = assignment.settle(&kept);

    let mut summary = AllocationSummary::default();
    let mut updates = Vec::new();
    let mut waits = Vec::new();
    for (s, outcome) in scored.iter().zip(outcomes) {
        let lead_id = s.row.id;
        match outcome {
            Outcome::Skipped => summary.skipped += 1,
            Outcome::Kept => summary.kept += 1,
            Outcome::NoChannel => {
                summary.no_channel += 1;
                updates.push(AllocationUpdate {
                    lead_id,
                    first_touch_channel: None,
                    resource_id: None,
                    next_action_at: None,
                    wait_reason: None,
                });
            }
            Outcome::Planned {
                channel,
                resource,
                at,
            } => {
                summary.allocated += 1;
                let resource = resource.map(ResourceId::into_uuid);
                updates.push(update(lead_id, channel, resource, at, None));
            }
            Outcome::Waiting {
                channel,
                at,
                reason,
                campaign,
            } => {
                summary.waiting += 1;
                updates.push(update(lead_id, channel, None, at, Some(reason)));
                waits.push((campaign, at));
            }
        }
    }

    if let Err(e) = save_plans(pool, client.id, &updates, &waits, now).await {
        give_back(cache, &reserved, client_tz).await;
        return Err(e);
    }
    Ok(summary)
}

/// The client's active, verified resources, as the planner reads them (oldest first; a kind
/// this build does not know fails to decode).
async fn allocatable_resources(
    pool: &PgPool,
    client_id: ClientId,
) -> Result<Vec<ResourceCapacity>, UseCaseError> {
    Ok(sending_resources::resources(pool, client_id)
        .await?
        .into_iter()
        .filter(|r| r.active && r.is_verified())
        .map(|r| capacity(&r))
        .collect())
}

/// A scored lead as the planner reads it.
fn lead_facts<'a>(
    scored: &'a Scored,
    campaigns: &HashMap<CampaignId, CampaignPipeline>,
) -> LeadFacts<'a> {
    let row = &scored.row;
    LeadFacts {
        id: row.id,
        tier: scored.tier,
        status: Some(row.status),
        campaign: row
            .campaign_id
            .and_then(|id| campaigns.get(&id))
            .map(|c| CampaignFacts {
                id: c.id,
                status: Some(c.status),
                allocation: campaign_allocation(c),
            }),
        suppressed: row.suppressed,
        phone: row.phone.as_deref(),
        linkedin_url: row.linkedin_url.as_deref(),
        holds: row.allocated_resource_id.and(row.first_touch_channel),
    }
}

/// Reads the counters the plan needs.
async fn read_counters(
    cache: &dyn Cache,
    counters: &[Counter],
    tz: Tz,
) -> Result<Usage, UseCaseError> {
    let mut used = Usage::with_capacity(counters.len());
    for c in counters {
        let name = counter_name(c.kind, c.resource.into_uuid());
        let n = cache.read_daily(&name, tz, c.at).await?;
        used.insert(
            (c.resource, c.day),
            u32::try_from(n.max(0)).unwrap_or(u32::MAX),
        );
    }
    Ok(used)
}

/// What a run added to a counter (name, amount, instant), to give back if saving fails.
type Reserved = (String, i64, DateTime<Utc>);

/// Makes the reservations, one increment per resource and day, giving back what a concurrent
/// run overtook: the slots each kept, and what this run added.
async fn reserve(
    cache: &dyn Cache,
    reservations: &[Reservation],
    tz: Tz,
) -> Result<(Vec<u32>, Vec<Reserved>), UseCaseError> {
    let mut kept = Vec::with_capacity(reservations.len());
    let mut reserved = Vec::new();
    for r in reservations {
        let name = counter_name(r.kind, r.resource.into_uuid());
        let got = reserve_under_cap(
            cache,
            &name,
            i64::from(r.count()),
            i64::from(r.cap),
            tz,
            r.at,
        )
        .await?;
        kept.push(u32::try_from(got).unwrap_or(0));
        if got > 0 {
            reserved.push((name, got, r.at));
        }
    }
    Ok((kept, reserved))
}

/// Stores the plans and schedules the waiting-leads passes in one transaction.
async fn save_plans(
    pool: &PgPool,
    client_id: ClientId,
    updates: &[AllocationUpdate],
    waits: &[(CampaignId, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> Result<(), UseCaseError> {
    let mut tx = pool.begin().await?;
    store::save_allocations(&mut tx, client_id, updates, now).await?;
    schedule_waiting(&mut tx, client_id, waits).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives back a failed run's reservations (best effort: a cache failure is logged).
async fn give_back(cache: &dyn Cache, reserved: &[Reserved], tz: Tz) {
    for (name, n, at) in reserved {
        if let Err(e) = cache.incr_daily(name, -n, tz, *at).await {
            tracing::warn!(counter = %name, amount = n, error = %e,
                "giving back reserved capacity failed; it frees at the day's end");
        }
    }
}

fn update(
    lead_id: LeadId,
    channel: Channel,
    resource_id: Option<Uuid>,
    next_action_at: DateTime<Utc>,
    wait_reason: Option<WaitReason>,
) -> AllocationUpdate {
    AllocationUpdate {
        lead_id,
        first_touch_channel: Some(channel.as_str().to_owned()),
        resource_id,
        next_action_at: Some(next_action_at),
        wait_reason: wait_reason.map(|r| r.as_str().to_owned()),
    }
}

/// One waiting-leads pass per campaign and window: the earliest window of the campaign's
/// waiting leads, deduplicated by an idempotency key so many batches schedule it once.
async fn schedule_waiting(
    conn: &mut sqlx::PgConnection,
    client_id: ClientId,
    waits: &[(CampaignId, DateTime<Utc>)],
) -> Result<(), UseCaseError> {
    let mut earliest: HashMap<CampaignId, DateTime<Utc>> = HashMap::new();
    for (campaign_id, at) in waits {
        earliest
            .entry(*campaign_id)
            .and_modify(|e| *e = (*e).min(*at))
            .or_insert(*at);
    }
    for (campaign_id, at) in earliest {
        let job = RescoreCampaign {
            client_id: client_id.into_uuid(),
            campaign_id: campaign_id.into_uuid(),
            only_waiting: true,
        };
        let opts = EnqueueOptions {
            run_at: Some(at),
            idempotency_key: Some(format!("allocate_waiting:{campaign_id}:{}", at.timestamp())),
            ..Default::default()
        };
        // A savepoint: a duplicate key aborts the statement, which must not abort (and
        // silently roll back at COMMIT) the caller's transaction.
        let mut savepoint = conn.begin().await?;
        match enqueue_on(&mut savepoint, &job, opts).await {
            Ok(_) => savepoint.commit().await?,
            Err(EnqueueError::Duplicate { .. }) => savepoint.rollback().await?,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Allocates stored, scored leads (the `allocate_lead` job): reads their stored tier and plans
/// as [`allocate_scored`] does. Unscored leads are skipped.
pub async fn allocate_leads(
    pool: &PgPool,
    cache: &dyn Cache,
    client_id: ClientId,
    lead_ids: &[LeadId],
    now: DateTime<Utc>,
) -> Result<AllocationSummary, UseCaseError> {
    let client = clients::pipeline_settings(pool, client_id).await?;
    let rows = scoring_rows(pool, client_id, lead_ids).await?;
    let mut campaign_ids: Vec<CampaignId> = rows.iter().filter_map(|r| r.campaign_id).collect();
    campaign_ids.sort_unstable();
    campaign_ids.dedup();
    let campaigns: HashMap<CampaignId, CampaignPipeline> =
        campaigns::pipeline_settings(pool, client_id, &campaign_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let scored: Vec<Scored> = rows
        .into_iter()
        .filter_map(|row| {
            let tier = row.als_tier?;
            Some(Scored { row, tier })
        })
        .collect();
    allocate_scored(pool, cache, &client, &campaigns, &scored, now).await
}
