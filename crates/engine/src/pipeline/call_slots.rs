//! The concurrent voice call limit (SPEC 3.2: at most [`MAX_CONCURRENT_CALLS_PER_CLIENT`]
//! calls in flight per client), over the store's `voice_call_slots`.
//!
//! Intended use by the voice sender (not built yet: Vapi is a later issue): in the transaction
//! that claims the send, call [`check_send`](super::send_check::check_send), then
//! [`acquire_call_slot`]; on [`CallSlotGrant::Wait`] plan the send again for `retry_at` (it is
//! never dropped); on a grant commit (which releases the per-client lock), place the call, then
//! [`attach_call_id`]; if placing it fails, [`release_call_slot`] by slot. The end-of-call
//! webhook calls [`release_call_slot`] by provider call id (idempotent: it may arrive twice).
//!
//! Today nothing in the send paths calls this module (there is no voice send path); only the
//! tests do. `check_send` is unchanged: the slot is a separate step because only voice needs it.
//!
//! Stale slots: a call whose end we never hear of (lost webhook, crashed sender) stops
//! counting [`MAX_CALL_DURATION`] after it started and is purged by the client's next acquire.

use agency_domain::ClientId;
use agency_domain::LeadId;
use std::time::Duration;

use agency_domain::MAX_CONCURRENT_CALLS_PER_CLIENT;
use agency_store::call_slots as store;
use agency_store::{Postgres, Transaction};
use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

pub use agency_store::call_slots::CallSlot;

use crate::error::UseCaseError;

/// The longest a call may hold its slot without us hearing of its end.
pub const MAX_CALL_DURATION: Duration = Duration::from_secs(30 * 60);
/// With every slot taken, a voice send retries after at most this long (sooner when a slot
/// expires sooner): calls usually end within minutes, long before their slot would expire.
pub const CALL_SLOT_RETRY_DELAY: Duration = Duration::from_secs(60);

/// The answer to a request for a call slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallSlotGrant {
    /// A slot is held for this call until it is released or expires.
    Granted(CallSlot),
    /// Every slot is taken: plan the call again for `retry_at`.
    Wait {
        /// When to try again.
        retry_at: DateTime<Utc>,
    },
}

/// Which slot to release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallRef<'a> {
    /// By the slot's id (the sender, when placing the call failed).
    Slot(Uuid),
    /// By the voice provider's call id (the end-of-call webhook).
    ProviderCall(&'a str),
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// When a send refused a slot retries: the soonest slot expiry, but no later than
/// [`CALL_SLOT_RETRY_DELAY`] from now.
pub fn retry_at(now: DateTime<Utc>, soonest_expiry: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let later = now + chrono_duration(CALL_SLOT_RETRY_DELAY);
    soonest_expiry.map_or(later, |e| e.clamp(now, later))
}

/// Takes one of the client's call slots for a call to the lead at `now`, inside the caller's
/// (READ COMMITTED) transaction; the per-client lock it takes is held until that commits.
/// `NotFound` when the lead is not the client's.
pub async fn acquire_call_slot(
    tx: &mut Transaction<'_, Postgres>,
    client_id: ClientId,
    lead_id: LeadId,
    now: DateTime<Utc>,
) -> Result<CallSlotGrant, UseCaseError> {
    let expires_at = now + chrono_duration(MAX_CALL_DURATION);
    let slot = store::acquire(
        tx,
        client_id,
        lead_id,
        now,
        expires_at,
        MAX_CONCURRENT_CALLS_PER_CLIENT,
    )
    .await?;
    Ok(match slot {
        Some(slot) => CallSlotGrant::Granted(slot),
        None => {
            let soonest = store::soonest_expiry(&mut **tx, client_id, now).await?;
            CallSlotGrant::Wait {
                retry_at: retry_at(now, soonest),
            }
        }
    })
}

/// Records the provider's call id on a held slot; `false` when the slot is already gone.
pub async fn attach_call_id(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    slot_id: Uuid,
    provider_call_id: &str,
) -> Result<bool, UseCaseError> {
    Ok(store::attach_call_id(db, client_id, slot_id, provider_call_id).await?)
}

/// Frees a call's slot; `false` when it was already free (a repeated webhook is harmless).
pub async fn release_call_slot(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    call: CallRef<'_>,
) -> Result<bool, UseCaseError> {
    Ok(match call {
        CallRef::Slot(id) => store::release_slot(db, client_id, id).await?,
        CallRef::ProviderCall(id) => store::release_call(db, client_id, id).await?,
    })
}

/// The client's calls in flight at `now` (unexpired slots).
pub async fn calls_in_flight(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    now: DateTime<Utc>,
) -> Result<u32, UseCaseError> {
    let n = store::in_flight(db, client_id, now).await?;
    Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_is_soonest_expiry_capped_by_the_delay() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 26, 1, 0, 0)
            .single()
            .expect("time");
        let delay = chrono_duration(CALL_SLOT_RETRY_DELAY);
        assert_eq!(retry_at(now, None), now + delay);
        let soon = now + chrono::Duration::seconds(10);
        assert_eq!(retry_at(now, Some(soon)), soon);
        let late = now + chrono::Duration::minutes(20);
        assert_eq!(retry_at(now, Some(late)), now + delay);
        assert_eq!(MAX_CALL_DURATION, Duration::from_secs(1800));
    }
}
