//! Sending one planned send, exactly once (the `send_outreach` job).
//!
//! 1. **Claim** (one transaction): lock the `outreach_sends` row; a final row, a draft waiting
//!    for approval or a row not yet due is left alone. Run the just-in-time check
//!    ([`check_send`]) in this same transaction: a refusal marks the row `blocked` with its
//!    reason and nothing is sent. SMS and voice outside the lead's working hours (weekdays
//!    09:00-18:00 local, public holidays closed) move to the next window and are enqueued for
//!    it; voice takes a call slot (or waits for one). A co-pilot step becomes a draft
//!    (`awaiting_approval`). Otherwise the rendered content is stored and the row becomes
//!    `sending`; commit (no lock is held across the provider call).
//! 2. **Call** the provider with the idempotency key `outreach-send/{id}`.
//! 3. **Record** (one transaction): the row becomes `sent` with the provider's id, the
//!    activity is appended (with a content snapshot), a sandboxed message goes to the outbox,
//!    the lead advances and the next step is planned.
//!
//! A run that finds the row `sending` claimed less than [`IN_FLIGHT_SECS`] ago leaves it to
//! the run in flight (and retries later). An older claim was interrupted (the worker died, or
//! the provider's answer was lost): the retry repeats an email with the same idempotency key (Resend answers the first result and sends
//! nothing), and marks an SMS or a call `failed` ("outcome unknown") instead of repeating it:
//! Twilio and Vapi take no idempotency key, so at most once beats twice. Transient provider
//! failures that prove nothing was sent (429, 5xx, open circuit, refused credentials) put the
//! row back and retry the job; a refused recipient fails the row for good.

use agency_cache::Cache;
use agency_domain::{
    Channel, ClientId, OutreachSendId, PermissionMode, ResourceKind, SendOrigin, SendStatus,
    lead_timezone, next_send_window,
};
use agency_providers::{
    CallMetadata, CallRequest, EmailMessage, ProviderError, SendReceipt, SmsMessage, SmsSender,
};
use agency_store::activities::{self, NewActivity};
use agency_store::outreach::{self as store, NewSandboxMessage, SendContext, SendRow, SendUpdate};
use agency_store::sending_resources as resources_store;
use agency_store::twilio_accounts as twilio_accounts_store;
use agency_store::{PgPool, StoreError};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Connection, PgConnection};
use std::sync::Arc;

use super::OutreachEnv;
use super::content::{MessageFacts, compose, email_parts, sms_text};
use super::plan::plan_next_step;
use super::writer::{AiWriter, draft, facts_of};
use crate::ai::write::{Writer, WrittenMessage};
use crate::error::UseCaseError;
use crate::jobs::payload::SendOutreach;
use crate::jobs::{EnqueueError, EnqueueOptions, JobError, enqueue_on};
use crate::pipeline::allocation::{
    counter_name, effective_cap, next_day_window, reserve_under_cap,
};
use crate::pipeline::call_slots::{CallRef, CallSlotGrant, acquire_call_slot, attach_call_id};
use crate::pipeline::enrich::client_timezone;
use crate::pipeline::{check_send, release_call_slot};

/// What one run did with the send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// The provider accepted it.
    Sent {
        /// The provider's id.
        provider_message_id: String,
    },
    /// The just-in-time check refused it (the reason code is recorded).
    Blocked(String),
    /// Outside the window, not due yet, or waiting for a call slot: planned for this time.
    Rescheduled(DateTime<Utc>),
    /// Stored as a co-pilot draft for a member to approve.
    Drafted,
    /// Nothing to do (already final, or a draft waiting for approval).
    Unchanged(SendStatus),
    /// Failed for good (a refused recipient, or an interrupted SMS or call).
    Failed(String),
}

/// A run that claimed a send less than this long ago may still be calling the provider (the
/// job's attempt timeout, with a margin); an older claim was interrupted.
pub const IN_FLIGHT_SECS: i64 = 120;

