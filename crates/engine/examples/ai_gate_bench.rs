//! AI gate overhead: what one call through the spend gate costs besides the model itself.
//! The model is the sandbox (answers at once, no network), so the time per call is the
//! gate's own work: reserve (circuit check, client budget and platform cap in the money
//! counters, the `ai_usage` ledger row) and settle (the real cost in the counters and the
//! ledger). Measured sequentially (`CALLS` calls, one task: the latency a caller sees) and
//! with `TASKS` concurrent tasks (throughput), on Redis and on the PostgreSQL fallback, in a
//! throwaway database next to `DATABASE_URL` (dropped at the end).
//!
//! Run: `cargo run --release -p agency-engine --example ai_gate_bench` (env: `DATABASE_URL`,
//! `REDIS_URL` (redis://127.0.0.1:6379), `CALLS` (2000), `TASKS` (8)).

use std::sync::Arc;
use std::time::{Duration, Instant};

use agency_cache::{Cache, PgCache, RedisCache};
use agency_domain::ClientId;
use agency_domain::ai::AiPurpose;
use agency_engine::ai::{AiGate, AiSettings, Prompt};
use chrono::Utc;
use rust_decimal::Decimal;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn prompt() -> Prompt {
    Prompt {
        system: "Classify the reply to a cold email.".into(),
        user: "Sounds good, can we talk on Thursday at 2pm?".into(),
        tool: None,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn one_call(
    gate: &AiGate,
    pool: &PgPool,
    cache: &dyn Cache,
    client: ClientId,
) -> Result<(), Error> {
    gate.call(
        pool,
        cache,
        client,
        AiPurpose::ClassifyReply,
        &prompt(),
        Utc::now(),
    )
    .await?;
    Ok(())
}

async fn measure(
    name: &str,
    pool: &PgPool,
    cache: Arc<dyn Cache>,
    calls: usize,
    tasks: usize,
) -> Result<(), Error> {
    let settings = AiSettings {
        platform_counter: format!("bench:ai_spend:platform:{}", Uuid::new_v4().simple()),
        platform_daily_cap_aud: Decimal::from(1_000_000),
        ..AiSettings::default()
    };
    let gate = Arc::new(AiGate::new(
        Arc::new(agency_providers::SandboxClaude::new()),
        settings,
    ));
    let client: Uuid = sqlx::query_scalar(
        "INSERT INTO clients (name, daily_ai_budget_aud) VALUES ('Bench', 99999999) RETURNING id",
    )
    .fetch_one(pool)
    .await?;
    let client = ClientId::from_uuid(client);
    // Warm up connections and scripts.
    for _ in 0..20 {
        one_call(&gate, pool, cache.as_ref(), client).await?;
    }
    let mut latencies = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        one_call(&gate, pool, cache.as_ref(), client).await?;
        latencies.push(start.elapsed());
    }
    latencies.sort();
    let start = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (gate, pool, cache) = (gate.clone(), pool.clone(), cache.clone());
        let per_task = calls / tasks;
        handles.push(tokio::spawn(async move {
            for _ in 0..per_task {
                one_call(&gate, &pool, cache.as_ref(), client).await?;
            }
            Ok::<(), Error>(())
        }));
    }
    for h in handles {
        h.await??;
    }
    let elapsed = start.elapsed();
    let done = (calls / tasks) * tasks;
    println!(
        "| {name} | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} calls/s |",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        percentile(&latencies, 1.0).as_secs_f64() * 1e3,
        done as f64 / elapsed.as_secs_f64(),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL")?;
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let calls = env_or("CALLS", 2000);
    let tasks = env_or("TASKS", 8).max(1);
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let name = format!("bench_ai_gate_{}", Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await?;
    let bench_url = match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => return Err("DATABASE_URL has no database name".into()),
    };
    let result = async {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect(&bench_url)
            .await?;
        agency_store::migrate::run(&pool).await?;
        println!("| counters | p50 per call | p99 | max | {tasks} tasks |");
        println!("|---|---|---|---|---|");
        let on_redis: Arc<dyn Cache> = Arc::new(RedisCache::from_url(&redis)?);
        measure("Redis", &pool, on_redis, calls, tasks).await?;
        let on_pg: Arc<dyn Cache> = Arc::new(PgCache::new(pool.clone()));
        measure("PostgreSQL fallback", &pool, on_pg, calls, tasks).await?;
        pool.close().await;
        Ok::<(), Error>(())
    }
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await?;
    result
}
