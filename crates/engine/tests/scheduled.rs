//! The scheduled handlers against a real PostgreSQL (a fresh database per test, with the
//! apalis job tables): `enrichment_sweep` and `credit_reset`, run through the worker's
//! registry the way a worker runs them.

use agency_domain::{ClientId, LeadId};
use std::sync::Arc;

use agency_cache::FallbackCache;
use agency_engine::Services;
use agency_engine::jobs::payload::{CreditReset, EnrichLead, EnrichmentSweep, ScheduledTick};
use agency_engine::jobs::{JobContext, JobKind, handlers};
use agency_engine::scheduled::{enrichment_sweep, reset_due_credits};
use agency_store::PgPool;
use chrono::{DateTime, TimeZone, Utc};
use uuid::Uuid;

async fn job_tables(pool: &PgPool) {
    agency_store::migrate::job_migrator()
        .run(pool)
        .await
        .expect("apalis migrations");
}

fn ctx(pool: &PgPool, kind: JobKind) -> JobContext {
    let cache = Arc::new(FallbackCache::new(None, pool.clone()).expect("cache"));
    JobContext::in_process(Services::with_sandbox_providers(pool.clone(), cache), kind)
}

async fn client(pool: &PgPool, tier: &str, credits: i32, tz: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO clients (name, tier, credits_remaining, timezone, subscription_status)
         VALUES ('Acme', $1, $2, $3, 'active') RETURNING id",
    )
    .bind(tier)
    .bind(credits)
    .bind(tz)
    .fetch_one(pool)
    .await
    .expect("client")
}

async fn lead(pool: &PgPool, client_id: Uuid, email: &str) -> Uuid {
    sqlx::query_scalar("INSERT INTO leads (client_id, email) VALUES ($1, $2) RETURNING id")
        .bind(client_id)
        .bind(email)
        .fetch_one(pool)
        .await
        .expect("lead")
}

/// A lead of `client_id`, then `UPDATE leads SET {set}` applied to it.
async fn lead_where(pool: &PgPool, client_id: Uuid, email: &str, set: &'static str) -> Uuid {
    let id = lead(pool, client_id, email).await;
    // `set` is a literal of this file.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE leads SET {set} WHERE id = $1"
    )))
    .bind(id)
    .execute(pool)
    .await
    .expect(set);
    id
}

/// Sets the client's next credit reset.
async fn set_reset_at(pool: &PgPool, client_id: Uuid, at: DateTime<Utc>) {
    sqlx::query("UPDATE clients SET credits_reset_at = $2 WHERE id = $1")
        .bind(client_id)
        .bind(at)
        .execute(pool)
        .await
        .expect("credits_reset_at");
}

/// Sets the client's remaining credits (as if it had spent some).
async fn set_credits(pool: &PgPool, client_id: Uuid, credits: i32) {
    sqlx::query("UPDATE clients SET credits_remaining = $2 WHERE id = $1")
        .bind(client_id)
        .bind(credits)
        .execute(pool)
        .await
        .expect("spend");
}

/// The client's remaining credits.
async fn credits_of(pool: &PgPool, client_id: Uuid) -> i32 {
    sqlx::query_scalar("SELECT credits_remaining FROM clients WHERE id = $1")
        .bind(client_id)
        .fetch_one(pool)
        .await
        .expect("credits")
}

/// One sweep of at most `limit` leads, in its own transaction.
async fn sweep(pool: &PgPool, limit: i64) -> enrichment_sweep::SweepSummary {
    let mut tx = pool.begin().await.expect("tx");
    let outcome = enrichment_sweep::sweep_enrichment(&mut tx, limit)
        .await
        .expect("sweep");
    tx.commit().await.expect("commit");
    outcome
}

/// The `enrich_lead` payloads in the queue, sorted by lead id.
async fn enrich_jobs(pool: &PgPool) -> Vec<EnrichLead> {
    let rows: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT job FROM apalis.jobs WHERE job_type = 'enrich_lead'")
            .fetch_all(pool)
            .await
            .expect("jobs");
    let mut jobs: Vec<EnrichLead> = rows
        .iter()
        .map(|b| serde_json::from_slice(b).expect("payload"))
        .collect();
    jobs.sort_by_key(|j| j.lead_id);
    jobs
}

fn tick(schedule: &str, at: DateTime<Utc>) -> ScheduledTick {
    ScheduledTick {
        schedule: schedule.into(),
        tick: at,
    }
}