fn in_flight() -> chrono::Duration {
    chrono::Duration::seconds(IN_FLIGHT_SECS)
}

/// The idempotency key of a send (stable across retries).
pub fn idempotency_key(id: OutreachSendId) -> String {
    format!("outreach-send/{id}")
}

fn store_err(e: StoreError) -> JobError {
    match e {
        StoreError::NotFound => JobError::permanent("outreach send not found"),
        other => JobError::retryable(other),
    }
}

fn pipeline_err(e: UseCaseError) -> JobError {
    e.into()
}

/// A message ready for its provider.
enum Outgoing {
    Email(EmailMessage),
    Sms(SmsMessage),
    Call(CallRequest, uuid::Uuid),
}

/// Runs one send (see the module doc) with the templates' content.
pub async fn run_send(
    pool: &PgPool,
    counters: &dyn Cache,
    env: &OutreachEnv,
    now: DateTime<Utc>,
    client_id: ClientId,
    send_id: OutreachSendId,
) -> Result<SendOutcome, JobError> {
    run(pool, counters, env, None, (now, client_id, send_id)).await
}

/// Runs one send, its content written through the AI gate first where the step uses the
/// default templates (see [`super::writer`]); the templates whenever the AI gives nothing.
pub async fn run_send_with_ai(
    pool: &PgPool,
    env: &OutreachEnv,
    writer: AiWriter<'_>,
    now: DateTime<Utc>,
    client_id: ClientId,
    send_id: OutreachSendId,
) -> Result<SendOutcome, JobError> {
    let written = draft(pool, writer, client_id, send_id, now).await?;
    run(pool, writer.cache, env, written, (now, client_id, send_id)).await
}

