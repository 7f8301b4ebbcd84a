//! The job system end to end against a real PostgreSQL: transactional enqueue, retries with
//! backoff, dead-letter and re-run, lanes, idempotent redelivery and metrics.

mod common;

use std::time::{Duration, Instant};

use agency_engine::UseCaseError;
use agency_engine::jobs::admin;
use agency_engine::jobs::test_kinds::{Noop, Probe};
use agency_engine::jobs::{EnqueueError, EnqueueOptions, JobState, Lane, enqueue, enqueue_on};
use common::*;
use sqlx::PgPool;

fn probe(name: &str) -> Probe {
    Probe {
        name: name.into(),
        ..Probe::default()
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_rolled_back_transaction_leaves_no_job_and_a_committed_one_does(pool: PgPool) {
    job_tables(&pool).await;
    let mut tx = pool.begin().await.unwrap();
    let gone = enqueue_on(&mut tx, &probe("rollback"), EnqueueOptions::default())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let kept = enqueue_on(&mut tx, &probe("commit"), EnqueueOptions::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM apalis.jobs")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(ids, vec![kept.clone()]);
    assert!(!ids.contains(&gone));
    let (kind, priority, max_attempts): (String, i32, i32) =
        sqlx::query_as("SELECT job_type, priority, max_attempts FROM apalis.jobs WHERE id = $1")
            .bind(&kept)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(kind, "probe");
    assert_eq!(priority, Lane::Default.priority());
    assert_eq!(max_attempts, 5);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_duplicate_idempotency_key_is_reported(pool: PgPool) {
    job_tables(&pool).await;
    let opts = || EnqueueOptions {
        idempotency_key: Some("event-1".into()),
        ..EnqueueOptions::default()
    };
    enqueue(&pool, &Noop {}, opts()).await.unwrap();
    let err = enqueue(&pool, &Noop {}, opts()).await.unwrap_err();
    assert!(matches!(err, EnqueueError::Duplicate { .. }), "{err}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_failing_job_is_retried_with_backoff_then_succeeds(pool: PgPool) {
    job_tables(&pool).await;
    let job = Probe {
        fail_attempts: 2,
        ..probe("retry")
    };
    let id = enqueue(&pool, &job, EnqueueOptions::default())
        .await
        .unwrap();
    let started = Instant::now();
    let (stop, handle) = start(&pool, settings("retry", 0, 1, 0));
    // After the first failure the job waits for its backoff (0.5-1 s for attempt 1).
    wait_status(&pool, &id, "Pending", Duration::from_secs(5)).await;
    let (attempts, delay_ms, error): (i32, f64, String) = loop {
        let row: (i32, f64, Option<String>) = sqlx::query_as(
            "SELECT attempts, EXTRACT(EPOCH FROM run_at - now())::float8 * 1000, last_result->>'error'
               FROM apalis.jobs WHERE id = $1",
        )
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
        if let (a, d, Some(e)) = row {
            break (a, d, e);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(attempts, 1);
    assert!(
        delay_ms > 0.0 && delay_ms <= 1000.0,
        "backoff {delay_ms} ms"
    );
    assert!(error.contains("failing attempt 1"), "{error}");
    wait_status(&pool, &id, "Done", Duration::from_secs(10)).await;
    // Two backoffs: at least 0.5 s + 1 s.
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM apalis.jobs WHERE id = $1")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(attempts, 3);
    assert_eq!(hits(&pool, "retry").await, 1);
    stop.trigger();
    handle.await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn exhausted_and_permanent_failures_are_dead_listed_and_retried(pool: PgPool) {
    job_tables(&pool).await;
    let exhausted = enqueue(
        &pool,
        &Probe {
            fail_attempts: 99,
            ..probe("exhausted")
        },
        EnqueueOptions {
            max_attempts: Some(2),
            ..EnqueueOptions::default()
        },
    )
    .await
    .unwrap();
    let permanent = enqueue(
        &pool,
        &Probe {
            fail_attempts: 1,
            permanent: true,
            ..probe("permanent")
        },
        EnqueueOptions::default(),
    )
    .await
    .unwrap();
    let fine = enqueue(&pool, &probe("fine"), EnqueueOptions::default())
        .await
        .unwrap();
    let (stop, handle) = start(&pool, settings("dead", 0, 2, 0));
    wait_status(&pool, &exhausted, "Failed", Duration::from_secs(10)).await;
    wait_status(&pool, &permanent, "Killed", Duration::from_secs(10)).await;
    wait_status(&pool, &fine, "Done", Duration::from_secs(10)).await;
    stop.trigger();
    handle.await.unwrap();

    let page = admin::list_dead(&pool, 1, 20).await.unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.total_pages, 1);
    let mut ids: Vec<_> = page.items.iter().map(|j| j.id.clone()).collect();
    ids.sort();
    let mut want = vec![exhausted.clone(), permanent.clone()];
    want.sort();
    assert_eq!(ids, want);
    let dead = page.items.iter().find(|j| j.id == exhausted).unwrap();
    assert_eq!(
        (dead.attempts, dead.max_attempts, dead.status.as_str()),
        (2, 2, "Failed")
    );
    assert!(
        dead.last_error
            .as_deref()
            .unwrap()
            .contains("failing attempt 2")
    );
    assert_eq!(dead.payload["name"], "exhausted");
    let killed = page.items.iter().find(|j| j.id == permanent).unwrap();
    assert_eq!(killed.attempts, 1, "a permanent error is not retried");
    let second_page = admin::list_dead(&pool, 2, 1).await.unwrap();
    assert_eq!((second_page.items.len(), second_page.total), (1, 2));

    let retried = admin::retry(&pool, &permanent).await.unwrap();
    assert_eq!(retried.status, JobState::Pending);
    let (status, attempts): (String, i32) =
        sqlx::query_as("SELECT status, attempts FROM apalis.jobs WHERE id = $1")
            .bind(&permanent)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("Pending", 0));
    assert_eq!(admin::list_dead(&pool, 1, 20).await.unwrap().total, 1);
    assert!(matches!(
        admin::retry(&pool, &fine).await,
        Err(UseCaseError::Conflict {
            code: "job_not_dead",
            ..
        })
    ));
    assert!(matches!(
        admin::retry(&pool, "nope").await,
        Err(UseCaseError::NotFound("job"))
    ));
    // The re-run job runs again (attempt 1 again: this probe fails it permanently once more).
    let (stop, handle) = start(&pool, settings("dead2", 0, 1, 0));
    wait_status(&pool, &permanent, "Killed", Duration::from_secs(10)).await;
    stop.trigger();
    handle.await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_bulk_backlog_does_not_delay_a_critical_job(pool: PgPool) {
    job_tables(&pool).await;
    let backlog: Vec<Probe> = (0..400)
        .map(|i| Probe {
            sleep_ms: 20,
            ..probe(&format!("bulk-{i}"))
        })
        .collect();
    enqueue_bulk(&pool, &backlog).await;
    let (stop, handle) = start(&pool, settings("lanes", 1, 0, 1));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let enqueued = Instant::now();
    let critical = enqueue(
        &pool,
        &probe("critical"),
        EnqueueOptions {
            lane: Some(Lane::Critical),
            ..EnqueueOptions::default()
        },
    )
    .await
    .unwrap();
    wait_status(&pool, &critical, "Done", Duration::from_secs(2)).await;
    let waited = enqueued.elapsed();
    let bulk_left: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE priority = $1 AND status <> 'Done'",
    )
    .bind(Lane::Bulk.priority())
    .fetch_one(&pool)
    .await
    .unwrap();
    stop.trigger();
    handle.await.unwrap();
    assert!(
        waited < Duration::from_millis(500),
        "critical job waited {waited:?}"
    );
    assert!(
        bulk_left > 300,
        "the backlog was still there: {bulk_left} bulk jobs left"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_job_delivered_twice_has_one_effect(pool: PgPool) {
    job_tables(&pool).await;
    let id = enqueue(&pool, &probe("twice"), EnqueueOptions::default())
        .await
        .unwrap();
    let (stop, handle) = start(&pool, settings("twice", 0, 1, 0));
    wait_status(&pool, &id, "Done", Duration::from_secs(5)).await;
    assert_eq!(hits(&pool, "twice").await, 1);
    // A second delivery (as after a lost acknowledgement): the handler runs again.
    sqlx::query("UPDATE apalis.jobs SET status = 'Pending', done_at = NULL WHERE id = $1")
        .bind(&id)
        .execute(&pool)
        .await
        .unwrap();
    wait_status(&pool, &id, "Done", Duration::from_secs(5)).await;
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM apalis.jobs WHERE id = $1")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(attempts, 2, "the handler really ran twice");
    assert_eq!(
        hits(&pool, "twice").await,
        1,
        "but the effect happened once"
    );
    stop.trigger();
    handle.await.unwrap();
}

#[sqlx::test(migrations = "../../migrations")]
async fn metrics_count_jobs_and_report_queue_depth(pool: PgPool) {
    job_tables(&pool).await;
    let handle_metrics = agency_runtime::metrics::recorder();
    for _ in 0..3 {
        enqueue(&pool, &Noop {}, EnqueueOptions::default())
            .await
            .unwrap();
    }
    let future = enqueue(
        &pool,
        &probe("later"),
        EnqueueOptions {
            run_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            ..EnqueueOptions::default()
        },
    )
    .await
    .unwrap();
    enqueue(
        &pool,
        &probe("waiting"),
        EnqueueOptions {
            lane: Some(Lane::Critical),
            ..EnqueueOptions::default()
        },
    )
    .await
    .unwrap();
    // Only the bulk lane runs: the critical probe stays waiting and shows as depth.
    let (stop, handle) = start(&pool, settings("metrics", 0, 0, 1));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let done: i64 =
            sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE status = 'Done'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if done == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "noop jobs did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.trigger();
    handle.await.unwrap();
    let text = handle_metrics.render();
    assert!(
        text.contains("jobs_enqueued_total{kind=\"noop\",queue=\"bulk\"}"),
        "{text}"
    );
    assert!(
        text.contains("jobs_succeeded_total{kind=\"noop\",queue=\"bulk\"}"),
        "{text}"
    );
    assert!(
        text.contains("jobs_queue_depth{queue=\"critical\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("jobs_oldest_age_seconds{queue=\"critical\"}"),
        "{text}"
    );
    assert_eq!(status(&pool, &future).await, "Pending");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_stopping_worker_finishes_the_job_in_hand_and_gives_back_what_it_fetched_ahead(
    pool: PgPool,
) {
    job_tables(&pool).await;
    let slow: Vec<Probe> = (0..5)
        .map(|i| Probe {
            sleep_ms: 400,
            ..probe(&format!("ahead-{i}"))
        })
        .collect();
    enqueue_bulk(&pool, &slow).await;
    // One bulk task with a local buffer of ten: one claim takes all five, one runs.
    let (stop, handle) = start(&pool, settings("ahead", 0, 0, 1));
    wait_count(
        &pool,
        "SELECT count(*) FROM apalis.jobs WHERE status = 'Running'",
        5,
        Duration::from_secs(3),
    )
    .await;
    // All five are claimed; give the task a moment to take one from the buffer (claimed is
    // not started), well inside the job's 400 ms.
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.trigger();
    handle.await.unwrap();
    let rows: Vec<(String, i32, Option<String>)> =
        sqlx::query_as("SELECT status, attempts, lock_by FROM apalis.jobs ORDER BY status, id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let done: Vec<_> = rows.iter().filter(|r| r.0 == "Done").collect();
    let back: Vec<_> = rows.iter().filter(|r| r.0 == "Pending").collect();
    assert_eq!(done.len(), 1, "the job in hand finished: {rows:?}");
    assert_eq!(back.len(), 4, "the buffered jobs went back: {rows:?}");
    assert!(
        back.iter().all(|r| r.1 == 0 && r.2.is_none()),
        "given back unlocked, with their attempt returned: {rows:?}"
    );
    let hits: i64 = sqlx::query_scalar("SELECT coalesce(sum(hits), 0)::int8 FROM job_probe_hits")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(hits, 1, "only the job in hand ran");
}

#[sqlx::test(migrations = "../../migrations")]
async fn jobs_spread_over_executors_are_each_acknowledged_once(pool: PgPool) {
    job_tables(&pool).await;
    let jobs = vec![Noop {}; 500];
    enqueue_bulk(&pool, &jobs).await;
    let (stop, handle) = start(&pool, settings("acks", 0, 0, 4));
    wait_count(
        &pool,
        "SELECT count(*) FROM apalis.jobs WHERE status <> 'Done'",
        0,
        Duration::from_secs(10),
    )
    .await;
    stop.trigger();
    handle.await.unwrap();
    let (attempts, undated): (i64, i64) = sqlx::query_as(
        "SELECT sum(attempts)::int8, count(*) FILTER (WHERE done_at IS NULL) FROM apalis.jobs",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(attempts, 500, "every job ran exactly once");
    assert_eq!(undated, 0, "every job has its completion time");
}
