//! The allocation planner (SPEC 3.2), pure: for each scored lead, its first-touch channel (its
//! tier's channels ∩ the campaign's, reachable with what we know, split by lead id), when it is
//! due (SMS and voice in the lead's business hours) and a resource for it, least-used-first
//! under each resource's daily cap (email warm-up included), hot leads first.
//!
//! The daily counters live in a cache the planner cannot read, and another allocator may take
//! capacity between a read and a reservation, so planning runs in three steps around the
//! engine's IO: [`plan`] decides channels and times and names the counters to read
//! ([`Plan::counters`]); [`Plan::assign`] spends the counts read, in memory, and groups the
//! leads by resource and day ([`Assignment::reservations`]); [`Assignment::settle`] takes how
//! many slots each reservation got and lets the leads past that wait for capacity.
//!
//! A lead waits (it keeps its channel, gets a time and a [`WaitReason`]) when no resource of
//! the kind is free, when the client has none, or when its send window is more than
//! [`RESERVE_HORIZON`] away. Only leads whose campaign is active and whose status is new,
//! enriched or scored are allocated; a lead already holding a reservation for its channel
//! keeps it.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::allocation::ChannelAllocation;
use crate::campaign::CampaignStatus;
use crate::channel::Channel;
use crate::enum_macro::text_enum;
use crate::hours::{lead_timezone, next_send_window};
use crate::ids::{CampaignId, LeadId, ResourceId};
use crate::lead::LeadStatus;
use crate::policy::{first_touch_channel, lead_channels};
use crate::resource::{ResourceKind, ResourceUsage, daily_cap, pick_resource};
use crate::tier::Tier;

#[cfg(test)]
mod tests;

/// Reservations are made only for sends planned within this long from now.
pub const RESERVE_HORIZON: Duration = Duration::from_secs(24 * 60 * 60);

text_enum! {
    /// Why a lead with a channel waits instead of holding a resource.
    pub enum WaitReason {
        /// Every resource of the channel's kind is at its daily cap.
        CapacityFull => "capacity_full",
        /// The client has no active resource of the channel's kind.
        NoResource => "no_resource",
        /// The send window is more than [`RESERVE_HORIZON`] away (reserved when it comes).
        OutsideSendWindow => "outside_send_window",
    }
}

/// What limits one of the client's active, verified resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceCapacity {
    /// The resource.
    pub id: ResourceId,
    /// Its kind.
    pub kind: ResourceKind,
    /// First warm-up day of an email domain (`None`: warmed up).
    pub warmup_started_on: Option<NaiveDate>,
    /// A lower daily cap than the kind's.
    pub daily_cap_override: Option<i32>,
}

impl ResourceCapacity {
    /// Warm-up day of an email domain on `day` (1 = its first day); `None` when warmed up.
    pub fn warmup_day(&self, day: NaiveDate) -> Option<u32> {
        if self.kind != ResourceKind::EmailDomain {
            return None;
        }
        let started = self.warmup_started_on?;
        let days = (day - started).num_days() + 1;
        Some(u32::try_from(days.max(1)).unwrap_or(u32::MAX))
    }

    /// The cap on `day`: the kind's (with warm-up), lowered by the override.
    pub fn cap(&self, day: NaiveDate) -> u32 {
        let cap = daily_cap(self.kind, self.warmup_day(day));
        match self.daily_cap_override {
            Some(o) => cap.min(u32::try_from(o.max(0)).unwrap_or(0)),
            None => cap,
        }
    }
}

/// A lead's campaign, as allocation reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignFacts {
    /// The campaign.
    pub id: CampaignId,
    /// Its status (`None`: a value this build does not know, never allocated).
    pub status: Option<CampaignStatus>,
    /// Its channel percentages.
    pub allocation: ChannelAllocation,
}

