//! End-to-end pipeline benchmark: 100,000 stored leads of one client scored and allocated
//! through the job handlers. Creates a throwaway database next to `DATABASE_URL`, migrates it,
//! seeds a client, an active campaign, sending resources and the leads (one INSERT ... SELECT),
//! then times: the `rescore_campaign` fan-out (100 `score_leads` jobs of 1,000 leads enqueued),
//! and those jobs run by `WORKERS` concurrent tasks calling the `score_leads` handler with the
//! payloads read back from `apalis.jobs` (scores stored, allocation with counters in Redis or
//! its fallback). Drops the database at the end.
//!
//! Run: `cargo run --release -p agency-engine --example pipeline_e2e` (env: `DATABASE_URL`,
//! optional `REDIS_URL`, `LEADS` (default 100000), `WORKERS` (default 2)).

use std::sync::Arc;
use std::time::Instant;

use agency_cache::FallbackCache;
use agency_engine::Services;
use agency_engine::jobs::payload::{RescoreCampaign, ScoreLeads};
use agency_engine::jobs::{JobContext, JobKind};
use agency_engine::pipeline::jobs as pjobs;
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

fn ctx(pool: &PgPool, cache: &Arc<FallbackCache>, kind: JobKind) -> JobContext {
    JobContext::in_process(
        Services::with_sandbox_providers(pool.clone(), cache.clone()),
        kind,
    )
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
    workers: usize,
) -> Result<(), Error> {
    let started = Instant::now();
    let (client, campaign) = seed(pool, leads).await?;
    println!("seeded {leads} leads in {:.2?}", started.elapsed());

    let total = Instant::now();
    let fan = Instant::now();
    let job = RescoreCampaign {
        client_id: client,
        campaign_id: campaign,
        only_waiting: false,
    };
    pjobs::rescore_campaign_job(ctx(pool, cache, JobKind::RescoreCampaign), job).await?;
    let fan_out = fan.elapsed();

    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM apalis.jobs WHERE job_type = 'score_leads' ORDER BY id")
            .fetch_all(pool)
            .await?;
    let queue = Arc::new(tokio::sync::Mutex::new(ids));
    let run_jobs = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (pool, cache, queue) = (pool.clone(), cache.clone(), queue.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(id) = queue.lock().await.pop() else {
                    return Ok::<(), Error>(());
                };
                let bytes: Vec<u8> =
                    sqlx::query_scalar("SELECT job FROM apalis.jobs WHERE id = $1")
                        .bind(&id)
                        .fetch_one(&pool)
                        .await?;
                let payload: ScoreLeads = serde_json::from_slice(&bytes)?;
                pjobs::score_leads_job(ctx(&pool, &cache, JobKind::ScoreLeads), payload).await?;
                sqlx::query(
                    "UPDATE apalis.jobs SET status = 'Done', done_at = now() WHERE id = $1",
                )
                .bind(&id)
                .execute(&pool)
                .await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    let jobs_time = run_jobs.elapsed();
    let all = total.elapsed();

    let scored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM leads WHERE client_id = $1 AND scored_at IS NOT NULL",
    )
    .bind(client)
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
    println!("fan-out (rescore_campaign -> score_leads jobs): {fan_out:.2?}");
    println!("score_leads jobs ({workers} workers): {jobs_time:.2?}");
    println!("total score + allocate of {scored} leads: {all:.2?}");
    println!("tiers: {tiers:?}");
    println!("allocation (channel, reserved, wait reason, leads): {plans:?}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL")?;
    let leads = env_or("LEADS", 100_000);
    let workers = env_or("WORKERS", 2);
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
        let r = run(&pool, &cache, leads, workers).await;
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
