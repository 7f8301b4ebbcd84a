//! Send throughput through the job path: `SENDS` planned first-touch emails (one per lead of
//! one active client), their `send_outreach` jobs run by the worker's real `Runner` (claim,
//! lease, heartbeats, acknowledgement) with `TASKS` tasks, against a fake Resend on loopback
//! that answers after `LATENCY_MS` (default 20 ms) like a real provider. Every send goes
//! through the claim transaction with the just-in-time check, the provider call with its
//! idempotency key, and the record transaction (activity with its content snapshot, the lead
//! advanced, the next step planned). Prints sends/s, provider requests (must equal the
//! sends), and the database work per send from `pg_stat_database` deltas. Runs in a throwaway
//! database next to `DATABASE_URL`, dropped at the end.
//!
//! `cargo run --release -p agency-worker --example send_bench`
//! (env: `DATABASE_URL`, `SENDS` (5000), `TASKS` (64), `LATENCY_MS` (20), `REPORT_STRIPES`
//! (1; 0 puts every report counter write on stripe 0, as before migration 20261204130000, for
//! a side-by-side comparison in one build), `REPORT_TRIGGER` (1; 0 disables the report
//! aggregates trigger, to measure its cost)).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use agency_cache::FallbackCache;
use agency_engine::jobs::payload::SendOutreach;
use agency_engine::jobs::{EnqueueOptions, Lane, enqueue_batch, handlers};
use agency_engine::outreach::{Links, OutreachEnv};
use agency_engine::{EngineSettings, Providers, Services};
use agency_providers::{HttpSettings, OutreachProviders, Resend};
use agency_runtime::Shutdown;
use agency_worker::{Runner, RunnerSettings};
use axum::routing::post;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use uuid::Uuid;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fake Resend: `POST /emails` answers `{"id"}` after `latency`, counting requests.
async fn fake_resend(latency: Duration, requests: Arc<AtomicU64>) -> anyhow::Result<String> {
    let app = axum::Router::new().route(
        "/emails",
        post(move || {
            let requests = requests.clone();
            async move {
                tokio::time::sleep(latency).await;
                requests.fetch_add(1, Ordering::Relaxed);
                axum::Json(serde_json::json!({"id": Uuid::new_v4()}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

/// One active client, campaign and `sends` due first-touch emails with their jobs queued.
async fn seed(pool: &PgPool, sends: usize) -> anyhow::Result<()> {
    let client: Uuid = sqlx::query_scalar(
        "INSERT INTO clients (name, subscription_status, credits_remaining, postal_address)
         VALUES ('Bench Digital', 'active', 1000000, '1 George St, Sydney NSW 2000') RETURNING id",
    )
    .fetch_one(pool)
    .await?;
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name, status, permission_mode)
         VALUES ($1, 'Bench', 'active', 'autopilot') RETURNING id",
    )
    .bind(client)
    .fetch_one(pool)
    .await?;
    sqlx::query(
        "INSERT INTO sending_resources (client_id, kind, value, verified_at)
         SELECT $1, 'email_domain', 'mail' || g || '.bench.test', now() FROM generate_series(1, 20) g",
    )
    .bind(client)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO leads (client_id, campaign_id, email, first_name, company, status, als_score,
                            als_tier, als_channels, first_touch_channel)
         SELECT $1, $2, 'lead' || g || '@bench-prospect.com.au', 'Lead' || g, 'Company ' || g,
                'scored', 70, 'warm', '{email}', 'email'
           FROM generate_series(1, $3::int) g",
    )
    .bind(client)
    .bind(campaign)
    .bind(sends as i32)
    .execute(pool)
    .await?;
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO outreach_sends (client_id, campaign_id, lead_id, step_number, channel, due_at)
         SELECT client_id, campaign_id, id, 1, 'email', now() - interval '1 minute'
           FROM leads WHERE client_id = $1 RETURNING id",
    )
    .bind(client)
    .fetch_all(pool)
    .await?;
    // Each send holds a reservation on one of the 20 domains, as allocation makes for a first
    // touch (an unreserved send would spend the daily counter of the lead's or the oldest domain).
    sqlx::query(
        "UPDATE outreach_sends s SET resource_id = r.id
           FROM (SELECT id, (row_number() OVER (ORDER BY value) - 1)::int AS n
                   FROM sending_resources WHERE client_id = $1) r
          WHERE s.client_id = $1 AND r.n = abs(hashtext(s.id::text)) % 20",
    )
    .bind(client)
    .execute(pool)
    .await?;
    let payloads: Vec<SendOutreach> = ids
        .into_iter()
        .map(|send_id| SendOutreach {
            client_id: client,
            send_id,
        })
        .collect();
    let mut conn = pool.acquire().await?;
    for chunk in payloads.chunks(10_000) {
        enqueue_batch(&mut conn, chunk, EnqueueOptions::default()).await?;
    }
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    Ok(())
}

async fn db_counters(pool: &PgPool) -> anyhow::Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted
           FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sends: usize = env_or("SENDS", 5_000);
    let tasks: u32 = env_or("TASKS", 64);
    let latency = Duration::from_millis(env_or("LATENCY_MS", 20));
    let base: PgConnectOptions = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
        .parse()?;
    let db = format!("agency_send_bench_{}", std::process::id());
    let mut admin = base.clone().connect().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await?;
    let pool = PgPoolOptions::new()
        .max_connections(32)
        .connect_with(base.clone().database(&db))
        .await?;
    let result = run(&pool, sends, tasks, latency).await;
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    result
}

async fn run(pool: &PgPool, sends: usize, tasks: u32, latency: Duration) -> anyhow::Result<()> {
    agency_store::migrate::run(pool).await?;
    let stripes = env_or("REPORT_STRIPES", 1) != 0;
    if !stripes {
        sqlx::query(
            "CREATE OR REPLACE FUNCTION report_stripe() RETURNS smallint
                 LANGUAGE sql STABLE AS 'SELECT 0::smallint'",
        )
        .execute(pool)
        .await?;
    }
    if env_or("REPORT_TRIGGER", 1) == 0 {
        sqlx::query("ALTER TABLE activities DISABLE TRIGGER activities_report_aggregates")
            .execute(pool)
            .await?;
    }
    seed(pool, sends).await?;
    let requests = Arc::new(AtomicU64::new(0));
    let url = fake_resend(latency, requests.clone()).await?;
    let resend = Resend::new("re_bench".to_owned().into(), &url, &HttpSettings::default())?;
    let mut senders = OutreachProviders::sandbox();
    senders.email = Arc::new(resend);
    let providers = Providers::sandbox(chrono::Utc::now()).with_outreach(OutreachEnv {
        providers: senders,
        links: Links::configured("https://api.bench.test", None),
    });
    let cache = Arc::new(FallbackCache::new(None, pool.clone())?);
    let services = Services::new(pool.clone(), cache, providers, EngineSettings::default());
    let settings = RunnerSettings {
        worker_name: format!("send-bench-{}", std::process::id()),
        lanes: vec![(Lane::Default, tasks, 20)],
        poll_interval: Duration::from_millis(20),
        heartbeat: Duration::from_secs(5),
        lease: Duration::from_secs(60),
        sample_interval: Duration::from_secs(3600),
        listen_url: None,
    };
    let runner = Runner::new(services, handlers::registry(), settings);
    let (commits_before, rows_before) = db_counters(pool).await?;
    let shutdown = Shutdown::new();
    let started = Instant::now();
    let handle = tokio::spawn(runner.run(shutdown.clone()));
    loop {
        let sent: i64 =
            sqlx::query_scalar("SELECT count(*) FROM outreach_sends WHERE status = 'sent'")
                .fetch_one(pool)
                .await?;
        if sent as usize >= sends {
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            anyhow::bail!("only {sent} of {sends} sent after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    shutdown.trigger();
    handle.await??;
    let (commits_after, rows_after) = db_counters(pool).await?;
    let blocked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outreach_sends WHERE status NOT IN ('sent', 'scheduled')",
    )
    .fetch_one(pool)
    .await?;
    println!(
        "| {sends} sends | {tasks} tasks | stripes {} | provider latency {} ms | {:.0} sends/s | {} provider requests | {blocked} not sent | {:.1} commits/send | {:.1} rows written/send |",
        if stripes { "on" } else { "off" },
        latency.as_millis(),
        sends as f64 / took.as_secs_f64(),
        requests.load(Ordering::Relaxed),
        (commits_after - commits_before) as f64 / sends as f64,
        (rows_after - rows_before) as f64 / sends as f64,
    );
    Ok(())
}
