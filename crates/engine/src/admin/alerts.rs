//! Alerts raised by the system for platform admins. [`raise_alert`] is the one door: any
//! feature calls it (in its own transaction or on the pool) with a kind, a severity and a
//! text; an open alert with the same key is bumped, not duplicated.

use agency_domain::{AlertSeverity, ClientId, UserId};
use agency_store::alerts::{self as store, AlertRow, NewAlert};
use agency_store::audit::{self, AuditEntry};
use agency_store::{PgPool, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::usecase::UseCaseError;

/// An alert to raise; build with [`RaiseAlert::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct RaiseAlert {
    kind: String,
    severity: AlertSeverity,
    title: String,
    description: String,
    client_id: Option<ClientId>,
    key: Option<String>,
    metadata: serde_json::Value,
}

impl RaiseAlert {
    /// An alert of `kind` (stable snake_case, e.g. `webhook_endpoint_disabled`).
    pub fn new(
        kind: &str,
        severity: AlertSeverity,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.to_owned(),
            severity,
            title: title.into(),
            description: description.into(),
            client_id: None,
            key: None,
            metadata: serde_json::json!({}),
        }
    }

    /// About one client.
    pub fn client(mut self, client_id: ClientId) -> Self {
        self.client_id = Some(client_id);
        self
    }

    /// Deduplicates on `key` (default: the kind, and the client when there is one).
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Structured details.
    pub fn metadata(mut self, metadata: serde_json::Value) -> Self {
        self.metadata = metadata;
        self
    }

    fn into_row(self) -> NewAlert {
        let dedupe_key = self.key.unwrap_or_else(|| match self.client_id {
            Some(c) => format!("{}:{c}", self.kind),
            None => self.kind.clone(),
        });
        NewAlert {
            client_id: self.client_id.map(ClientId::into_uuid),
            kind: self.kind,
            dedupe_key,
            severity: self.severity.as_str().to_owned(),
            title: self.title,
            description: self.description,
            metadata: self.metadata,
        }
    }
}

/// Raises the alert (or bumps the open one with the same key); answers its id.
pub async fn raise_alert(db: impl PgExecutor<'_>, alert: RaiseAlert) -> Result<Uuid, StoreError> {
    tracing::warn!(kind = %alert.kind, severity = %alert.severity, title = %alert.title, "alert raised");
    Ok(store::raise(db, &alert.into_row()).await?.id)
}

/// An alert as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Alert {
    /// Alert id.
    pub id: Uuid,
    /// `critical`, `warning` or `info`.
    pub severity: String,
    /// Short title.
    pub title: String,
    /// What happened.
    pub description: String,
    /// First raised.
    pub created_at: DateTime<Utc>,
    /// Acknowledged by an admin.
    pub acknowledged: bool,
    /// Stable kind (e.g. `dead_letters`).
    pub kind: String,
    /// The client concerned, if any.
    pub client_id: Option<Uuid>,
    /// Times raised while open.
    pub occurrences: i32,
    /// Last raised.
    pub last_seen_at: DateTime<Utc>,
    /// When acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl From<AlertRow> for Alert {
    fn from(r: AlertRow) -> Self {
        Self {
            id: r.id,
            severity: r.severity,
            title: r.title,
            description: r.description,
            created_at: r.created_at,
            acknowledged: r.acknowledged_at.is_some(),
            kind: r.kind,
            client_id: r.client_id,
            occurrences: r.occurrences,
            last_seen_at: r.last_seen_at,
            acknowledged_at: r.acknowledged_at,
        }
    }
}

/// Most alerts listed.
pub const ALERT_LIST_LIMIT: i64 = 200;

/// Open alerts first, then the latest acknowledged ones.
pub async fn list_alerts(pool: &PgPool) -> Result<Vec<Alert>, UseCaseError> {
    Ok(store::list(pool, ALERT_LIST_LIMIT)
        .await?
        .into_iter()
        .map(Alert::from)
        .collect())
}

/// Acknowledges an alert (idempotent) with an audit row; 404 when there is none.
pub async fn acknowledge_alert(
    pool: &PgPool,
    id: Uuid,
    user: UserId,
    request_id: Option<String>,
) -> Result<Alert, UseCaseError> {
    let mut tx = pool.begin().await?;
    let row = store::acknowledge(&mut *tx, id, user.into_uuid())
        .await
        .map_err(UseCaseError::not_found_as("alert"))?;
    let entry = AuditEntry::user(
        row.client_id.map(ClientId::from_uuid),
        user,
        "alert.acknowledge",
        "alert",
    )
    .entity(id)
    .request_id(request_id);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Alert::from(row))
}
