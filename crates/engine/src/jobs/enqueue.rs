//! Enqueueing: typed payloads built into apalis tasks and pushed with
//! [`agency_store::jobs::push`] (apalis-postgres's own insert) on any connection, so a caller's
//! transaction can include the push (a row and its job commit together or not at all), or
//! built into columns ([`BuiltJobs`]) for a store statement that inserts them beside other
//! rows in one round trip (the webhook inbox). [`enqueue_unique`] keeps at most one live job per key (per lead, for enrichment).

use agency_store::jobs::{self, IDEMPOTENCY_INDEX, TaskColumns};
use apalis_core::task::builder::TaskBuilder;
use apalis_core::task::task_id::TaskId;
use apalis_postgres::PgTask;
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::kind::{JobKind, Lane};
use super::metrics;
use super::payload::JobPayload;

/// Enqueueing failed.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    /// The payload did not serialise.
    #[error("job payload does not serialise")]
    Payload(#[from] serde_json::Error),
    /// The insert failed (a duplicate idempotency key is reported as `Duplicate`).
    #[error("job insert failed")]
    Database(#[source] apalis_postgres::Error),
    /// Reading or releasing the idempotency keys of live jobs failed.
    #[error("job key lookup failed")]
    Store(#[source] agency_store::StoreError),
    /// The request cannot be enqueued as asked (e.g. one idempotency key for a batch).
    #[error("{0}")]
    Misuse(&'static str),
    /// A job with the same kind and idempotency key exists already.
    #[error("a {kind} job with idempotency key '{key}' exists already")]
    Duplicate {
        /// The kind.
        kind: JobKind,
        /// The key.
        key: String,
    },
}

/// Optional settings of one enqueue; the defaults come from the kind.
#[derive(Debug, Clone, Default)]
pub struct EnqueueOptions {
    /// Run on another lane than the kind's own.
    pub lane: Option<Lane>,
    /// Not before this instant (second precision).
    pub run_at: Option<DateTime<Utc>>,
    /// Override the kind's attempt budget.
    pub max_attempts: Option<u32>,
    /// At most one job per (kind, key) ever exists; a second push is `Duplicate`.
    pub idempotency_key: Option<String>,
    /// Use this job id instead of a new one.
    pub id: Option<String>,
}

/// A new job id: a UUIDv7 string (time-ordered).
pub fn new_job_id() -> String {
    Uuid::now_v7().to_string()
}

fn build_task<J: JobPayload>(
    payload: &J,
    opts: &EnqueueOptions,
) -> Result<(String, PgTask), EnqueueError> {
    let id = opts.id.clone().unwrap_or_else(new_job_id);
    let bytes = serde_json::to_vec(payload)?;
    let lane = opts.lane.unwrap_or(J::KIND.lane());
    let max_attempts = opts
        .max_attempts
        .unwrap_or(J::KIND.policy().max_attempts)
        .max(1);
    let mut builder = TaskBuilder::new(bytes)
        .task_id(TaskId::from_string(id.clone()))
        .max_attempts(max_attempts as usize)
        .priority(lane.priority() as usize);
    if let Some(at) = opts.run_at {
        builder = builder.run_at_timestamp(at.timestamp().max(0) as u64);
    }
    if let Some(key) = &opts.idempotency_key {
        builder = builder.idempotency_key(key);
    }
    Ok((id, builder.build()))
}

/// A batch cannot share one idempotency key or one job id.
fn refuse_shared_key(opts: &EnqueueOptions) -> Result<(), EnqueueError> {
    if opts.idempotency_key.is_some() || opts.id.is_some() {
        return Err(EnqueueError::Misuse(
            "one idempotency key or id cannot cover a batch",
        ));
    }
    Ok(())
}

/// The tasks of `payloads` and their ids, in order.
fn build_tasks<J: JobPayload>(
    payloads: &[J],
    opts: &EnqueueOptions,
) -> Result<(Vec<String>, Vec<PgTask>), EnqueueError> {
    let mut ids = Vec::with_capacity(payloads.len());
    let mut tasks = Vec::with_capacity(payloads.len());
    for payload in payloads {
        let (id, task) = build_task(payload, opts)?;
        ids.push(id);
        tasks.push(task);
    }
    Ok((ids, tasks))
}

/// Jobs of one kind built for a store statement that inserts them together with other rows
/// in one round trip (the webhook inbox's group commit): the columns to bind, the kind's queue
/// name ([`BuiltJobs::job_type`]), and [`BuiltJobs::enqueued`] to count the ones the statement
/// inserted.
#[derive(Debug)]
pub struct BuiltJobs {
    /// The columns of the insert, one task per payload, in order.
    pub columns: TaskColumns,
    kind: JobKind,
    lane: Lane,
}

impl BuiltJobs {
    /// Builds one task per payload (no idempotency key and no fixed id: a batch cannot share
    /// one).
    pub fn new<J: JobPayload>(payloads: &[J], opts: EnqueueOptions) -> Result<Self, EnqueueError> {
        refuse_shared_key(&opts)?;
        let (_, tasks) = build_tasks(payloads, &opts)?;
        Ok(Self {
            columns: TaskColumns::from_tasks(tasks),
            kind: J::KIND,
            lane: opts.lane.unwrap_or(J::KIND.lane()),
        })
    }

    /// The job type (queue) they are inserted as: the kind's name.
    pub fn job_type(&self) -> &'static str {
        self.kind.name()
    }

    /// Counts `inserted` of them as enqueued (after the statement committed them).
    pub fn enqueued(&self, inserted: usize) {
        metrics::enqueued(self.kind, self.lane, inserted as u64);
    }
}

/// A violation of apalis's idempotency index (recognised by its name) is a `Duplicate`.
fn map_push_error(e: apalis_postgres::Error, kind: JobKind, key: Option<&str>) -> EnqueueError {
    let on_idempotency_index = match &e {
        apalis_postgres::Error::Database(db) => db
            .as_database_error()
            .and_then(|d| d.constraint())
            .is_some_and(|c| c == IDEMPOTENCY_INDEX),
        _ => false,
    };
    match key {
        Some(key) if on_idempotency_index => EnqueueError::Duplicate {
            kind,
            key: key.to_owned(),
        },
        _ => EnqueueError::Database(e),
    }
}

/// Pushes one job on `conn` (pass `&mut *tx` to enqueue inside a transaction). Returns its id.
pub async fn enqueue_on<J: JobPayload>(
    conn: &mut PgConnection,
    payload: &J,
    opts: EnqueueOptions,
) -> Result<String, EnqueueError> {
    let (id, task) = build_task(payload, &opts)?;
    jobs::push(conn, J::KIND.name(), vec![task])
        .await
        .map_err(|e| map_push_error(e, J::KIND, opts.idempotency_key.as_deref()))?;
    metrics::enqueued(J::KIND, opts.lane.unwrap_or(J::KIND.lane()), 1);
    Ok(id)
}

/// Pushes one job in its own transaction. Returns its id.
pub async fn enqueue<J: JobPayload>(
    pool: &PgPool,
    payload: &J,
    opts: EnqueueOptions,
) -> Result<String, EnqueueError> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| EnqueueError::Database(e.into()))?;
    enqueue_on(&mut conn, payload, opts).await
}