/// What allocation knows about one scored lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadFacts<'a> {
    /// The lead.
    pub id: LeadId,
    /// Its (new) tier.
    pub tier: Tier,
    /// Its status (`None`: a value this build does not know, never allocated).
    pub status: Option<LeadStatus>,
    /// Its campaign (`None`: none, or not a live campaign of the client).
    pub campaign: Option<CampaignFacts>,
    /// Its email or phone is globally suppressed.
    pub suppressed: bool,
    /// Stored phone (SMS and voice need a non-blank one; its area code gives the timezone).
    pub phone: Option<&'a str>,
    /// Stored LinkedIn URL (LinkedIn needs a non-blank one).
    pub linkedin_url: Option<&'a str>,
    /// The channel it already holds a reserved resource for, if any.
    pub holds: Option<Channel>,
}

impl LeadFacts<'_> {
    /// True when the lead can be reached on `channel` with what we know (a number for SMS and
    /// voice, a profile for LinkedIn).
    pub fn reachable(&self, channel: Channel) -> bool {
        let has = |v: Option<&str>| v.is_some_and(|s| !s.trim().is_empty());
        match channel {
            Channel::Sms | Channel::Voice => has(self.phone),
            Channel::Linkedin => has(self.linkedin_url),
            Channel::Email | Channel::Mail => true,
        }
    }

    /// The channels it may receive: none when dead or suppressed, else its tier's channels
    /// the campaign allocates to and it can be reached on.
    pub fn allowed_channels(&self, allocation: &ChannelAllocation) -> Vec<Channel> {
        if self.tier == Tier::Dead || self.suppressed {
            return Vec::new();
        }
        lead_channels(self.tier, allocation)
            .into_iter()
            .filter(|c| self.reachable(*c))
            .collect()
    }

    /// Its campaign when it is allocatable now: the campaign is active and the lead new,
    /// enriched or scored.
    fn allocatable_campaign(&self) -> Option<&CampaignFacts> {
        let status_ok = matches!(
            self.status,
            Some(LeadStatus::New | LeadStatus::Enriched | LeadStatus::Scored)
        );
        self.campaign
            .as_ref()
            .filter(|c| status_ok && c.status == Some(CampaignStatus::Active))
    }
}

/// Everything one allocation run decides from.
#[derive(Debug, Clone, Copy)]
pub struct AllocationInput<'a> {
    /// Now.
    pub now: DateTime<Utc>,
    /// When the client's day ends (its next local midnight): a lead waiting for capacity or a
    /// resource is planned for the first send window after it.
    pub day_end: DateTime<Utc>,
    /// The client's timezone (counter days roll over at its midnight).
    pub client_tz: Tz,
    /// The client's active, verified resources, in the order ties go to.
    pub resources: &'a [ResourceCapacity],
    /// The scored leads.
    pub leads: &'a [LeadFacts<'a>],
}

/// What allocation decided for one lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Not allocatable now (campaign not active, status past scoring): left as it is.
    Skipped,
    /// No channel to receive (dead, suppressed, or none allowed and reachable): its plan is
    /// cleared.
    NoChannel,
    /// It keeps the reservation it holds for its channel.
    Kept,
    /// Its first touch: the channel, the resource reserved (`None` for mail) and when.
    Planned {
        /// First-touch channel.
        channel: Channel,
        /// The resource reserved (`None`: mail needs none).
        resource: Option<ResourceId>,
        /// When the first touch is due.
        at: DateTime<Utc>,
    },
    /// It keeps its channel and waits until `at`, when its campaign's waiting leads are
    /// allocated again.
    Waiting {
        /// First-touch channel.
        channel: Channel,
        /// When it is tried again.
        at: DateTime<Utc>,
        /// Why it waits.
        reason: WaitReason,
        /// Its campaign.
        campaign: CampaignId,
    },
}

/// A lead that needs a resource of `kind` for a send at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Need {
    channel: Channel,
    kind: ResourceKind,
    at: DateTime<Utc>,
    /// `at`'s day in the client's timezone (the counter's day).
    day: NaiveDate,
    /// When it is tried again if no capacity is left.
    retry_at: DateTime<Utc>,
    campaign: CampaignId,
}

