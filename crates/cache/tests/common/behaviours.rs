//! Behaviours every backend must show, written once against `Arc<dyn Cache>` and run
//! identically on Redis and PostgreSQL.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use agency_cache::{Cache, CacheError, CacheJsonExt};
use chrono::{DateTime, Utc};
use chrono_tz::Australia::Sydney;
use rust_decimal::Decimal;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("valid instant")
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).expect("decimal")
}

/// set/get round-trip, overwrite, JSON helpers, and a TTL that really expires.
pub async fn set_get_expire(cache: Arc<dyn Cache>, p: &str) {
    let k = format!("{p}kv");
    assert_eq!(cache.get(&k).await.unwrap(), None);
    cache
        .set(&k, b"one", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(cache.get(&k).await.unwrap().as_deref(), Some(&b"one"[..]));
    cache
        .set(&k, b"two", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(cache.get(&k).await.unwrap().as_deref(), Some(&b"two"[..]));

    let j = format!("{p}json");
    let v = serde_json::json!({"fields": ["a", "b"], "n": 3});
    cache
        .set_json(&j, &v, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        cache.get_json::<serde_json::Value>(&j).await.unwrap(),
        Some(v)
    );

    let short = format!("{p}short");
    cache
        .set(&short, b"x", Duration::from_millis(300))
        .await
        .unwrap();
    assert!(cache.get(&short).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(cache.get(&short).await.unwrap(), None, "ttl must expire");
    // Setting again after expiry works and gets a fresh ttl.
    cache
        .set(&short, b"y", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(cache.get(&short).await.unwrap().as_deref(), Some(&b"y"[..]));

    let err = cache.set(&k, b"z", Duration::ZERO).await.unwrap_err();
    assert!(matches!(err, CacheError::InvalidInput(_)), "{err:?}");
}

/// delete removes a value; deleting a missing key is fine.
pub async fn delete(cache: Arc<dyn Cache>, p: &str) {
    let k = format!("{p}del");
    cache.set(&k, b"v", Duration::from_secs(60)).await.unwrap();
    cache.delete(&k).await.unwrap();
    assert_eq!(cache.get(&k).await.unwrap(), None);
    cache.delete(&k).await.unwrap();
    cache.delete(&format!("{p}never-set")).await.unwrap();
}

/// Daily counters count per local day and roll over exactly at local midnight.
pub async fn daily_rollover_at_local_midnight(cache: Arc<dyn Cache>, p: &str) {
    let name = format!("{p}ratelimit:email_domain:abc");
    // June: Sydney is UTC+10, so local midnight of 2 June is 2027-06-01T14:00Z.
    let before = utc("2027-06-01T13:59:59Z");
    let after = utc("2027-06-01T14:00:00Z");
    assert_eq!(cache.read_daily(&name, Sydney, before).await.unwrap(), 0);
    assert_eq!(cache.incr_daily(&name, 1, Sydney, before).await.unwrap(), 1);
    assert_eq!(cache.incr_daily(&name, 4, Sydney, before).await.unwrap(), 5);
    assert_eq!(cache.incr_daily(&name, 1, Sydney, after).await.unwrap(), 1);
    assert_eq!(cache.read_daily(&name, Sydney, before).await.unwrap(), 5);
    assert_eq!(cache.read_daily(&name, Sydney, after).await.unwrap(), 1);
    // Earlier that same local day (UTC date differs: 1 June 00:30 local = 31 May UTC).
    assert_eq!(
        cache
            .read_daily(&name, Sydney, utc("2027-05-31T14:30:00Z"))
            .await
            .unwrap(),
        5
    );
    // The day is the caller's local day: at `after` it is still 1 June in UTC.
    assert_eq!(
        cache
            .read_daily(&name, chrono_tz::UTC, after)
            .await
            .unwrap(),
        5
    );
    // Negative increments (refunds) work.
    assert_eq!(cache.incr_daily(&name, -1, Sydney, after).await.unwrap(), 0);
}

/// Rollover on the 23-hour (DST start) and 25-hour (DST end) days in Sydney.
pub async fn daily_rollover_on_dst_days(cache: Arc<dyn Cache>, p: &str) {
    let name = format!("{p}leads");
    // 2027-10-03 starts at 00:00 AEST (14:00Z on the 2nd) and ends at 00:00 AEDT (13:00Z).
    for at in ["2027-10-02T14:00:00Z", "2027-10-03T12:59:59Z"] {
        cache.incr_daily(&name, 1, Sydney, utc(at)).await.unwrap();
    }
    assert_eq!(
        cache
            .read_daily(&name, Sydney, utc("2027-10-03T00:00:00Z"))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        cache
            .incr_daily(&name, 1, Sydney, utc("2027-10-03T13:00:00Z"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        cache
            .read_daily(&name, Sydney, utc("2027-10-02T13:59:59Z"))
            .await
            .unwrap(),
        0
    );

    // 2028-04-02 starts at 00:00 AEDT (13:00Z on the 1st) and ends at 00:00 AEST (14:00Z).
    for at in [
        "2028-04-01T13:00:00Z",
        "2028-04-02T13:00:00Z",
        "2028-04-02T13:59:59Z",
    ] {
        cache.incr_daily(&name, 1, Sydney, utc(at)).await.unwrap();
    }
    assert_eq!(
        cache
            .read_daily(&name, Sydney, utc("2028-04-01T20:00:00Z"))
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        cache
            .incr_daily(&name, 1, Sydney, utc("2028-04-02T14:00:00Z"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        cache
            .read_daily(&name, Sydney, utc("2028-04-01T12:59:59Z"))
            .await
            .unwrap(),
        0
    );
}

/// Money counters add decimals exactly and round to micro-AUD.
pub async fn money_exactness(cache: Arc<dyn Cache>, p: &str) {
    let name = format!("{p}ai_spend:client-1");
    let now = utc("2027-06-01T03:00:00Z");
    assert_eq!(
        cache.read_money_daily(&name, Sydney, now).await.unwrap(),
        Decimal::ZERO
    );
    assert_eq!(
        cache
            .add_money_daily(&name, dec("0.1"), Sydney, now)
            .await
            .unwrap(),
        dec("0.1")
    );
    let total = cache
        .add_money_daily(&name, dec("0.2"), Sydney, now)
        .await
        .unwrap();
    assert_eq!(total, dec("0.3"));
    assert_eq!(total.to_string(), "0.3");
    assert_eq!(
        cache.read_money_daily(&name, Sydney, now).await.unwrap(),
        dec("0.3")
    );
    // Sub-micro amounts round half away from zero, identically on every backend.
    let t = cache
        .add_money_daily(&name, dec("0.0000015"), Sydney, now)
        .await
        .unwrap();
    assert_eq!(t, dec("0.300002"));
    let t = cache
        .add_money_daily(&name, dec("-0.300002"), Sydney, now)
        .await
        .unwrap();
    assert_eq!(t, Decimal::ZERO);
    // Next local day starts from zero.
    let next = utc("2027-06-01T14:00:00Z");
    assert_eq!(
        cache.read_money_daily(&name, Sydney, next).await.unwrap(),
        Decimal::ZERO
    );
    assert_eq!(
        cache
            .add_money_daily(&name, dec("12345.678901"), Sydney, next)
            .await
            .unwrap(),
        dec("12345.678901")
    );
}

/// 1000 concurrent money additions sum exactly.
pub async fn money_concurrent(cache: Arc<dyn Cache>, p: &str) {
    let name = format!("{p}ai_spend:client-2");
    let now = utc("2027-06-01T03:00:00Z");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let (cache, name) = (cache.clone(), name.clone());
        tasks.spawn(async move {
            cache
                .add_money_daily(&name, dec("0.001"), Sydney, now)
                .await
                .unwrap()
        });
    }
    let mut seen = BTreeSet::new();
    while let Some(total) = tasks.join_next().await {
        seen.insert(total.unwrap());
    }
    assert_eq!(
        seen.len(),
        1000,
        "every addition saw a distinct running total"
    );
    assert_eq!(seen.last().copied(), Some(dec("1")));
    assert_eq!(
        cache.read_money_daily(&name, Sydney, now).await.unwrap(),
        dec("1.000")
    );
}

/// Many tasks incrementing one daily counter give an exact total, each seeing a unique value.
pub async fn counter_concurrent(cache: Arc<dyn Cache>, p: &str) {
    let name = format!("{p}ratelimit:sms:n1");
    let now = utc("2027-06-01T03:00:00Z");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let (cache, name) = (cache.clone(), name.clone());
        tasks.spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..5 {
                seen.push(cache.incr_daily(&name, 1, Sydney, now).await.unwrap());
            }
            seen
        });
    }
    let mut all = BTreeSet::new();
    while let Some(seen) = tasks.join_next().await {
        all.extend(seen.unwrap());
    }
    assert_eq!(all, (1..=1000).collect::<BTreeSet<i64>>());
    assert_eq!(cache.read_daily(&name, Sydney, now).await.unwrap(), 1000);
}

/// Fixed windows count hits, keep their end fixed, and restart after it.
pub async fn window_counts_and_resets(cache: Arc<dyn Cache>, p: &str) {
    let key = format!("{p}api:token-1");
    let window = Duration::from_millis(1000);
    let first = cache.hit_window(&key, window).await.unwrap();
    assert_eq!(first.count, 1);
    assert!(
        first.resets_in <= window && first.resets_in > Duration::ZERO,
        "{first:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = cache.hit_window(&key, window).await.unwrap();
    assert_eq!(second.count, 2);
    assert!(
        second.resets_in < first.resets_in,
        "window end must not move: {first:?} {second:?}"
    );
    assert_eq!(cache.hit_window(&key, window).await.unwrap().count, 3);
    // Another key has its own window.
    assert_eq!(
        cache
            .hit_window(&format!("{p}api:token-2"), window)
            .await
            .unwrap()
            .count,
        1
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = cache.hit_window(&key, window).await.unwrap();
    assert_eq!(after.count, 1, "window must reset");
    assert!(after.resets_in > Duration::from_millis(500), "{after:?}");

    let err = cache.hit_window(&key, Duration::ZERO).await.unwrap_err();
    assert!(matches!(err, CacheError::InvalidInput(_)), "{err:?}");
}

/// Concurrent hits in one window are each counted once.
pub async fn window_concurrent(cache: Arc<dyn Cache>, p: &str) {
    let key = format!("{p}api:burst");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..300 {
        let (cache, key) = (cache.clone(), key.clone());
        tasks.spawn(async move {
            cache
                .hit_window(&key, Duration::from_secs(30))
                .await
                .unwrap()
        });
    }
    let mut counts = BTreeSet::new();
    while let Some(hit) = tasks.join_next().await {
        let hit = hit.unwrap();
        assert!(hit.resets_in <= Duration::from_secs(30));
        counts.insert(hit.count);
    }
    assert_eq!(counts, (1..=300).collect::<BTreeSet<u64>>());
}

/// A generation and the value stored under it are read together; a new generation hides
/// the values of the old one.
pub async fn generation_reads(cache: Arc<dyn Cache>, p: &str) {
    let generation = format!("{p}gen");
    let prefix = format!("{p}count:");
    let ttl = Duration::from_secs(60);
    assert_eq!(
        cache
            .get_in_generation(&generation, &prefix, ":f")
            .await
            .unwrap(),
        ("0".to_owned(), None)
    );
    cache
        .set(&format!("{prefix}0:f"), b"41", ttl)
        .await
        .unwrap();
    assert_eq!(
        cache
            .get_in_generation(&generation, &prefix, ":f")
            .await
            .unwrap(),
        ("0".to_owned(), Some(b"41".to_vec()))
    );
    cache.set(&generation, b"g2", ttl).await.unwrap();
    assert_eq!(
        cache
            .get_in_generation(&generation, &prefix, ":f")
            .await
            .unwrap(),
        ("g2".to_owned(), None)
    );
    cache
        .set(&format!("{prefix}g2:f"), b"42", ttl)
        .await
        .unwrap();
    let (g, value) = cache
        .get_in_generation(&generation, &prefix, ":f")
        .await
        .unwrap();
    assert_eq!((g.as_str(), value.as_deref()), ("g2", Some(&b"42"[..])));
    // Another suffix of the same generation is its own value.
    assert_eq!(
        cache
            .get_in_generation(&generation, &prefix, ":other")
            .await
            .unwrap()
            .1,
        None
    );
}