async fn run(
    pool: &PgPool,
    counters: &dyn Cache,
    env: &OutreachEnv,
    written: Option<WrittenMessage>,
    (now, client_id, send_id): (DateTime<Utc>, ClientId, OutreachSendId),
) -> Result<SendOutcome, JobError> {
    let mut tx = pool.begin().await?;
    let row = store::lock(&mut tx, client_id, send_id)
        .await
        .map_err(store_err)?;
    let resuming = row.status == SendStatus::Sending;
    if resuming && row.claimed_at.is_some_and(|at| now - at < in_flight()) {
        // Another run claimed it moments ago and may still be talking to the provider.
        return Err(JobError::Retryable(
            "the send is in flight in another run".into(),
        ));
    }
    if resuming && row.channel != Channel::Email {
        let outcome = fail(
            &mut tx,
            &row,
            "interrupted: the outcome is unknown and an SMS or call is never repeated",
        )
        .await?;
        tx.commit().await?;
        return Ok(outcome);
    }
    if !resuming && !matches!(row.status, SendStatus::Scheduled | SendStatus::Approved) {
        return Ok(SendOutcome::Unchanged(row.status));
    }
    if !resuming && row.due_at > now {
        return Ok(SendOutcome::Rescheduled(row.due_at));
    }
    let check = check_send(&mut tx, client_id, row.lead_id, row.channel)
        .await
        .map_err(pipeline_err)?;
    if let Err(blocked) = check {
        let update = SendUpdate {
            status: Some(SendStatus::Blocked),
            blocked_reason: Some(blocked.code().to_owned()),
            ..SendUpdate::default()
        };
        store::update(&mut tx, client_id, send_id, &update)
            .await
            .map_err(store_err)?;
        tx.commit().await?;
        tracing::info!(send_id = %send_id, reason = blocked.code(), "send blocked by the just-in-time check");
        return Ok(SendOutcome::Blocked(blocked.code().to_owned()));
    }
    let ctx = store::context(&mut tx, &row).await.map_err(store_err)?;
    let mode: PermissionMode = ctx.permission_mode.parse().map_err(JobError::permanent)?;
    if row.origin == SendOrigin::Sequence && mode == PermissionMode::Manual && !resuming {
        let update = SendUpdate {
            status: Some(SendStatus::Cancelled),
            blocked_reason: Some("manual_mode".into()),
            ..SendUpdate::default()
        };
        store::update(&mut tx, client_id, send_id, &update)
            .await
            .map_err(store_err)?;
        tx.commit().await?;
        return Ok(SendOutcome::Unchanged(SendStatus::Cancelled));
    }
    if row.channel.is_phone() && !resuming {
        let tz = lead_timezone(
            ctx.phone.as_deref(),
            client_timezone(&ctx.client_timezone).map_err(pipeline_err)?,
        );
        let window = next_send_window(now, tz);
        if window > now {
            return reschedule(tx, &row, window).await;
        }
    }
    let facts = facts_of(&ctx);
    // An approved (possibly edited) draft, or an interrupted email, keeps its stored content;
    // otherwise the AI's content when it wrote this send, else the templates.
    let (subject, body, writer) = match (&row.body, row.status, written) {
        (Some(body), SendStatus::Approved | SendStatus::Sending, _) => {
            (row.subject.clone(), body.clone(), "stored")
        }
        (_, _, Some(w)) => (
            w.content.subject,
            w.content.body,
            match w.writer {
                Writer::Ai => "ai",
                Writer::Template => "template",
            },
        ),
        _ => {
            let composed = compose(
                row.channel,
                row.step_number,
                ctx.subject_template.as_deref(),
                ctx.body_template.as_deref(),
                &facts,
            );
            (composed.subject, composed.body, "template")
        }
    };
    if row.origin == SendOrigin::Sequence
        && mode == PermissionMode::CoPilot
        && row.status == SendStatus::Scheduled
    {
        let update = SendUpdate {
            status: Some(SendStatus::AwaitingApproval),
            subject,
            body: Some(body),
            ..SendUpdate::default()
        };
        store::update(&mut tx, client_id, send_id, &update)
            .await
            .map_err(store_err)?;
        tx.commit().await?;
        return Ok(SendOutcome::Drafted);
    }
    // A send without a reservation (a follow-up) takes a slot of a resource's daily counter
    // now and goes from that resource; when every one is full it waits for the next day's
    // window.
    let spent = if resuming {
        None
    } else {
        match spend_slot(&mut tx, counters, &row, &ctx, now).await? {
            Slot::Taken(spent) => spent,
            Slot::Full(next) => return reschedule(tx, &row, next).await,
        }
    };
    let ctx = match &spent {
        Some(slot) => SendContext {
            spare_resource_value: Some(slot.value.clone()),
            ..ctx
        },
        None => ctx,
    };
    let outgoing = match build_outgoing(env, &row, &ctx, &facts, subject.as_deref(), &body) {
        Ok(outgoing) => outgoing,
        Err(reason) => return refuse(counters, spent, tx, &row, reason).await,
    };
    let own_sms = match &outgoing {
        Outgoing::Sms(_) => match own_sms_sender(&mut tx, env, client_id).await? {
            Ok(sender) => sender,
            Err(reason) => return refuse(counters, spent, tx, &row, reason).await,
        },
        _ => None,
    };
    let mut outgoing = outgoing;
    // Voice takes no daily-counter slot (`spent` is `None`), only a call slot.
    if let Outgoing::Call(_, slot) = &mut outgoing {
        match acquire_call_slot(&mut tx, client_id, row.lead_id, now)
            .await
            .map_err(pipeline_err)?
        {
            CallSlotGrant::Granted(granted) => *slot = granted.id,
            CallSlotGrant::Wait { retry_at } => return reschedule(tx, &row, retry_at).await,
        }
    }
    let claim = SendUpdate {
        status: Some(SendStatus::Sending),
        subject: subject.clone(),
        body: Some(body.clone()),
        claim: Some(now),
        ..SendUpdate::default()
    };
    let claimed = async {
        store::update(&mut tx, client_id, send_id, &claim)
            .await
            .map_err(store_err)?;
        tx.commit().await.map_err(JobError::from)
    }
    .await;
    if let Err(e) = claimed {
        // Nothing was claimed: the slot goes back.
        give_back(counters, spent).await;
        return Err(e);
    }

    let result = match &outgoing {
        Outgoing::Email(m) => env.providers.email.send_email(m).await,
        Outgoing::Sms(m) => match &own_sms {
            Some(own) => own.send_sms(m).await,
            None => env.providers.sms.send_sms(m).await,
        },
        Outgoing::Call(c, _) => env.providers.voice.place_call(c).await,
    };
    match result {
        Ok(receipt) => {
            let content = SentContent {
                subject,
                body: &body,
                writer,
            };
            record_sent(pool, now, &row, &outgoing, content, &receipt).await
        }
        Err(error) => record_failure(pool, &row, &outgoing, error).await,
    }
}

