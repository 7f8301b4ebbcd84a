//! Schema migrations: ours (`migrations/` at the workspace root, embedded at build time) and
//! the apalis-postgres job tables (schema `apalis`, its own history table). Run them over a
//! direct session connection: sqlx's migrator takes an advisory lock.

use std::collections::HashSet;

use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::StoreError;

/// Our migrations, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// The apalis-postgres job-table migrations.
pub fn job_migrator() -> Migrator {
    apalis_postgres::PostgresStorage::<()>::migrations()
}

/// One migration set's state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SetStatus {
    /// Which set: `agency` or `apalis`.
    pub name: &'static str,
    /// Versions known to the binary.
    pub known: usize,
    /// Of those, applied successfully.
    pub applied: usize,
    /// Known but not yet applied, by version and description.
    pub pending: Vec<(i64, String)>,
    /// Applied in the database but unknown to this binary (a newer binary ran).
    pub unknown_applied: Vec<i64>,
    /// Applied but left dirty (failed half way).
    pub dirty: Vec<i64>,
}

impl SetStatus {
    /// True when everything this binary knows is applied and nothing is dirty.
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.dirty.is_empty()
    }
}

/// Applies the job tables, then our migrations (so ours may index or reference the `apalis`
/// schema). Safe to run again: applied versions are skipped.
pub async fn run(pool: &PgPool) -> Result<(), StoreError> {
    job_migrator().run(pool).await?;
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Reports both migration sets without changing anything.
pub async fn status(pool: &PgPool) -> Result<Vec<SetStatus>, StoreError> {
    Ok(vec![
        set_status(pool, "agency", &MIGRATOR, "public._sqlx_migrations").await?,
        set_status(pool, "apalis", &job_migrator(), "apalis._sqlx_migrations").await?,
    ])
}

/// True when both sets are fully applied (used by readiness).
pub async fn is_current(pool: &PgPool) -> Result<bool, StoreError> {
    Ok(status(pool).await?.iter().all(SetStatus::is_current))
}

async fn set_status(
    pool: &PgPool,
    name: &'static str,
    migrator: &Migrator,
    table: &str,
) -> Result<SetStatus, StoreError> {
    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
        .bind(table)
        .fetch_one(pool)
        .await?;
    let rows: Vec<(i64, bool)> = if exists.is_some() {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT version, success FROM {table} ORDER BY version"
        )))
        .fetch_all(pool)
        .await?
    } else {
        Vec::new()
    };
    let applied: HashSet<i64> = rows.iter().filter(|(_, ok)| *ok).map(|(v, _)| *v).collect();
    let known: Vec<_> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .collect();
    let known_versions: HashSet<i64> = known.iter().map(|m| m.version).collect();
    Ok(SetStatus {
        name,
        known: known.len(),
        applied: known
            .iter()
            .filter(|m| applied.contains(&m.version))
            .count(),
        pending: known
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| (m.version, m.description.to_string()))
            .collect(),
        unknown_applied: applied
            .iter()
            .copied()
            .filter(|v| !known_versions.contains(v))
            .collect(),
        dirty: rows.iter().filter(|(_, ok)| !ok).map(|(v, _)| *v).collect(),
    })
}
