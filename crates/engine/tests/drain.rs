//! The in-process drain: runs due jobs and the jobs they enqueue, records failures as the
//! worker does (a retry is not due again within the drain, a permanent error dead-letters),
//! and ends when nothing is due.

use std::sync::Arc;

use agency_cache::FallbackCache;
use agency_engine::Services;
use agency_engine::jobs::test_kinds::{self, Probe};
use agency_engine::jobs::{EnqueueOptions, drain, enqueue, handlers};
use agency_store::PgPool;

/// Services over `pool`, with the apalis job tables (our migrations come from `sqlx::test`)
/// and the probe kind's table applied.
async fn services(pool: &PgPool) -> Services {
    agency_store::migrate::job_migrator()
        .run(pool)
        .await
        .expect("apalis migrations");
    test_kinds::create_probe_table(pool)
        .await
        .expect("probe table");
    let cache = Arc::new(FallbackCache::new(None, pool.clone()).expect("cache"));
    Services::with_sandbox_providers(pool.clone(), cache)
}

fn probe(name: &str, fail_attempts: u32, permanent: bool) -> Probe {
    Probe {
        name: name.to_owned(),
        sleep_ms: 0,
        fail_attempts,
        permanent,
    }
}

async fn hits(pool: &PgPool, name: &str) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(sum(hits), 0)::bigint FROM job_probe_hits WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("hits")
}

async fn status_of(pool: &PgPool, id: &str) -> (String, i32) {
    sqlx::query_as("SELECT status, attempts FROM apalis.jobs WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("job row")
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_drain_runs_every_due_job_once_and_ends(pool: PgPool) {
    let services = services(&pool).await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c"] {
        ids.push(
            enqueue(&pool, &probe(name, 0, false), EnqueueOptions::default())
                .await
                .expect("enqueue"),
        );
    }
    let report = drain(&services, &handlers::registry())
        .await
        .expect("drain");
    assert_eq!(report.succeeded, 3);
    assert!(report.failed.is_empty(), "{report:?}");
    for (name, id) in ["a", "b", "c"].iter().zip(&ids) {
        assert_eq!(hits(&pool, name).await, 1);
        assert_eq!(status_of(&pool, id).await, ("Done".to_owned(), 1));
    }
    let again = drain(&services, &handlers::registry())
        .await
        .expect("drain");
    assert_eq!(again.succeeded, 0, "nothing is due after a drain");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_retryable_failure_is_scheduled_with_backoff_and_a_permanent_one_is_dead(pool: PgPool) {
    let services = services(&pool).await;
    let retry = enqueue(&pool, &probe("retry", 1, false), EnqueueOptions::default())
        .await
        .expect("enqueue");
    let dead = enqueue(&pool, &probe("dead", 1, true), EnqueueOptions::default())
        .await
        .expect("enqueue");
    let report = drain(&services, &handlers::registry())
        .await
        .expect("drain");
    assert_eq!(report.succeeded, 0);
    assert_eq!(report.failed.len(), 2, "{report:?}");
    assert_eq!(report.dead_lettered, 1);
    assert_eq!(hits(&pool, "retry").await, 0);

    let (status, attempts) = status_of(&pool, &retry).await;
    assert_eq!((status.as_str(), attempts), ("Pending", 1));
    let due_later: bool =
        sqlx::query_scalar("SELECT run_at > now() FROM apalis.jobs WHERE id = $1")
            .bind(&retry)
            .fetch_one(&pool)
            .await
            .expect("run_at");
    assert!(due_later, "the retry waits for its backoff");
    assert_eq!(status_of(&pool, &dead).await.0, "Killed");
}