/// A slot taken on a resource's daily counter (given back when the claim does not commit).
struct SpentSlot {
    name: String,
    tz: chrono_tz::Tz,
    at: DateTime<Utc>,
    /// The domain or number whose slot it is.
    value: String,
}

/// Whether a send may use a resource today.
enum Slot {
    /// Yes (and the slot it took, if it had no reservation).
    Taken(Option<SpentSlot>),
    /// Every resource of its kind is at its daily cap: wait for this window.
    Full(DateTime<Utc>),
}

/// Takes one slot of the daily counter of a resource for an unreserved email or SMS (the
/// allocation reserved the first touch's slot already; the same counters, SPEC 3.2 caps): the
/// lead's allocated resource (or the oldest) first, then any other verified, active resource
/// of the kind with room, oldest first.
async fn spend_slot(
    conn: &mut PgConnection,
    counters: &dyn Cache,
    row: &SendRow,
    ctx: &SendContext,
    now: DateTime<Utc>,
) -> Result<Slot, JobError> {
    let kind = match row.channel {
        Channel::Email => ResourceKind::EmailDomain,
        Channel::Sms => ResourceKind::SmsNumber,
        _ => return Ok(Slot::Taken(None)),
    };
    if row.resource_id.is_some() || ctx.resource_value.is_some() {
        return Ok(Slot::Taken(None));
    }
    let Some(spare) = ctx.spare_resource_id else {
        return Ok(Slot::Taken(None));
    };
    let mut candidates: Vec<_> = resources_store::resources(&mut *conn, row.client_id)
        .await
        .map_err(store_err)?
        .into_iter()
        .filter(|r| r.kind == kind && r.active && r.is_verified())
        .collect();
    // Stable: the spare first, the rest keep their oldest-first order.
    candidates.sort_by_key(|r| r.id != spare);
    let client_tz = client_timezone(&ctx.client_timezone).map_err(pipeline_err)?;
    let day = now.with_timezone(&client_tz).date_naive();
    for resource in candidates {
        let cap = i64::from(effective_cap(&resource, day));
        let name = counter_name(kind, resource.id);
        let kept = reserve_under_cap(counters, &name, 1, cap, client_tz, now)
            .await
            .map_err(|e| pipeline_err(e.into()))?;
        if kept == 1 {
            return Ok(Slot::Taken(Some(SpentSlot {
                name,
                tz: client_tz,
                at: now,
                value: resource.value,
            })));
        }
    }
    let tz = if row.channel.is_phone() {
        lead_timezone(ctx.phone.as_deref(), client_tz)
    } else {
        client_tz
    };
    Ok(Slot::Full(next_day_window(now, client_tz, tz)))
}

/// Gives a slot back (best effort: a lost give-back only lowers that day's capacity).
async fn give_back(counters: &dyn Cache, spent: Option<SpentSlot>) {
    if let Some(s) = spent
        && let Err(e) = counters.incr_daily(&s.name, -1, s.tz, s.at).await
    {
        tracing::warn!(counter = %s.name, error = %e, "a resource slot could not be given back");
    }
}

