//! The send path against a real PostgreSQL and fake Resend, Twilio and Vapi servers that count
//! every request: exactly once (retries, interrupted runs, concurrent runs), never where it must
//! not (the just-in-time check, working hours and holidays), co-pilot drafts, the unsubscribe
//! link, the next step planned after a send, and the sweep.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agency_domain::{
    CampaignId, Channel, ClientId, LeadId, OutreachSendId, SendOrigin, SendStatus,
};
use agency_engine::outreach::plan::plan_first_touch;
use agency_engine::outreach::sweep::sweep;
use agency_engine::outreach::unsubscribe::{unsubscribe, unsubscribe_status};
use agency_engine::outreach::{Links, OutreachEnv, SendOutcome, run_send};
use agency_providers::twilio::ClientTwilioAccounts;
use agency_providers::{
    BreakerSettings, CredentialKeys, HttpSettings, OutreachProviders, Resend, RetryPolicy,
    SandboxOutreach, Twilio, Vapi,
};
use agency_store::PgPool;
use agency_store::outreach::{self as store, NewSend};
use chrono::{DateTime, TimeZone, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const SID: &str = "AC0123456789abcdef0123456789abcdef";

/// Tue 8 Dec 2026 10:00 AEDT: a working day inside the window.
fn tuesday_10am() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 23, 0, 0)
        .single()
        .expect("time")
}

fn settings() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(10),
            max_retry_after: Duration::from_secs(1),
        },
        breaker: BreakerSettings {
            failure_threshold: 50,
            cool_down: Duration::from_secs(1),
        },
        ..HttpSettings::default()
    }
}

/// A fake Resend that honours `Idempotency-Key` like the real one: the same key answers the
/// same id and sends nothing new. It counts requests and distinct emails.
#[derive(Clone, Default)]
struct FakeResend {
    sent: Arc<Mutex<HashMap<String, (String, Value)>>>,
    requests: Arc<Mutex<u32>>,
}

impl Respond for FakeResend {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        *self.requests.lock().expect("lock") += 1;
        let key = request
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let mut sent = self.sent.lock().expect("lock");
        let id = sent
            .entry(key)
            .or_insert_with(|| (Uuid::new_v4().to_string(), body))
            .0
            .clone();
        ResponseTemplate::new(200).set_body_json(json!({ "id": id }))
    }
}

impl FakeResend {
    fn emails(&self) -> Vec<Value> {
        self.sent
            .lock()
            .expect("lock")
            .values()
            .map(|(_, b)| b.clone())
            .collect()
    }
    fn requests(&self) -> u32 {
        *self.requests.lock().expect("lock")
    }
}

struct Fakes {
    resend: MockServer,
    resend_state: FakeResend,
    twilio: MockServer,
    vapi: MockServer,
}

async fn fakes(resend_delay: Option<Duration>, twilio_delay: Option<Duration>) -> Fakes {
    let resend = MockServer::start().await;
    let resend_state = FakeResend::default();
    if let Some(delay) = resend_delay {
        let slow = resend_state.clone();
        Mock::given(method("POST"))
            .and(path("/emails"))
            .respond_with(move |r: &Request| slow.respond(r).set_delay(delay))
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&resend)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/emails"))
        .respond_with(resend_state.clone())
        .with_priority(2)
        .mount(&resend)
        .await;
    let twilio = MockServer::start().await;
    let message = |n: u32| json!({"sid": format!("SM{n:032x}"), "status": "queued", "to": "+61298765432", "num_segments": "1"});
    let twilio_answer = match twilio_delay {
        Some(d) => ResponseTemplate::new(201)
            .set_body_json(message(1))
            .set_delay(d),
        None => ResponseTemplate::new(201).set_body_json(message(1)),
    };
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{SID}/Messages.json")))
        .respond_with(twilio_answer)
        .mount(&twilio)
        .await;
    let vapi = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/call"))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"id": "0e6b5f1c-3d3a-4c6e-9f57-2b8a7c1d9e10", "status": "queued", "type": "outboundPhoneCall"}),
        ))
        .mount(&vapi)
        .await;
    Fakes {
        resend,
        resend_state,
        twilio,
        vapi,
    }
}

/// The resource counters (the PostgreSQL fallback of the cache, on the test database).
fn counters(pool: &PgPool) -> agency_cache::FallbackCache {
    agency_cache::FallbackCache::new(None, pool.clone()).expect("counters")
}

fn links() -> Links {
    Links::new(
        "https://api.test",
        SecretString::from("unsubscribe-test-secret"),
    )
}

