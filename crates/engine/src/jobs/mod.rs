//! The job system on PostgreSQL: typed payloads per kind ([`payload`]), lanes and retry
//! policies ([`kind`]), transactional enqueue into the apalis-postgres tables ([`enqueue`]),
//! the queue operations a worker runs ([`queue`]), handlers and their registry ([`handlers`],
//! [`registry`]), idempotency records ([`idempotency`]), dead-letter administration
//! ([`admin`]), metric names ([`metrics`]) and the in-process [`drain`] tests use; with the
//! feature `test-kinds`, the test-only kinds (`test_kinds`). The SQL on the job tables and the
//! job states live in `agency_store::jobs`. Design notes: `docs/jobs.md`.

pub mod admin;
pub mod context;
pub mod drain;
pub mod enqueue;
pub mod handlers;
pub mod idempotency;
pub mod kind;
pub mod metrics;
pub mod payload;
pub mod queue;
pub mod registry;
#[cfg(feature = "test-kinds")]
pub mod test_kinds;

pub use agency_store::jobs::JobState;
pub use context::{JobContext, JobError};
pub use drain::{DrainReport, drain};
pub use enqueue::{
    EnqueueError, EnqueueOptions, enqueue, enqueue_batch, enqueue_on, enqueue_unique,
};
pub use kind::{JobKind, Lane, RetryPolicy};
pub use payload::JobPayload;
pub use registry::Registry;