/// Gives the slot back and marks the row blocked with `reason`.
async fn refuse(
    counters: &dyn Cache,
    spent: Option<SpentSlot>,
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    row: &SendRow,
    reason: &str,
) -> Result<SendOutcome, JobError> {
    give_back(counters, spent).await;
    block(tx, row, reason).await
}

/// Marks the row blocked with `reason` (nothing is sent; the claim transaction commits).
async fn block(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    row: &SendRow,
    reason: &str,
) -> Result<SendOutcome, JobError> {
    let update = SendUpdate {
        status: Some(SendStatus::Blocked),
        blocked_reason: Some(reason.to_owned()),
        ..SendUpdate::default()
    };
    store::update(&mut tx, row.client_id, row.id, &update)
        .await
        .map_err(store_err)?;
    tx.commit().await?;
    Ok(SendOutcome::Blocked(reason.to_owned()))
}

/// The sender of the client's own Twilio account when it has one (and the worker can open
/// it), `None` for the platform's; `Err` with a block reason when its credentials are stored
/// but cannot be opened (never falls back to another account).
async fn own_sms_sender(
    conn: &mut PgConnection,
    env: &OutreachEnv,
    client_id: ClientId,
) -> Result<Result<Option<Arc<dyn SmsSender>>, &'static str>, JobError> {
    let Some(accounts) = &env.providers.client_sms else {
        return Ok(Ok(None));
    };
    let Some(account) = twilio_accounts_store::get(&mut *conn, client_id)
        .await
        .map_err(store_err)?
    else {
        return Ok(Ok(None));
    };
    let sealed = crate::twilio_accounts::sealed_of(&account);
    let owner = crate::twilio_accounts::seal_owner(client_id, &account.account_sid);
    match accounts.sender(&account.account_sid, &sealed, &owner) {
        Ok(sender) => Ok(Ok(Some(sender as Arc<dyn SmsSender>))),
        Err(e) => {
            tracing::error!(client_id = %client_id, error = %e, "client Twilio account unusable");
            Ok(Err("client_twilio_credentials_unusable"))
        }
    }
}

/// Moves a row to `at` and enqueues its job for then (the claim transaction commits).
async fn reschedule(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    row: &SendRow,
    at: DateTime<Utc>,
) -> Result<SendOutcome, JobError> {
    let update = SendUpdate {
        due_at: Some(at),
        ..SendUpdate::default()
    };
    store::update(&mut tx, row.client_id, row.id, &update)
        .await
        .map_err(store_err)?;
    enqueue_send(&mut tx, row.client_id, row.id, at).await?;
    tx.commit().await?;
    Ok(SendOutcome::Rescheduled(at))
}

/// Enqueues the send's job for `at` on the caller's connection, once per (send, due time): a
/// second enqueue for the same time (the sweep finding a send whose job is queued) is a no-op,
/// inside a savepoint so the caller's transaction survives it. Answers whether it enqueued.
pub async fn enqueue_send(
    conn: &mut PgConnection,
    client_id: ClientId,
    send_id: OutreachSendId,
    at: DateTime<Utc>,
) -> Result<bool, JobError> {
    let (job, opts) = send_job(client_id, send_id, at);
    let mut savepoint = conn.begin().await?;
    match enqueue_on(&mut savepoint, &job, opts).await {
        Ok(_) => {
            savepoint.commit().await?;
            Ok(true)
        }
        Err(EnqueueError::Duplicate { .. }) => {
            savepoint.rollback().await?;
            Ok(false)
        }
        Err(other) => Err(JobError::retryable(other)),
    }
}

/// Enqueues the job of a send planned in this same transaction for `at`: no job can hold its
/// key yet, so it needs no savepoint (one statement instead of three).
pub async fn enqueue_planned(
    conn: &mut PgConnection,
    client_id: ClientId,
    send_id: OutreachSendId,
    at: DateTime<Utc>,
) -> Result<(), JobError> {
    let (job, opts) = send_job(client_id, send_id, at);
    enqueue_on(conn, &job, opts)
        .await
        .map_err(JobError::retryable)?;
    Ok(())
}

