//! What the CRUD use-cases (campaigns, leads, import) share: the acting user, field-level
//! validation errors, the use-case error the API maps to status codes, small input cleaners and
//! the audit write.

use agency_domain::{ClientId, UserId};
use agency_store::audit::{ActorKind, AuditEntry, record};
use agency_store::{PgPool, StoreError};
use serde::{Deserialize, Deserializer, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// Who performs a use-case, for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The user (JWT `sub`), if a user acts.
    pub user_id: Option<Uuid>,
    /// The request id, to correlate with logs.
    pub request_id: Option<String>,
}

/// One rejected input field: its JSON path and a sentence a user can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the field, e.g. `allocation_email` or `leads[3].email`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Why a use-case refused or failed; each variant has one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    /// The input parses but breaks a rule (422, with the fields).
    #[error("{message}")]
    Invalid {
        /// Summary sentence.
        message: String,
        /// The offending fields.
        fields: Vec<FieldError>,
    },
    /// The caller's role does not allow it (403).
    #[error("{0}")]
    Forbidden(String),
    /// The entity does not exist in the tenant (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (409).
    #[error("{message}")]
    Conflict {
        /// Stable snake_case code.
        code: &'static str,
        /// Sentence for the user.
        message: String,
    },
    /// The input is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// The input cannot be read at all (400).
    #[error("{0}")]
    BadInput(String),
    /// The database failed (500; the detail is logged, never shown).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The follow-up job could not be queued (500; the whole write was rolled back).
    #[error(transparent)]
    Queue(#[from] crate::jobs::enqueue::EnqueueError),
}

impl From<sqlx::Error> for UseCaseError {
    fn from(err: sqlx::Error) -> Self {
        UseCaseError::Store(StoreError::from(err))
    }
}

impl UseCaseError {
    /// A 422 for a list of field errors (the message is the first one's).
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => format!("{}: {}", one.path, one.message),
            [first, ..] => format!(
                "{}: {} (and {} more)",
                first.path,
                first.message,
                fields.len() - 1
            ),
            [] => "the request is invalid".to_owned(),
        };
        UseCaseError::Invalid { message, fields }
    }

    /// A 422 for one field.
    pub fn field(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(path, message)])
    }

    /// Maps a store `NotFound` to a 404 naming `entity`.
    pub fn not_found_as(entity: &'static str) -> impl FnOnce(StoreError) -> UseCaseError {
        move |err| match err {
            StoreError::NotFound => UseCaseError::NotFound(entity),
            other => UseCaseError::Store(other),
        }
    }
}

/// Serde helper for patch fields: absent -> `None`, `null` -> `Some(None)`, value -> `Some(Some(v))`.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// Trims text; empty becomes `None`; longer than `max` characters is a field error.
pub fn clean_text(
    path: &str,
    value: Option<&str>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let trimmed = value.map(str::trim).filter(|s| !s.is_empty())?;
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
    client_id: Uuid,
    action: &str,
    (entity_type, entity_id): (&str, Option<Uuid>),
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<(), StoreError> {
    let entry = AuditEntry {
        client_id: Some(ClientId::from_uuid(client_id)),
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

/// Soft-deletes the row `id` of the client in one transaction: `lock` reads it under a row lock
/// (its `NotFound` answers 404 as `entity`), `soft_delete` removes it, and an `<entity>.delete`
/// audit row keeps the locked state as `before`.
pub(crate) async fn delete_audited<R: Serialize>(
    pool: &PgPool,
    actor: &Actor,
    client_id: Uuid,
    id: Uuid,
    entity: &'static str,
    lock: impl AsyncFnOnce(&mut PgConnection, Uuid, Uuid) -> Result<R, StoreError>,
    soft_delete: impl AsyncFnOnce(&mut PgConnection, Uuid, Uuid) -> Result<(), StoreError>,
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
        (entity, Some(id)),
        snapshot(&current),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
