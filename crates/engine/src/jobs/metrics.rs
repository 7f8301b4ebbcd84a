//! Job metric names and recorders (Prometheus, through the `metrics` facade).

use std::time::Duration;

use super::kind::{JobKind, Lane};

/// Counter: jobs enqueued by this process.
pub const ENQUEUED: &str = "jobs_enqueued_total";
/// Counter: attempts started.
pub const STARTED: &str = "jobs_started_total";
/// Counter: attempts that succeeded.
pub const SUCCEEDED: &str = "jobs_succeeded_total";
/// Counter: attempts that failed (retried or dead-lettered).
pub const FAILED: &str = "jobs_failed_total";
/// Counter: jobs that went to the dead-letter state.
pub const DEAD_LETTERED: &str = "jobs_dead_lettered_total";
/// Counter: jobs put back after their worker stopped heartbeating.
pub const RECOVERED: &str = "jobs_recovered_total";
/// Histogram: attempt duration in seconds.
pub const DURATION: &str = "job_duration_seconds";
/// Gauge: jobs due now and waiting, per lane.
pub const QUEUE_DEPTH: &str = "jobs_queue_depth";
/// Gauge: age in seconds of the oldest due waiting job, per lane.
pub const OLDEST_AGE: &str = "jobs_oldest_age_seconds";
/// Gauge: jobs in the dead-letter state.
pub const DEAD: &str = "jobs_dead";

/// Records `n` enqueued jobs.
pub fn enqueued(kind: JobKind, lane: Lane, n: u64) {
    metrics::counter!(ENQUEUED, "kind" => kind.name(), "queue" => lane.as_str()).increment(n);
}

/// Records an attempt start.
pub fn started(kind: JobKind, lane: Lane) {
    metrics::counter!(STARTED, "kind" => kind.name(), "queue" => lane.as_str()).increment(1);
}

/// Records an attempt's end.
pub fn finished(kind: JobKind, lane: Lane, ok: bool, took: Duration) {
    let name = if ok { SUCCEEDED } else { FAILED };
    metrics::counter!(name, "kind" => kind.name(), "queue" => lane.as_str()).increment(1);
    metrics::histogram!(DURATION, "kind" => kind.name()).record(took.as_secs_f64());
}

/// Records a dead-lettered job.
pub fn dead_lettered(kind: JobKind, lane: Lane) {
    metrics::counter!(DEAD_LETTERED, "kind" => kind.name(), "queue" => lane.as_str()).increment(1);
}

/// Records jobs recovered from dead workers.
pub fn recovered(n: u64) {
    metrics::counter!(RECOVERED).increment(n);
}

/// Sets a lane's depth and oldest age.
pub fn queue_state(lane: Lane, depth: i64, oldest_age_secs: f64) {
    metrics::gauge!(QUEUE_DEPTH, "queue" => lane.as_str()).set(depth as f64);
    metrics::gauge!(OLDEST_AGE, "queue" => lane.as_str()).set(oldest_age_secs);
}

/// Sets the number of dead jobs.
pub fn dead_jobs(n: i64) {
    metrics::gauge!(DEAD).set(n as f64);
}
