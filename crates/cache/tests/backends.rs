//! The shared behaviour suite, run identically against `RedisCache`, `PgCache`, and a
//! `FallbackCache` whose Redis is unreachable (so it serves from PostgreSQL).

mod common;

use std::sync::Arc;

use agency_cache::{Cache, FallbackCache, PgCache, RedisCache};
use common::{RedisKeys, behaviours, redis_url};
use sqlx::PgPool;

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod redis_backend {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let keys = RedisKeys::new();
                    // The behaviours are about results, not latency: 1000 concurrent callers on
                    // a loaded 2-core machine may wait longer than the production pool's 300 ms.
                    let cache: Arc<dyn Cache> = Arc::new(
                        RedisCache::from_url_with_timeout(&redis_url(), std::time::Duration::from_secs(10))
                            .expect("redis pool"),
                    );
                    behaviours::$name(cache, &keys.prefix).await;
                }
            )*
        }
        mod pg_backend {
            use super::*;
            $(
                #[sqlx::test(migrations = "../../migrations")]
                async fn $name(pool: PgPool) {
                    let cache: Arc<dyn Cache> = Arc::new(PgCache::new(pool));
                    behaviours::$name(cache, &common::unique_prefix()).await;
                }
            )*
        }
        mod fallback_degraded {
            use super::*;
            $(
                #[sqlx::test(migrations = "../../migrations")]
                async fn $name(pool: PgPool) {
                    let cache = Arc::new(
                        FallbackCache::new(Some("redis://127.0.0.1:1"), pool).expect("fallback"),
                    );
                    behaviours::$name(cache.clone(), &common::unique_prefix()).await;
                    assert!(cache.status().degraded);
                }
            )*
        }
    };
}

suite!(
    set_get_expire,
    generation_reads,
    delete,
    daily_rollover_at_local_midnight,
    daily_rollover_on_dst_days,
    money_exactness,
    money_concurrent,
    counter_concurrent,
    window_counts_and_resets,
    window_concurrent,
);
