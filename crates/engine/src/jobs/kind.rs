//! The job kinds, their lanes (priorities) and retry policies: the one table to read when asking
//! "how hard do we retry X, and on which queue does it run".

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::Rng;

/// A priority lane. Each lane has its own worker tasks, so a bulk backlog never delays
/// critical work. Stored in `apalis.jobs.priority` (higher runs first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lane {
    /// Webhook events and tool calls.
    Critical,
    /// Outreach and replies.
    Default,
    /// Enrichment, scoring batches, learning, maintenance.
    Bulk,
}

impl Lane {
    /// Every lane, most urgent first.
    pub const ALL: [Lane; 3] = [Lane::Critical, Lane::Default, Lane::Bulk];

    /// The value stored in `apalis.jobs.priority`.
    pub const fn priority(self) -> i32 {
        match self {
            Lane::Critical => 30,
            Lane::Default => 20,
            Lane::Bulk => 10,
        }
    }

    /// The lane of a stored priority value (unknown values count as bulk).
    pub const fn from_priority(priority: i32) -> Lane {
        match priority {
            30.. => Lane::Critical,
            20..=29 => Lane::Default,
            _ => Lane::Bulk,
        }
    }

    /// The lane's name, as in metrics labels and config.
    pub const fn as_str(self) -> &'static str {
        match self {
            Lane::Critical => "critical",
            Lane::Default => "default",
            Lane::Bulk => "bulk",
        }
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a kind is retried: attempts, exponential backoff with jitter, and a per-attempt timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; after the last the job is dead.
    pub max_attempts: u32,
    /// Delay before the second attempt.
    pub base_delay: Duration,
    /// Each further delay is the previous one times this.
    pub factor: u32,
    /// No delay exceeds this.
    pub max_delay: Duration,
    /// One attempt is cancelled (and counts as a retryable failure) after this.
    pub timeout: Duration,
}

impl RetryPolicy {
    /// The un-jittered delay after failed attempt `attempt` (1-based).
    pub fn nominal_delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let factor = u64::from(self.factor.max(1)).saturating_pow(exp);
        let millis = (self.base_delay.as_millis() as u64).saturating_mul(factor);
        Duration::from_millis(millis).min(self.max_delay)
    }

    /// The delay after failed attempt `attempt`, with jitter: uniformly 50-100 % of nominal.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let nominal = self.nominal_delay(attempt).as_millis() as u64;
        let low = nominal / 2;
        let jittered = if nominal > low {
            rand::thread_rng().gen_range(low..=nominal)
        } else {
            nominal
        };
        Duration::from_millis(jittered)
    }
}

const fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const fn policy(max_attempts: u32, base: u64, factor: u32, max: u64, timeout: u64) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: secs(base),
        factor,
        max_delay: secs(max),
        timeout: secs(timeout),
    }
}

