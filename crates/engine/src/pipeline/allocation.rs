//! Allocation (SPEC 3.2): a scored lead's first-touch channel (its tier's channels ∩ the
//! campaign's, reachable with what we know, split by lead id) and a resource for it, chosen
//! least-used-first among the client's active resources under their daily caps (email warm-up
//! included); SMS and voice planned in the lead's business hours (timezone from the area code).
//!
//! Counters: one daily counter per resource on the cache crate, `ratelimit:{kind}:{resource}`,
//! for the day of the planned send in the client's timezone (rolls over at its midnight). A
//! reservation made here is the slot the first touch uses: the send path must not count it
//! again. A batch reads each counter once, assigns in memory (hot leads first), then adds its
//! reservations with one increment per resource; when another allocator raced past a cap, the
//! excess is given back and those leads wait. When the plans cannot be stored (the database
//! transaction fails), every reservation of the run is given back before the error returns,
//! so a failed run never holds capacity until midnight and its retry reserves afresh.
//!
//! Waiting: with no resource free (or none of the kind) the lead is not dropped: it keeps its
//! channel, gets `next_action_at` = the next day's window and a wait reason, and one
//! `rescore_campaign` job (waiting leads only) per campaign and day is scheduled for that
//! window. A send planned more than [`RESERVE_HORIZON`] ahead (SMS/voice on a weekend) is not
//! reserved yet: it waits for its window the same way.
//!
//! Only leads whose campaign is active and whose status is new, enriched or scored are
//! allocated; a lead already holding a reservation for its channel keeps it.

use std::collections::HashMap;
use std::time::Duration;

use agency_cache::Cache;
use agency_cache::keys::end_of_local_day;
use agency_domain::{
    Channel, LeadId, Phone, ResourceId, ResourceKind, ResourceUsage, Tier, daily_cap,
    first_touch_channel, lead_channels, next_send_window, pick_resource, timezone_for_phone,
};
use agency_store::PgPool;
use agency_store::campaigns::{self, CampaignPipeline};
use agency_store::clients::{self, ClientPipeline};
use agency_store::leads::allocation::{self as store, AllocationUpdate};
use agency_store::leads::scoring::{ScoringRow, scoring_rows};
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

/// Reservations are made only for sends planned within this long from now.
pub const RESERVE_HORIZON: Duration = Duration::from_secs(24 * 60 * 60);
/// Wait reason: every resource of the channel's kind is at its daily cap.
pub const WAIT_CAPACITY: &str = "capacity_full";
/// Wait reason: the client has no active resource of the channel's kind.
pub const WAIT_NO_RESOURCE: &str = "no_resource";
/// Wait reason: the send window is more than a day away (reserved when it comes).
pub const WAIT_WINDOW: &str = "outside_send_window";

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

/// Warm-up day of an email domain on `day` (1 = its first day); `None` when warmed up.
pub fn warmup_day(resource: &SendingResource, kind: ResourceKind, day: NaiveDate) -> Option<u32> {
    if kind != ResourceKind::EmailDomain {
        return None;
    }
    let started = resource.warmup_started_on?;
    let days = (day - started).num_days() + 1;
    Some(u32::try_from(days.max(1)).unwrap_or(u32::MAX))
}

/// A resource's cap on `day`: the kind's (with warm-up), lowered by its override.
pub fn effective_cap(resource: &SendingResource, kind: ResourceKind, day: NaiveDate) -> u32 {
    let cap = daily_cap(kind, warmup_day(resource, kind, day));
    match resource.daily_cap_override {
        Some(o) => cap.min(u32::try_from(o.max(0)).unwrap_or(0)),
        None => cap,
    }
}

/// The channels the lead can be reached on with what we know (a number for SMS and voice, a
/// profile for LinkedIn).
fn reachable(channel: Channel, row: &ScoringRow) -> bool {
    let has = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
    match channel {
        Channel::Sms | Channel::Voice => has(&row.phone),
        Channel::Linkedin => has(&row.linkedin_url),
        Channel::Email | Channel::Mail => true,
    }
}