impl Need {
    fn wait(&self) -> Outcome {
        Outcome::Waiting {
            channel: self.channel,
            at: self.retry_at,
            reason: WaitReason::CapacityFull,
            campaign: self.campaign,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Decided(Outcome),
    Needs(Need),
}

/// A daily counter to read before [`Plan::assign`]: a resource's sends on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// The resource.
    pub resource: ResourceId,
    /// Its kind.
    pub kind: ResourceKind,
    /// The day, in the client's timezone.
    pub day: NaiveDate,
    /// An instant on that day (the first send planned on it).
    pub at: DateTime<Utc>,
}

/// Sends already counted, by resource and day (a counter not read counts as 0).
pub type Usage = HashMap<(ResourceId, NaiveDate), u32>;

/// Channels and times decided; resources not assigned yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'a> {
    resources: &'a [ResourceCapacity],
    /// One step per lead, in input order.
    steps: Vec<Step>,
    /// Lead indexes in the order capacity is handed out: best tier first, then by id.
    order: Vec<usize>,
}

/// Decides each lead's channel and time (see the module doc); resources come next, from the
/// counters [`Plan::counters`] names.
pub fn plan<'a>(input: &AllocationInput<'a>) -> Plan<'a> {
    let horizon = input.now + chrono::Duration::from_std(RESERVE_HORIZON).unwrap_or_default();
    let mut order: Vec<usize> = (0..input.leads.len()).collect();
    order.sort_by_key(|&i| (input.leads[i].tier, input.leads[i].id));
    let steps = input
        .leads
        .iter()
        .map(|lead| step(input, lead, horizon))
        .collect();
    Plan {
        resources: input.resources,
        steps,
        order,
    }
}

fn step(input: &AllocationInput<'_>, lead: &LeadFacts<'_>, horizon: DateTime<Utc>) -> Step {
    let Some(campaign) = lead.allocatable_campaign() else {
        return Step::Decided(Outcome::Skipped);
    };
    let allowed = lead.allowed_channels(&campaign.allocation);
    let Some(channel) = first_touch_channel(lead.id, &campaign.allocation, &allowed) else {
        return Step::Decided(Outcome::NoChannel);
    };
    if lead.holds == Some(channel) {
        return Step::Decided(Outcome::Kept);
    }
    let Some(kind) = ResourceKind::for_channel(channel) else {
        return Step::Decided(Outcome::Planned {
            channel,
            resource: None,
            at: input.now,
        });
    };
    let tz = if channel.is_phone() {
        lead_timezone(lead.phone, input.client_tz)
    } else {
        input.client_tz
    };
    let wait = |at, reason| {
        Step::Decided(Outcome::Waiting {
            channel,
            at,
            reason,
            campaign: campaign.id,
        })
    };
    let at = if channel.is_phone() {
        next_send_window(input.now, tz)
    } else {
        input.now
    };
    if at > horizon {
        return wait(at, WaitReason::OutsideSendWindow);
    }
    let retry_at = next_send_window(input.day_end, tz);
    if !input.resources.iter().any(|r| r.kind == kind) {
        return wait(retry_at, WaitReason::NoResource);
    }
    Step::Needs(Need {
        channel,
        kind,
        at,
        day: at.with_timezone(&input.client_tz).date_naive(),
        retry_at,
        campaign: campaign.id,
    })
}

impl<'a> Plan<'a> {
    /// The counters [`Plan::assign`] needs: every resource of a needed kind on each day it is
    /// needed, once, in the order leads get capacity.
    pub fn counters(&self) -> Vec<Counter> {
        let mut seen = HashSet::new();
        let mut counters = Vec::new();
        for need in self.needs() {
            for r in self.resources.iter().filter(|r| r.kind == need.kind) {
                if seen.insert((r.id, need.day)) {
                    counters.push(Counter {
                        resource: r.id,
                        kind: r.kind,
                        day: need.day,
                        at: need.at,
                    });
                }
            }
        }
        counters
    }

