//! The concurrent voice call limit (5 per client) against a real PostgreSQL: grants and
//! waits, tenant isolation, idempotent release, expiry of stale slots, and a race of 20
//! transactions on separate connections.

use agency_domain::ClientId;
use agency_domain::LeadId;
use std::sync::Arc;
use std::time::Duration;

use agency_domain::MAX_CONCURRENT_CALLS_PER_CLIENT;
use agency_engine::UseCaseError;
use agency_engine::pipeline::call_slots::{
    CALL_SLOT_RETRY_DELAY, CallRef, CallSlot, CallSlotGrant, MAX_CALL_DURATION, acquire_call_slot,
    attach_call_id, calls_in_flight, release_call_slot,
};
use agency_store::{PgPool, StoreError};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::{Connection, PgConnection};
use tokio::sync::Barrier;
use uuid::Uuid;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0)
        .single()
        .expect("time")
}

fn secs(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).expect("duration")
}

async fn client(pool: &PgPool, name: &str) -> ClientId {
    sqlx::query_scalar("INSERT INTO clients (name) VALUES ($1) RETURNING id")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("client")
}

async fn leads(pool: &PgPool, client_id: ClientId, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id = sqlx::query_scalar(
            "INSERT INTO leads (client_id, email, phone) VALUES ($1, $2, '+61298765432')
             RETURNING id",
        )
        .bind(client_id)
        .bind(format!("lead{i}-{client_id}@example.com"))
        .fetch_one(pool)
        .await
        .expect("lead");
        ids.push(id);
    }
    ids
}

/// One acquire in its own committed transaction.
async fn acquire(
    pool: &PgPool,
    client_id: ClientId,
    lead_id: Uuid,
    now: DateTime<Utc>,
) -> CallSlotGrant {
    let mut tx = pool.begin().await.expect("begin");
    let grant = acquire_call_slot(
        &mut tx,
        ClientId::from_uuid(client_id.into_uuid()),
        LeadId::from_uuid(lead_id),
        now,
    )
    .await
    .expect("acquire");
    tx.commit().await.expect("commit");
    grant
}

fn granted(grant: CallSlotGrant) -> CallSlot {
    match grant {
        CallSlotGrant::Granted(slot) => slot,
        CallSlotGrant::Wait { retry_at } => {
            panic!("expected a slot, told to wait until {retry_at}")
        }
    }
}

async fn rows(pool: &PgPool, client_id: ClientId) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM voice_call_slots WHERE client_id = $1")
        .bind(client_id)
        .fetch_one(pool)
        .await
        .expect("count")
}

#[sqlx::test(migrations = "../../migrations")]
async fn five_calls_then_wait_and_other_clients_unaffected(pool: PgPool) {
    let a = client(&pool, "A").await;
    let b = client(&pool, "B").await;
    let a_leads = leads(&pool, a, 6).await;
    let b_leads = leads(&pool, b, 1).await;
    let now = t0();
    let limit = MAX_CONCURRENT_CALLS_PER_CLIENT as usize;
    assert_eq!(limit, 5);

    for (i, lead) in a_leads[..limit].iter().enumerate() {
        let slot = granted(acquire(&pool, a, *lead, now).await);
        assert_eq!(
            (slot.client_id, slot.lead_id),
            (a.into_uuid(), *lead),
            "slot {i}"
        );
        assert_eq!(slot.started_at, now);
        assert_eq!(slot.expires_at, now + secs(MAX_CALL_DURATION));
        assert_eq!(slot.provider_call_id, None);
    }
    assert_eq!(calls_in_flight(&pool, a, now).await.expect("in flight"), 5);

    // The sixth waits (not dropped): every slot expires in 30 minutes, so retry after the delay.
    let sixth = acquire(&pool, a, a_leads[5], now).await;
    assert_eq!(
        sixth,
        CallSlotGrant::Wait {
            retry_at: now + secs(CALL_SLOT_RETRY_DELAY)
        }
    );
    assert_eq!(rows(&pool, a).await, 5, "a refused acquire stores nothing");

    // Another client has its own five.
    let slot = granted(acquire(&pool, b, b_leads[0], now).await);
    assert_eq!(slot.client_id, b.into_uuid());
    assert_eq!(calls_in_flight(&pool, b, now).await.expect("in flight"), 1);
    assert_eq!(calls_in_flight(&pool, a, now).await.expect("in flight"), 5);
}

