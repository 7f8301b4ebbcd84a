//! Report latency benchmark: one large tenant (default 100,000 leads in 10 campaigns and
//! 1,000,000 activities over the last 90 days, across channels and funnel actions) in a
//! throwaway database next to `DATABASE_URL`; then each report use-case is called `ITER` times
//! in a row (what one dashboard user does) and p50 / p95 / p99 / max are printed. Drops the
//! database at the end.
//!
//! Run: `cargo run --release -p agency-engine --example reports_bench` (env: `DATABASE_URL`,
//! `LEADS` (100000), `ACTIVITIES` (1000000), `ITER` (50)).

use std::future::Future;
use std::time::{Duration, Instant};

use agency_domain::{CampaignId, ClientId, LeadId};
use agency_engine::reports::{self, RangeQuery};
use chrono::Utc;
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

async fn seed(pool: &PgPool, leads: usize, activities: usize) -> Result<(Uuid, Uuid, Uuid), Error> {
    let client: Uuid = sqlx::query_scalar(
        "INSERT INTO clients (name, subscription_status) VALUES ('Bench', 'active') RETURNING id",
    )
    .fetch_one(pool)
    .await?;
    sqlx::query(
        "INSERT INTO campaigns (client_id, name, status)
         SELECT $1, 'Campaign ' || g, CASE WHEN g % 3 = 0 THEN 'paused' ELSE 'active' END
           FROM generate_series(1, 10) g",
    )
    .bind(client)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO leads (client_id, campaign_id, email, als_tier, als_score, status)
         SELECT $1, (SELECT id FROM campaigns WHERE client_id = $1 ORDER BY name OFFSET (g % 10) LIMIT 1),
                'lead' || g || '@bench.com.au',
                (ARRAY['hot','warm','cool','cold','dead'])[1 + g % 5], 50, 'scored'
           FROM generate_series(1, $2::int) g",
    )
    .bind(client)
    .bind(leads as i32)
    .execute(pool)
    .await?;
    sqlx::query(
        "WITH l AS (SELECT id, campaign_id, row_number() OVER (ORDER BY id) AS n FROM leads WHERE client_id = $1)
         INSERT INTO activities (client_id, campaign_id, lead_id, channel, action, created_at)
         SELECT $1, l.campaign_id, l.id,
                (ARRAY['email','email','email','sms','linkedin','voice','mail'])[1 + g % 7],
                (ARRAY['sent','sent','sent','delivered','delivered','opened','clicked','replied',
                       'bounced','meeting_booked','call_initiated','no_answer'])[1 + (g / 7) % 12],
                now() - (g % 7776000) * interval '1 second'
           FROM generate_series(1, $2::int) g
           JOIN l ON l.n = 1 + (g % $3::int)",
    )
    .bind(client)
    .bind(activities as i32)
    .bind(leads as i32)
    .execute(pool)
    .await?;
    sqlx::query("VACUUM ANALYZE activities")
        .execute(pool)
        .await?;
    sqlx::query("VACUUM ANALYZE leads").execute(pool).await?;
    sqlx::query("VACUUM ANALYZE campaigns")
        .execute(pool)
        .await?;
    let campaign: Uuid =
        sqlx::query_scalar("SELECT id FROM campaigns WHERE client_id = $1 ORDER BY name LIMIT 1")
            .bind(client)
            .fetch_one(pool)
            .await?;
    let lead: Uuid = sqlx::query_scalar("SELECT id FROM leads WHERE client_id = $1 LIMIT 1")
        .bind(client)
        .fetch_one(pool)
        .await?;
    Ok((client, campaign, lead))
}

async fn measure<F, Fut, T, E>(name: &str, iterations: usize, mut call: F) -> Result<(), Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    E: std::error::Error + Send + Sync + 'static,
{
    call().await?; // warm-up
    let mut times: Vec<Duration> = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        call().await?;
        times.push(t.elapsed());
    }
    times.sort();
    let at = |q: f64| {
        let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
        times[i].as_secs_f64() * 1000.0
    };
    println!(
        "| {name} | {:.1} | {:.1} | {:.1} | {:.1} |",
        at(0.50),
        at(0.95),
        at(0.99),
        at(1.0)
    );
    Ok(())
}

async fn run(pool: &PgPool, leads: usize, activities: usize, iter: usize) -> Result<(), Error> {
    let t = Instant::now();
    let (client, campaign, lead) = seed(pool, leads, activities).await?;
    println!(
        "seeded {leads} leads and {activities} activities in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let (c, k, l) = (
        ClientId::from_uuid(client),
        CampaignId::from_uuid(campaign),
        LeadId::from_uuid(lead),
    );
    let last30 = RangeQuery::default();
    println!("| report | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|");
    measure("client overview (30 days)", iter, || {
        reports::client_report(pool, c, &last30, Utc::now())
    })
    .await?;
    measure("tier distribution (client)", iter, || {
        reports::lead_distribution(pool, c, None)
    })
    .await?;
    measure("tier distribution (campaign)", iter, || {
        reports::lead_distribution(pool, c, Some(k))
    })
    .await?;
    measure("daily activity (30 days)", iter, || {
        reports::daily_activity(pool, c, None, &last30, Utc::now())
    })
    .await?;
    measure("campaign summary (30 days)", iter, || {
        reports::campaign_report(pool, c, k, &last30, Utc::now())
    })
    .await?;
    measure("campaign daily (30 days)", iter, || {
        reports::daily_activity(pool, c, Some(k), &last30, Utc::now())
    })
    .await?;
    measure("lead engagement", iter, || {
        reports::lead_engagement(pool, c, l)
    })
    .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::var("DATABASE_URL")?;
    let leads = env_or("LEADS", 100_000);
    let activities = env_or("ACTIVITIES", 1_000_000);
    let iter = env_or("ITER", 50);
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let name = format!("bench_reports_{}", Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await?;
    let bench_url = match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => return Err("DATABASE_URL has no database name".into()),
    };
    let result = async {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(&bench_url)
            .await?;
        agency_store::migrate::run(&pool).await?;
        let r = run(&pool, leads, activities, iter).await;
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
