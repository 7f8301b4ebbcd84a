//! Where verified webhooks are stored before they are acknowledged: [`WebhookInbox`].
//!
//! Every write is one statement that inserts the events and the processing job of each one
//! stored (`webhook_events::insert_many_queued`), committed on its own: one round trip.
//! `direct` writes each event in a statement of its own. `batching` (the API's)
//! group-commits: concurrent requests hand their events to writer tasks (`WEBHOOK_WRITERS`),
//! each of which takes what is waiting (up to [`MAX_BATCH`]) and writes it in one statement,
//! so one commit acknowledges many requests. A request is answered only after the statement
//! holding its event has committed: storing before acknowledging holds exactly as in
//! `direct`. If a batch fails, its events are written one by one, so each request gets its
//! own outcome.

use std::sync::{Arc, Mutex};

use agency_domain::{ClientId, WebhookProvider, WebhookStatus};
use agency_store::PgPool;
use agency_store::webhook_events::{self, NewWebhookEvent};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::receive::{Receipt, ReceiveError};
use crate::jobs::enqueue::{BuiltJobs, EnqueueOptions};
use crate::jobs::payload::ProcessWebhookEvent;

/// Most events one group commit writes.
pub const MAX_BATCH: usize = 256;
/// Writer tasks of a batching inbox by default: one statement in flight while the next batch
/// gathers. On loopback one writer gave the most acknowledgements per second and the least
/// PostgreSQL CPU per event (`docs/benchmarks.md`, "Webhooks"); with a distant database (a
/// round trip of a millisecond or more) a second writer overlaps the round trips.
pub const DEFAULT_WRITERS: usize = 1;
/// Requests that may wait for a writer before senders wait for room.
const QUEUE: usize = 4_096;

/// A verified, readable event to store, with everything owned.
#[derive(Debug, Clone)]
pub struct InboxEvent {
    /// Sender.
    pub provider: WebhookProvider,
    /// The provider's event id (the dedup key).
    pub event_id: String,
    /// Event type.
    pub event_type: Option<String>,
    /// Kept headers (no credentials).
    pub headers: Value,
    /// The raw body.
    pub body: Vec<u8>,
    /// The tenant the signature proved, if any.
    pub client_id: Option<ClientId>,
}

impl InboxEvent {
    fn row(&self) -> NewWebhookEvent<'_> {
        NewWebhookEvent {
            provider: self.provider,
            provider_event_id: &self.event_id,
            event_type: self.event_type.as_deref(),
            headers: &self.headers,
            raw_body: &self.body,
            status: WebhookStatus::Pending,
            last_error: None,
            client_id: self.client_id,
        }
    }
}

struct Pending {
    event: InboxEvent,
    reply: oneshot::Sender<Result<Receipt, ReceiveError>>,
}

type Queue = Arc<tokio::sync::Mutex<mpsc::Receiver<Pending>>>;

/// The inbox: the pool, and the group-commit writers when batching.
pub struct WebhookInbox {
    pool: PgPool,
    batching: Option<Batching>,
}

struct Batching {
    sender: mpsc::Sender<Pending>,
    writers: usize,
    /// The receiver until the writers start (on first use, inside the runtime).
    idle: Mutex<Option<mpsc::Receiver<Pending>>>,
}

impl std::fmt::Debug for WebhookInbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookInbox")
            .field("batching", &self.batching.is_some())
            .finish_non_exhaustive()
    }
}

impl WebhookInbox {
    /// Each event in its own transaction (tests, the in-process sandbox loop).
    pub fn direct(pool: PgPool) -> Self {
        Self {
            pool,
            batching: None,
        }
    }

    /// Events of concurrent requests group-committed by `writers` tasks (the API).
    pub fn batching(pool: PgPool, writers: usize) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        Self {
            pool,
            batching: Some(Batching {
                sender,
                writers: writers.max(1),
                idle: Mutex::new(Some(receiver)),
            }),
        }
    }

    /// The pool (signature lookups, rejected bodies).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Stores the event with its processing job; answers once that is committed.
    pub async fn store(&self, event: InboxEvent) -> Result<Receipt, ReceiveError> {
        let Some(batching) = &self.batching else {
            return store_one(&self.pool, &event).await;
        };
        self.start_writers(batching);
        let (reply, answer) = oneshot::channel();
        if batching
            .sender
            .send(Pending { event, reply })
            .await
            .is_err()
        {
            return Err(ReceiveError::Unavailable);
        }
        answer.await.unwrap_or(Err(ReceiveError::Unavailable))
    }

    fn start_writers(&self, batching: &Batching) {
        let receiver = batching
            .idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(receiver) = receiver {
            let queue: Queue = Arc::new(tokio::sync::Mutex::new(receiver));
            for _ in 0..batching.writers {
                tokio::spawn(write_batches(self.pool.clone(), queue.clone()));
            }
        }
    }
}

/// One writer: takes what is waiting, writes it, answers, again; ends when every sender is
/// gone.
async fn write_batches(pool: PgPool, queue: Queue) {
    loop {
        let batch = {
            let mut receiver = queue.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        let events: Vec<&InboxEvent> = batch.iter().map(|p| &p.event).collect();
        match store_events(&pool, &events).await {
            Ok(receipts) => {
                for (pending, receipt) in batch.into_iter().zip(receipts) {
                    let _ = pending.reply.send(Ok(receipt));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, events = batch.len(), "a webhook batch failed; storing its events one by one");
                for pending in batch {
                    let outcome = store_one(&pool, &pending.event).await;
                    let _ = pending.reply.send(outcome);
                }
            }
        }
    }
}

/// `events` and their jobs in one statement (one round trip, one commit); a receipt per event.
async fn store_events(pool: &PgPool, events: &[&InboxEvent]) -> Result<Vec<Receipt>, ReceiveError> {
    let rows: Vec<NewWebhookEvent<'_>> = events.iter().map(|e| e.row()).collect();
    let ids: Vec<Uuid> = events.iter().map(|_| Uuid::now_v7()).collect();
    let payloads: Vec<ProcessWebhookEvent> = ids
        .iter()
        .map(|&event_id| ProcessWebhookEvent { event_id })
        .collect();
    let jobs = BuiltJobs::new(&payloads, EnqueueOptions::default())?;
    let stored =
        webhook_events::insert_many_queued(pool, &rows, &ids, jobs.job_type(), &jobs.columns)
            .await?;
    jobs.enqueued(stored.iter().filter(|&&s| s).count());
    Ok(ids
        .into_iter()
        .zip(stored)
        .map(|(id, stored)| {
            if stored {
                Receipt::Stored(id)
            } else {
                Receipt::Duplicate
            }
        })
        .collect())
}

/// One event and its job in a statement of its own.
async fn store_one(pool: &PgPool, event: &InboxEvent) -> Result<Receipt, ReceiveError> {
    let receipts = store_events(pool, &[event]).await?;
    Ok(receipts[0])
}