/// Runs one job through the registry, as the worker does.
async fn run<J: agency_engine::jobs::JobPayload>(pool: &PgPool, job: &J) {
    let bytes = serde_json::to_vec(job).expect("json");
    handlers::registry()
        .prepare(J::KIND, ctx(pool, J::KIND), &bytes)
        .expect("registered")
        .future
        .await
        .expect("job ok");
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_sweep_enqueues_only_leads_that_need_enrichment_once(pool: PgPool) {
    job_tables(&pool).await;
    let with_credits = client(&pool, "ignition", 10, "Australia/Sydney").await;
    let broke = client(&pool, "ignition", 0, "Australia/Sydney").await;

    let fresh = lead(&pool, with_credits, "fresh@a.example").await;
    let waiting_ok = lead_where(
        &pool,
        with_credits,
        "waiting@a.example",
        "enrichment_wait_reason = 'no_credits'",
    )
    .await;
    let _enriched = lead_where(
        &pool,
        with_credits,
        "done@a.example",
        "enriched_at = now(), enrichment_source = 'apollo'",
    )
    .await;
    let _scored = lead_where(&pool, with_credits, "scored@a.example", "status = 'scored'").await;
    let _deleted = lead_where(&pool, with_credits, "gone@a.example", "deleted_at = now()").await;
    let _other_reason = lead_where(
        &pool,
        with_credits,
        "other@a.example",
        "enrichment_wait_reason = 'manual_hold'",
    )
    .await;
    // Still no credits: it keeps waiting.
    let _waiting_broke = lead_where(
        &pool,
        broke,
        "waiting@b.example",
        "enrichment_wait_reason = 'no_credits'",
    )
    .await;
    // Already has an open enrich job: not enqueued twice.
    let queued = lead(&pool, with_credits, "queued@a.example").await;
    let mut tx = pool.begin().await.expect("tx");
    agency_engine::pipeline::enqueue_new_leads(
        &mut tx,
        ClientId::from_uuid(with_credits),
        &[LeadId::from_uuid(queued)],
    )
    .await
    .expect("enqueue");
    tx.commit().await.expect("commit");

    let t1 = Utc.with_ymd_and_hms(2026, 7, 7, 16, 0, 0).unwrap();
    run(&pool, &EnrichmentSweep(tick("enrichment", t1))).await;
    let mut expected = vec![
        EnrichLead {
            client_id: with_credits,
            lead_id: fresh,
        },
        EnrichLead {
            client_id: with_credits,
            lead_id: waiting_ok,
        },
        EnrichLead {
            client_id: with_credits,
            lead_id: queued,
        },
    ];
    expected.sort_by_key(|j| j.lead_id);
    assert_eq!(enrich_jobs(&pool).await, expected);

    // Redelivery of the same tick, and the next night's sweep while the jobs are still
    // pending: nothing new.
    run(&pool, &EnrichmentSweep(tick("enrichment", t1))).await;
    let t2 = t1 + chrono::Duration::days(1);
    run(&pool, &EnrichmentSweep(tick("enrichment", t2))).await;
    assert_eq!(enrich_jobs(&pool).await, expected);

    // A job that died (dead-lettered) leaves its lead to the next sweep.
    sqlx::query(
        "UPDATE apalis.jobs SET status = 'Killed'
          WHERE job_type = 'enrich_lead' AND convert_from(job, 'UTF8')::jsonb ->> 'lead_id' = $1",
    )
    .bind(fresh.to_string())
    .execute(&pool)
    .await
    .expect("kill");
    run(
        &pool,
        &EnrichmentSweep(tick("enrichment", t2 + chrono::Duration::days(1))),
    )
    .await;
    let fresh_jobs = enrich_jobs(&pool)
        .await
        .into_iter()
        .filter(|j| j.lead_id == fresh)
        .count();
    assert_eq!(fresh_jobs, 2);
    assert_eq!(enrich_jobs(&pool).await.len(), 4);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_sweep_is_bounded_per_run(pool: PgPool) {
    job_tables(&pool).await;
    let c = client(&pool, "ignition", 10, "Australia/Sydney").await;
    for i in 0..5 {
        lead(&pool, c, &format!("l{i}@a.example")).await;
    }
    let first = sweep(&pool, 3).await;
    assert_eq!(first.enqueued, 3);
    assert!(first.batch_full);
    let second = sweep(&pool, 3).await;
    assert_eq!(second.enqueued, 2);
    assert!(!second.batch_full);
    assert_eq!(enrich_jobs(&pool).await.len(), 5);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_due_client_gets_its_tier_credits_a_month_later_date_an_audit_row_and_its_leads(
    pool: PgPool,
) {
    job_tables(&pool).await;
    let sydney = chrono_tz::Australia::Sydney;
    let due = client(&pool, "velocity", 0, "Australia/Sydney").await;
    // Reset due 2026-09-01 00:00 Sydney (AEST); the next one is 2026-10-01 00:00 (AEDT).
    let due_at = sydney
        .with_ymd_and_hms(2026, 9, 1, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    set_reset_at(&pool, due, due_at).await;
    let waiting = lead_where(
        &pool,
        due,
        "waiting@a.example",
        "enrichment_wait_reason = 'no_credits'",
    )
    .await;
    let _not_waiting = lead(&pool, due, "fresh@a.example").await;

    // Not yet due, and no reset date: untouched.
    let later = client(&pool, "dominance", 7, "Australia/Perth").await;
    set_reset_at(&pool, later, due_at + chrono::Duration::days(3)).await;
    let never = client(&pool, "ignition", 3, "Australia/Sydney").await;

    let now = due_at + chrono::Duration::hours(1);
    let summary = reset_due_credits(&pool, now).await.expect("reset");
    assert_eq!(summary.reset, 1);
    assert_eq!(summary.leads_enqueued, 1);

    let (credits, next): (i32, DateTime<Utc>) =
        sqlx::query_as("SELECT credits_remaining, credits_reset_at FROM clients WHERE id = $1")
            .bind(due)
            .fetch_one(&pool)
            .await
            .expect("client");
    assert_eq!(credits, 2_250);
    assert_eq!(
        next,
        sydney
            .with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    );
    let audit: Vec<(String, String, Option<Uuid>, serde_json::Value)> = sqlx::query_as(
        "SELECT action, actor_kind, entity_id, after FROM audit_log WHERE client_id = $1",
    )
    .bind(due)
    .fetch_all(&pool)
    .await
    .expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "client.credits_reset");
    assert_eq!(audit[0].1, "system");
    assert_eq!(audit[0].2, Some(due));
    assert_eq!(audit[0].3["credits_remaining"], 2_250);
    assert_eq!(
        enrich_jobs(&pool).await,
        vec![EnrichLead {
            client_id: due,
            lead_id: waiting
        }]
    );
    for (id, credits) in [(later, 7), (never, 3)] {
        let left = credits_of(&pool, id).await;
        assert_eq!(left, credits);
    }

    // Spend some credits, then run again in the same period (a redelivery): nothing is reset
    // twice, no second audit row, no second job.
    set_credits(&pool, due, 100).await;
    let again = reset_due_credits(&pool, now + chrono::Duration::hours(1))
        .await
        .expect("again");
    assert_eq!(again.reset, 0);
    let credits = credits_of(&pool, due).await;
    assert_eq!(credits, 100);
    let audits: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'client.credits_reset'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(audits, 1);
    assert_eq!(enrich_jobs(&pool).await.len(), 1);

    // The next period resets again (and by then the Perth client is due too).
    let next_period = reset_due_credits(&pool, next + chrono::Duration::minutes(5))
        .await
        .expect("next period");
    assert_eq!(next_period.reset, 2);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_registered_credit_reset_job_resets_a_due_client_once_per_period(pool: PgPool) {
    job_tables(&pool).await;
    let c = client(&pool, "dominance", 12, "Australia/Sydney").await;
    let due_at = Utc::now() - chrono::Duration::hours(1);
    set_reset_at(&pool, c, due_at).await;
    let job = CreditReset(tick("credit_reset", Utc::now()));
    run(&pool, &job).await;
    let (credits, next): (i32, DateTime<Utc>) =
        sqlx::query_as("SELECT credits_remaining, credits_reset_at FROM clients WHERE id = $1")
            .bind(c)
            .fetch_one(&pool)
            .await
            .expect("client");
    assert_eq!(credits, 4_500);
    assert!(next > Utc::now() + chrono::Duration::days(27), "{next}");
    set_credits(&pool, c, 1).await;
    run(&pool, &job).await;
    let credits = credits_of(&pool, c).await;
    assert_eq!(credits, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_concurrent_run_for_the_same_period_resets_once(pool: PgPool) {
    job_tables(&pool).await;
    let c = client(&pool, "ignition", 0, "Australia/Sydney").await;
    let due_at = Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0).unwrap();
    set_reset_at(&pool, c, due_at).await;
    let now = due_at + chrono::Duration::minutes(5);
    let (a, b) = tokio::join!(reset_due_credits(&pool, now), reset_due_credits(&pool, now));
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_eq!(a.reset + b.reset, 1);
    let audits: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE client_id = $1")
        .bind(c)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(audits, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_trialing_client_keeps_its_trial_allowance_at_the_reset(pool: PgPool) {
    job_tables(&pool).await;
    let trial = client(&pool, "ignition", 12, "Australia/Sydney").await;
    sqlx::query("UPDATE clients SET subscription_status = 'trialing' WHERE id = $1")
        .bind(trial)
        .execute(&pool)
        .await
        .expect("trialing");
    let due_at = Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap();
    set_reset_at(&pool, trial, due_at).await;
    let summary = reset_due_credits(&pool, due_at + chrono::Duration::hours(1))
        .await
        .expect("reset");
    assert_eq!(summary.reset, 1, "the date moves on");
    assert_eq!(
        credits_of(&pool, trial).await,
        12,
        "a trial is not topped up to the tier's 1,250"
    );
}