/// The job of a send due at `at`, keyed by (send, due time).
fn send_job(
    client_id: ClientId,
    send_id: OutreachSendId,
    at: DateTime<Utc>,
) -> (SendOutreach, EnqueueOptions) {
    let job = SendOutreach {
        client_id: client_id.into_uuid(),
        send_id: send_id.into_uuid(),
    };
    let opts = EnqueueOptions {
        run_at: Some(at),
        idempotency_key: Some(format!("{send_id}@{}", at.timestamp())),
        ..EnqueueOptions::default()
    };
    (job, opts)
}

async fn fail(
    conn: &mut PgConnection,
    row: &SendRow,
    reason: &str,
) -> Result<SendOutcome, JobError> {
    let update = SendUpdate {
        status: Some(SendStatus::Failed),
        last_error: Some(reason.to_owned()),
        ..SendUpdate::default()
    };
    store::update(conn, row.client_id, row.id, &update)
        .await
        .map_err(store_err)?;
    tracing::warn!(send_id = %row.id, reason, "send failed");
    Ok(SendOutcome::Failed(reason.to_owned()))
}

fn message_id(send: OutreachSendId, domain: &str) -> String {
    format!("<{send}@{domain}>")
}

/// The sandbox stands in with this domain and number when the client has none.
const SANDBOX_DOMAIN: &str = "sandbox.agencyos.test";
const SANDBOX_NUMBER: &str = "+61400000000";

fn build_outgoing(
    env: &OutreachEnv,
    row: &SendRow,
    ctx: &SendContext,
    facts: &MessageFacts,
    subject: Option<&str>,
    body: &str,
) -> Result<Outgoing, &'static str> {
    let key = idempotency_key(row.id);
    match row.channel {
        Channel::Email => {
            let domain = ctx
                .resource_value
                .clone()
                .or_else(|| ctx.spare_resource_value.clone())
                .or_else(|| {
                    env.providers
                        .email
                        .is_sandbox()
                        .then(|| SANDBOX_DOMAIN.to_owned())
                })
                .ok_or("no_email_domain")?;
            let unsubscribe_url = env.links.unsubscribe_url(row.lead_id);
            let (text, html) = email_parts(body, facts, &unsubscribe_url);
            let references: Vec<String> = ctx
                .previous_email_sends
                .iter()
                .map(|id| message_id(OutreachSendId::from_uuid(*id), &domain))
                .collect();
            Ok(Outgoing::Email(EmailMessage {
                from: format!(
                    "{} <outreach@{domain}>",
                    ctx.client_name.replace(['<', '>', '"'], "")
                ),
                to: ctx.email.clone(),
                reply_to: ctx.reply_to_email.clone(),
                subject: subject.unwrap_or_default().to_owned(),
                text,
                html,
                message_id: Some(message_id(row.id, &domain)),
                in_reply_to: references.last().cloned(),
                references,
                unsubscribe_url: Some(unsubscribe_url),
                tags: vec![
                    ("send_id".into(), row.id.to_string()),
                    ("client_id".into(), row.client_id.to_string()),
                ],
                idempotency_key: key,
            }))
        }
        Channel::Sms => {
            let to = ctx.phone.clone().ok_or("no_phone")?;
            let from = ctx
                .resource_value
                .clone()
                .or_else(|| ctx.spare_resource_value.clone())
                .or_else(|| {
                    env.providers
                        .sms
                        .is_sandbox()
                        .then(|| SANDBOX_NUMBER.to_owned())
                })
                .ok_or("no_sms_number")?;
            Ok(Outgoing::Sms(SmsMessage {
                from,
                to,
                body: sms_text(body, !ctx.sms_sent_before),
                status_callback: Some(env.links.twilio_status_callback()),
                idempotency_key: key,
            }))
        }
        Channel::Voice => {
            let number = ctx.phone.clone().ok_or("no_phone")?;
            let variables = [
                ("first_name", &facts.lead.first_name),
                ("company", &facts.company.name),
                ("client_name", &facts.client.name),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
            Ok(Outgoing::Call(
                CallRequest {
                    customer_number: number,
                    customer_name: Some(facts.lead.full_name.clone()).filter(|n| !n.is_empty()),
                    first_message: body.to_owned(),
                    variables,
                    metadata: CallMetadata {
                        client_id: row.client_id.into_uuid(),
                        campaign_id: row.campaign_id.into_uuid(),
                        lead_id: row.lead_id.into_uuid(),
                    },
                    idempotency_key: key,
                },
                uuid::Uuid::nil(),
            ))
        }
        Channel::Linkedin | Channel::Mail => Err("channel_not_supported"),
    }
}

