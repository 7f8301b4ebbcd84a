//! The platform-wide suppression list as platform admins manage it: list (search by email or
//! phone), add (a normalised email and/or E.164 phone; an address already listed is a 409),
//! remove; each change audited in its transaction.

use agency_domain::{Email, Phone, SuppressionId, SuppressionReason, UserId};
use agency_store::audit::{self, AuditEntry};
use agency_store::suppression::{self, NewSuppression};
use serde_json::json;

pub use agency_store::suppression::SuppressionRow;

use crate::Services;
use crate::error::{FieldError, UseCaseError};

/// One page of the list (`limit`, `offset`), newest first, and the total.
pub async fn list(
    services: &Services,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SuppressionRow>, i64), UseCaseError> {
    let mut conn = services.pool.acquire().await?;
    Ok(suppression::list(&mut conn, search, limit, offset).await?)
}

/// Suppresses `email` and/or `phone` (as typed: normalised here) for `reason`, by `admin`.
pub async fn add(
    services: &Services,
    admin: UserId,
    request_id: Option<String>,
    email: Option<&str>,
    phone: Option<&str>,
    reason: SuppressionReason,
) -> Result<SuppressionRow, UseCaseError> {
    let (email, phone) = parse_identity(email, phone, "give an email or a phone")?;
    let email = email.map(|e| e.as_str().to_owned());
    let new = NewSuppression {
        email,
        phone,
        reason: reason.as_str().to_owned(),
        source: "admin".into(),
        created_by: Some(admin),
    };
    let mut tx = services.pool.begin().await?;
    let row = suppression::insert(&mut tx, &new).await.map_err(|e| {
        if e.is_conflict_on("global_suppression_email_idx")
            || e.is_conflict_on("global_suppression_phone_idx")
        {
            UseCaseError::Conflict {
                code: "already_suppressed",
                message: "This address is already suppressed.".into(),
            }
        } else {
            e.into()
        }
    })?;
    let entry = AuditEntry::user(None, admin, "suppression.added", "global_suppression")
        .entity(row.id)
        .after(json!({"email": row.email, "phone": row.phone, "reason": row.reason}))
        .request_id(request_id);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(row)
}

/// Removes the entry `id`, by `admin`.
pub async fn remove(
    services: &Services,
    admin: UserId,
    request_id: Option<String>,
    id: SuppressionId,
) -> Result<(), UseCaseError> {
    let mut tx = services.pool.begin().await?;
    let row = suppression::delete(&mut tx, id)
        .await
        .map_err(|e| UseCaseError::from(e).naming("suppression entry"))?;
    let entry = AuditEntry::user(None, admin, "suppression.removed", "global_suppression")
        .entity(row.id)
        .before(json!({"email": row.email, "phone": row.phone, "reason": row.reason}))
        .request_id(request_id);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

fn present(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

/// A person's email and/or phone as typed, normalised (lowercased address, E.164 number); a
/// 422 naming each unreadable field, or `email` with `missing` when neither is given.
pub(crate) fn parse_identity(
    email: Option<&str>,
    phone: Option<&str>,
    missing: &str,
) -> Result<(Option<Email>, Option<String>), UseCaseError> {
    let mut fields = Vec::new();
    let email = present(email).and_then(|e| match Email::parse(e) {
        Ok(e) => Some(e),
        Err(err) => {
            fields.push(FieldError::new("email", err.to_string()));
            None
        }
    });
    let phone = present(phone).and_then(|p| match Phone::parse(p) {
        Ok(p) => Some(p.as_str().to_owned()),
        Err(err) => {
            fields.push(FieldError::new("phone", err.to_string()));
            None
        }
    });
    if fields.is_empty() && email.is_none() && phone.is_none() {
        fields.push(FieldError::new("email", missing));
    }
    if fields.is_empty() {
        Ok((email, phone))
    } else {
        Err(UseCaseError::invalid(fields))
    }
}
