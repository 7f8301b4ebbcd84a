//! Job-queue benchmark on a fresh database: the database's own single-row commit rate; 100,000
//! no-op jobs enqueued and completed with 1, 2 and 4 worker tasks per core (and the rate over
//! each tenth of the queue, to show a claim does not slow as the queue deepens); then
//! enqueue-to-start latency on an idle queue, woken by LISTEN/NOTIFY and by polling alone.
//!
//! `cargo run --release -p agency-worker --example queue_bench`
//! (env: DATABASE_URL of the server to create the bench database on; BENCH_JOBS, BENCH_BATCH
//! (the bulk lane's fetch-ahead, default 500), BENCH_SECONDS to change the sizes; BENCH_TASKS,
//! tasks per core to run, default `1,2,4`; BENCH_SETUP_SQL, SQL run after the migrations; BENCH_LATENCY_JOBS, jobs of the idle-queue
//! latency phase, default 300, 0 skips it).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agency_cache::FallbackCache;
use agency_engine::Services;
use agency_engine::jobs::metrics as job_metrics;
use agency_engine::jobs::test_kinds::Noop;
use agency_engine::jobs::{EnqueueOptions, Lane, enqueue, enqueue_batch, handlers};
use agency_runtime::Shutdown;
use agency_worker::{Runner, RunnerSettings};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, SharedString, Unit};
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

/// Counts the runner's successes (`jobs_succeeded_total`); every other metric is dropped.
struct SuccessCounter(Arc<AtomicU64>);

impl metrics::Recorder for SuccessCounter {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        if key.name() == job_metrics::SUCCEEDED {
            Counter::from_arc(self.0.clone())
        } else {
            Counter::noop()
        }
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::noop()
    }
}

/// Starts the real `Runner` on `lanes` (a fresh worker name, heartbeats every 5 s).
fn start_runner(
    pool: &PgPool,
    cache: &Arc<FallbackCache>,
    lanes: Vec<(Lane, u32, u32)>,
    poll_interval: Duration,
    listen_url: Option<String>,
) -> (Shutdown, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let settings = RunnerSettings {
        worker_name: format!("bench-{}", uuid::Uuid::new_v4().simple()),
        lanes,
        poll_interval,
        heartbeat: Duration::from_secs(5),
        lease: Duration::from_secs(60),
        sample_interval: Duration::from_secs(3600),
        listen_url,
    };
    let runner = Runner::new(
        Services::with_sandbox_providers(pool.clone(), cache.clone()),
        handlers::registry(),
        settings,
    );
    let shutdown = Shutdown::new();
    let handle = tokio::spawn(runner.run(shutdown.clone()));
    (shutdown, handle)
}

/// Enqueue-to-start latency on an idle queue: `samples` jobs enqueued one at a time, 20 ms
/// apart, to a running worker (woken by LISTEN when `listen` is set, else by its 250 ms poll).
/// Start is the claim's `lock_at` (database clock, the same host clock as the enqueue time).
/// Returns p50, p99 and max in milliseconds.
async fn start_latency(
    pool: &PgPool,
    cache: &Arc<FallbackCache>,
    samples: usize,
    listen: Option<String>,
) -> anyhow::Result<(f64, f64, f64)> {
    sqlx::query("TRUNCATE apalis.jobs").execute(pool).await?;
    let (shutdown, handle) = start_runner(
        pool,
        cache,
        vec![(Lane::Default, 4, 4)],
        Duration::from_millis(250),
        listen,
    );
    // Let the runner register and LISTEN before the first job.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sent = Vec::with_capacity(samples);
    for _ in 0..samples {
        let at = chrono::Utc::now();
        let id = enqueue(
            pool,
            &Noop {},
            EnqueueOptions {
                lane: Some(Lane::Default),
                ..EnqueueOptions::default()
            },
        )
        .await?;
        sent.push((id, at));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ids: Vec<String> = sent.iter().map(|(id, _)| id.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let started: Vec<(String, chrono::DateTime<chrono::Utc>)> = loop {
        let rows: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> =
            sqlx::query_as("SELECT id, lock_at FROM apalis.jobs WHERE id = ANY($1)")
                .bind(&ids)
                .fetch_all(pool)
                .await?;
        if rows.iter().all(|(_, at)| at.is_some()) || Instant::now() > deadline {
            break rows
                .into_iter()
                .filter_map(|(id, at)| at.map(|at| (id, at)))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    shutdown.trigger();
    handle.await??;
    anyhow::ensure!(
        started.len() == samples,
        "only {} of {samples} jobs started",
        started.len()
    );
    let enqueued: std::collections::HashMap<_, _> = sent.into_iter().collect();
    let mut waits: Vec<f64> = started
        .iter()
        .map(|(id, at)| (*at - enqueued[id]).num_microseconds().unwrap_or(0) as f64 / 1000.0)
        .collect();
    waits.sort_by(f64::total_cmp);
    let pick = |q: f64| waits[((waits.len() as f64 * q).ceil() as usize).clamp(1, waits.len()) - 1];
    Ok((pick(0.50), pick(0.99), waits[waits.len() - 1]))
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
    // A/B of schema changes: SQL run after the migrations (e.g. to undo one of them).
    if let Ok(sql) = std::env::var("BENCH_SETUP_SQL") {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await?;
    }
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
    let succeeded = Arc::new(AtomicU64::new(0));
    metrics::set_global_recorder(SuccessCounter(succeeded.clone()))
        .map_err(|e| anyhow::anyhow!("metrics recorder: {e}"))?;
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

        let run_started = Instant::now();
        let (shutdown, handle) = start_runner(
            &pool,
            &cache,
            vec![(Lane::Bulk, tasks, batch)],
            Duration::from_millis(20),
            None,
        );
        // Progress from the runner's own success counter (a count over the job table every few
        // milliseconds would cost the database a fifth of a core), then one check of the rows.
        let mut tenths = Vec::with_capacity(10);
        let mut next_tenth = 1;
        while (succeeded.load(Ordering::Relaxed) as usize) < jobs {
            let done = succeeded.load(Ordering::Relaxed) as usize;
            while next_tenth < 10 && done * 10 >= jobs * next_tenth {
                tenths.push(run_started.elapsed());
                next_tenth += 1;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        while next_tenth <= 10 {
            tenths.push(run_started.elapsed());
            next_tenth += 1;
        }
        loop {
            let done: i64 =
                sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE status = 'Done'")
                    .fetch_one(&pool)
                    .await?;
            if done as usize >= jobs {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
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
        // A queue that slows as it drains (or while it is deep) shows as uneven tenths.
        let slice = jobs as f64 / 10.0;
        let mut previous = Duration::ZERO;
        let rates: Vec<String> = tenths
            .iter()
            .map(|&at| {
                let rate = slice / (at - previous).as_secs_f64().max(1e-6);
                previous = at;
                format!("{rate:.0}")
            })
            .collect();
        println!(
            "  complete jobs/s by tenth of the queue: {}",
            rates.join(" ")
        );
        succeeded.store(0, Ordering::Relaxed);
    }

    let samples: usize = env_or("BENCH_LATENCY_JOBS", 300);
    if samples > 0 {
        let url = base.clone().database(&db).to_url_lossy().to_string();
        for (label, listen) in [("LISTEN/NOTIFY", Some(url)), ("polling every 250 ms", None)] {
            let (p50, p99, max) = start_latency(&pool, &cache, samples, listen).await?;
            println!(
                "enqueue to start, idle queue, {label}: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms ({samples} jobs)"
            );
        }
    }
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    Ok(())
}
