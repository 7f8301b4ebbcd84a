//! `onboarding_jobs`: website analyses of a client (onboarding and ICP re-analysis) with their
//! step progress, error message and extracted profile. Rows decode into typed values here; an
//! unknown status or step in the table is an error.

use agency_domain::icp::{AnalysisPurpose, AnalysisStatus, AnalysisStep};
use agency_domain::{ClientId, OnboardingJobId, UserId};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use crate::StoreError;

const COLUMNS: &str = "j.id, j.client_id, j.requested_by, j.purpose, j.website_url, j.status,
    j.current_step, j.completed_steps, j.error_message, j.result, j.pages_read, j.started_at,
    j.completed_at, j.confirmed_at, j.created_at, j.updated_at";

#[derive(FromRow)]
struct Row {
    id: OnboardingJobId,
    client_id: ClientId,
    requested_by: Option<UserId>,
    purpose: String,
    website_url: String,
    status: String,
    current_step: Option<String>,
    completed_steps: i32,
    error_message: Option<String>,
    result: Option<serde_json::Value>,
    pages_read: i32,
    started_at: Option<DateTime<Utc>>,
    completed_at: Option<DateTime<Utc>>,
    confirmed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// One website analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct OnboardingJob {
    /// Id (also the `job_id` / `task_id` the API answers).
    pub id: OnboardingJobId,
    /// The client analysed.
    pub client_id: ClientId,
    /// Who asked.
    pub requested_by: Option<UserId>,
    /// Onboarding or re-analysis.
    pub purpose: AnalysisPurpose,
    /// The address read.
    pub website_url: String,
    /// Where it is.
    pub status: AnalysisStatus,
    /// The step under way (the last one reached when it ended).
    pub current_step: Option<AnalysisStep>,
    /// Steps done, 0-8.
    pub completed_steps: u32,
    /// Why it failed, for people.
    pub error_message: Option<String>,
    /// The extracted profile (JSON of `IcpProfile`) once completed.
    pub result: Option<serde_json::Value>,
    /// Pages read.
    pub pages_read: u32,
    /// Started.
    pub started_at: Option<DateTime<Utc>>,
    /// Completed or failed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Confirmed by the agency.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

fn decode_err(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("onboarding_jobs.{what}: {e}").into(),
    ))
}

impl TryFrom<Row> for OnboardingJob {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id,
            client_id: r.client_id,
            requested_by: r.requested_by,
            purpose: r.purpose.parse().map_err(|e| decode_err("purpose", e))?,
            website_url: r.website_url,
            status: r.status.parse().map_err(|e| decode_err("status", e))?,
            current_step: r
                .current_step
                .map(|s| s.parse().map_err(|e| decode_err("current_step", e)))
                .transpose()?,
            completed_steps: u32::try_from(r.completed_steps)
                .map_err(|e| decode_err("completed_steps", e))?,
            error_message: r.error_message,
            result: r.result,
            pages_read: u32::try_from(r.pages_read).map_err(|e| decode_err("pages_read", e))?,
            started_at: r.started_at,
            completed_at: r.completed_at,
            confirmed_at: r.confirmed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

type RowQuery<'q> = sqlx::query::QueryAs<'q, sqlx::Postgres, Row, sqlx::postgres::PgArguments>;

fn query<'q>(sql: String) -> RowQuery<'q> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
}

async fn one(conn: &mut PgConnection, q: RowQuery<'_>) -> Result<OnboardingJob, StoreError> {
    q.fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?
        .try_into()
}

/// A new analysis.
#[derive(Debug, Clone)]
pub struct NewOnboardingJob {
    /// Its id.
    pub id: OnboardingJobId,
    /// The client.
    pub client_id: ClientId,
    /// Who asked.
    pub requested_by: Option<UserId>,
    /// Why.
    pub purpose: AnalysisPurpose,
    /// The address to read.
    pub website_url: String,
}

/// Inserts a pending analysis.
pub async fn insert(
    conn: &mut PgConnection,
    new: &NewOnboardingJob,
) -> Result<OnboardingJob, StoreError> {
    let q = query(format!(
        "INSERT INTO onboarding_jobs AS j (id, client_id, requested_by, purpose, website_url)
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    ))
    .bind(new.id)
    .bind(new.client_id)
    .bind(new.requested_by)
    .bind(new.purpose.as_str())
    .bind(new.website_url.clone());
    one(conn, q).await
}

/// The analysis `id` if `user` holds an accepted membership of its (live) client.
pub async fn get_for_user(
    conn: &mut PgConnection,
    id: OnboardingJobId,
    user: UserId,
) -> Result<OnboardingJob, StoreError> {
    let q = query(format!(
        "SELECT {COLUMNS} FROM onboarding_jobs j
           JOIN clients c ON c.id = j.client_id AND c.deleted_at IS NULL
           JOIN memberships m ON m.client_id = j.client_id AND m.user_id = $2
            AND m.accepted_at IS NOT NULL AND m.deleted_at IS NULL
          WHERE j.id = $1"
    ))
    .bind(id)
    .bind(user);
    one(conn, q).await
}

/// The analysis `id`, locked for update (the job handler's read).
pub async fn lock(
    conn: &mut PgConnection,
    id: OnboardingJobId,
) -> Result<OnboardingJob, StoreError> {
    let q = query(format!(
        "SELECT {COLUMNS} FROM onboarding_jobs j WHERE j.id = $1 FOR UPDATE"
    ))
    .bind(id);
    one(conn, q).await
}

/// Marks it running at the first step (keeps the first start time on a retry).
pub async fn start(conn: &mut PgConnection, id: OnboardingJobId) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE onboarding_jobs SET status = 'running', current_step = $2, completed_steps = 0,
                error_message = NULL, started_at = COALESCE(started_at, now()), updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(AnalysisStep::FetchingWebsite.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records progress: `completed` steps done, `current` under way.
pub async fn record_step(
    conn: &mut PgConnection,
    id: OnboardingJobId,
    completed: u32,
    current: AnalysisStep,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE onboarding_jobs SET completed_steps = $2, current_step = $3, updated_at = now()
          WHERE id = $1 AND status = 'running'",
    )
    .bind(id)
    .bind(i32::try_from(completed).unwrap_or(8))
    .bind(current.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends it completed with `result`.
pub async fn complete(
    conn: &mut PgConnection,
    id: OnboardingJobId,
    result: &serde_json::Value,
    pages_read: u32,
) -> Result<OnboardingJob, StoreError> {
    let q = query(format!(
        "UPDATE onboarding_jobs j SET status = 'completed', completed_steps = 8, current_step = $3,
                result = $2, pages_read = $4, completed_at = now(), updated_at = now()
          WHERE j.id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(result.clone())
    .bind(AnalysisStep::CalculatingAlsWeights.as_str())
    .bind(i32::try_from(pages_read).unwrap_or(i32::MAX));
    one(conn, q).await
}

/// Ends it failed with a message for people.
pub async fn fail(
    conn: &mut PgConnection,
    id: OnboardingJobId,
    message: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE onboarding_jobs SET status = 'failed', error_message = $2, completed_at = now(),
                started_at = COALESCE(started_at, now()), updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(message)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the agency's confirmation (and the profile as confirmed).
pub async fn confirm(
    conn: &mut PgConnection,
    id: OnboardingJobId,
    result: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE onboarding_jobs SET confirmed_at = now(), result = $2, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(result)
    .execute(conn)
    .await?;
    Ok(())
}
