//! The job table module against a real `apalis.jobs`: the live and dead predicates split the
//! states as the queue means them, and a stored state this build does not know is an error.

use agency_store::StoreError;
use agency_store::jobs::{self, DEAD_CONDITION, JobState, LIVE_CONDITION};
use agency_store::migrate;
use sqlx::PgPool;

async fn insert(pool: &PgPool, id: &str, status: &str, attempts: i32) {
    sqlx::query(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority)
         VALUES ($1, 'test', '\\x00'::bytea, $2, $3, 3, now(), 0)",
    )
    .bind(id)
    .bind(status)
    .bind(attempts)
    .execute(pool)
    .await
    .expect("insert job");
}

async fn ids_where(pool: &PgPool, condition: &str) -> Vec<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM apalis.jobs WHERE {condition} ORDER BY id"
    )))
    .fetch_all(pool)
    .await
    .expect("select")
}

#[sqlx::test(migrations = false)]
async fn live_and_dead_split_the_states_and_done_is_neither(pool: PgPool) {
    migrate::run(&pool).await.unwrap();
    // Every state, with attempts left (1 of 3) and with its attempts used up (3 of 3).
    for state in JobState::ALL {
        insert(&pool, &format!("{state}-left"), state.as_str(), 1).await;
        insert(&pool, &format!("{state}-used"), state.as_str(), 3).await;
    }
    assert_eq!(
        ids_where(&pool, LIVE_CONDITION).await,
        [
            "Failed-left",
            "Pending-left",
            "Pending-used",
            "Queued-left",
            "Queued-used",
            "Running-left",
            "Running-used"
        ]
    );
    assert_eq!(
        ids_where(&pool, DEAD_CONDITION).await,
        ["Failed-used", "Killed-left", "Killed-used"]
    );
    assert_eq!(jobs::dead_count(&pool).await.unwrap(), 3);
}

#[sqlx::test(migrations = false)]
async fn a_stored_state_this_build_does_not_know_is_an_error(pool: PgPool) {
    migrate::run(&pool).await.unwrap();
    insert(&pool, "known", "Killed", 1).await;
    insert(&pool, "unknown", "Archived", 1).await;
    assert_eq!(
        jobs::state_of(&pool, "known").await.unwrap(),
        Some(JobState::Killed)
    );
    assert_eq!(jobs::state_of(&pool, "missing").await.unwrap(), None);
    let err = jobs::state_of(&pool, "unknown").await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Decode(message) if message.contains("Archived")),
        "{err:?}"
    );
}
