//! The audit log: who did what to which record. Writers call [`record`] inside the same
//! transaction as the change they describe, so a change without its audit row cannot commit.

use agency_domain::{ClientId, UserId};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::StoreError;

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// A signed-in user.
    User,
    /// The system itself (jobs, schedules).
    System,
    /// A provider webhook.
    Provider,
}

impl ActorKind {
    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::System => "system",
            ActorKind::Provider => "provider",
        }
    }
}

/// One audit row to write.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The tenant the change belongs to (`None` for platform-wide data such as suppression).
    pub client_id: Option<ClientId>,
    /// The acting user, when there is one.
    pub actor_id: Option<UserId>,
    /// What kind of actor.
    pub actor_kind: ActorKind,
    /// A dotted verb, e.g. `campaign.created`, `member.role_changed`.
    pub action: String,
    /// The entity's table-like name, e.g. `campaign`.
    pub entity_type: String,
    /// The changed record.
    pub entity_id: Option<Uuid>,
    /// A summary of the record before the change.
    pub before: Option<Value>,
    /// A summary of the record after the change.
    pub after: Option<Value>,
    /// The HTTP request id that caused the change.
    pub request_id: Option<String>,
}

impl AuditEntry {
    /// A user action on `entity_type` in `client_id` (no entity id, before or after yet).
    pub fn user(
        client_id: Option<ClientId>,
        actor_id: UserId,
        action: impl Into<String>,
        entity_type: impl Into<String>,
    ) -> Self {
        Self {
            client_id,
            actor_id: Some(actor_id),
            actor_kind: ActorKind::User,
            action: action.into(),
            entity_type: entity_type.into(),
            entity_id: None,
            before: None,
            after: None,
            request_id: None,
        }
    }

    /// Sets the changed record's id.
    pub fn entity(mut self, id: impl Into<Uuid>) -> Self {
        self.entity_id = Some(id.into());
        self
    }

    /// Sets the summary before the change.
    pub fn before(mut self, value: Value) -> Self {
        self.before = Some(value);
        self
    }

    /// Sets the summary after the change.
    pub fn after(mut self, value: Value) -> Self {
        self.after = Some(value);
        self
    }

    /// Sets the request id.
    pub fn request_id(mut self, id: Option<String>) -> Self {
        self.request_id = id;
        self
    }
}

/// Writes `entry`; call it on the transaction that makes the change.
pub async fn record(conn: &mut PgConnection, entry: &AuditEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (client_id, actor_id, actor_kind, action, entity_type, entity_id, before, after, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(entry.client_id)
    .bind(entry.actor_id)
    .bind(entry.actor_kind.as_str())
    .bind(&entry.action)
    .bind(&entry.entity_type)
    .bind(entry.entity_id)
    .bind(&entry.before)
    .bind(&entry.after)
    .bind(&entry.request_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// How many audit rows a client has.
pub async fn count_for_client(
    conn: &mut PgConnection,
    client_id: ClientId,
) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE client_id = $1")
            .bind(client_id)
            .fetch_one(conn)
            .await?,
    )
}
