//! What the CRUD use-cases (campaigns, leads, import) share: the acting user, small input
//! cleaners and the audit write. The engine's one error type lives in [`crate::error`] and is
//! re-exported here.

use agency_domain::{ClientId, UserId};
use agency_store::audit::{ActorKind, AuditEntry, record};
use agency_store::{PgPool, StoreError};
use serde::{Deserialize, Deserializer, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

pub use crate::error::{FieldError, UseCaseError};

/// Who performs a use-case, for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The user (JWT `sub`), if a user acts.
    pub user_id: Option<Uuid>,
    /// The request id, to correlate with logs.
    pub request_id: Option<String>,
}

/// Serde helper for patch fields: absent -> `None`, `null` -> `Some(None)`, value -> `Some(Some(v))`.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Trims text; empty becomes `None`; a NUL character (PostgreSQL text cannot hold it) or more
/// than `max` characters is a field error.
pub fn clean_text(
    path: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let trimmed = value.map(str::trim).filter(|s| !s.is_empty())?;
    if trimmed.contains('\0') {
        errors.push(FieldError::new(path, "must not contain NUL characters"));
        return None;
    }
    if trimmed.chars().count() > max {
        errors.push(FieldError::new(
            path,
            format!("must be at most {max} characters"),
        ));
        return None;
    }
    Some(trimmed.to_owned())
}

/// Trims every entry of a list and drops the empty ones.
pub fn clean_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Appends one audit row in the caller's transaction (through `agency_store::audit`).
pub async fn audit(
    conn: &mut PgConnection,
    actor: &Actor,
    client_id: ClientId,
    action: &str,
    (entity_type, entity_id): (&str, Option<Uuid>),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), StoreError> {
    let entry = AuditEntry {
        client_id: Some(client_id),
        actor_id: actor.user_id.map(UserId::from_uuid),
        actor_kind: if actor.user_id.is_some() {
            ActorKind::User
        } else {
            ActorKind::System
        },
        action: action.to_owned(),
        entity_type: entity_type.to_owned(),
        entity_id,
        before,
        after,
        request_id: actor.request_id.clone(),
    };
    record(conn, &entry).await
}

/// A JSON snapshot of a value for the audit log (`None` when it cannot be serialised).
pub(crate) fn snapshot(value: &impl Serialize) -> Option<serde_json::Value> {
    serde_json::to_value(value).ok()
}

/// Soft-deletes the row `id` (the entity's typed id) of the client in one transaction: `lock`
/// reads it under a row lock (its `NotFound` answers 404 as `entity`), `soft_delete` removes
/// it, and an `<entity>.delete` audit row keeps the locked state as `before`.
pub(crate) async fn delete_audited<Id: Into<Uuid> + Copy, R: Serialize>(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: Id,
    entity: &'static str,
    lock: impl AsyncFnOnce(&mut PgConnection, ClientId, Id) -> Result<R, StoreError>,
    soft_delete: impl AsyncFnOnce(&mut PgConnection, ClientId, Id) -> Result<(), StoreError>,
) -> Result<(), UseCaseError> {
    let mut tx = pool.begin().await?;
    let current = lock(&mut tx, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as(entity))?;
    soft_delete(&mut tx, client_id, id).await?;
    audit(
        &mut tx,
        actor,
        client_id,
        &format!("{entity}.delete"),
        (entity, Some(id.into())),
        snapshot(&current),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
