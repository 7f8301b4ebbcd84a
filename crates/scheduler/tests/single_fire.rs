//! Schedules fire once: two schedulers over one database (separate pools) with a fast
//! every-second schedule, and catch-up of a missed tick at most once.

use std::time::Duration;

use agency_runtime::Shutdown;
use agency_scheduler::{ScheduleDef, Scheduler, Target};
use chrono::{TimeZone, Utc};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

const TZ: chrono_tz::Tz = chrono_tz::Australia::Sydney;

async fn job_tables(pool: &PgPool) {
    agency_store::migrate::job_migrator()
        .run(pool)
        .await
        .expect("apalis migrations");
}

async fn separate_pool(pool: &PgPool) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with((*pool.connect_options()).clone())
        .await
        .expect("second pool")
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_schedulers_fire_each_tick_once(pool: PgPool) {
    job_tables(&pool).await;
    let every_second = || vec![ScheduleDef::new("tick", "* * * * * *", Target::Cleanup).unwrap()];
    let shutdown = Shutdown::new();
    let mut tasks = Vec::new();
    for name in ["a", "b"] {
        let own_pool = separate_pool(&pool).await;
        let scheduler = Scheduler::new(
            own_pool,
            every_second(),
            TZ,
            chrono::Duration::hours(1),
            name.into(),
        );
        tasks.push(tokio::spawn(
            scheduler.run_loop(Duration::from_millis(20), shutdown.clone()),
        ));
    }
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    shutdown.trigger();
    for t in tasks {
        t.await.unwrap();
    }
    let runs: Vec<(chrono::DateTime<Utc>, String, String)> =
        sqlx::query_as("SELECT tick, job_id, fired_by FROM schedule_runs ORDER BY tick")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(runs.len() >= 3, "ticks fired: {}", runs.len());
    let jobs: Vec<String> =
        sqlx::query_scalar("SELECT id FROM apalis.jobs WHERE job_type = 'cleanup' ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(jobs.len(), runs.len(), "one job per tick");
    let mut run_jobs: Vec<String> = runs.iter().map(|r| r.1.clone()).collect();
    run_jobs.sort();
    assert_eq!(
        run_jobs, jobs,
        "each tick's job is the one recorded with it"
    );
    for pair in runs.windows(2) {
        assert_eq!(
            (pair[1].0 - pair[0].0).num_seconds(),
            1,
            "consecutive one-second ticks"
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn concurrent_firing_of_the_same_tick_enqueues_once(pool: PgPool) {
    job_tables(&pool).await;
    let hourly = || vec![ScheduleDef::new("hourly", "0 0 * * * *", Target::Cleanup).unwrap()];
    let now = Utc.with_ymd_and_hms(2026, 7, 1, 3, 20, 0).unwrap();
    let mut handles = Vec::new();
    for i in 0..6 {
        let p = separate_pool(&pool).await;
        handles.push(tokio::spawn(async move {
            let mut s =
                Scheduler::new(p, hourly(), TZ, chrono::Duration::hours(1), format!("s{i}"));
            s.fire_due(now).await.unwrap().len()
        }));
    }
    let mut fired = 0;
    for h in handles {
        fired += h.await.unwrap();
    }
    assert_eq!(fired, 1);
    let jobs: i64 = sqlx::query_scalar("SELECT count(*) FROM apalis.jobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(jobs, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_scheduler_that_was_down_catches_up_the_latest_missed_tick_once(pool: PgPool) {
    job_tables(&pool).await;
    let hourly = || vec![ScheduleDef::new("hourly", "0 0 * * * *", Target::Cleanup).unwrap()];
    // Down since 01:00 UTC: ticks 02:00, 03:00, 04:00 were missed; it comes back at 04:40.
    let back = Utc.with_ymd_and_hms(2026, 7, 1, 4, 40, 0).unwrap();
    let mut s = Scheduler::new(
        pool.clone(),
        hourly(),
        TZ,
        chrono::Duration::hours(6),
        "s".into(),
    );
    let fired = s.fire_due(back).await.unwrap();
    assert_eq!(fired.len(), 1);
    assert_eq!(
        fired[0].tick,
        Utc.with_ymd_and_hms(2026, 7, 1, 4, 0, 0).unwrap()
    );
    assert!(
        s.fire_due(back + chrono::Duration::minutes(1))
            .await
            .unwrap()
            .is_empty()
    );
    // A restart (fresh process state) does not fire it again either.
    let mut restarted = Scheduler::new(
        pool.clone(),
        hourly(),
        TZ,
        chrono::Duration::hours(6),
        "s2".into(),
    );
    assert!(restarted.fire_due(back).await.unwrap().is_empty());
    assert_eq!(restarted.lost_races, 1);
    // The next tick fires normally.
    let next = restarted
        .fire_due(Utc.with_ymd_and_hms(2026, 7, 1, 5, 0, 1).unwrap())
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    let ticks: i64 = sqlx::query_scalar("SELECT count(*) FROM schedule_runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(ticks, 2);
    // A tick older than the catch-up window is skipped.
    let mut strict = Scheduler::new(
        pool.clone(),
        vec![ScheduleDef::new("daily", "0 0 2 * * *", Target::Cleanup).unwrap()],
        TZ,
        chrono::Duration::hours(1),
        "s3".into(),
    );
    assert!(
        strict
            .fire_due(Utc.with_ymd_and_hms(2026, 7, 1, 4, 0, 0).unwrap())
            .await
            .unwrap()
            .is_empty()
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_default_schedules_enqueue_their_kinds(pool: PgPool) {
    job_tables(&pool).await;
    // Wednesday 2026-07-08 10:30 Sydney (00:30 UTC): within the catch-up window of 24 h every
    // schedule except Sunday's pattern learning has a tick (the minutely alert checks included). Only schedules whose kind has a
    // handler are in the default set: the other kinds must never be enqueued.
    let now = Utc.with_ymd_and_hms(2026, 7, 8, 0, 30, 0).unwrap();
    let mut s = Scheduler::new(
        pool.clone(),
        agency_scheduler::default_schedules(),
        TZ,
        chrono::Duration::hours(24),
        "d".into(),
    );
    let fired = s.fire_due(now).await.unwrap();
    let mut kinds: Vec<String> =
        sqlx::query_scalar("SELECT job_type FROM apalis.jobs ORDER BY job_type")
            .fetch_all(&pool)
            .await
            .unwrap();
    kinds.dedup();
    assert_eq!(fired.len(), 6);
    assert_eq!(
        kinds,
        vec![
            "check_alerts",
            "cleanup",
            "credit_reset",
            "enrichment_sweep",
            "outreach_sweep",
            "refresh_report"
        ]
    );
    let registry = agency_engine::jobs::handlers::registry();
    for kind in &kinds {
        assert!(
            registry.handles(kind.parse().unwrap()),
            "{kind} has no handler"
        );
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn every_spec_schedule_still_enqueues_its_kind_when_enabled(pool: PgPool) {
    // The disabled schedules keep their enqueue path, ready for the build that adds handlers.
    job_tables(&pool).await;
    let now = Utc.with_ymd_and_hms(2026, 7, 8, 0, 30, 0).unwrap();
    let mut s = Scheduler::new(
        pool.clone(),
        agency_scheduler::spec_schedules(),
        TZ,
        chrono::Duration::hours(24),
        "d".into(),
    );
    assert_eq!(s.fire_due(now).await.unwrap().len(), 8);
    let disabled: Vec<String> = agency_scheduler::disabled_schedules()
        .iter()
        .map(|d| d.target.kind().name().to_owned())
        .collect();
    assert_eq!(disabled.len(), 3);
}
