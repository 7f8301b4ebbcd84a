//! Redis-only behaviour: the stored key layout and representation, failing fast when Redis
//! is unreachable or hung, and replacing a broken shared connection.

mod common;

use std::time::{Duration, Instant};

use agency_cache::{Cache, CacheError, RedisCache};
use chrono::{DateTime, Utc};
use chrono_tz::Australia::Sydney;
use common::{RedisKeys, ToggleProxy, black_hole, redis_url};

fn now() -> DateTime<Utc> {
    "2027-06-01T03:00:00Z".parse().expect("instant")
}

#[tokio::test]
async fn stored_layout_is_versioned_and_money_is_integer_micro_units() {
    let keys = RedisKeys::new();
    let p = &keys.prefix;
    let cache = RedisCache::from_url(&redis_url()).unwrap();
    cache
        .set(&format!("{p}kv"), b"v", Duration::from_secs(60))
        .await
        .unwrap();
    cache
        .incr_daily(&format!("{p}leads"), 2, Sydney, now())
        .await
        .unwrap();
    cache
        .add_money_daily(
            &format!("{p}ai_spend:c1"),
            "0.3".parse().unwrap(),
            Sydney,
            now(),
        )
        .await
        .unwrap();

    assert_eq!(
        keys.raw_get(&format!("v1:{p}kv")).as_deref(),
        Some(&b"v"[..])
    );
    assert_eq!(
        keys.raw_get(&format!("v1:{p}leads:2027-06-01")).as_deref(),
        Some(&b"2"[..])
    );
    assert_eq!(
        keys.raw_get(&format!("v1:{p}ai_spend:c1:2027-06-01"))
            .as_deref(),
        Some(&b"300000"[..])
    );
    let mut stored = keys.stored_keys();
    stored.sort();
    assert_eq!(stored.len(), 3, "{stored:?}");

    // Daily counter TTL: 11 h to local midnight + 24 h grace.
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("v1:{p}leads:2027-06-01"))
        .query(&mut conn)
        .unwrap();
    assert!((ttl - 35 * 3600).abs() <= 5, "ttl {ttl}");
}

#[tokio::test]
async fn refused_connection_fails_fast_as_unavailable() {
    let cache = RedisCache::from_url("redis://127.0.0.1:1").unwrap();
    let started = Instant::now();
    let err = cache.get("x").await.unwrap_err();
    assert!(err.is_redis_unavailable(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(cache.ping().await.unwrap_err().is_redis_unavailable());
}

#[tokio::test]
async fn hung_redis_times_out_as_unavailable() {
    let (addr, _, task) = black_hole().await;
    let cache = RedisCache::from_url(&format!("redis://{addr}")).unwrap();
    let started = Instant::now();
    let err = cache.incr_daily("x", 1, Sydney, now()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(err.is_redis_unavailable(), "{err:?}");
    assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    task.abort();
}

#[tokio::test]
async fn invalid_url_is_a_config_error() {
    let err = RedisCache::from_url("not a url").unwrap_err();
    assert!(matches!(err, CacheError::Config(_)), "{err:?}");
}

#[tokio::test]
async fn a_cut_shared_connection_is_replaced_from_the_pool() {
    let keys = RedisKeys::new();
    let target: std::net::SocketAddr = redis_url()
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .parse()
        .expect("REDIS_URL as redis://host:port");
    let proxy = ToggleProxy::start(target).await;
    // About results, not latency: a loaded machine may take longer than the production 300 ms.
    let cache = RedisCache::from_url_with_timeout(&proxy.url(), Duration::from_secs(10)).unwrap();
    let k = format!("{}kv", keys.prefix);
    cache
        .set(&k, b"one", Duration::from_secs(60))
        .await
        .unwrap();

    // Cut every live connection and let new ones through again: the shared connection is
    // dead. At most the first command sees it; the cache then takes a fresh connection.
    proxy.set_up(false);
    tokio::time::sleep(Duration::from_millis(100)).await;
    proxy.set_up(true);
    let first = cache.get(&k).await;
    if let Err(e) = &first {
        assert!(e.is_redis_unavailable(), "{e:?}");
    }
    for _ in 0..3 {
        assert_eq!(cache.get(&k).await.unwrap().as_deref(), Some(&b"one"[..]));
    }
}
