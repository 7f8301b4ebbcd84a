//! Schedule runs (`schedule_runs`, one row per schedule tick that fired): their retention.

use crate::retention::RetentionDelete;

/// Retention: runs of ticks more than `$1` days ago, `$2` at a time.
pub const RETENTION: RetentionDelete = RetentionDelete::new(
    "DELETE FROM schedule_runs WHERE (schedule, tick) IN (
             SELECT schedule, tick FROM schedule_runs
              WHERE tick < now() - make_interval(days => $1) LIMIT $2)",
);
