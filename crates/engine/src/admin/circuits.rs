//! Provider circuits for the admin console: [`CircuitPublisher`], the worker's observer of its
//! provider clients' breakers, writes every change of state to `provider_circuits` (in the order
//! they happened, best effort: a failed write is logged) and raises the
//! `provider_circuit_open` alert when a circuit opens; [`providers_status`] shows them in the
//! system status.

use std::time::Instant;

use agency_domain::AlertSeverity;
use agency_providers::{CircuitChange, CircuitObserver, CircuitState};
use agency_store::PgPool;
use agency_store::circuits::{self as store, CircuitRow};
use serde_json::json;
use tokio::sync::mpsc;

use super::alerts::{RaiseAlert, raise_alert};
use super::status::{Health, ServiceStatus, service};
use crate::usecase::UseCaseError;

/// Alert kind of an open provider circuit.
pub const CIRCUIT_OPEN_ALERT: &str = "provider_circuit_open";

/// Publishes circuit changes from a task of the runtime it was started on.
#[derive(Debug)]
pub struct CircuitPublisher {
    changes: mpsc::UnboundedSender<CircuitChange>,
}

impl CircuitPublisher {
    /// Starts the publishing task on the current Tokio runtime. The publisher lives as long as
    /// the process (the provider clients' settings hold a `'static` reference to it).
    pub fn start(pool: PgPool) -> &'static CircuitPublisher {
        let (changes, mut rx) = mpsc::unbounded_channel::<CircuitChange>();
        tokio::spawn(async move {
            while let Some(change) = rx.recv().await {
                if let Err(e) = publish(&pool, &change).await {
                    tracing::warn!(provider = %change.provider, state = change.state.as_str(), error = %e,
                        "could not publish a provider circuit change");
                }
            }
        });
        Box::leak(Box::new(CircuitPublisher { changes }))
    }
}

impl CircuitObserver for CircuitPublisher {
    fn changed(&self, change: CircuitChange) {
        tracing::info!(provider = %change.provider, state = change.state.as_str(),
            last_error = change.last_error, "provider circuit changed");
        // The task ends only with the runtime; nothing to do then.
        let _ = self.changes.send(change);
    }
}

/// Stores one change and, when the circuit opened, raises (or bumps) its alert.
pub async fn publish(pool: &PgPool, change: &CircuitChange) -> Result<(), UseCaseError> {
    let row = CircuitRow {
        provider: change.provider.as_str().to_owned(),
        state: change.state.as_str().to_owned(),
        since: change.since,
        retry_at: change.retry_at,
        last_error: change.last_error.map(str::to_owned),
    };
    let stored = store::publish(pool, &row).await?;
    if stored && change.state == CircuitState::Open {
        raise_alert(pool, open_alert(&row)).await?;
    }
    Ok(())
}

fn open_alert(row: &CircuitRow) -> RaiseAlert {
    let error = row.last_error.as_deref().unwrap_or("unknown");
    RaiseAlert::new(
        CIRCUIT_OPEN_ALERT,
        AlertSeverity::Warning,
        format!("The {} circuit is open", row.provider),
        format!(
            "Calls to {} failed repeatedly (last error: {error}); its circuit opened at {} and calls are refused until a trial call succeeds.",
            row.provider,
            row.since.to_rfc3339()
        ),
    )
    .key(format!("{CIRCUIT_OPEN_ALERT}:{}", row.provider))
    .metadata(json!({
        "provider": row.provider,
        "since": row.since,
        "retry_at": row.retry_at,
        "last_error": row.last_error,
    }))
}

/// Raises (or bumps) the alert of every open circuit among `rows`; answers how many are open.
pub async fn alert_open_circuits(
    pool: &PgPool,
    rows: &[CircuitRow],
) -> Result<usize, UseCaseError> {
    let mut open = 0;
    for row in rows
        .iter()
        .filter(|r| r.state == CircuitState::Open.as_str())
    {
        raise_alert(pool, open_alert(row)).await?;
        open += 1;
    }
    Ok(open)
}

/// The `providers` service of the system status: every published circuit; degraded while one
/// is open (and its alert raised).
pub async fn providers_status(pool: &PgPool) -> Result<ServiceStatus, UseCaseError> {
    let started = Instant::now();
    let rows = store::list(pool).await?;
    let open = alert_open_circuits(pool, &rows).await?;
    let circuits: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            json!({
                "provider": r.provider,
                "state": r.state,
                "since": r.since,
                "retry_at": r.retry_at,
                "last_error": r.last_error,
            })
        })
        .collect();
    let message = if open > 0 {
        let names: Vec<&str> = rows
            .iter()
            .filter(|r| r.state == CircuitState::Open.as_str())
            .map(|r| r.provider.as_str())
            .collect();
        format!("circuit open: {}", names.join(", "))
    } else if rows.is_empty() {
        "no provider circuit has changed state".to_owned()
    } else {
        "no provider circuit is open".to_owned()
    };
    Ok(service(
        "providers",
        if open > 0 {
            Health::Degraded
        } else {
            Health::Healthy
        },
        started,
        message,
        json!({ "circuits": circuits }),
    ))
}