/// The lead's timezone for business hours: from its Australian area code, else the client's.
pub fn lead_timezone(phone: Option<&str>, client_tz: Tz) -> Tz {
    phone
        .and_then(|p| Phone::parse(p).ok())
        .map_or(client_tz, |p| timezone_for_phone(&p, client_tz))
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

struct Pending {
    index: usize,
    channel: Channel,
    resource: Uuid,
    at: DateTime<Utc>,
}

/// Plans the first touch of scored leads (see the module doc) and stores the plans.
pub async fn allocate_scored(
    pool: &PgPool,
    cache: &dyn Cache,
    client: &ClientPipeline,
    campaigns: &HashMap<Uuid, CampaignPipeline>,
    scored: &[Scored],
    now: DateTime<Utc>,
) -> Result<AllocationSummary, UseCaseError> {
    let mut summary = AllocationSummary::default();
    let client_tz = client_timezone(&client.timezone)?;
    let horizon = now + chrono::Duration::from_std(RESERVE_HORIZON).unwrap_or_default();
    let resources: Vec<SendingResource> = sending_resources::resources(pool, client.id)
        .await?
        .into_iter()
        .filter(|r| r.active && r.is_verified())
        .collect();

    // Hot leads first, so capacity goes to the best leads of the batch.
    let mut order: Vec<usize> = (0..scored.len()).collect();
    order.sort_by_key(|&i| (scored[i].tier, scored[i].row.id));

    let mut updates: Vec<Option<AllocationUpdate>> = vec![None; scored.len()];
    let mut waits: Vec<(usize, Uuid, DateTime<Utc>)> = Vec::new();
    let mut used: HashMap<(Uuid, NaiveDate), u32> = HashMap::new();
    let mut pending: Vec<Pending> = Vec::new();

    for i in order {
        let Scored { row, tier } = &scored[i];
        let campaign = row
            .campaign_id
            .and_then(|id| campaigns.get(&id))
            .filter(|c| c.status == "active");
        let allocatable = matches!(row.status.as_str(), "new" | "enriched" | "scored");
        let Some(campaign) = campaign.filter(|_| allocatable) else {
            summary.skipped += 1;
            continue;
        };
        let allocation = campaign_allocation(campaign);
        let allowed: Vec<Channel> = if *tier == Tier::Dead || row.suppressed {
            Vec::new()
        } else {
            lead_channels(*tier, &allocation)
                .into_iter()
                .filter(|c| reachable(*c, row))
                .collect()
        };
        let Some(channel) = first_touch_channel(LeadId::from_uuid(row.id), &allocation, &allowed)
        else {
            summary.no_channel += 1;
            updates[i] = Some(AllocationUpdate {
                lead_id: row.id,
                first_touch_channel: None,
                resource_id: None,
                next_action_at: None,
                wait_reason: None,
            });
            continue;
        };
        if row.first_touch_channel.as_deref() == Some(channel.as_str())
            && row.allocated_resource_id.is_some()
        {
            summary.kept += 1;
            continue;
        }
        let Some(kind) = ResourceKind::for_channel(channel) else {
            updates[i] = Some(plan(row.id, channel, None, Some(now), None));
            continue;
        };
        let tz = if channel.is_phone() {
            lead_timezone(row.phone.as_deref(), client_tz)
        } else {
            client_tz
        };
        let at = if channel.is_phone() {
            next_send_window(now, tz)
        } else {
            now
        };
        if at > horizon {
            updates[i] = Some(plan(row.id, channel, None, Some(at), Some(WAIT_WINDOW)));
            waits.push((i, campaign.id, at));
            continue;
        }
        let candidates: Vec<&SendingResource> = resources
            .iter()
            .filter(|r| r.kind == kind.as_str())
            .collect();
        if candidates.is_empty() {
            let next = next_day_window(now, client_tz, tz);
            updates[i] = Some(plan(
                row.id,
                channel,
                None,
                Some(next),
                Some(WAIT_NO_RESOURCE),
            ));
            waits.push((i, campaign.id, next));
            continue;
        }
        let day = at.with_timezone(&client_tz).date_naive();
        let mut usage = Vec::with_capacity(candidates.len());
        for r in &candidates {
            let today = match used.get(&(r.id, day)) {
                Some(n) => *n,
                None => {
                    let n = cache
                        .read_daily(&counter_name(kind, r.id), client_tz, at)
                        .await?;
                    let n = u32::try_from(n.max(0)).unwrap_or(u32::MAX);
                    used.insert((r.id, day), n);
                    n
                }
            };
            if today >= effective_cap(r, kind, day) {
                continue;
            }
            usage.push(ResourceUsage {
                id: ResourceId::from_uuid(r.id),
                kind,
                used_today: today,
                warmup_day: warmup_day(r, kind, day),
            });
        }
        match pick_resource(&usage) {
            Some(id) => {
                let id = id.into_uuid();
                *used.entry((id, day)).or_default() += 1;
                pending.push(Pending {
                    index: i,
                    channel,
                    resource: id,
                    at,
                });
            }
            None => {
                let next = next_day_window(now, client_tz, tz);
                updates[i] = Some(plan(row.id, channel, None, Some(next), Some(WAIT_CAPACITY)));
                waits.push((i, campaign.id, next));
            }
        }
    }

    // Reserve: one increment per resource and day; give back what a concurrent run overtook.
    // What this run added to each counter (name, amount, instant), to give back on failure.
    let mut reserved: Vec<(String, i64, DateTime<Utc>)> = Vec::new();
    let mut groups: HashMap<(Uuid, NaiveDate), Vec<usize>> = HashMap::new();
    for (p, item) in pending.iter().enumerate() {
        groups
            .entry((
                item.resource,
                item.at.with_timezone(&client_tz).date_naive(),
            ))
            .or_default()
            .push(p);
    }
    for ((resource_id, day), items) in groups {
        let Some(resource) = resources.iter().find(|r| r.id == resource_id) else {
            continue;
        };
        let kind: ResourceKind = resource
            .kind
            .parse()
            .map_err(|e: agency_domain::ParseEnumError| UseCaseError::Corrupt(e.to_string()))?;
        let name = counter_name(kind, resource_id);
        let at = pending[items[0]].at;
        let n = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let cap = i64::from(effective_cap(resource, kind, day));
        let kept = reserve_under_cap(cache, &name, n, cap, client_tz, at).await?;
        let overflow = n - kept;
        let keep = items.len() - usize::try_from(overflow).unwrap_or(items.len());
        if keep > 0 {
            reserved.push((name.clone(), kept, at));
        }
        for (k, &p) in items.iter().enumerate() {
            let item = &pending[p];
            let row = &scored[item.index].row;
            if k < keep {
                updates[item.index] = Some(plan(
                    row.id,
                    item.channel,
                    Some(resource_id),
                    Some(item.at),
                    None,
                ));
            } else {
                let tz = if item.channel.is_phone() {
                    lead_timezone(row.phone.as_deref(), client_tz)
                } else {
                    client_tz
                };
                let next = next_day_window(now, client_tz, tz);
                updates[item.index] = Some(plan(
                    row.id,
                    item.channel,
                    None,
                    Some(next),
                    Some(WAIT_CAPACITY),
                ));
                if let Some(campaign_id) = row.campaign_id {
                    waits.push((item.index, campaign_id, next));
                }
            }
        }
    }

    let updates: Vec<AllocationUpdate> = updates.into_iter().flatten().collect();
    for u in &updates {
        if u.first_touch_channel.is_some() {
            if u.wait_reason.is_some() {
                summary.waiting += 1;
            } else {
                summary.allocated += 1;
            }
        }
    }

    if let Err(e) = save_plans(pool, client.id, &updates, &waits, now).await {
        give_back(cache, &reserved, client_tz).await;
        return Err(e);
    }
    Ok(summary)
}

/// Stores the plans and schedules the waiting-leads passes in one transaction.
async fn save_plans(
    pool: &PgPool,
    client_id: Uuid,
    updates: &[AllocationUpdate],
    waits: &[(usize, Uuid, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> Result<(), UseCaseError> {
    let mut tx = pool.begin().await?;
    store::save_allocations(&mut tx, client_id, updates, now).await?;
    schedule_waiting(&mut tx, client_id, waits).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives back a failed run's reservations (best effort: a cache failure is logged).
async fn give_back(cache: &dyn Cache, reserved: &[(String, i64, DateTime<Utc>)], tz: Tz) {
    for (name, n, at) in reserved {
        if let Err(e) = cache.incr_daily(name, -n, tz, *at).await {
            tracing::warn!(counter = %name, amount = n, error = %e,
                "giving back reserved capacity failed; it frees at the day's end");
        }
    }
}

fn plan(
    lead_id: Uuid,
    channel: Channel,
    resource_id: Option<Uuid>,
    next_action_at: Option<DateTime<Utc>>,
    wait_reason: Option<&str>,
) -> AllocationUpdate {
    AllocationUpdate {
        lead_id,
        first_touch_channel: Some(channel.as_str().to_owned()),
        resource_id,
        next_action_at,
        wait_reason: wait_reason.map(str::to_owned),
    }
}

/// One waiting-leads pass per campaign and window: the earliest window of the campaign's
/// waiting leads, deduplicated by an idempotency key so many batches schedule it once.
async fn schedule_waiting(
    conn: &mut sqlx::PgConnection,
    client_id: Uuid,
    waits: &[(usize, Uuid, DateTime<Utc>)],
) -> Result<(), UseCaseError> {
    let mut earliest: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for (_, campaign_id, at) in waits {
        earliest
            .entry(*campaign_id)
            .and_modify(|e| *e = (*e).min(*at))
            .or_insert(*at);
    }
    for (campaign_id, at) in earliest {
        let job = RescoreCampaign {
            client_id,
            campaign_id,
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
    client_id: Uuid,
    lead_ids: &[Uuid],
    now: DateTime<Utc>,
) -> Result<AllocationSummary, UseCaseError> {
    let client = clients::pipeline_settings(pool, client_id).await?;
    let rows = scoring_rows(pool, client_id, lead_ids).await?;
    let mut campaign_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.campaign_id).collect();
    campaign_ids.sort_unstable();
    campaign_ids.dedup();
    let campaigns: HashMap<Uuid, CampaignPipeline> =
        campaigns::pipeline_settings(pool, client_id, &campaign_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let scored: Vec<Scored> = rows
        .into_iter()
        .filter_map(|row| {
            let tier = row.als_tier.as_deref()?.parse::<Tier>().ok()?;
            Some(Scored { row, tier })
        })
        .collect();
    allocate_scored(pool, cache, &client, &campaigns, &scored, now).await
}
