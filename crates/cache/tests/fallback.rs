//! FallbackCache: serving from PostgreSQL when Redis is unset, refused or hung; reporting
//! status; and reconciling PostgreSQL into Redis when Redis comes back.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use agency_cache::{Cache, CacheBackend, FallbackCache, PgCache, RedisCache};
use chrono::{DateTime, Utc};
use chrono_tz::Australia::Sydney;
use common::{RedisKeys, ToggleProxy, black_hole, redis_url};
use sqlx::PgPool;

fn now() -> DateTime<Utc> {
    "2027-06-01T03:00:00Z".parse().expect("instant")
}

async fn pg_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM cache_entries) + (SELECT count(*) FROM cache_counters)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn unreachable_redis_serves_from_postgres_and_reports_degraded(pool: PgPool) {
    let cache = FallbackCache::new(Some("redis://127.0.0.1:1"), pool.clone()).unwrap();
    assert_eq!(
        cache.status().backend,
        CacheBackend::Redis,
        "optimistic until a failure"
    );

    let started = Instant::now();
    assert_eq!(
        cache
            .incr_daily("leads:c1", 1, Sydney, now())
            .await
            .unwrap(),
        1
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        cache
            .incr_daily("leads:c1", 1, Sydney, now())
            .await
            .unwrap(),
        2
    );
    let stored: i64 = sqlx::query_scalar(
        "SELECT value::bigint FROM cache_counters WHERE key = 'v1:leads:c1:2027-06-01'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stored, 2, "served from PostgreSQL");

    let status = cache.status();
    assert_eq!(status.backend, CacheBackend::Postgres);
    assert!(status.degraded);
    assert!(
        status.detail.contains("redis unavailable"),
        "{}",
        status.detail
    );

    let checked = cache.check().await.unwrap();
    assert_eq!(checked.backend, CacheBackend::Postgres);
    assert!(checked.degraded);
    let json = serde_json::to_value(&checked).unwrap();
    assert_eq!(json["backend"], "postgres");
    assert_eq!(json["degraded"], true);
}

#[sqlx::test(migrations = "../../migrations")]
async fn hung_redis_times_out_and_falls_back(pool: PgPool) {
    let (addr, accepted, task) = black_hole().await;
    let cache = FallbackCache::new(Some(&format!("redis://{addr}")), pool).unwrap();
    let started = Instant::now();
    cache.set("k", b"v", Duration::from_secs(60)).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert!(cache.status().degraded);
    let attempts = accepted.load(Ordering::SeqCst);
    assert!(attempts >= 1);
    // While degraded (default retry interval 5 s), calls skip Redis entirely.
    assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    cache.incr_daily("c", 1, Sydney, now()).await.unwrap();
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        attempts,
        "no new Redis attempt"
    );
    task.abort();
}

#[sqlx::test(migrations = "../../migrations")]
async fn real_redis_reports_redis_and_not_degraded(pool: PgPool) {
    let keys = RedisKeys::new();
    let cache = FallbackCache::new(Some(&redis_url()), pool.clone()).unwrap();
    let status = cache.check().await.unwrap();
    assert_eq!(status.backend, CacheBackend::Redis);
    assert!(!status.degraded);

    let k = format!("{}kv", keys.prefix);
    cache.set(&k, b"v", Duration::from_secs(60)).await.unwrap();
    cache
        .incr_daily(&format!("{}c", keys.prefix), 1, Sydney, now())
        .await
        .unwrap();
    assert_eq!(keys.raw_get(&format!("v1:{k}")).as_deref(), Some(&b"v"[..]));
    assert_eq!(pg_rows(&pool).await, 0, "nothing written to PostgreSQL");
    assert!(!cache.status().degraded);
}

#[sqlx::test(migrations = "../../migrations")]
async fn no_redis_url_uses_postgres_without_degrading(pool: PgPool) {
    for url in [None, Some(""), Some("  ")] {
        let cache = FallbackCache::new(url, pool.clone()).unwrap();
        let status = cache.check().await.unwrap();
        assert_eq!(status.backend, CacheBackend::Postgres);
        assert!(!status.degraded);
    }
    let cache = FallbackCache::new(None, pool.clone()).unwrap();
    cache.set("k", b"v", Duration::from_secs(60)).await.unwrap();
    cache.delete("k").await.unwrap();
    assert_eq!(
        pg_rows(&pool).await,
        0,
        "plain delete, no tombstone without Redis"
    );
    assert_eq!(cache.reconcile().await.unwrap(), Default::default());
}