fn sandbox_record(row: &SendRow, outgoing: &Outgoing, receipt: &SendReceipt) -> NewSandboxMessage {
    let (from, to, subject, body, headers) = match outgoing {
        Outgoing::Email(m) => (
            Some(m.from.clone()),
            m.to.clone(),
            Some(m.subject.clone()),
            m.text.clone(),
            json!(m.headers()),
        ),
        Outgoing::Sms(m) => (
            Some(m.from.clone()),
            m.to.clone(),
            None,
            m.body.clone(),
            json!({}),
        ),
        Outgoing::Call(c, _) => (
            None,
            c.customer_number.clone(),
            None,
            c.first_message.clone(),
            json!({ "metadata": c.metadata }),
        ),
    };
    NewSandboxMessage {
        send_id: row.id,
        campaign_id: row.campaign_id,
        lead_id: row.lead_id,
        channel: row.channel,
        provider: receipt.provider.as_str().to_owned(),
        provider_message_id: receipt.provider_message_id.clone(),
        from_address: from,
        to_address: to,
        subject,
        body,
        headers,
    }
}

fn preview(body: &str) -> String {
    body.chars().take(160).collect()
}

#[allow(clippy::too_many_arguments)]
/// What was sent, and who wrote it (`ai`, `template`, or `stored` for an approved draft).
struct SentContent<'a> {
    subject: Option<String>,
    body: &'a str,
    writer: &'static str,
}

async fn record_sent(
    pool: &PgPool,
    now: DateTime<Utc>,
    row: &SendRow,
    outgoing: &Outgoing,
    content: SentContent<'_>,
    receipt: &SendReceipt,
) -> Result<SendOutcome, JobError> {
    let SentContent {
        subject,
        body,
        writer,
    } = content;
    let mut tx = pool.begin().await?;
    let update = SendUpdate {
        status: Some(SendStatus::Sent),
        provider: Some(receipt.provider.as_str().to_owned()),
        provider_message_id: Some(receipt.provider_message_id.clone()),
        sent: true,
        ..SendUpdate::default()
    };
    let recorded = store::update_if(&mut tx, row.client_id, row.id, SendStatus::Sending, &update)
        .await
        .map_err(store_err)?;
    if recorded.is_none() {
        // Another run recorded it already.
        let current = store::lock(&mut tx, row.client_id, row.id)
            .await
            .map_err(store_err)?;
        return Ok(SendOutcome::Unchanged(current.status));
    }
    let action = if row.channel == Channel::Voice {
        "call_initiated"
    } else {
        "sent"
    };
    let text = match outgoing {
        Outgoing::Sms(m) => m.body.clone(),
        _ => body.to_owned(),
    };
    let snapshot = json!({
        "subject": subject,
        "preview": preview(&text),
        "word_count": text.split_whitespace().count(),
        "cta_type": "meeting_request",
        "writer": writer,
    });
    let activity = NewActivity {
        campaign_id: Some(row.campaign_id.into_uuid()),
        lead_id: Some(row.lead_id.into_uuid()),
        channel: row.channel.as_str().to_owned(),
        action: action.to_owned(),
        provider_message_id: Some(receipt.provider_message_id.clone()),
        sequence_step: Some(row.step_number),
        subject: subject.clone(),
        content_preview: Some(preview(&text)),
        intent: None,
        metadata: json!({
            "send_id": row.id,
            "provider": receipt.provider.as_str(),
            "sandbox": receipt.sandbox,
            "origin": row.origin.as_str(),
        }),
        led_to_booking: false,
    };
    activities::insert_with_snapshot(&mut *tx, row.client_id, &activity, Some(&snapshot))
        .await
        .map_err(store_err)?;
    if receipt.sandbox {
        store::record_sandbox_message(
            &mut *tx,
            row.client_id,
            &sandbox_record(row, outgoing, receipt),
        )
        .await
        .map_err(store_err)?;
    }
    if let Outgoing::Call(_, slot) = outgoing {
        attach_call_id(&mut *tx, row.client_id, *slot, &receipt.provider_message_id)
            .await
            .map_err(pipeline_err)?;
    }
    let next = if row.origin == SendOrigin::Sequence {
        plan_next_step(&mut tx, row, now).await?
    } else {
        None
    };
    store::advance_lead(&mut *tx, row.client_id, row.lead_id, next)
        .await
        .map_err(store_err)?;
    tx.commit().await?;
    tracing::info!(send_id = %row.id, channel = row.channel.as_str(), sandbox = receipt.sandbox, "outreach sent");
    Ok(SendOutcome::Sent {
        provider_message_id: receipt.provider_message_id.clone(),
    })
}