#[sqlx::test(migrations = "../../migrations")]
async fn release_frees_a_slot_and_repeating_it_is_harmless(pool: PgPool) {
    let a = client(&pool, "A").await;
    let b = client(&pool, "B").await;
    let lead = leads(&pool, a, 7).await;
    let now = t0();
    let mut slots = Vec::new();
    for l in &lead[..5] {
        slots.push(granted(acquire(&pool, a, *l, now).await));
    }
    assert!(
        attach_call_id(&pool, a, slots[0].id, "vapi-call-1")
            .await
            .expect("attach")
    );
    assert!(
        !attach_call_id(&pool, b, slots[1].id, "vapi-call-x")
            .await
            .expect("attach"),
        "another tenant cannot touch the slot"
    );
    assert!(
        !release_call_slot(&pool, b, CallRef::ProviderCall("vapi-call-1"))
            .await
            .expect("release")
    );
    assert_eq!(calls_in_flight(&pool, a, now).await.expect("in flight"), 5);

    // The end-of-call webhook frees the slot, and the next call gets it.
    assert!(
        release_call_slot(&pool, a, CallRef::ProviderCall("vapi-call-1"))
            .await
            .expect("release")
    );
    assert_eq!(calls_in_flight(&pool, a, now).await.expect("in flight"), 4);
    granted(acquire(&pool, a, lead[5], now).await);
    assert_eq!(calls_in_flight(&pool, a, now).await.expect("in flight"), 5);

    // The webhook arrives again: nothing more is freed.
    assert!(
        !release_call_slot(&pool, a, CallRef::ProviderCall("vapi-call-1"))
            .await
            .expect("release")
    );
    assert_eq!(calls_in_flight(&pool, a, now).await.expect("in flight"), 5);
    assert!(matches!(
        acquire(&pool, a, lead[6], now).await,
        CallSlotGrant::Wait { .. }
    ));

    // By slot id (the sender, when placing the call failed): once, then a no-op.
    assert!(
        release_call_slot(&pool, a, CallRef::Slot(slots[1].id))
            .await
            .expect("release")
    );
    assert!(
        !release_call_slot(&pool, a, CallRef::Slot(slots[1].id))
            .await
            .expect("release")
    );
    assert_eq!(calls_in_flight(&pool, a, now).await.expect("in flight"), 4);
    assert!(
        !attach_call_id(&pool, a, slots[1].id, "vapi-call-2")
            .await
            .expect("attach"),
        "gone"
    );

    // A provider call id belongs to one slot.
    assert!(
        attach_call_id(&pool, a, slots[2].id, "vapi-call-3")
            .await
            .expect("attach")
    );
    let dup = attach_call_id(&pool, a, slots[3].id, "vapi-call-3").await;
    assert!(
        matches!(&dup, Err(UseCaseError::Store(e)) if e.is_conflict_on("voice_call_slots_provider_call_idx")),
        "{dup:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_stale_slot_stops_counting_after_the_maximum_call_duration(pool: PgPool) {
    let a = client(&pool, "A").await;
    let lead = leads(&pool, a, 7).await;
    let start = t0();
    for l in &lead[..4] {
        granted(acquire(&pool, a, *l, start).await);
    }
    let later = start + chrono::Duration::minutes(10);
    granted(acquire(&pool, a, lead[4], later).await);

    // 29.5 minutes in: still full; the first slots expire in 30 s, sooner than the retry delay.
    let almost = start + secs(MAX_CALL_DURATION) - chrono::Duration::seconds(30);
    assert_eq!(
        acquire(&pool, a, lead[5], almost).await,
        CallSlotGrant::Wait {
            retry_at: start + secs(MAX_CALL_DURATION)
        }
    );

    // At 30 minutes the four first calls (never heard of again) stop counting and are purged.
    let expired = start + secs(MAX_CALL_DURATION);
    assert_eq!(
        calls_in_flight(&pool, a, expired).await.expect("in flight"),
        1
    );
    granted(acquire(&pool, a, lead[5], expired).await);
    assert_eq!(rows(&pool, a).await, 2, "expired slots purged on acquire");
    assert_eq!(
        calls_in_flight(&pool, a, expired).await.expect("in flight"),
        2
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn twenty_racing_transactions_get_exactly_five_slots(pool: PgPool) {
    let a = client(&pool, "A").await;
    let lead = leads(&pool, a, 20).await;
    let options = pool.connect_options();
    let barrier = Arc::new(Barrier::new(lead.len()));
    let now = t0();
    let mut tasks = Vec::new();
    for l in lead {
        let options = Arc::clone(&options);
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            let mut conn = PgConnection::connect_with(&options).await.expect("connect");
            let mut tx = conn.begin().await.expect("begin");
            barrier.wait().await;
            let grant = acquire_call_slot(&mut tx, a, LeadId::from_uuid(l), now)
                .await
                .expect("acquire");
            // Hold the lock a moment so the others queue behind it.
            tokio::time::sleep(Duration::from_millis(20)).await;
            tx.commit().await.expect("commit");
            conn.close().await.expect("close");
            grant
        }));
    }
    let mut granted_count = 0;
    let mut waiting = 0;
    for task in tasks {
        match task.await.expect("task") {
            CallSlotGrant::Granted(_) => granted_count += 1,
            CallSlotGrant::Wait { retry_at } => {
                assert!(retry_at > now);
                waiting += 1;
            }
        }
    }
    assert_eq!((granted_count, waiting), (5, 15));
    assert_eq!(rows(&pool, a).await, 5);
}

#[sqlx::test(migrations = "../../migrations")]
async fn refuses_another_tenants_lead_and_unsafe_isolation(pool: PgPool) {
    let a = client(&pool, "A").await;
    let b = client(&pool, "B").await;
    let b_lead = leads(&pool, b, 1).await[0];
    let mut tx = pool.begin().await.expect("begin");
    let err = acquire_call_slot(&mut tx, a, LeadId::from_uuid(b_lead), t0()).await;
    assert!(matches!(&err, Err(e) if e.is_not_found()), "{err:?}");
    tx.rollback().await.expect("rollback");

    // Under REPEATABLE READ the count could miss slots committed after the snapshot.
    let mut tx = pool.begin().await.expect("begin");
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .execute(&mut *tx)
        .await
        .expect("isolation");
    let err = acquire_call_slot(&mut tx, b, LeadId::from_uuid(b_lead), t0()).await;
    assert!(
        matches!(err, Err(UseCaseError::Store(StoreError::Database(_)))),
        "{err:?}"
    );
    tx.rollback().await.expect("rollback");
    assert_eq!(rows(&pool, a).await + rows(&pool, b).await, 0);
}
