//! Co-pilot approvals and manual sends. A co-pilot campaign's step becomes a draft
//! (`awaiting_approval`) when it is due; a member lists the drafts, edits one, approves it (it
//! is enqueued and goes through the same just-in-time check as any send) or rejects it. A
//! manual send (`POST .../leads/{id}/send {channel}`) plans a one-off send for now and enqueues
//! it. Every change is audited in its transaction.

use agency_domain::{
    Channel, ClientId, LeadId, OutreachSendId, SendOrigin, SendStatus, is_single_gsm7_segment,
};
use agency_store::outreach::{self as store, NewSend, SendUpdate};
use agency_store::outreach_approvals::{self as approvals, Approval};
use agency_store::{PgPool, StoreError};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::send::enqueue_send;
use crate::usecase::{Actor, FieldError, UseCaseError, audit, clean_text};

/// `PUT .../approvals/{id}`: the edited draft (absent fields keep their value).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalEdit {
    /// New subject (email).
    pub subject: Option<String>,
    /// New body.
    pub body: Option<String>,
}

/// `POST .../leads/{id}/send`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualSend {
    /// `email`, `sms` or `voice`.
    pub channel: String,
}

fn queue_err(e: crate::jobs::JobError) -> UseCaseError {
    UseCaseError::Store(StoreError::Jobs(e.to_string()))
}

/// A page of the client's drafts waiting for approval.
pub async fn list(
    pool: &PgPool,
    client_id: ClientId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Approval>, i64), UseCaseError> {
    let mut conn = pool.acquire().await?;
    Ok(approvals::pending(&mut conn, client_id, limit, offset).await?)
}

/// Locks a draft of the client that still waits for approval (404 elsewhere, 409 when decided).
async fn lock_draft(
    conn: &mut sqlx::PgConnection,
    client_id: ClientId,
    id: Uuid,
) -> Result<store::SendRow, UseCaseError> {
    let row = store::lock(conn, client_id, OutreachSendId::from_uuid(id))
        .await
        .map_err(UseCaseError::not_found_as("approval"))?;
    if row.status != SendStatus::AwaitingApproval {
        return Err(UseCaseError::Conflict {
            code: "not_awaiting_approval",
            message: format!(
                "This message is {}, not waiting for approval.",
                row.status.as_str().replace('_', " ")
            ),
        });
    }
    Ok(row)
}

/// Approves a draft: it is enqueued now and sent after the just-in-time check.
pub async fn approve(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Approval, UseCaseError> {
    decide(pool, actor, client_id, id, now, SendStatus::Approved).await
}

/// Rejects a draft: it is never sent.
pub async fn reject(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Approval, UseCaseError> {
    decide(pool, actor, client_id, id, now, SendStatus::Rejected).await
}

async fn decide(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: Uuid,
    now: DateTime<Utc>,
    to: SendStatus,
) -> Result<Approval, UseCaseError> {
    let mut tx = pool.begin().await?;
    let row = lock_draft(&mut tx, client_id, id).await?;
    let update = SendUpdate {
        status: Some(to),
        due_at: (to == SendStatus::Approved).then_some(now.max(row.due_at)),
        decided_by: actor.user_id,
        decided: true,
        ..SendUpdate::default()
    };
    let updated = store::update(&mut tx, client_id, row.id, &update).await?;
    if to == SendStatus::Approved {
        enqueue_send(&mut tx, client_id, row.id, updated.due_at)
            .await
            .map_err(queue_err)?;
    }
    let action = if to == SendStatus::Approved {
        "outreach.approved"
    } else {
        "outreach.rejected"
    };
    audit(
        &mut tx,
        actor,
        client_id,
        action,
        ("outreach_send", Some(id)),
        Some(json!({"status": row.status.as_str()})),
        Some(json!({"status": to.as_str()})),
    )
    .await?;
    let answer = approvals::one(&mut tx, client_id, id).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Edits a draft's subject and body (it stays waiting for approval).
pub async fn edit(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: Uuid,
    input: &ApprovalEdit,
) -> Result<Approval, UseCaseError> {
    let mut errors = Vec::new();
    let subject = clean_text("subject", input.subject.as_deref(), 1_000, &mut errors);
    let body = clean_text("body", input.body.as_deref(), 50_000, &mut errors);
    if input.body.is_some() && body.is_none() && errors.is_empty() {
        errors.push(FieldError::new("body", "must not be empty"));
    }
    if !errors.is_empty() {
        return Err(UseCaseError::invalid(errors));
    }
    let mut tx = pool.begin().await?;
    let row = lock_draft(&mut tx, client_id, id).await?;
    if row.channel == Channel::Sms
        && let Some(text) = &body
        && !is_single_gsm7_segment(text)
        && text.encode_utf16().count() > 70
    {
        return Err(UseCaseError::field(
            "body",
            "an SMS must fit one segment (160 GSM-7 or 70 other characters)",
        ));
    }
    let update = SendUpdate {
        subject: subject.clone(),
        body: body.clone(),
        ..SendUpdate::default()
    };
    store::update(&mut tx, client_id, row.id, &update).await?;
    audit(
        &mut tx,
        actor,
        client_id,
        "outreach.draft_edited",
        ("outreach_send", Some(id)),
        Some(json!({"subject": row.subject, "body": row.body})),
        Some(json!({"subject": subject.or(row.subject), "body": body.or(row.body)})),
    )
    .await?;
    let answer = approvals::one(&mut tx, client_id, id).await?;
    tx.commit().await?;
    Ok(answer)
}

/// Plans and enqueues a manual send to a lead on `channel` (email, SMS or voice), due now; the
/// send path checks it like any other. 404 for a lead elsewhere, 422 for a lead without a
/// campaign or an unsupported channel.
pub async fn manual_send(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    lead_id: LeadId,
    input: &ManualSend,
    now: DateTime<Utc>,
) -> Result<Approval, UseCaseError> {
    let channel: Channel =
        input
            .channel
            .trim()
            .parse()
            .map_err(|e: agency_domain::ParseEnumError| {
                UseCaseError::field("channel", e.to_string())
            })?;
    if !matches!(channel, Channel::Email | Channel::Sms | Channel::Voice) {
        return Err(UseCaseError::field(
            "channel",
            "only email, sms and voice can be sent",
        ));
    }
    let mut tx = pool.begin().await?;
    let campaign = approvals::lead_campaign(&mut tx, client_id, lead_id)
        .await
        .map_err(UseCaseError::not_found_as("lead"))?
        .ok_or_else(|| UseCaseError::field("lead_id", "the lead is not in a campaign"))?;
    let new = NewSend {
        campaign_id: campaign,
        lead_id,
        step_number: 0,
        channel,
        origin: SendOrigin::Manual,
        due_at: now,
        resource_id: None,
    };
    let id = store::plan(&mut *tx, client_id, &new)
        .await?
        .ok_or(UseCaseError::Conflict {
            code: "already_planned",
            message: "This send is planned already.".into(),
        })?;
    enqueue_send(&mut tx, client_id, id, now)
        .await
        .map_err(queue_err)?;
    audit(
        &mut tx,
        actor,
        client_id,
        "outreach.manual_send",
        ("outreach_send", Some(id.into_uuid())),
        None,
        Some(json!({"lead_id": lead_id, "channel": channel.as_str()})),
    )
    .await?;
    let answer = approvals::one(&mut tx, client_id, id.into_uuid()).await?;
    tx.commit().await?;
    Ok(answer)
}
