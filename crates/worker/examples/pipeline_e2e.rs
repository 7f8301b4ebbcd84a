//! End-to-end pipeline benchmark through the real worker: 100,000 stored leads of one client
//! scored and allocated by the job runner. Creates a throwaway database next to `DATABASE_URL`,
//! migrates it, seeds a client, an active campaign, sending resources and the leads (one
//! INSERT ... SELECT), then queues one `rescore_campaign` job and times the worker's `Runner`
//! (the lanes and fetch-ahead of `agency-worker`'s defaults, LISTEN on) from that enqueue until
//! every lead is scored and every job is done: the fan-out (100 `score_leads` jobs of 1,000
//! leads), claims, handlers (scores stored, allocation with counters in Redis or its fallback)
//! and acknowledgements. Drops the database at the end.
//!
//! Run: `cargo run --release -p agency-worker --example pipeline_e2e` (env: `DATABASE_URL`,
//! optional `REDIS_URL`, `LEADS` (default 100000), `BULK_TASKS` (default: the worker's
//! `WORKER_BULK_CONCURRENCY` default)).

use std::sync::Arc;
use std::time::{Duration, Instant};

use agency_cache::FallbackCache;
use agency_engine::Services;
use agency_engine::jobs::payload::RescoreCampaign;
use agency_engine::jobs::{EnqueueOptions, enqueue, handlers};
use agency_runtime::Shutdown;
use agency_worker::{QueueArgs, Runner};
use clap::Parser;
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

/// The worker's default queue settings (`agency-worker` with no queue variables set).
#[derive(Parser)]
struct Defaults {
    #[command(flatten)]
    queue: QueueArgs,
}

async fn seed(pool: &PgPool, leads: usize) -> Result<(Uuid, Uuid), Error> {
    let client: Uuid = sqlx::query_scalar(
        "INSERT INTO clients (name, subscription_status, icp_industries, competitor_domains)
         VALUES ('Bench', 'active', '{Construction}', '{company13.com.au}') RETURNING id",
    )
    .fetch_one(pool)
    .await?;
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name, status, target_industries)
         VALUES ($1, 'Bench', 'active', '{Construction}') RETURNING id",
    )
    .bind(client)
    .fetch_one(pool)
    .await?;
    for (kind, n) in [
        ("email_domain", 10),
        ("linkedin_seat", 5),
        ("voice_number", 3),
        ("sms_number", 2),
    ] {
        for i in 0..n {
            sqlx::query(
                "INSERT INTO sending_resources (client_id, kind, value, verified_at) VALUES ($1, $2, $3, now())",
            )
            .bind(client)
            .bind(kind)
            .bind(format!("{kind}-{i}-{client}"))
            .execute(pool)
            .await?;
        }
    }
    sqlx::query(
        "INSERT INTO leads (client_id, campaign_id, email, email_verified, phone, linkedin_url, title,
                organization_industry, organization_employee_count, organization_country,
                employment_start_date, organization_is_hiring, seo_looked_up, seo_domain_rank,
                seo_organic_traffic, domain, status)
         SELECT $1, $2, 'lead' || g || '@company' || (g % 5000) || '.com.au', g % 3 <> 0,
                CASE WHEN g % 4 = 0 THEN '+612' || lpad((g % 100000000)::text, 8, '0') END,
                CASE WHEN g % 2 = 0 THEN 'https://linkedin.com/in/p' || g END,
                (ARRAY['CEO', 'Founder', 'Marketing Manager', 'Director of Sales', 'Sales Coordinator',
                       'VP Marketing', 'Intern', 'Head of Growth'])[1 + g % 8],
                (ARRAY['Construction', 'Retail', 'Legal Services'])[1 + g % 3],
                (g % 200) + 1, CASE WHEN g % 5 = 0 THEN 'New Zealand' ELSE 'Australia' END,
                current_date - (g % 400), g % 7 = 0, g % 2 = 1, g % 900, g % 3000,
                'company' || (g % 5000) || '.com.au', 'enriched'
           FROM generate_series(1, $3::int) g",
    )
    .bind(client)
    .bind(campaign)
    .bind(i32::try_from(leads)?)
    .execute(pool)
    .await?;
    sqlx::query("ANALYZE leads").execute(pool).await?;
    Ok((client, campaign))
}

