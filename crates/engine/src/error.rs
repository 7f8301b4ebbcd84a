//! The engine's one error type, [`UseCaseError`]: every use-case and job step returns it. Each
//! variant has one HTTP status (mapped once, in the API's `error.rs`) and one job outcome
//! (retryable or permanent, [`UseCaseError::is_permanent`]); causes are kept as `source`.
//! [`FieldError`] is the one field-level validation error.

use agency_cache::CacheError;
use agency_store::StoreError;

use crate::jobs::enqueue::EnqueueError;

/// One rejected input field: its JSON path and a sentence a user can read (the `fields` of
/// the API's error envelope).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `allocation_email` or `leads[3].email`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Why a use-case refused or failed; each variant has one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum UseCaseError {
    /// The input parses but breaks a rule (422, with the fields).
    #[error("{message}")]
    Invalid {
        /// Summary sentence.
        message: String,
        /// The offending fields.
        fields: Vec<FieldError>,
    },
    /// The caller's role is too low for this (403, with a sentence naming the roles).
    #[error("{0}")]
    Forbidden(String),
    /// The entity does not exist in the tenant (404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state (409).
    #[error("{message}")]
    Conflict {
        /// Stable snake_case code.
        code: &'static str,
        /// Sentence for the user.
        message: String,
    },
    /// The caller reached a per-period limit (429 with `Retry-After`).
    #[error("{message}")]
    LimitReached {
        /// Stable snake_case code.
        code: &'static str,
        /// Sentence for the user.
        message: String,
        /// Seconds until a retry may succeed.
        retry_after_secs: u64,
    },
    /// The input is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// The input cannot be read at all (400).
    #[error("{0}")]
    BadInput(String),
    /// The database failed (500; the detail is logged, never shown).
    #[error("the database failed")]
    Store(#[from] StoreError),
    /// The follow-up job could not be queued (500; the whole write was rolled back).
    #[error("the follow-up job could not be queued")]
    Queue(#[from] EnqueueError),
    /// The cache (Redis and its PostgreSQL fallback) failed (500; retried in a job).
    #[error("the cache failed")]
    Cache(#[from] CacheError),
    /// A stored value breaks an invariant (unknown enum value, bad timezone): a bug or a bad
    /// migration, never the caller's fault (500; permanent in a job).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Every provider that could answer failed transiently; try again later (503; retried).
    #[error("providers unavailable: {0}")]
    Unavailable(String),
}

impl From<sqlx::Error> for UseCaseError {
    fn from(err: sqlx::Error) -> Self {
        UseCaseError::Store(StoreError::from(err))
    }
}

impl UseCaseError {
    /// A 422 for a list of field errors (the message is the first one's).
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = match fields.as_slice() {
            [one] => format!("{}: {}", one.path, one.message),
            [first, ..] => format!(
                "{}: {} (and {} more)",
                first.path,
                first.message,
                fields.len() - 1
            ),
            [] => "the request is invalid".to_owned(),
        };
        UseCaseError::Invalid { message, fields }
    }

    /// A 422 for one field.
    pub fn field(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(path, message)])
    }

    /// True when the thing asked for does not exist (in the tenant).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            UseCaseError::NotFound(_) | UseCaseError::Store(StoreError::NotFound)
        )
    }

    /// True when retrying the same call later cannot succeed (a job dead-letters at once).
    pub fn is_permanent(&self) -> bool {
        match self {
            UseCaseError::Store(StoreError::NotFound | StoreError::InvalidValue { .. }) => true,
            UseCaseError::Store(_)
            | UseCaseError::Queue(_)
            | UseCaseError::Cache(_)
            | UseCaseError::LimitReached { .. }
            | UseCaseError::Unavailable(_) => false,
            UseCaseError::Invalid { .. }
            | UseCaseError::Forbidden(_)
            | UseCaseError::NotFound(_)
            | UseCaseError::Conflict { .. }
            | UseCaseError::TooLarge(_)
            | UseCaseError::BadInput(_)
            | UseCaseError::Corrupt(_) => true,
        }
    }

    /// The same error, a store `NotFound` named as `entity` (a 404 that says what is missing).
    pub fn naming(self, entity: &'static str) -> Self {
        match self {
            UseCaseError::Store(StoreError::NotFound) => UseCaseError::NotFound(entity),
            other => other,
        }
    }

    /// Maps a store `NotFound` to a 404 naming `entity`.
    pub fn not_found_as(entity: &'static str) -> impl FnOnce(StoreError) -> UseCaseError {
        move |err| match err {
            StoreError::NotFound => UseCaseError::NotFound(entity),
            other => UseCaseError::Store(other),
        }
    }
}
