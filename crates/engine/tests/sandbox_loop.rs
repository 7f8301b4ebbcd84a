//! The development sandbox loop against a real PostgreSQL: a send taken by the sandbox sender
//! queues its feedback job (only when the loop is on); the feedback plays the scripted
//! provider webhooks through the real receive path (signatures verified, inbox rows, jobs);
//! processing them records the delivery and open, and the lead's scripted reply becomes a
//! matched, classified reply that stops the lead's sequence. Playing twice stores nothing new.

use std::sync::Arc;

use agency_cache::FallbackCache;
use agency_domain::{Channel, ClientId, LeadId, OutreachSendId, SendOrigin};
use agency_engine::jobs::payload::{SandboxFeedback, SendOutreach};
use agency_engine::jobs::{EnqueueOptions, JobContext, JobKind, drain, enqueue, handlers};
use agency_engine::outreach::sandbox_loop::{EMAIL_REPLIES, Feedback, sandbox_feedback, script};
use agency_engine::{EngineSettings, Services};
use agency_store::PgPool;
use agency_store::outreach::{self as store, NewSend};
use uuid::Uuid;

async fn services(pool: &PgPool, feedback: bool) -> Services {
    let cache = Arc::new(FallbackCache::new(None, pool.clone()).expect("cache"));
    let mut services = Services::with_sandbox_providers(pool.clone(), cache);
    services.settings = Arc::new(EngineSettings {
        sandbox_feedback: feedback,
        ..EngineSettings::default()
    });
    services
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .expect(sql)
}

/// A lead id whose script answers the email with the meeting request.
fn meeting_lead() -> LeadId {
    let wanted = Feedback::EmailReply(EMAIL_REPLIES[0]);
    loop {
        let id = LeadId::new_v7();
        let s = script(Channel::Email, id);
        if s.contains(&wanted) && s.contains(&Feedback::EmailOpened) {
            return id;
        }
    }
}

/// A client with an email domain, an active autopilot campaign and one due email send to
/// `lead`; the send's job is queued.
async fn world(pool: &PgPool, lead: LeadId) -> (ClientId, OutreachSendId) {
    agency_store::migrate::job_migrator()
        .run(pool)
        .await
        .expect("apalis migrations");
    let client: Uuid = sqlx::query_scalar(
        "INSERT INTO clients (name, subscription_status, postal_address)
         VALUES ('Acme Digital', 'active', '1 George St, Sydney NSW 2000') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("client");
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name, status, permission_mode)
         VALUES ($1, 'Spring', 'active', 'autopilot') RETURNING id",
    )
    .bind(client)
    .fetch_one(pool)
    .await
    .expect("campaign");
    sqlx::query(
        "INSERT INTO sending_resources (client_id, kind, value, verified_at) VALUES ($1, 'email_domain', 'mail.acme.test', now())",
    )
    .bind(client)
    .execute(pool)
    .await
    .expect("resource");
    sqlx::query(
        "INSERT INTO leads (id, client_id, campaign_id, email, first_name, company, status,
                            als_score, als_tier, als_channels, first_touch_channel, next_action_at)
         VALUES ($1, $2, $3, 'jane@harbour.test', 'Jane', 'Harbour Plumbing', 'scored', 90, 'hot',
                 '{email}', 'email', now())",
    )
    .bind(lead)
    .bind(client)
    .bind(campaign)
    .execute(pool)
    .await
    .expect("lead");
    let client = ClientId::from_uuid(client);
    let send = store::plan(
        pool,
        client,
        &NewSend {
            campaign_id: agency_domain::CampaignId::from_uuid(campaign),
            lead_id: lead,
            step_number: 1,
            channel: Channel::Email,
            origin: SendOrigin::Sequence,
            due_at: chrono::Utc::now() - chrono::Duration::minutes(1),
            resource_id: None,
        },
    )
    .await
    .expect("plan")
    .expect("new send");
    enqueue(
        pool,
        &SendOutreach {
            client_id: client.into_uuid(),
            send_id: send.into_uuid(),
        },
        EnqueueOptions::default(),
    )
    .await
    .expect("enqueue");
    (client, send)
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_sandboxed_email_comes_back_delivered_opened_and_answered(pool: PgPool) {
    let lead = meeting_lead();
    let (client, send) = world(&pool, lead).await;
    let services = services(&pool, true).await;
    drain(&services, &handlers::registry())
        .await
        .expect("drain");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM sandbox_messages").await,
        1
    );
    // The feedback job waits a few seconds after the send; play it now.
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM apalis.jobs WHERE job_type = 'sandbox_feedback'"
        )
        .await,
        1
    );
    let ctx = JobContext::in_process(services.clone(), JobKind::SandboxFeedback);
    let job = SandboxFeedback {
        client_id: client.into_uuid(),
        send_id: send.into_uuid(),
    };
    sandbox_feedback(ctx.clone(), job.clone())
        .await
        .expect("played");
    // A second run (a retried job) is answered as duplicates: nothing new is stored.
    sandbox_feedback(ctx, job).await.expect("played again");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM webhook_events WHERE provider = 'resend' AND status = 'pending'"
        )
        .await,
        3
    );
    drain(&services, &handlers::registry())
        .await
        .expect("drain");
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM webhook_events WHERE status = 'processed'"
        )
        .await,
        3
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM activities WHERE lead_id = $1 ORDER BY created_at, id",
    )
    .bind(lead)
    .fetch_all(&pool)
    .await
    .expect("activities");
    assert_eq!(actions, vec!["sent", "delivered", "opened", "replied"]);
    let (intent, matched): (String, Option<LeadId>) =
        sqlx::query_as("SELECT intent, lead_id FROM replies")
            .fetch_one(&pool)
            .await
            .expect("reply");
    assert_eq!((intent.as_str(), matched), ("meeting_request", Some(lead)));
}

#[sqlx::test(migrations = "../../migrations")]
async fn without_the_loop_no_feedback_is_queued(pool: PgPool) {
    let (_client, _send) = world(&pool, meeting_lead()).await;
    let services = services(&pool, false).await;
    drain(&services, &handlers::registry())
        .await
        .expect("drain");
    assert_eq!(
        count(&pool, "SELECT count(*) FROM sandbox_messages").await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM apalis.jobs WHERE job_type = 'sandbox_feedback'"
        )
        .await,
        0
    );
}