fn env(f: &Fakes) -> OutreachEnv {
    let s = settings();
    OutreachEnv {
        providers: OutreachProviders {
            email: Arc::new(
                Resend::new(SecretString::from("re_test"), &f.resend.uri(), &s).expect("resend"),
            ),
            sms: Arc::new(
                Twilio::new(SID, SecretString::from("tok"), &f.twilio.uri(), &s).expect("twilio"),
            ),
            voice: Arc::new(
                Vapi::new(
                    SecretString::from("vapi"),
                    "asst_1",
                    "pn_1",
                    &f.vapi.uri(),
                    &s,
                )
                .expect("vapi"),
            ),
            sandbox: Arc::new(SandboxOutreach::new()),
            client_sms: None,
        },
        links: links(),
    }
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

/// Runs the send in a task and kills it once the provider has received the request (the
/// worker dying after the provider took the message, before our record committed).
async fn interrupt_after_request(
    pool: &PgPool,
    env: OutreachEnv,
    server: &MockServer,
    w: &World,
    id: OutreachSendId,
) {
    let (pool, client) = (pool.clone(), w.client);
    let now = tuesday_10am();
    let task =
        tokio::spawn(async move { run_send(&pool, &counters(&pool), &env, now, client, id).await });
    for _ in 0..500 {
        if requests(server).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(requests(server).await, 1, "the provider got the request");
    assert!(!task.is_finished(), "killed before it recorded the answer");
    task.abort();
    let _ = task.await;
}

struct World {
    client: ClientId,
    campaign: CampaignId,
    lead: LeadId,
}

/// An active client with a postal address, an active campaign (`mode`), an email domain and
/// an SMS number, and a hot Sydney lead (landline, DNCR checked) allowed every phone channel.
async fn world(pool: &PgPool, mode: &str) -> World {
    agency_store::migrate::job_migrator()
        .run(pool)
        .await
        .expect("apalis migrations");
    let client: Uuid = sqlx::query_scalar(
        "INSERT INTO clients (name, subscription_status, postal_address, reply_to_email)
         VALUES ('Acme Digital', 'active', '1 George St, Sydney NSW 2000', 'replies@in.acme.test')
         RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("client");
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name, status, permission_mode)
         VALUES ($1, 'Spring', 'active', $2) RETURNING id",
    )
    .bind(client)
    .bind(mode)
    .fetch_one(pool)
    .await
    .expect("campaign");
    sqlx::query(
        "INSERT INTO sending_resources (client_id, kind, value, verified_at) VALUES
            ($1, 'email_domain', 'mail.acme.test', now()), ($1, 'sms_number', '+61485000111', now())
         ON CONFLICT DO NOTHING",
    )
    .bind(client)
    .execute(pool)
    .await
    .expect("resources");
    let lead: Uuid = sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email, phone, first_name, last_name, company,
                            status, als_score, als_tier, als_channels, dncr_checked, first_touch_channel,
                            next_action_at)
         VALUES ($1, $2, 'jane@harbour.test', '+61298765432', 'Jane', 'Citizen', 'Harbour Plumbing',
                 'scored', 90, 'hot', '{email,sms,voice}', true, 'email', $3)
         RETURNING id",
    )
    .bind(client)
    .bind(campaign)
    .bind(tuesday_10am())
    .fetch_one(pool)
    .await
    .expect("lead");
    World {
        client: ClientId::from_uuid(client),
        campaign: CampaignId::from_uuid(campaign),
        lead: LeadId::from_uuid(lead),
    }
}

async fn plan(
    pool: &PgPool,
    w: &World,
    step: i32,
    channel: Channel,
    due: DateTime<Utc>,
) -> OutreachSendId {
    let new = NewSend {
        campaign_id: w.campaign,
        lead_id: w.lead,
        step_number: step,
        channel,
        origin: SendOrigin::Sequence,
        due_at: due,
        resource_id: None,
    };
    store::plan(pool, w.client, &new)
        .await
        .expect("plan")
        .expect("new row")
}

async fn status(pool: &PgPool, id: OutreachSendId) -> (String, Option<String>, Option<String>) {
    sqlx::query_as(
        "SELECT status, blocked_reason, provider_message_id FROM outreach_sends WHERE id = $1",
    )
    .bind(id.into_uuid())
    .fetch_one(pool)
    .await
    .expect("row")
}

