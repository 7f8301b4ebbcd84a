//! The job tables (`apalis.jobs`, `apalis.workers`): every statement on them, the states a job
//! row can be in ([`JobState`], apalis's own vocabulary) and the "waiting", "live" and "dead"
//! predicates, each written once. Jobs are inserted with apalis-postgres's own insert
//! ([`push`]); claiming, leases, acknowledgements, retries, the dead letter and retention are
//! ours. Every statement stands alone (no session state), so it works behind a transaction
//! pooler. No rules here: the engine decides backoff, batch sizes and what a failure means.
//! Arranged as the callers use it: `enqueue` (insert, idempotency keys), `worker` (claim,
//! acknowledge, retry, lease) and `admin` (dead letter, retention); all are re-exported here.

use std::fmt;
use std::str::FromStr;

use crate::StoreError;

/// The stored text of a state (`apalis.jobs.status`), usable inside `concat!` so the
/// predicates and statements below are built from the same spellings as [`JobState`].
macro_rules! state {
    (Pending) => {
        "Pending"
    };
    (Queued) => {
        "Queued"
    };
    (Running) => {
        "Running"
    };
    (Done) => {
        "Done"
    };
    (Failed) => {
        "Failed"
    };
    (Killed) => {
        "Killed"
    };
}

/// SQL: the row waits to be claimed (once `run_at` is due). The same predicate as apalis's
/// partial index `(job_type, priority DESC, run_at)`, so a claim written with it uses the index.
macro_rules! waiting {
    () => {
        concat!(
            "(status = '",
            state!(Pending),
            "' OR (status = '",
            state!(Failed),
            "' AND attempts < max_attempts))"
        )
    };
}

/// SQL: the row may still run (waiting, queued or running). Written with paths because
/// [`live_job_holds_key`] expands it in other modules of the store.
macro_rules! live {
    () => {
        concat!(
            "(status IN ('",
            $crate::jobs::state!(Pending),
            "', '",
            $crate::jobs::state!(Queued),
            "', '",
            $crate::jobs::state!(Running),
            "') OR (status = '",
            $crate::jobs::state!(Failed),
            "' AND attempts < max_attempts))"
        )
    };
}
pub(crate) use {live, state};

/// SQL: the row is in the dead-letter state (killed, or failed with its attempts used up).
macro_rules! dead {
    () => {
        concat!(
            "(status = '",
            state!(Killed),
            "' OR (status = '",
            state!(Failed),
            "' AND attempts >= max_attempts))"
        )
    };
}

/// SQL: a live job of kind `$kind` holds the idempotency key `$key` (both SQL expressions of
/// the enclosing statement). One lookup in the key's index; no payload is read.
macro_rules! live_job_holds_key {
    ($kind:literal, $key:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM apalis.jobs WHERE job_type = ",
            $kind,
            " AND idempotency_key = ",
            $key,
            " AND ",
            $crate::jobs::live!(),
            ")"
        )
    };
}
pub(crate) use live_job_holds_key;

/// The state of a job row (apalis's vocabulary, stored as text in `apalis.jobs.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting to run (`run_at` may be in the future: a retry's backoff).
    Pending,
    /// Taken by apalis's own fetcher (our worker never writes it; recovery treats it as held).
    Queued,
    /// Claimed by a worker, under its lease.
    Running,
    /// Finished successfully.
    Done,
    /// Failed; dead when `attempts >= max_attempts`, otherwise waiting for another attempt.
    Failed,
    /// Failed permanently: dead.
    Killed,
}

impl JobState {
    /// Every state.
    pub const ALL: [JobState; 6] = [
        JobState::Pending,
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Killed,
    ];

    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => state!(Pending),
            JobState::Queued => state!(Queued),
            JobState::Running => state!(Running),
            JobState::Done => state!(Done),
            JobState::Failed => state!(Failed),
            JobState::Killed => state!(Killed),
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for JobState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A stored `status` that is not one of apalis's states.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job state '{0}'")]
pub struct UnknownJobState(pub String);

impl FromStr for JobState {
    type Err = UnknownJobState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownJobState(s.to_owned()))
    }
}

/// Decodes a stored `status`; an unknown value is a [`StoreError::Decode`], never a default.
pub fn decode_state(status: &str) -> Result<JobState, StoreError> {
    status
        .parse()
        .map_err(|e| StoreError::decode("apalis.jobs.status", e))
}

/// SQL condition: the row is in the dead-letter state (served by the partial index
/// `idx_jobs_dead`, migration 20261205100000).
pub const DEAD_CONDITION: &str = dead!();

/// SQL condition: the row may still run (waiting, queued or running).
pub const LIVE_CONDITION: &str = live!();

/// The name of the unique index on `(job_type, idempotency_key)`: a violation of it is a
/// duplicate enqueue.
pub const IDEMPOTENCY_INDEX: &str = "idx_jobs_idempotency_key";

/// The channel apalis's insert trigger notifies (once per job type per statement, ADR-009).
pub const INSERT_CHANNEL: &str = "apalis::job::insert";

mod admin;
mod enqueue;
mod worker;

pub use admin::{DONE_RETENTION, DeadRow, dead_count, dead_page, retry_dead, state_of};
pub use enqueue::{TaskColumns, lock_live_keys, push};
pub use worker::{
    Backlog, ClaimedJob, backlog_by_priority, claim, complete, dead_letter, heartbeat,
    recover_expired, register_worker, release, retry_later,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_stored_text() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(state));
            assert_eq!(decode_state(&state.to_string()).unwrap(), state);
        }
    }

    #[test]
    fn an_unknown_stored_state_is_an_error_not_a_default() {
        assert_eq!(
            "Scheduled".parse::<JobState>(),
            Err(UnknownJobState("Scheduled".into()))
        );
        assert!("pending".parse::<JobState>().is_err(), "case matters");
        assert!(matches!(
            decode_state("Archived"),
            Err(StoreError::Decode(message)) if message.contains("Archived")
        ));
    }

    #[test]
    fn the_predicates_use_the_stored_spellings() {
        assert_eq!(
            DEAD_CONDITION,
            "(status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts))"
        );
        assert_eq!(
            LIVE_CONDITION,
            "(status IN ('Pending', 'Queued', 'Running') \
             OR (status = 'Failed' AND attempts < max_attempts))"
        );
        assert_eq!(
            waiting!(),
            "(status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts))"
        );
    }
}
