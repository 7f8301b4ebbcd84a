//! PostgreSQL-only behaviour: versioned keys in the tables, expired rows read as absent and
//! restart when hit, and the purge.

mod common;

use std::time::Duration;

use agency_cache::{Cache, PgCache};
use chrono::{DateTime, Utc};
use chrono_tz::Australia::Sydney;
use sqlx::PgPool;

fn now() -> DateTime<Utc> {
    "2027-06-01T03:00:00Z".parse().expect("instant")
}

#[sqlx::test(migrations = "../../migrations")]
async fn keys_are_versioned_and_kinds_recorded(pool: PgPool) {
    let cache = PgCache::new(pool.clone());
    cache
        .set("enrichment:a.com:x", b"v", Duration::from_secs(60))
        .await
        .unwrap();
    cache
        .incr_daily("ratelimit:sms:n1", 2, Sydney, now())
        .await
        .unwrap();
    cache
        .add_money_daily("ai_spend:c1", "0.5".parse().unwrap(), Sydney, now())
        .await
        .unwrap();
    cache
        .hit_window("api:t1", Duration::from_secs(60))
        .await
        .unwrap();

    let entries: Vec<String> = sqlx::query_scalar("SELECT key FROM cache_entries")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(entries, ["v1:enrichment:a.com:x"]);
    let counters: Vec<(String, String)> =
        sqlx::query_as("SELECT key, kind FROM cache_counters ORDER BY key")
            .fetch_all(&pool)
            .await
            .unwrap();
    let expected = [
        ("v1:ai_spend:c1:2027-06-01", "money"),
        ("v1:api:t1", "window"),
        ("v1:ratelimit:sms:n1:2027-06-01", "count"),
    ];
    assert_eq!(
        counters,
        expected.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec()
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn daily_counter_expiry_is_end_of_local_day_plus_grace(pool: PgPool) {
    let cache = PgCache::new(pool.clone());
    let at = now(); // 13:00 local, 11 hours before local midnight
    cache.incr_daily("leads:c1", 1, Sydney, at).await.unwrap();
    let ttl_secs: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM expires_at - now())::float8 FROM cache_counters",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let expected = (11 * 3600 + 24 * 3600) as f64;
    assert!(
        (ttl_secs - expected).abs() < 5.0,
        "ttl {ttl_secs}s, expected {expected}s"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn expired_rows_are_absent_and_counters_restart(pool: PgPool) {
    let cache = PgCache::new(pool.clone());
    cache.set("k", b"v", Duration::from_secs(60)).await.unwrap();
    assert_eq!(cache.incr_daily("c", 3, Sydney, now()).await.unwrap(), 3);
    let money = cache
        .add_money_daily("m", "1.25".parse().unwrap(), Sydney, now())
        .await
        .unwrap();
    assert_eq!(money, "1.25".parse().unwrap());
    // Expire everything without deleting it (as if the purge has not run yet).
    sqlx::query("UPDATE cache_entries SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE cache_counters SET expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(cache.get("k").await.unwrap(), None);
    assert_eq!(cache.read_daily("c", Sydney, now()).await.unwrap(), 0);
    assert_eq!(
        cache.incr_daily("c", 1, Sydney, now()).await.unwrap(),
        1,
        "restarts"
    );
    assert_eq!(
        cache
            .add_money_daily("m", "0.5".parse().unwrap(), Sydney, now())
            .await
            .unwrap(),
        "0.5".parse().unwrap()
    );
    let live: bool = sqlx::query_scalar(
        "SELECT expires_at > now() FROM cache_counters WHERE key = 'v1:c:2027-06-01'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(live, "expiry reset on restart");
}

#[sqlx::test(migrations = "../../migrations")]
async fn purge_expired_deletes_only_expired_rows(pool: PgPool) {
    let cache = PgCache::new(pool.clone());
    cache
        .set("short", b"v", Duration::from_millis(50))
        .await
        .unwrap();
    cache
        .set("long", b"v", Duration::from_secs(60))
        .await
        .unwrap();
    cache
        .hit_window("w-short", Duration::from_millis(50))
        .await
        .unwrap();
    cache
        .hit_window("w-long", Duration::from_secs(60))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(cache.purge_expired().await.unwrap(), 2);
    assert_eq!(cache.purge_expired().await.unwrap(), 0);
    let left: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM cache_entries) + (SELECT count(*) FROM cache_counters)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(left, 2);
    assert!(cache.get("long").await.unwrap().is_some());
}