async fn count(pool: &PgPool, sql: &str, id: Uuid) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("count")
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_email_goes_once_with_threading_identity_and_unsubscribe(pool: PgPool) {
    let f = fakes(None, None).await;
    let env = env(&f);
    let w = world(&pool, "autopilot").await;
    let now = tuesday_10am();
    let first = plan(&pool, &w, 1, Channel::Email, now).await;

    let outcome = run_send(&pool, &counters(&pool), &env, now, w.client, first)
        .await
        .expect("run");
    let SendOutcome::Sent {
        provider_message_id,
    } = outcome
    else {
        panic!("expected sent, got {outcome:?}");
    };
    // A second run (a redelivered job) finds the row sent and calls nobody.
    let again = run_send(&pool, &counters(&pool), &env, now, w.client, first)
        .await
        .expect("rerun");
    assert_eq!(again, SendOutcome::Unchanged(SendStatus::Sent));
    assert_eq!(f.resend_state.requests(), 1);

    let email = f.resend_state.emails().pop().expect("one email");
    assert_eq!(email["to"], json!(["jane@harbour.test"]));
    assert_eq!(email["from"], "Acme Digital <outreach@mail.acme.test>");
    assert_eq!(email["reply_to"], "replies@in.acme.test");
    let text = email["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("Hi Jane,"), "{text}");
    assert!(
        text.contains("Sent by Acme Digital, 1 George St, Sydney NSW 2000."),
        "{text}"
    );
    let unsubscribe_url = links().unsubscribe_url(w.lead);
    assert!(text.contains(&unsubscribe_url), "{text}");
    assert!(
        email["html"]
            .as_str()
            .unwrap_or_default()
            .contains("Unsubscribe</a>")
    );
    assert_eq!(
        email["headers"]["List-Unsubscribe"],
        format!("<{unsubscribe_url}>")
    );
    assert_eq!(
        email["headers"]["List-Unsubscribe-Post"],
        "List-Unsubscribe=One-Click"
    );
    assert_eq!(
        email["headers"]["Message-ID"],
        format!("<{first}@mail.acme.test>")
    );
    assert!(email["headers"].get("In-Reply-To").is_none());

    let (st, _, pmid) = status(&pool, first).await;
    assert_eq!(
        (st.as_str(), pmid.as_deref()),
        ("sent", Some(provider_message_id.as_str()))
    );
    let activity: (String, String, Option<String>, Value) = sqlx::query_as(
        "SELECT channel, action, provider_message_id, content_snapshot FROM activities WHERE lead_id = $1",
    )
    .bind(w.lead.into_uuid())
    .fetch_one(&pool)
    .await
    .expect("one activity");
    assert_eq!(
        (activity.0.as_str(), activity.1.as_str()),
        ("email", "sent")
    );
    assert_eq!(activity.2.as_deref(), Some(provider_message_id.as_str()));
    assert_eq!(
        activity.3["word_count"].as_u64(),
        Some(
            text.split("\n\n--")
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .count() as u64
        )
    );
    let lead_status: String = sqlx::query_scalar("SELECT status FROM leads WHERE id = $1")
        .bind(w.lead.into_uuid())
        .fetch_one(&pool)
        .await
        .expect("lead");
    assert_eq!(lead_status, "in_sequence");

    // The default hot sequence plans step 2 (email, 3 days later) with its job.
    let (step2, due): (Uuid, DateTime<Utc>) = sqlx::query_as(
        "SELECT id, due_at FROM outreach_sends WHERE lead_id = $1 AND step_number = 2 AND channel = 'email'",
    )
    .bind(w.lead.into_uuid())
    .fetch_one(&pool)
    .await
    .expect("step 2 planned");
    assert_eq!(due, now + chrono::Duration::days(3));
    let jobs = count(
        &pool,
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'send_outreach' AND convert_from(job, 'UTF8')::jsonb->>'send_id' = $1::text",
        step2,
    )
    .await;
    assert_eq!(jobs, 1);

    // Step 2 threads on step 1.
    let later = due;
    run_send(
        &pool,
        &counters(&pool),
        &env,
        later,
        w.client,
        OutreachSendId::from_uuid(step2),
    )
    .await
    .expect("step 2");
    assert_eq!(f.resend_state.requests(), 2);
    let follow_up = f
        .resend_state
        .emails()
        .into_iter()
        .find(|e| e["headers"]["Message-ID"] == format!("<{step2}@mail.acme.test>"))
        .expect("follow-up");
    assert_eq!(
        follow_up["headers"]["In-Reply-To"],
        format!("<{first}@mail.acme.test>")
    );
    assert_eq!(
        follow_up["headers"]["References"],
        format!("<{first}@mail.acme.test>")
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_interrupted_email_is_repeated_with_the_same_key_and_sent_once(pool: PgPool) {
    // The first answer is slow: the run is cut off after the provider took the email.
    let f = fakes(Some(Duration::from_secs(3)), None).await;
    let env = env(&f);
    let w = world(&pool, "autopilot").await;
    let now = tuesday_10am();
    let id = plan(&pool, &w, 1, Channel::Email, now).await;
    interrupt_after_request(&pool, env.clone(), &f.resend, &w, id).await;
    assert_eq!(status(&pool, id).await.0, "sending");
    // Within the in-flight window a second run leaves it alone.
    assert!(
        run_send(&pool, &counters(&pool), &env, now, w.client, id)
            .await
            .is_err()
    );
    let later = now + chrono::Duration::minutes(3);
    let outcome = run_send(&pool, &counters(&pool), &env, later, w.client, id)
        .await
        .expect("retry");
    assert!(matches!(outcome, SendOutcome::Sent { .. }), "{outcome:?}");
    let requests = f.resend.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 2, "the retry repeated the request");
    let keys: Vec<_> = requests
        .iter()
        .map(|r| {
            r.headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(keys[0], Some(format!("outreach-send/{id}")));
    assert_eq!(keys[0], keys[1], "with the same key");
    assert_eq!(
        f.resend_state.emails().len(),
        1,
        "so the provider sent one email"
    );
    let recorded: i64 = count(
        &pool,
        "SELECT count(*) FROM activities WHERE lead_id = $1 AND action = 'sent'",
        w.lead.into_uuid(),
    )
    .await;
    assert_eq!(recorded, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_interrupted_sms_is_never_repeated(pool: PgPool) {
    let f = fakes(None, Some(Duration::from_secs(3))).await;
    let env = env(&f);
    let w = world(&pool, "autopilot").await;
    let now = tuesday_10am();
    let id = plan(&pool, &w, 3, Channel::Sms, now).await;
    interrupt_after_request(&pool, env.clone(), &f.twilio, &w, id).await;
    let later = now + chrono::Duration::minutes(3);
    let outcome = run_send(&pool, &counters(&pool), &env, later, w.client, id)
        .await
        .expect("retry");
    assert!(matches!(outcome, SendOutcome::Failed(_)), "{outcome:?}");
    assert_eq!(requests(&f.twilio).await, 1);
    assert_eq!(status(&pool, id).await.0, "failed");
}

#[sqlx::test(migrations = "../../migrations")]
async fn concurrent_runs_of_one_send_call_the_provider_once(pool: PgPool) {
    let f = fakes(None, None).await;
    let env = Arc::new(env(&f));
    let w = world(&pool, "autopilot").await;
    let now = tuesday_10am();
    let id = plan(&pool, &w, 3, Channel::Sms, now).await;
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (pool, env, client) = (pool.clone(), Arc::clone(&env), w.client);
        tasks.push(tokio::spawn(async move {
            run_send(&pool, &counters(&pool), &env, now, client, id).await
        }));
    }
    let mut sent = 0;
    for t in tasks {
        if let Ok(Ok(SendOutcome::Sent { .. })) = t.await {
            sent += 1;
        }
    }
    assert_eq!(sent, 1);
    assert_eq!(requests(&f.twilio).await, 1);
    let form: HashMap<String, String> = url::form_urlencoded::parse(
        &f.twilio.received_requests().await.unwrap_or_default()[0].body,
    )
    .into_owned()
    .collect();
    assert_eq!(form["From"], "+61485000111");
    assert_eq!(form["To"], "+61298765432");
    assert_eq!(
        form["StatusCallback"],
        "https://api.test/webhooks/twilio/status"
    );
    assert!(
        form["Body"].ends_with("Reply STOP to opt out"),
        "{}",
        form["Body"]
    );
    assert!(agency_domain::is_single_gsm7_segment(&form["Body"]));
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_just_in_time_check_blocks_and_nothing_reaches_a_provider(pool: PgPool) {
    let f = fakes(None, None).await;
    let env = env(&f);
    let now = tuesday_10am();
    let cases: [(&str, &str, Channel, &str); 7] = [
        (
            "UPDATE leads SET status = 'unsubscribed' WHERE id = $1",
            "",
            Channel::Email,
            "lead_unsubscribed",
        ),
        (
            "UPDATE leads SET dncr_blocked = true WHERE id = $1",
            "",
            Channel::Sms,
            "dncr_blocked",
        ),
        (
            "UPDATE leads SET dncr_checked = false WHERE id = $1",
            "",
            Channel::Voice,
            "dncr_not_checked",
        ),
        (
            "UPDATE campaigns SET status = 'paused' WHERE id = (SELECT campaign_id FROM leads WHERE id = $1)",
            "",
            Channel::Email,
            "campaign_not_active",
        ),
        (
            "UPDATE clients SET subscription_status = 'past_due' WHERE id = (SELECT client_id FROM leads WHERE id = $1)",
            "",
            Channel::Email,
            "subscription_inactive",
        ),
        (
            "UPDATE clients SET credits_remaining = 0 WHERE id = (SELECT client_id FROM leads WHERE id = $1)",
            "",
            Channel::Email,
            "no_credits",
        ),
        (
            "INSERT INTO global_suppression (email, reason) SELECT email, 'bounce' FROM leads WHERE id = $1",
            "",
            Channel::Email,
            "address_suppressed",
        ),
    ];
    for (i, (setup, _, channel, reason)) in cases.iter().enumerate() {
        let w = world(&pool, "autopilot").await;
        sqlx::query(sqlx::AssertSqlSafe(setup.to_string()))
            .bind(w.lead.into_uuid())
            .execute(&pool)
            .await
            .expect("setup");
        let id = plan(&pool, &w, 1, *channel, now).await;
        let outcome = run_send(&pool, &counters(&pool), &env, now, w.client, id)
            .await
            .expect("run");
        assert_eq!(
            outcome,
            SendOutcome::Blocked((*reason).to_owned()),
            "case {i}"
        );
        assert_eq!(
            status(&pool, id).await.1.as_deref(),
            Some(*reason),
            "case {i}"
        );
    }
    assert_eq!(f.resend_state.requests(), 0);
    assert_eq!(requests(&f.twilio).await, 0);
    assert_eq!(requests(&f.vapi).await, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn sms_and_calls_wait_for_the_next_working_window(pool: PgPool) {
    let f = fakes(None, None).await;
    let env = env(&f);
    let w = world(&pool, "autopilot").await;
    // Fri 25 Dec 2026 11:00 AEDT (Christmas), then Boxing Day substitute Mon 28: the next
    // window is Tue 29 Dec 09:00 AEDT = Mon 28 Dec 22:00 UTC.
    let christmas = Utc
        .with_ymd_and_hms(2026, 12, 25, 0, 0, 0)
        .single()
        .expect("time");
    let id = plan(&pool, &w, 3, Channel::Sms, christmas).await;
    let outcome = run_send(&pool, &counters(&pool), &env, christmas, w.client, id)
        .await
        .expect("run");
    let window = Utc
        .with_ymd_and_hms(2026, 12, 28, 22, 0, 0)
        .single()
        .expect("time");
    assert_eq!(outcome, SendOutcome::Rescheduled(window));
    let (due, st): (DateTime<Utc>, String) =
        sqlx::query_as("SELECT due_at, status FROM outreach_sends WHERE id = $1")
            .bind(id.into_uuid())
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_eq!((due, st.as_str()), (window, "scheduled"));
    let run_at: i64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM run_at)::bigint FROM apalis.jobs WHERE job_type = 'send_outreach'",
    )
    .fetch_one(&pool)
    .await
    .expect("job");
    assert_eq!(run_at, window.timestamp());
    // Saturday evening, a call: Monday 09:00.
    let saturday = Utc
        .with_ymd_and_hms(2026, 12, 5, 9, 0, 0)
        .single()
        .expect("time");
    let call = plan(&pool, &w, 4, Channel::Voice, saturday).await;
    let outcome = run_send(&pool, &counters(&pool), &env, saturday, w.client, call)
        .await
        .expect("run");
    let monday = Utc
        .with_ymd_and_hms(2026, 12, 6, 22, 0, 0)
        .single()
        .expect("time");
    assert_eq!(outcome, SendOutcome::Rescheduled(monday));
    assert_eq!(requests(&f.twilio).await + requests(&f.vapi).await, 0);
    // In the window the call goes, with its metadata, holding a call slot.
    let outcome = run_send(&pool, &counters(&pool), &env, monday, w.client, call)
        .await
        .expect("run");
    assert!(matches!(outcome, SendOutcome::Sent { .. }), "{outcome:?}");
    let body: Value =
        serde_json::from_slice(&f.vapi.received_requests().await.unwrap_or_default()[0].body)
            .expect("json");
    assert_eq!(body["customer"]["number"], "+61298765432");
    assert_eq!(body["metadata"]["lead_id"], json!(w.lead));
    assert_eq!(body["metadata"]["campaign_id"], json!(w.campaign));
    assert_eq!(body["metadata"]["client_id"], json!(w.client));
    assert!(
        body["assistantOverrides"]["firstMessage"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Hi Jane")
    );
    let slots: i64 = count(
        &pool,
        "SELECT count(*) FROM voice_call_slots WHERE lead_id = $1 AND provider_call_id IS NOT NULL",
        w.lead.into_uuid(),
    )
    .await;
    assert_eq!(slots, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn co_pilot_drafts_and_the_unsubscribe_link_stops_everything(pool: PgPool) {
    let f = fakes(None, None).await;
    let env = env(&f);
    let w = world(&pool, "co_pilot").await;
    let now = tuesday_10am();
    let id = plan_first_touch(
        &mut pool.acquire().await.expect("conn"),
        w.client,
        w.campaign,
        w.lead,
        now,
    )
    .await
    .expect("plan")
    .expect("planned");
    let outcome = run_send(&pool, &counters(&pool), &env, now, w.client, id)
        .await
        .expect("run");
    assert_eq!(outcome, SendOutcome::Drafted);
    let (subject, body): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT subject, body FROM outreach_sends WHERE id = $1 AND status = 'awaiting_approval'",
    )
    .bind(id.into_uuid())
    .fetch_one(&pool)
    .await
    .expect("draft");
    assert_eq!(
        subject.as_deref(),
        Some("Quick question about Harbour Plumbing")
    );
    assert!(body.unwrap_or_default().starts_with("Hi Jane,"));

    let token = links().unsubscribe_token(w.lead);
    let shown = unsubscribe_status(&pool, &links(), &token)
        .await
        .expect("status");
    assert_eq!(
        (shown.email.as_str(), shown.unsubscribed),
        ("j***@harbour.test", false)
    );
    let done = unsubscribe(&pool, &links(), &token)
        .await
        .expect("unsubscribe");
    assert!(done.unsubscribed);
    unsubscribe(&pool, &links(), &token)
        .await
        .expect("twice is fine");
    assert_eq!(status(&pool, id).await.0, "cancelled");
    let suppressed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM global_suppression WHERE email = 'jane@harbour.test' AND reason = 'unsubscribe'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(suppressed, 1);
    let activities: i64 = count(
        &pool,
        "SELECT count(*) FROM activities WHERE lead_id = $1 AND action = 'unsubscribed'",
        w.lead.into_uuid(),
    )
    .await;
    assert_eq!(activities, 1);
    // A forged token is refused.
    let mut forged = token.clone();
    forged.replace_range(40..41, if &token[40..41] == "A" { "B" } else { "A" });
    assert!(unsubscribe(&pool, &links(), &forged).await.is_err());
    assert_eq!(f.resend_state.requests(), 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_sweep_plans_first_touches_and_enqueues_due_sends_once(pool: PgPool) {
    let w = world(&pool, "autopilot").await;
    let now = tuesday_10am();
    let first = sweep(&pool, now).await.expect("sweep");
    assert_eq!(first.planned, 1);
    let again = sweep(&pool, now).await.expect("sweep again");
    assert_eq!((again.planned, again.enqueued), (0, 0), "{again:?}");
    let rows: Vec<(i32, String)> =
        sqlx::query_as("SELECT step_number, channel FROM outreach_sends WHERE lead_id = $1")
            .bind(w.lead.into_uuid())
            .fetch_all(&pool)
            .await
            .expect("rows");
    assert_eq!(rows, vec![(1, "email".to_owned())]);
    let jobs: i64 =
        sqlx::query_scalar("SELECT count(*) FROM apalis.jobs WHERE job_type = 'send_outreach'")
            .fetch_one(&pool)
            .await
            .expect("jobs");
    assert_eq!(jobs, 1);
}

/// A fake Claude answering `submit_message` with `input`, counting requests.
async fn fake_claude(input: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_01", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "tool_use", "id": "toolu_01", "name": "submit_message", "input": input}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 700, "output_tokens": 120}
        })))
        .mount(&server)
        .await;
    server
}

fn gate_at(server: &MockServer) -> agency_engine::ai::AiGate {
    let claude = agency_providers::Anthropic::new(
        SecretString::from("sk-ant-test"),
        &server.uri(),
        &settings(),
    )
    .expect("claude");
    agency_engine::ai::AiGate::new(Arc::new(claude), agency_engine::ai::AiSettings::default())
}

async fn snapshot_writer(pool: &PgPool, id: OutreachSendId) -> (String, Option<String>) {
    sqlx::query_as(
        "SELECT a.content_snapshot->>'writer', s.body FROM activities a
           JOIN outreach_sends s ON s.id = (a.metadata->>'send_id')::uuid
          WHERE s.id = $1",
    )
    .bind(id.into_uuid())
    .fetch_one(pool)
    .await
    .expect("activity")
}

#[sqlx::test(migrations = "../../migrations")]
async fn claude_writes_a_default_step_and_the_email_keeps_identity_and_unsubscribe(pool: PgPool) {
    use agency_engine::outreach::{AiWriter, run_send_with_ai};
    let f = fakes(None, None).await;
    let env = env(&f);
    let w = world(&pool, "autopilot").await;
    let now = tuesday_10am();
    let claude = fake_claude(json!({
        "subject": "Harbour Plumbing's next 20 jobs",
        "body": "Hi Jane,\n\nWe help plumbers in Sydney fill quiet weeks. Worth a 15-minute chat on Thursday?"
    }))
    .await;
    let gate = gate_at(&claude);
    let cache = agency_cache::PgCache::new(pool.clone());
    let writer = AiWriter {
        gate: &gate,
        cache: &cache,
    };
    let id = plan(&pool, &w, 1, Channel::Email, now).await;

    let outcome = run_send_with_ai(&pool, &env, writer, now, w.client, id)
        .await
        .expect("run");
    assert!(matches!(outcome, SendOutcome::Sent { .. }), "{outcome:?}");
    let email = f.resend_state.emails().pop().expect("one email");
    assert_eq!(email["subject"], "Harbour Plumbing's next 20 jobs");
    let text = email["text"].as_str().unwrap_or_default();
    assert!(text.starts_with("Hi Jane,\n\nWe help plumbers"), "{text}");
    // The compliance wrapping is the send's, whoever wrote the body.
    assert!(
        text.contains("Sent by Acme Digital, 1 George St, Sydney NSW 2000."),
        "{text}"
    );
    assert!(text.contains("/u/"), "{text}");
    let (writer, body) = snapshot_writer(&pool, id).await;
    assert_eq!(writer, "ai");
    assert!(body.unwrap_or_default().contains("fill quiet weeks"));
    assert_eq!(
        count(&pool, "SELECT count(*) FROM ai_usage WHERE client_id = $1 AND purpose = 'write_message' AND status = 'settled'", w.client.into_uuid()).await,
        1
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_foreign_link_from_claude_falls_back_to_the_template(pool: PgPool) {
    use agency_engine::outreach::{AiWriter, run_send_with_ai};
    let f = fakes(None, None).await;
    let env = env(&f);
    let w = world(&pool, "autopilot").await;
    let now = tuesday_10am();
    let claude = fake_claude(json!({
        "subject": "Quick one",
        "body": "Hi Jane, book here: https://calendly.example/someone-else"
    }))
    .await;
    let gate = gate_at(&claude);
    let cache = agency_cache::PgCache::new(pool.clone());
    let writer = AiWriter {
        gate: &gate,
        cache: &cache,
    };
    let id = plan(&pool, &w, 1, Channel::Email, now).await;

    run_send_with_ai(&pool, &env, writer, now, w.client, id)
        .await
        .expect("run");
    let email = f.resend_state.emails().pop().expect("one email");
    let text = email["text"].as_str().unwrap_or_default();
    assert!(!text.contains("calendly.example"), "{text}");
    assert!(text.starts_with("Hi Jane,"), "{text}");
    assert_eq!(snapshot_writer(&pool, id).await.0, "template");
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_agencys_own_template_is_never_rewritten(pool: PgPool) {
    use agency_engine::outreach::{AiWriter, run_send_with_ai};
    let f = fakes(None, None).await;
    let env = env(&f);
    let w = world(&pool, "autopilot").await;
    sqlx::query(
        "INSERT INTO campaign_sequence_steps (client_id, campaign_id, step_number, channel, delay_days, subject_template, body_template)
         VALUES ($1, $2, 1, 'email', 0, 'Hello {{ lead.first_name }}', 'Our own words for {{ company.name }}.')",
    )
    .bind(w.client.into_uuid())
    .bind(w.campaign.into_uuid())
    .execute(&pool)
    .await
    .expect("step");
    let now = tuesday_10am();
    let claude = fake_claude(json!({"subject": "AI subject", "body": "AI body"})).await;
    let gate = gate_at(&claude);
    let cache = agency_cache::PgCache::new(pool.clone());
    let writer = AiWriter {
        gate: &gate,
        cache: &cache,
    };
    let id = plan(&pool, &w, 1, Channel::Email, now).await;

    run_send_with_ai(&pool, &env, writer, now, w.client, id)
        .await
        .expect("run");
    let email = f.resend_state.emails().pop().expect("one email");
    assert_eq!(email["subject"], "Hello Jane");
    assert!(
        email["text"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Our own words for Harbour Plumbing.")
    );
    assert_eq!(
        claude.received_requests().await.unwrap_or_default().len(),
        0
    );
}

const CLIENT_SID: &str = "ACfedcba9876543210fedcba9876543210";
const CLIENT_TOKEN: &str = "c11e47a0c11e47a0c11e47a0c11e47a0";
const KEY_1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_2: &str = "k2:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=";

/// Stores the client's own Twilio account, its token sealed with `keys`.
async fn store_client_account(pool: &PgPool, client: ClientId, keys: &CredentialKeys) {
    let owner = agency_engine::twilio_accounts::seal_owner(client, CLIENT_SID);
    let sealed = keys
        .seal(&SecretString::from(CLIENT_TOKEN), &owner)
        .expect("seal");
    agency_store::twilio_accounts::upsert(
        pool,
        client,
        &agency_store::twilio_accounts::NewTwilioAccount {
            account_sid: CLIENT_SID,
            key_id: &sealed.key_id,
            token_nonce: &sealed.nonce,
            token_sealed: &sealed.ciphertext,
        },
    )
    .await
    .expect("store the account");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_client_with_its_own_twilio_account_sends_sms_through_it(pool: PgPool) {
    let f = fakes(None, None).await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/2010-04-01/Accounts/{CLIENT_SID}/Messages.json"
        )))
        .and(wiremock::matchers::basic_auth(CLIENT_SID, CLIENT_TOKEN))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            json!({"sid": format!("SM{:032x}", 7), "status": "queued", "to": "+61298765432"}),
        ))
        .mount(&f.twilio)
        .await;
    let keys = CredentialKeys::parse(KEY_1).expect("keys");
    let mut env = env(&f);
    env.providers.client_sms = Some(Arc::new(ClientTwilioAccounts::new(
        keys.clone(),
        &f.twilio.uri(),
        &settings(),
    )));
    let w = world(&pool, "autopilot").await;
    let now = tuesday_10am();
    let on_path = |sid: &'static str| {
        let f = &f.twilio;
        async move {
            f.received_requests()
                .await
                .unwrap_or_default()
                .iter()
                .filter(|r| r.url.path() == format!("/2010-04-01/Accounts/{sid}/Messages.json"))
                .count()
        }
    };

    // No account of its own: the platform's.
    let first = plan(&pool, &w, 20, Channel::Sms, now).await;
    let outcome = run_send(&pool, &counters(&pool), &env, now, w.client, first)
        .await
        .expect("send");
    assert!(matches!(outcome, SendOutcome::Sent { .. }), "{outcome:?}");
    assert_eq!((on_path(SID).await, on_path(CLIENT_SID).await), (1, 0));

    // With its own account: the client's SID and token, never the platform's.
    store_client_account(&pool, w.client, &keys).await;
    let second = plan(&pool, &w, 21, Channel::Sms, now).await;
    let outcome = run_send(&pool, &counters(&pool), &env, now, w.client, second)
        .await
        .expect("send");
    assert_eq!(
        outcome,
        SendOutcome::Sent {
            provider_message_id: format!("SM{:032x}", 7)
        }
    );
    assert_eq!((on_path(SID).await, on_path(CLIENT_SID).await), (1, 1));

    // Sealed under a key this worker no longer has: blocked, nothing sent anywhere (never
    // through the platform's account instead).
    store_client_account(&pool, w.client, &CredentialKeys::parse(KEY_2).expect("k2")).await;
    let third = plan(&pool, &w, 22, Channel::Sms, now).await;
    let outcome = run_send(&pool, &counters(&pool), &env, now, w.client, third)
        .await
        .expect("run");
    assert_eq!(
        outcome,
        SendOutcome::Blocked("client_twilio_credentials_unusable".into())
    );
    assert_eq!((on_path(SID).await, on_path(CLIENT_SID).await), (1, 1));
    assert_eq!(status(&pool, third).await.0, "blocked");
}

#[sqlx::test(migrations = "../../migrations")]
async fn follow_ups_spend_a_daily_counter_with_room_and_wait_when_all_are_full(pool: PgPool) {
    use agency_cache::Cache;
    let f = fakes(None, None).await;
    let env = env(&f);
    let w = world(&pool, "autopilot").await;
    let now = tuesday_10am();
    // The domain may send one more email today.
    let domain: Uuid = sqlx::query_scalar(
        "UPDATE sending_resources SET daily_cap_override = 1
          WHERE client_id = $1 AND kind = 'email_domain' RETURNING id",
    )
    .bind(w.client.into_uuid())
    .fetch_one(&pool)
    .await
    .expect("cap");
    let counters = counters(&pool);
    let name = agency_engine::pipeline::allocation::counter_name(
        agency_domain::ResourceKind::EmailDomain,
        domain,
    );
    let used = || async {
        counters
            .read_daily(&name, chrono_tz::Australia::Sydney, now)
            .await
            .expect("counter")
    };

    let first = plan(&pool, &w, 20, Channel::Email, now).await;
    let outcome = run_send(&pool, &counters, &env, now, w.client, first)
        .await
        .expect("send");
    assert!(matches!(outcome, SendOutcome::Sent { .. }), "{outcome:?}");
    assert_eq!(used().await, 1, "the follow-up spent a slot");

    let second = plan(&pool, &w, 21, Channel::Email, now).await;
    let outcome = run_send(&pool, &counters, &env, now, w.client, second)
        .await
        .expect("run");
    // Wed 9 Dec 09:00 Sydney: the next day's window.
    let next_day = Utc
        .with_ymd_and_hms(2026, 12, 8, 22, 0, 0)
        .single()
        .expect("time");
    assert_eq!(outcome, SendOutcome::Rescheduled(next_day));
    assert_eq!(used().await, 1, "a refused slot is given back");
    assert_eq!(f.resend_state.requests(), 1, "nothing sent over the cap");
    assert_eq!(status(&pool, second).await.0, "scheduled");

    // A second verified domain with room: the next follow-up sends from it, and an unverified
    // or inactive domain is never used.
    sqlx::query(
        "INSERT INTO sending_resources (client_id, kind, value, verified_at, active) VALUES
            ($1, 'email_domain', 'unverified.acme.test', NULL, true),
            ($1, 'email_domain', 'paused.acme.test', now(), false)",
    )
    .bind(w.client.into_uuid())
    .execute(&pool)
    .await
    .expect("unusable domains");
    let third = plan(&pool, &w, 22, Channel::Email, now).await;
    let outcome = run_send(&pool, &counters, &env, now, w.client, third)
        .await
        .expect("run");
    assert_eq!(
        outcome,
        SendOutcome::Rescheduled(next_day),
        "no usable domain has room"
    );
    let other: Uuid = sqlx::query_scalar(
        "INSERT INTO sending_resources (client_id, kind, value, verified_at, daily_cap_override)
         VALUES ($1, 'email_domain', 'mail2.acme.test', now(), 1) RETURNING id",
    )
    .bind(w.client.into_uuid())
    .fetch_one(&pool)
    .await
    .expect("second domain");
    let fourth = plan(&pool, &w, 23, Channel::Email, now).await;
    let outcome = run_send(&pool, &counters, &env, now, w.client, fourth)
        .await
        .expect("send");
    assert!(matches!(outcome, SendOutcome::Sent { .. }), "{outcome:?}");
    let mut from: Vec<String> = f
        .resend_state
        .emails()
        .iter()
        .map(|e| e["from"].as_str().unwrap_or_default().to_owned())
        .collect();
    from.sort();
    assert_eq!(
        from,
        [
            "Acme Digital <outreach@mail.acme.test>",
            "Acme Digital <outreach@mail2.acme.test>"
        ]
    );
    let other_name = agency_engine::pipeline::allocation::counter_name(
        agency_domain::ResourceKind::EmailDomain,
        other,
    );
    let other_used = counters
        .read_daily(&other_name, chrono_tz::Australia::Sydney, now)
        .await
        .expect("counter");
    assert_eq!(
        (used().await, other_used),
        (1, 1),
        "the slot came from the second domain"
    );
    assert_eq!(f.resend_state.requests(), 2);
}