    fn needs(&self) -> impl Iterator<Item = &Need> {
        self.order.iter().filter_map(|&i| match &self.steps[i] {
            Step::Needs(need) => Some(need),
            Step::Decided(_) => None,
        })
    }

    /// Hands out capacity in memory, best leads first: each lead needing a resource gets the
    /// least-used one of its kind under its cap that day (counting the leads before it), or
    /// waits for capacity. The leads given a resource are grouped by resource and day, to be
    /// reserved.
    pub fn assign(self, used: &Usage) -> Assignment {
        let mut used = used.clone();
        // A lead needing a resource waits for capacity unless its reservation holds.
        let outcomes: Vec<Outcome> = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Decided(outcome) => *outcome,
                Step::Needs(need) => need.wait(),
            })
            .collect();
        let mut reservations: Vec<Reservation> = Vec::new();
        for &i in &self.order {
            let Step::Needs(need) = self.steps[i] else {
                continue;
            };
            let usage: Vec<ResourceUsage> = self
                .resources
                .iter()
                .filter(|r| r.kind == need.kind)
                .filter_map(|r| {
                    let today = used.get(&(r.id, need.day)).copied().unwrap_or(0);
                    (today < r.cap(need.day)).then(|| ResourceUsage {
                        id: r.id,
                        kind: need.kind,
                        used_today: today,
                        warmup_day: r.warmup_day(need.day),
                    })
                })
                .collect();
            let Some(id) = pick_resource(&usage) else {
                continue;
            };
            *used.entry((id, need.day)).or_default() += 1;
            let cap = self
                .resources
                .iter()
                .find(|r| r.id == id)
                .map_or(0, |r| r.cap(need.day));
            match reservations
                .iter_mut()
                .find(|r| r.resource == id && r.day == need.day)
            {
                Some(r) => r.leads.push((i, need)),
                None => reservations.push(Reservation {
                    resource: id,
                    kind: need.kind,
                    day: need.day,
                    at: need.at,
                    cap,
                    leads: vec![(i, need)],
                }),
            }
        }
        Assignment {
            outcomes,
            reservations,
        }
    }
}

/// Leads given one resource on one day, in the order they got it: reserve [`Reservation::count`]
/// slots of its counter under [`Reservation::cap`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// The resource.
    pub resource: ResourceId,
    /// Its kind.
    pub kind: ResourceKind,
    /// The day, in the client's timezone.
    pub day: NaiveDate,
    /// The first send planned on it (an instant on that day).
    pub at: DateTime<Utc>,
    /// The resource's cap that day.
    pub cap: u32,
    leads: Vec<(usize, Need)>,
}

impl Reservation {
    /// Slots to reserve: one per lead.
    pub fn count(&self) -> u32 {
        u32::try_from(self.leads.len()).unwrap_or(u32::MAX)
    }
}

/// Resources assigned in memory, to be reserved against the counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// One per lead, in input order; a lead with a pending reservation waits for capacity
    /// until [`Assignment::settle`] says it holds.
    outcomes: Vec<Outcome>,
    reservations: Vec<Reservation>,
}

impl Assignment {
    /// The reservations to make, one per resource and day.
    pub fn reservations(&self) -> &[Reservation] {
        &self.reservations
    }

    /// Every lead's outcome, in input order, given how many slots each reservation got
    /// (`kept[i]` for `reservations()[i]`; a missing entry counts as 0): the first `kept`
    /// leads of a reservation hold the resource, the rest (another allocator took the
    /// capacity) wait for capacity.
    pub fn settle(self, kept: &[u32]) -> Vec<Outcome> {
        let mut outcomes = self.outcomes;
        for (r, reservation) in self.reservations.iter().enumerate() {
            let kept = usize::try_from(kept.get(r).copied().unwrap_or(0)).unwrap_or(usize::MAX);
            for (i, need) in reservation.leads.iter().take(kept) {
                outcomes[*i] = Outcome::Planned {
                    channel: need.channel,
                    resource: Some(reservation.resource),
                    at: need.at,
                };
            }
        }
        outcomes
    }
}
