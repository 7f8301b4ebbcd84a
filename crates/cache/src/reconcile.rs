//! Reconciliation after an outage: moves what PostgreSQL accumulated while Redis was down
//! (live counters, entries, delete tombstones) into Redis, then removes it from PostgreSQL.

use rust_decimal::Decimal;

use crate::CacheError;
use crate::keys::ttl_millis;
use crate::money::to_micros;
use crate::pg_cache::PgCache;
use crate::redis_cache::RedisCache;

/// Rows moved per transaction.
const BATCH: i64 = 500;

/// What one reconciliation moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Daily and money counters added into Redis.
    pub counters: u64,
    /// Entries copied (SET) or deletes replayed (DEL) in Redis.
    pub entries: u64,
    /// Rate-limit windows dropped (short-lived; not carried over).
    pub windows_dropped: u64,
}

/// Moves everything live in `pg` into `redis`, in batches. Each batch is one PostgreSQL
/// transaction (rows locked with SKIP LOCKED, so concurrent reconcilers split the work)
/// around one atomic Redis MULTI; the rows are deleted only after Redis accepted the batch.
/// If the commit fails after Redis applied a batch, counters are added twice: the error
/// leans towards over-counting, the safe side for limits and budgets.
pub(crate) async fn drain(pg: &PgCache, redis: &RedisCache) -> Result<ReconcileReport, CacheError> {
    let mut report = ReconcileReport::default();
    loop {
        let (batch, more) = drain_batch(pg, redis).await?;
        report.counters += batch.counters;
        report.entries += batch.entries;
        report.windows_dropped += batch.windows_dropped;
        if !more {
            return Ok(report);
        }
    }
}

/// One batch; returns the report and whether a full batch was seen (more may remain).
async fn drain_batch(
    pg: &PgCache,
    redis: &RedisCache,
) -> Result<(ReconcileReport, bool), CacheError> {
    let mut tx = pg.pool().begin().await?;
    let counters: Vec<(String, String, Decimal, i64)> = sqlx::query_as(
        "SELECT key, kind, value, \
           (extract(epoch FROM (expires_at - now())) * 1000)::bigint \
         FROM cache_counters WHERE expires_at > now() \
         ORDER BY key LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let entries: Vec<(String, Option<Vec<u8>>, i64)> = sqlx::query_as(
        "SELECT key, value, (extract(epoch FROM (expires_at - now())) * 1000)::bigint \
         FROM cache_entries WHERE expires_at > now() \
         ORDER BY key LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?;
    let more = counters.len() as i64 == BATCH || entries.len() as i64 == BATCH;
    if counters.is_empty() && entries.is_empty() {
        return Ok((ReconcileReport::default(), false));
    }

    let mut report = ReconcileReport::default();
    let mut pipe = redis::pipe();
    pipe.atomic();
    for (key, kind, value, remaining_ms) in &counters {
        let by = match kind.as_str() {
            "count" => i64::try_from(*value)
                .map_err(|_| CacheError::Corrupt(format!("counter not an i64 at {key}")))?,
            "money" => to_micros(*value)?,
            _ => {
                report.windows_dropped += 1;
                continue;
            }
        };
        let ttl = ttl_millis(std::time::Duration::from_millis(
            u64::try_from(*remaining_ms).unwrap_or(1),
        ));
        pipe.cmd("INCRBY").arg(key).arg(by).ignore();
        pipe.cmd("PEXPIRE").arg(key).arg(ttl).ignore();
        report.counters += 1;
    }
    for (key, value, remaining_ms) in &entries {
        match value {
            Some(bytes) => {
                let ttl = ttl_millis(std::time::Duration::from_millis(
                    u64::try_from(*remaining_ms).unwrap_or(1),
                ));
                pipe.cmd("SET")
                    .arg(key)
                    .arg(bytes.as_slice())
                    .arg("PX")
                    .arg(ttl)
                    .ignore();
            }
            None => {
                pipe.cmd("DEL").arg(key).ignore();
            }
        }
        report.entries += 1;
    }
    if report.counters + report.entries > 0 {
        let () = redis.query_pipe(&pipe).await?;
    }

    let counter_keys: Vec<&str> = counters.iter().map(|c| c.0.as_str()).collect();
    let entry_keys: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    sqlx::query("DELETE FROM cache_counters WHERE key = ANY($1)")
        .bind(&counter_keys)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM cache_entries WHERE key = ANY($1)")
        .bind(&entry_keys)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((report, more))
}