async fn record_failure(
    pool: &PgPool,
    row: &SendRow,
    outgoing: &Outgoing,
    error: ProviderError,
) -> Result<SendOutcome, JobError> {
    let message = error.to_string();
    let mut tx = pool.begin().await?;
    let slot = match outgoing {
        Outgoing::Call(_, slot) => Some(*slot),
        _ => None,
    };
    let nothing_sent = matches!(
        error,
        ProviderError::RateLimited { .. }
            | ProviderError::Upstream { .. }
            | ProviderError::CircuitOpen { .. }
            | ProviderError::Unauthorized { .. }
            | ProviderError::QuotaExhausted { .. }
            | ProviderError::Misconfigured { .. }
    );
    let ambiguous = matches!(
        error,
        ProviderError::Transport { .. } | ProviderError::InvalidResponse { .. }
    );
    if nothing_sent {
        // Back to its pending state: the retry checks again and sends then.
        let back = if row.decided_at.is_some() {
            SendStatus::Approved
        } else {
            SendStatus::Scheduled
        };
        let update = SendUpdate {
            status: Some(back),
            last_error: Some(message.clone()),
            ..SendUpdate::default()
        };
        store::update(&mut tx, row.client_id, row.id, &update)
            .await
            .map_err(store_err)?;
        release(&mut tx, row, slot).await?;
        tx.commit().await?;
        return Err(JobError::Retryable(message));
    }
    if ambiguous && row.channel == Channel::Email {
        // The key makes a repeat safe: keep the claim and retry with the same key.
        let update = SendUpdate {
            last_error: Some(message.clone()),
            ..SendUpdate::default()
        };
        store::update(&mut tx, row.client_id, row.id, &update)
            .await
            .map_err(store_err)?;
        tx.commit().await?;
        return Err(JobError::Retryable(message));
    }
    let reason = if ambiguous {
        format!("outcome unknown, not repeated: {message}")
    } else {
        message
    };
    let outcome = fail(&mut tx, row, &reason).await?;
    if !ambiguous {
        release(&mut tx, row, slot).await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

async fn release(
    conn: &mut PgConnection,
    row: &SendRow,
    slot: Option<uuid::Uuid>,
) -> Result<(), JobError> {
    if let Some(slot) = slot {
        release_call_slot(conn, row.client_id, CallRef::Slot(slot))
            .await
            .map_err(pipeline_err)?;
    }
    Ok(())
}