// A kind marked `#[cfg(...)]` exists only in builds where the condition holds (its variant,
// its place in `ALL` and its match arms together).
macro_rules! job_kinds {
    ($(
        $(#[doc = $doc:literal])* $(#[cfg($cfg:meta)])?
        $variant:ident = $name:literal, $lane:ident, $policy:expr;
    )*) => {
        /// Every kind of job. The name is the queue (`apalis.jobs.job_type`): never rename one
        /// that has rows in production.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum JobKind {
            $( $(#[doc = $doc])* $(#[cfg($cfg)])? $variant, )*
        }

        impl JobKind {
            /// Every kind.
            pub const ALL: &'static [JobKind] = &[ $( $(#[cfg($cfg)])? JobKind::$variant, )* ];

            /// The stored name (`apalis.jobs.job_type`).
            pub const fn name(self) -> &'static str {
                match self { $( $(#[cfg($cfg)])? JobKind::$variant => $name, )* }
            }

            /// The lane a job of this kind runs on unless enqueued with another.
            pub const fn lane(self) -> Lane {
                match self { $( $(#[cfg($cfg)])? JobKind::$variant => Lane::$lane, )* }
            }

            /// Attempts, backoff and timeout of this kind.
            pub const fn policy(self) -> RetryPolicy {
                match self { $( $(#[cfg($cfg)])? JobKind::$variant => $policy, )* }
            }
        }
    };
}

// kind = "stored name", lane, policy(max_attempts, base s, factor, max delay s, timeout s);
job_kinds! {
    /// Process one stored inbound webhook event.
    ProcessWebhookEvent = "process_webhook_event", Critical, policy(10, 2, 3, 1_800, 30);
    /// Enrich one lead through the provider waterfall.
    EnrichLead = "enrich_lead", Bulk, policy(6, 30, 4, 21_600, 120);
    /// Score a batch of leads (ALS).
    ScoreLeads = "score_leads", Bulk, policy(5, 10, 4, 3_600, 300);
    /// Allocate one lead to its first-touch channel and resource.
    AllocateLead = "allocate_lead", Default, policy(6, 10, 4, 3_600, 60);
    /// Rescore and allocate a campaign's leads (or only those waiting for capacity): fans out
    /// `score_leads` batches.
    RescoreCampaign = "rescore_campaign", Bulk, policy(5, 10, 4, 3_600, 300);
    /// Send one planned outreach step.
    SendOutreach = "send_outreach", Default, policy(5, 30, 4, 7_200, 60);
    /// Play a sandboxed send's provider webhooks back (development's sandbox loop).
    SandboxFeedback = "sandbox_feedback", Bulk, policy(3, 5, 4, 600, 60);
    /// Classify one inbound reply.
    ClassifyReply = "classify_reply", Default, policy(6, 10, 4, 3_600, 90);
    /// Deliver one attempt of an outbound webhook. SPEC 6's schedule (5 s, 5 min, 30 min, 2 h,
    /// 5 h, 10 h) is the handler's: a failed attempt queues the next as a new job; this policy
    /// only retries infrastructure failures.
    DeliverWebhook = "deliver_webhook", Default, policy(7, 5, 6, 36_000, 30);
    /// Refresh a client's report aggregates (the daily metrics schedule).
    RefreshReport = "refresh_report", Bulk, policy(4, 60, 4, 3_600, 600);
    /// Learn ALS weights and patterns from conversions.
    LearnPatterns = "learn_patterns", Bulk, policy(3, 300, 4, 7_200, 1_800);
    /// Backfill pattern data.
    PatternBackfill = "pattern_backfill", Bulk, policy(3, 300, 4, 7_200, 1_800);
    /// Enqueue enrichment for leads that need it (the 02:00 schedule).
    EnrichmentSweep = "enrichment_sweep", Bulk, policy(4, 60, 4, 3_600, 600);
    /// Enqueue due outreach sends (the hourly business-hours schedule).
    OutreachSweep = "outreach_sweep", Default, policy(3, 30, 4, 600, 300);
    /// Poll providers for replies whose webhooks were missed.
    ReplyRecovery = "reply_recovery", Default, policy(3, 60, 4, 1_800, 600);
    /// Run the checks behind the system's own alerts (dead letters, a silent scheduler, open
    /// provider circuits): every minute, and as its own watchdog when the scheduler is gone.
    CheckAlerts = "check_alerts", Default, policy(2, 10, 2, 60, 60);
    /// Reset lead credits of clients whose reset date has passed.
    CreditReset = "credit_reset", Default, policy(5, 60, 4, 3_600, 120);
    /// Retention: prune finished jobs, old webhook events, old idempotency records.
    Cleanup = "cleanup", Bulk, policy(3, 300, 4, 3_600, 1_800);
    /// Read a client's website and extract its ICP (onboarding and re-analysis).
    AnalyzeWebsite = "analyze_website", Default, policy(3, 10, 3, 300, 120);
    /// Does nothing (benchmarks, tests; `jobs::test_kinds`).
    #[cfg(feature = "test-kinds")]
    Noop = "noop", Bulk, policy(3, 1, 2, 60, 10);
    /// Sleeps, optionally fails, then bumps a counter once (crash and idempotency tests;
    /// `jobs::test_kinds`).
    #[cfg(feature = "test-kinds")]
    Probe = "probe", Default, policy(5, 1, 2, 10, 60);
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stored job type that is not a known kind.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown job kind '{0}'")]
pub struct UnknownKind(pub String);

impl FromStr for JobKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut names: Vec<_> = JobKind::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), JobKind::ALL.len());
        for kind in JobKind::ALL {
            assert_eq!(kind.name().parse::<JobKind>().unwrap(), *kind);
        }
        assert!("nope".parse::<JobKind>().is_err());
    }

    #[test]
    fn backoff_grows_exponentially_is_capped_and_jittered() {
        let p = JobKind::DeliverWebhook.policy();
        assert_eq!(p.nominal_delay(1), secs(5));
        assert_eq!(p.nominal_delay(2), secs(30));
        assert_eq!(p.nominal_delay(3), secs(180));
        assert_eq!(p.nominal_delay(6), secs(36_000));
        assert_eq!(p.nominal_delay(40), secs(36_000));
        for attempt in 1..8 {
            let nominal = p.nominal_delay(attempt);
            for _ in 0..50 {
                let d = p.backoff(attempt);
                assert!(d <= nominal && d >= nominal / 2, "{d:?} vs {nominal:?}");
            }
        }
    }

    #[test]
    fn lanes_round_trip_through_priority_and_webhooks_are_critical() {
        for lane in Lane::ALL {
            assert_eq!(Lane::from_priority(lane.priority()), lane);
        }
        assert_eq!(JobKind::ProcessWebhookEvent.lane(), Lane::Critical);
        assert_eq!(JobKind::EnrichLead.lane(), Lane::Bulk);
        assert_eq!(JobKind::SendOutreach.lane(), Lane::Default);
        assert!(JobKind::ALL.iter().all(|k| k.policy().max_attempts >= 1));
    }
}