async fn run(
    pool: &PgPool,
    cache: &Arc<FallbackCache>,
    leads: usize,
    bulk_tasks: Option<u32>,
    listen_url: &str,
) -> Result<(), Error> {
    let started = Instant::now();
    let (client, campaign) = seed(pool, leads).await?;
    println!("seeded {leads} leads in {:.2?}", started.elapsed());

    let mut queue = Defaults::parse_from(["pipeline_e2e"]).queue;
    if let Some(tasks) = bulk_tasks {
        queue.bulk_concurrency = tasks;
    }
    let settings = queue.runner_settings(Some(listen_url.to_owned()));
    println!("lanes (lane, tasks, fetch-ahead): {:?}", settings.lanes);
    let runner = Runner::new(
        Services::with_sandbox_providers(pool.clone(), cache.clone()),
        handlers::registry(),
        settings,
    );
    let shutdown = Shutdown::new();
    let worker = tokio::spawn(runner.run(shutdown.clone()));
    // Let the runner register and LISTEN first: the clock starts at the enqueue.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let total = Instant::now();
    let job = RescoreCampaign {
        client_id: client,
        campaign_id: campaign,
        only_waiting: false,
    };
    enqueue(pool, &job, EnqueueOptions::default()).await?;
    // Watch the job table (about a hundred rows) every 10 ms; count the scored leads only once
    // no job is left, so the watching costs the database next to nothing.
    let mut fan_out = None;
    let scored = loop {
        let (jobs, open): (i64, i64) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE status <> 'Done' AND run_at <= now())
               FROM apalis.jobs",
        )
        .fetch_one(pool)
        .await?;
        if fan_out.is_none() && jobs > 1 {
            fan_out = Some(total.elapsed());
        }
        if jobs > 1 && open == 0 {
            let scored: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM leads WHERE client_id = $1 AND scored_at IS NOT NULL",
            )
            .bind(client)
            .fetch_one(pool)
            .await?;
            if scored as usize >= leads {
                break scored;
            }
        }
        if total.elapsed() > Duration::from_secs(300) {
            return Err(format!("not done after 300 s: {open} jobs open").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let all = total.elapsed();
    shutdown.trigger();
    worker.await??;
    // The allocation queues its next-day window for the leads that did not fit today's capacity.
    let later: Vec<(String, i64)> = sqlx::query_as(
        "SELECT job_type, count(*) FROM apalis.jobs WHERE status <> 'Done' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    let score_jobs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = 'score_leads'")
            .fetch_one(pool)
            .await?;
    let tiers: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT als_tier, count(*) FROM leads WHERE client_id = $1 GROUP BY 1 ORDER BY 1",
    )
    .bind(client)
    .fetch_all(pool)
    .await?;
    let plans: Vec<(Option<String>, bool, Option<String>, i64)> = sqlx::query_as(
        "SELECT first_touch_channel, allocated_resource_id IS NOT NULL, allocation_wait_reason, count(*)
           FROM leads WHERE client_id = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    .bind(client)
    .fetch_all(pool)
    .await?;
    println!("cache backend: {:?}", cache.status());
    println!("first score_leads job queued after: {fan_out:.2?}");
    println!("score_leads jobs: {score_jobs}; jobs left, due later: {later:?}");
    println!(
        "total through the worker, enqueue to all {scored} leads scored and allocated: {all:.2?}"
    );
    println!("tiers: {tiers:?}");
    println!("allocation (channel, reserved, wait reason, leads): {plans:?}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL")?;
    let leads = env_or("LEADS", 100_000);
    let bulk_tasks = std::env::var("BULK_TASKS")
        .ok()
        .and_then(|v| v.parse().ok());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let name = format!("bench_pipeline_{}", Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await?;
    let bench_url = match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => return Err("DATABASE_URL has no database name".into()),
    };
    let result = async {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect(&bench_url)
            .await?;
        agency_store::migrate::run(&pool).await?;
        let redis = std::env::var("REDIS_URL").ok();
        let cache = Arc::new(FallbackCache::new(redis.as_deref(), pool.clone())?);
        let r = run(&pool, &cache, leads, bulk_tasks, &bench_url).await;
        pool.close().await;
        r
    }
    .await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await?;
    result
}