#[sqlx::test(migrations = "../../migrations")]
async fn recovery_reconciles_counters_entries_and_deletes(pool: PgPool) {
    let keys = RedisKeys::new();
    let p = keys.prefix.clone();
    let target: SocketAddr = redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .parse()
        .expect("REDIS_URL as redis://host:port");
    let proxy = ToggleProxy::start(target).await;
    let redis = RedisCache::from_url(&proxy.url()).unwrap();
    let cache = FallbackCache::from_parts(Some(redis), PgCache::new(pool.clone()))
        .with_retry_interval(Duration::from_millis(100));
    let (count, money, stale, fresh) = (
        format!("{p}ratelimit:email:d1"),
        format!("{p}ai_spend:c1"),
        format!("{p}stale"),
        format!("{p}fresh"),
    );

    // Healthy: written to Redis.
    assert_eq!(cache.incr_daily(&count, 3, Sydney, now()).await.unwrap(), 3);
    cache
        .add_money_daily(&money, "0.1".parse().unwrap(), Sydney, now())
        .await
        .unwrap();
    cache
        .set(&stale, b"old", Duration::from_secs(60))
        .await
        .unwrap();
    cache
        .hit_window(&format!("{p}w"), Duration::from_secs(60))
        .await
        .unwrap();

    // Outage: served from PostgreSQL (which cannot see Redis's earlier counts).
    proxy.set_up(false);
    assert_eq!(cache.incr_daily(&count, 2, Sydney, now()).await.unwrap(), 2);
    assert!(cache.status().degraded);
    cache
        .add_money_daily(&money, "0.2".parse().unwrap(), Sydney, now())
        .await
        .unwrap();
    cache.delete(&stale).await.unwrap();
    assert_eq!(
        cache.get(&stale).await.unwrap(),
        None,
        "tombstone reads as absent"
    );
    cache
        .set(&fresh, b"new", Duration::from_secs(60))
        .await
        .unwrap();
    cache
        .hit_window(&format!("{p}w"), Duration::from_secs(60))
        .await
        .unwrap();
    assert!(pg_rows(&pool).await >= 5);

    // Redis back: the readiness probe notices, and PostgreSQL is folded into Redis.
    proxy.set_up(true);
    let status = cache.check().await.unwrap();
    assert_eq!(status.backend, CacheBackend::Redis);
    assert!(!status.degraded);
    assert_eq!(
        cache.read_daily(&count, Sydney, now()).await.unwrap(),
        5,
        "3 + 2"
    );
    assert_eq!(
        cache.read_money_daily(&money, Sydney, now()).await.unwrap(),
        "0.3".parse().unwrap()
    );
    assert_eq!(cache.get(&stale).await.unwrap(), None, "delete replayed");
    assert_eq!(
        cache.get(&fresh).await.unwrap().as_deref(),
        Some(&b"new"[..])
    );
    assert_eq!(pg_rows(&pool).await, 0, "PostgreSQL drained");
    // Reconciled counter keeps a daily expiry in Redis.
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("v1:{count}:2027-06-01"))
        .query(&mut conn)
        .unwrap();
    assert!(ttl > 30 * 3600, "ttl {ttl}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn degraded_cache_retries_redis_after_the_interval(pool: PgPool) {
    let keys = RedisKeys::new();
    let target: SocketAddr = redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .parse()
        .expect("REDIS_URL as redis://host:port");
    let proxy = ToggleProxy::start(target).await;
    let cache = FallbackCache::from_parts(
        Some(RedisCache::from_url(&proxy.url()).unwrap()),
        PgCache::new(pool.clone()),
    )
    .with_retry_interval(Duration::from_millis(200));
    let k = format!("{}k", keys.prefix);

    proxy.set_up(false);
    cache.set(&k, b"pg", Duration::from_secs(60)).await.unwrap();
    assert!(cache.status().degraded);
    proxy.set_up(true);
    // Within the interval: still PostgreSQL.
    assert_eq!(cache.get(&k).await.unwrap().as_deref(), Some(&b"pg"[..]));
    assert!(cache.status().degraded);
    // After it: an ordinary call probes Redis, recovers and reconciles.
    tokio::time::sleep(Duration::from_millis(300)).await;
    cache.get(&k).await.unwrap();
    assert!(!cache.status().degraded);
    assert_eq!(
        keys.raw_get(&format!("v1:{k}")).as_deref(),
        Some(&b"pg"[..])
    );
    assert_eq!(pg_rows(&pool).await, 0);
}
