//! A person's request to be forgotten (Australian Privacy Act; GDPR for overseas leads), as a
//! platform admin files it: their email and/or phone erased or anonymised in every tenant in
//! one transaction (leads, replies, call transcripts and message content, stored webhook
//! bodies, the sandbox outbox, audit images; see `agency_store::erasure`), their cached
//! enrichment deleted, and the identity kept only as a digest so that they are never
//! contacted again. The erasure itself is audited with digests, never the address.

use agency_cache::Cache;
use agency_domain::UserId;
use agency_store::audit::{self, AuditEntry};
use agency_store::erasure::{self, ErasedCounts};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::Services;
use crate::error::UseCaseError;
use crate::pipeline::waterfall::enrichment_cache_key;

/// What an erasure did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    /// The audit row recording it.
    pub erasure_id: uuid::Uuid,
    /// SHA-256 of the normalised email, when one was given.
    pub email_digest: Option<String>,
    /// SHA-256 of the E.164 phone, when one was given.
    pub phone_digest: Option<String>,
    /// Rows changed per table.
    pub erased: ErasedCounts,
}

fn digest(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Erases `email` and/or `phone` (as typed: normalised here; at least one), by `admin`.
pub async fn erase_person(
    services: &Services,
    admin: UserId,
    request_id: Option<String>,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<ErasureReport, UseCaseError> {
    let (email, phone) = crate::suppression::parse_identity(
        email,
        phone,
        "Give the email address or the phone number of the person to erase.",
    )?;
    let email_text = email.as_ref().map(|e| e.as_str().to_owned());
    let mut tx = services.pool.begin().await?;
    let (_leads, erased) = erasure::erase(
        &mut tx,
        email_text.as_deref(),
        phone.as_deref(),
        Some(admin.into_uuid()),
    )
    .await?;
    let report_digests = (
        email_text.as_deref().map(digest),
        phone.as_deref().map(digest),
    );
    let erasure_id = uuid::Uuid::now_v7();
    let entry = AuditEntry::user(None, admin, "person.erased", "erased_identities")
        .entity(erasure_id)
        .after(json!({
            "email_digest": report_digests.0,
            "phone_digest": report_digests.1,
            "erased": erased,
        }))
        .request_id(request_id);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    if let Some(email) = &email {
        // The 90-day enrichment cache: best effort after the commit (it expires anyway).
        if let Err(e) = services.cache.delete(&enrichment_cache_key(email)).await {
            tracing::warn!(error = %e, "erased person's enrichment cache entry not deleted");
        }
    }
    Ok(ErasureReport {
        erasure_id,
        email_digest: report_digests.0,
        phone_digest: report_digests.1,
        erased,
    })
}