/// Pushes many jobs of one kind in one statement on `conn`. Returns their ids in order.
pub async fn enqueue_batch<J: JobPayload>(
    conn: &mut PgConnection,
    payloads: &[J],
    opts: EnqueueOptions,
) -> Result<Vec<String>, EnqueueError> {
    if payloads.len() > 1 {
        refuse_shared_key(&opts)?;
    }
    let (ids, tasks) = build_tasks(payloads, &opts)?;
    if tasks.is_empty() {
        return Ok(ids);
    }
    jobs::push(conn, J::KIND.name(), tasks)
        .await
        .map_err(|e| map_push_error(e, J::KIND, opts.idempotency_key.as_deref()))?;
    metrics::enqueued(
        J::KIND,
        opts.lane.unwrap_or(J::KIND.lane()),
        ids.len() as u64,
    );
    Ok(ids)
}

/// Pushes one job per `(payload, key)` unless a live job of the kind already holds the key:
/// at most one live job per key (a repeat of the same key in `items` counts once). A key
/// left on a finished job (done or dead) is released first, so the work can be queued again
/// later. Enqueuers of the same kind and `scope` are serialised by a transaction-scoped
/// advisory lock (pass `&mut *tx`), so two concurrent requests cannot both push a key.
/// Returns the ids of the jobs pushed.
pub async fn enqueue_unique<J: JobPayload>(
    conn: &mut PgConnection,
    scope: &str,
    items: &[(J, String)],
) -> Result<Vec<String>, EnqueueError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let kind = J::KIND.name();
    let keys: Vec<&str> = items.iter().map(|(_, k)| k.as_str()).collect();
    let open = jobs::lock_live_keys(&mut *conn, kind, scope, &keys)
        .await
        .map_err(EnqueueError::Store)?;
    let mut taken: std::collections::HashSet<String> = open.into_iter().collect();
    let mut ids = Vec::new();
    let mut tasks = Vec::new();
    for (payload, key) in items {
        if !taken.insert(key.clone()) {
            continue;
        }
        let opts = EnqueueOptions {
            idempotency_key: Some(key.clone()),
            ..Default::default()
        };
        let (id, task) = build_task(payload, &opts)?;
        ids.push(id);
        tasks.push(task);
    }
    while !tasks.is_empty() {
        let rest = tasks.split_off(tasks.len().min(1_000));
        jobs::push(&mut *conn, kind, std::mem::replace(&mut tasks, rest))
            .await
            .map_err(|e| map_push_error(e, J::KIND, Some("(one of a batch)")))?;
    }
    if !ids.is_empty() {
        metrics::enqueued(J::KIND, J::KIND.lane(), ids.len() as u64);
    }
    Ok(ids)
}
