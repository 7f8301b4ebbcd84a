//! Erasure of one person (the right to be forgotten): every tenant's rows holding the email
//! address or phone number are anonymised in place, in the caller's transaction, and the
//! identity is kept only as a SHA-256 digest (`erased_identities`), which re-suppresses the
//! address if a lead with it is ever created again (a trigger).

use sqlx::PgConnection;
use uuid::Uuid;

use crate::StoreError;

/// How many rows of each table an erasure changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ErasedCounts {
    /// Leads anonymised (and deleted from lists).
    pub leads: u64,
    /// Replies whose sender and text were erased.
    pub replies: u64,
    /// Activities whose content, subject and call transcript were erased.
    pub activities: u64,
    /// Planned or sent messages whose content was erased.
    pub outreach_sends: u64,
    /// Sandbox outbox messages erased.
    pub sandbox_messages: u64,
    /// Stored provider webhook bodies erased.
    pub webhook_events: u64,
    /// Plain suppression entries replaced by the digest.
    pub suppression: u64,
    /// Audit entries whose before/after images were erased.
    pub audit_log: u64,
    /// Outbound webhook deliveries (to the clients' systems) whose payload named the person.
    pub webhook_deliveries: u64,
}

/// The forms an address takes in stored request bodies: as is, and form-encoded.
fn body_forms(value: &str) -> Vec<String> {
    let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut forms = vec![value.to_owned()];
    if encoded != value {
        forms.push(encoded);
    }
    forms
}

/// Erases `email` (lowercased) and/or `phone` (E.164) everywhere; `requested_by` is the
/// platform admin. Answers the leads erased (their ids) and the counts.
pub async fn erase(
    conn: &mut PgConnection,
    email: Option<&str>,
    phone: Option<&str>,
    requested_by: Option<Uuid>,
) -> Result<(Vec<Uuid>, ErasedCounts), StoreError> {
    let mut counts = ErasedCounts::default();
    crate::activities::allow_redaction(&mut *conn).await?;
    let leads: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM leads
          WHERE ($1::text IS NOT NULL AND (email = $1 OR lower(personal_email) = $1))
             OR ($2::text IS NOT NULL AND phone = $2)
          ORDER BY id FOR UPDATE",
    )
    .bind(email)
    .bind(phone)
    .fetch_all(&mut *conn)
    .await?;
    counts.leads = sqlx::query(
        "UPDATE leads SET email = 'erased-' || id || '@erased.invalid', personal_email = NULL,
                phone = NULL, first_name = NULL, last_name = NULL, title = NULL,
                linkedin_url = NULL, employment_start_date = NULL,
                status = CASE WHEN status IN ('converted', 'bounced') THEN status ELSE 'unsubscribed' END,
                next_action_at = NULL, deleted_at = coalesce(deleted_at, now()), updated_at = now()
          WHERE id = ANY($1)",
    )
    .bind(&leads)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let reply_events: Vec<Option<Uuid>> = sqlx::query_scalar(
        "UPDATE replies SET from_address = 'erased', content = '', subject = NULL, extracted = '{}',
                updated_at = now()
          WHERE lead_id = ANY($1) OR from_address = $2 OR from_address = $3
      RETURNING webhook_event_id",
    )
    .bind(&leads)
    .bind(email)
    .bind(phone)
    .fetch_all(&mut *conn)
    .await?;
    counts.replies = reply_events.len() as u64;
    counts.activities = sqlx::query(
        "UPDATE activities SET content_preview = NULL, subject = NULL, content_snapshot = NULL,
                metadata = metadata - 'transcript' - 'summary' - 'recording_url'
          WHERE lead_id = ANY($1)",
    )
    .bind(&leads)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    counts.outreach_sends = sqlx::query(
        "UPDATE outreach_sends SET subject = NULL, body = NULL,
                status = CASE WHEN status IN ('scheduled', 'awaiting_approval', 'approved')
                              THEN 'cancelled' ELSE status END,
                blocked_reason = CASE WHEN status IN ('scheduled', 'awaiting_approval', 'approved')
                                      THEN 'erased' ELSE blocked_reason END,
                updated_at = now()
          WHERE lead_id = ANY($1)",
    )
    .bind(&leads)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    counts.sandbox_messages = sqlx::query(
        "UPDATE sandbox_messages SET to_address = 'erased', subject = NULL, body = '', headers = '{}'
          WHERE lead_id = ANY($1) OR to_address = $2 OR to_address = $3",
    )
    .bind(&leads)
    .bind(email)
    .bind(phone)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let mut forms = Vec::new();
    for value in [email, phone].into_iter().flatten() {
        forms.extend(body_forms(value));
    }
    let reply_events: Vec<Uuid> = reply_events.into_iter().flatten().collect();
    counts.webhook_events = sqlx::query(
        "UPDATE webhook_events SET raw_body = '\\x'::bytea, headers = '{}',
                last_error = coalesce(last_error, 'body erased (erasure request)')
          WHERE id = ANY($1)
             OR EXISTS (SELECT 1 FROM unnest($2::text[]) f
                         WHERE position(convert_to(f, 'UTF8') IN raw_body) > 0)",
    )
    .bind(&reply_events)
    .bind(&forms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    counts.suppression =
        sqlx::query("DELETE FROM global_suppression WHERE email = $1 OR phone = $2")
            .bind(email)
            .bind(phone)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    counts.audit_log = sqlx::query(
        "UPDATE audit_log SET before = CASE WHEN before IS NULL THEN NULL ELSE '{\"erased\": true}'::jsonb END,
                after = CASE WHEN after IS NULL THEN NULL ELSE '{\"erased\": true}'::jsonb END
          WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) f
                         WHERE coalesce(before::text, '') || coalesce(after::text, '') LIKE '%' || f || '%')",
    )
    .bind(&forms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // What we told the clients' systems about the person: the payloads we keep (the
    // clients' own copies are theirs to erase).
    counts.webhook_deliveries = sqlx::query(
        "UPDATE webhook_deliveries SET payload = '{\"erased\": true}'::jsonb,
                last_response_excerpt = NULL
          WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) f WHERE payload::text LIKE '%' || f || '%')
             OR payload::text LIKE ANY (SELECT '%' || l::text || '%' FROM unnest($2::uuid[]) l)",
    )
    .bind(&forms)
    .bind(&leads)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    for (kind, value) in [("email", email), ("phone", phone)] {
        if let Some(value) = value {
            sqlx::query(
                "INSERT INTO erased_identities (kind, digest, requested_by)
                 VALUES ($1, identity_digest($2), $3)
                 ON CONFLICT (kind, digest) DO UPDATE SET erased_at = now(), requested_by = $3",
            )
            .bind(kind)
            .bind(value)
            .bind(requested_by)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok((leads, counts))
}
