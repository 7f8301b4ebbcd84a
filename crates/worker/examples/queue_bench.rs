//! Job-queue benchmark: the database's own single-row commit rate, then 100,000 no-op jobs
//! enqueued and completed with 1, 2 and 4 worker tasks per core, on a fresh database.
//!
//! `cargo run --release -p agency-worker --example queue_bench`
//! (env: DATABASE_URL of the server to create the bench database on; BENCH_JOBS, BENCH_BATCH
//! (the bulk lane's fetch-ahead, default 500), BENCH_SECONDS to change the sizes; BENCH_TASKS,
//! tasks per core to run, default `1,2,4`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agency_cache::FallbackCache;
use agency_engine::Services;
use agency_engine::jobs::payload::Noop;
use agency_engine::jobs::{EnqueueOptions, Lane, enqueue_batch, handlers};
use agency_runtime::Shutdown;
use agency_worker::{Runner, RunnerSettings};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn commit_rate(pool: &PgPool, connections: usize, seconds: u64) -> anyhow::Result<f64> {
    sqlx::query("TRUNCATE bench_commits").execute(pool).await?;
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let pool = pool.clone();
        let count = count.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            while Instant::now() < deadline {
                // One autocommit INSERT = one single-row transaction, as pgbench's simple insert.
                sqlx::query("INSERT INTO bench_commits (v) VALUES ($1)")
                    .bind(1_i32)
                    .execute(&mut *conn)
                    .await?;
                count.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, sqlx::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / seconds as f64)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let jobs: usize = env_or("BENCH_JOBS", 100_000);
    // The bulk lane's fetch-ahead: graphile-worker's fast configuration buffers 500.
    let batch: u32 = env_or("BENCH_BATCH", 500);
    let per_core_runs: Vec<u32> = std::env::var("BENCH_TASKS")
        .unwrap_or_else(|_| "1,2,4".into())
        .split(',')
        .filter_map(|t| t.trim().parse().ok())
        .collect();
    let seconds: u64 = env_or("BENCH_SECONDS", 5);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let base: PgConnectOptions = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
        .parse()?;
    let db = format!("agency_queue_bench_{}", std::process::id());
    let mut admin = base.clone().connect().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await?;
    let opts = base.clone().database(&db);
    let pool = PgPoolOptions::new()
        .max_connections(32)
        .connect_with(opts)
        .await?;
    agency_store::migrate::run(&pool).await?;
    sqlx::query("CREATE TABLE bench_commits (id bigserial PRIMARY KEY, v integer NOT NULL)")
        .execute(&pool)
        .await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&pool)
        .await?;
    let fsync: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&pool)
        .await?;
    println!(
        "PostgreSQL {version}, synchronous_commit={fsync}, {cores} cores, {jobs} jobs, bulk batch {batch}"
    );

    let mut commit_rates = Vec::new();
    for conns in [1, cores * 4] {
        let rate = commit_rate(&pool, conns, seconds).await?;
        println!("single-row commits, {conns:>2} connection(s): {rate:>9.0} commits/s");
        commit_rates.push((conns, rate));
    }

    let cache = Arc::new(FallbackCache::new(None, pool.clone())?);
    for per_core in per_core_runs {
        let tasks = per_core * cores as u32;
        sqlx::query("TRUNCATE apalis.jobs").execute(&pool).await?;
        let payloads = vec![Noop {}; 10_000];
        let started = Instant::now();
        let mut pushed = 0;
        let mut conn = pool.acquire().await?;
        while pushed < jobs {
            let n = (jobs - pushed).min(payloads.len());
            enqueue_batch(
                &mut conn,
                &payloads[..n],
                EnqueueOptions {
                    lane: Some(Lane::Bulk),
                    ..EnqueueOptions::default()
                },
            )
            .await?;
            pushed += n;
        }
        drop(conn);
        let enqueue_took = started.elapsed();
        // Fresh statistics, as autovacuum would have in steady state (the peers do the same).
        sqlx::query("ANALYZE apalis.jobs").execute(&pool).await?;

        let settings = RunnerSettings {
            worker_name: format!("bench-{per_core}-{}", std::process::id()),
            lanes: vec![(Lane::Bulk, tasks, batch)],
            poll_interval: Duration::from_millis(20),
            heartbeat: Duration::from_secs(5),
            lease: Duration::from_secs(60),
            sample_interval: Duration::from_secs(3600),
            listen_url: None,
        };
        let runner = Runner::new(
            Services::with_sandbox_providers(pool.clone(), cache.clone()),
            handlers::registry(),
            settings,
        );
        let shutdown = Shutdown::new();
        let run_started = Instant::now();
        let handle = tokio::spawn(runner.run(shutdown.clone()));
        loop {
            let done: i64 =
                sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE status = 'Done'")
                    .fetch_one(&pool)
                    .await?;
            if done as usize >= jobs {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let run_took = run_started.elapsed();
        shutdown.trigger();
        handle.await??;
        let total = enqueue_took + run_took;
        println!(
            "{per_core} task(s)/core ({tasks:>2} tasks): enqueue {:>7.0} jobs/s, complete {:>7.0} jobs/s, end to end {:>7.0} jobs/s",
            jobs as f64 / enqueue_took.as_secs_f64(),
            jobs as f64 / run_took.as_secs_f64(),
            jobs as f64 / total.as_secs_f64(),
        );
    }
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    Ok(())
}
