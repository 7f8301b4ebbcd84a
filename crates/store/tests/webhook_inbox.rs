//! The inbox's group commit (`webhook_events::insert_many_queued`) against real tables: one
//! statement stores the new events and queues exactly their jobs, skips redeliveries (earlier
//! ones and repeats inside the batch) with their jobs, writes job rows exactly as
//! apalis-postgres's own insert does, and wakes the workers.

use agency_domain::{WebhookProvider, WebhookStatus};
use agency_store::jobs::{self, TaskColumns};
use agency_store::migrate;
use agency_store::webhook_events::{self, NewWebhookEvent};
use apalis_core::task::builder::TaskBuilder;
use apalis_core::task::task_id::TaskId;
use apalis_postgres::PgTask;
use serde_json::json;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use uuid::Uuid;

const KIND: &str = "process_webhook_event";

fn task(id: &str, payload: &str) -> PgTask {
    TaskBuilder::new(payload.as_bytes().to_vec())
        .task_id(TaskId::from_string(id.to_owned()))
        .max_attempts(7)
        .priority(3)
        .build()
}

fn event<'a>(event_id: &'a str, headers: &'a serde_json::Value) -> NewWebhookEvent<'a> {
    NewWebhookEvent {
        provider: WebhookProvider::Resend,
        provider_event_id: event_id,
        event_type: Some("email.delivered"),
        headers,
        raw_body: b"{}",
        status: WebhookStatus::Pending,
        last_error: None,
        client_id: None,
    }
}

/// Stores `event_ids` in one batch, each with a job named `job-{event id}`; answers the flags.
async fn store(pool: &PgPool, event_ids: &[&str]) -> Vec<bool> {
    let headers = json!({"svix-id": "x"});
    let rows: Vec<_> = event_ids.iter().map(|id| event(id, &headers)).collect();
    let ids: Vec<Uuid> = event_ids.iter().map(|_| Uuid::now_v7()).collect();
    let tasks = ids
        .iter()
        .zip(event_ids)
        .map(|(id, event_id)| task(&format!("job-{event_id}-{id}"), &id.to_string()))
        .collect();
    webhook_events::insert_many_queued(pool, &rows, &ids, KIND, &TaskColumns::from_tasks(tasks))
        .await
        .expect("insert_many_queued")
}

#[sqlx::test(migrations = false)]
async fn new_events_are_stored_with_their_jobs_and_redeliveries_with_neither(pool: PgPool) {
    migrate::run(&pool).await.unwrap();
    assert_eq!(store(&pool, &["a", "b"]).await, [true, true]);
    // "a" again (delivered before), "c" twice in one batch (the second is a redelivery).
    assert_eq!(
        store(&pool, &["a", "c", "c", "d"]).await,
        [false, true, false, true]
    );
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT provider_event_id FROM webhook_events ORDER BY provider_event_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(stored, ["a", "b", "c", "d"]);
    // Each stored event has one job, and the job carries that event's id: the job of a
    // skipped redelivery (which named an id that was never stored) is not written.
    let pairs: Vec<(String, String)> = sqlx::query_as(
        "SELECT e.provider_event_id, j.id FROM apalis.jobs j
           JOIN webhook_events e ON convert_from(j.job, 'UTF8')::uuid = e.id
          WHERE j.job_type = $1 ORDER BY e.provider_event_id",
    )
    .bind(KIND)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(pairs.len(), 4, "{pairs:?}");
    for (event_id, job_id) in &pairs {
        assert!(job_id.starts_with(&format!("job-{event_id}-")), "{pairs:?}");
    }
    let all_jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(all_jobs, 4);
}

#[sqlx::test(migrations = false)]
async fn job_rows_are_written_as_apalis_writes_them_and_wake_the_workers(pool: PgPool) {
    migrate::run(&pool).await.unwrap();
    let mut listener = PgListener::connect_with(&pool).await.unwrap();
    listener.listen("apalis::job::insert").await.unwrap();

    // The same task through apalis-postgres's own insert (another job type) and through ours.
    let mut conn = pool.acquire().await.unwrap();
    jobs::push(
        &mut conn,
        "apalis_reference",
        vec![task("reference", "payload")],
    )
    .await
    .unwrap();
    drop(conn);
    let first = listener.recv().await.unwrap();
    assert!(first.payload().contains("apalis_reference"), "{first:?}");

    let headers = json!({});
    let id = Uuid::now_v7();
    let stored = webhook_events::insert_many_queued(
        &pool,
        &[event("e1", &headers)],
        &[id],
        KIND,
        &TaskColumns::from_tasks(vec![task("ours", "payload")]),
    )
    .await
    .unwrap();
    assert_eq!(stored, [true]);
    let woken = listener.recv().await.unwrap();
    assert!(woken.payload().contains(KIND), "{woken:?}");

    // Every column but the id and job type is the same, and both are due now.
    let (reference, ours) = (
        job_row(&pool, "reference").await,
        job_row(&pool, "ours").await,
    );
    assert_eq!(ours, reference);
    assert_eq!(
        (
            ours.status.as_str(),
            ours.max_attempts,
            ours.priority,
            ours.due_now
        ),
        ("Pending", 7, 3, true)
    );
}

/// A job row's columns, except its id and type.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct JobRow {
    job: Vec<u8>,
    status: String,
    attempts: i32,
    max_attempts: i32,
    priority: i32,
    metadata: Option<String>,
    idempotency_key: Option<String>,
    lock_by: Option<String>,
    locked: bool,
    done: bool,
    last_result: Option<String>,
    due_now: bool,
}

async fn job_row(pool: &PgPool, id: &str) -> JobRow {
    sqlx::query_as(
        "SELECT job, status, attempts, max_attempts, priority, metadata::text AS metadata,
                idempotency_key, lock_by, lock_at IS NOT NULL AS locked,
                done_at IS NOT NULL AS done, last_result::text AS last_result,
                run_at <= now() AND run_at > now() - interval '1 minute' AS due_now
           FROM apalis.jobs WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("job row")
}
