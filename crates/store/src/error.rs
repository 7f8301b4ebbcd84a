//! The store's error type: database failures, with the named constraint violations that
//! callers turn into 409/422 answers instead of racing pre-checks.

/// What went wrong talking to PostgreSQL.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist within the tenant.
    #[error("not found")]
    NotFound,
    /// A unique or exclusion constraint refused the write (the constraint's name is kept).
    #[error("conflict on {constraint}")]
    Conflict {
        /// The violated constraint or index.
        constraint: String,
    },
    /// A stored value is not one of the closed set the code knows (e.g. an unknown status).
    #[error("unknown stored value: {0}")]
    Decode(String),
    /// A CHECK or foreign-key constraint refused the write.
    #[error("constraint {constraint} refused the write")]
    Constraint {
        /// The violated constraint.
        constraint: String,
    },
    /// PostgreSQL refused a value itself (SQLSTATE class 22, "data exception": a NUL
    /// character in text, a number out of its column's range, an unreadable date...). The
    /// input was bad, not the database: a 4xx, never retried.
    #[error("invalid value (SQLSTATE {sqlstate}): {message}")]
    InvalidValue {
        /// The SQLSTATE code (e.g. `22021`, `22003`).
        sqlstate: String,
        /// PostgreSQL's message (names no stored value).
        message: String,
    },
    /// Migrations could not be applied or read.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The apalis job tables could not be set up.
    #[error("job tables: {0}")]
    Jobs(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        if let sqlx::Error::RowNotFound = err {
            return StoreError::NotFound;
        }
        if let Some(db) = err.as_database_error() {
            let constraint = db.constraint().unwrap_or_default().to_owned();
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => {
                    return StoreError::Conflict { constraint };
                }
                sqlx::error::ErrorKind::CheckViolation
                | sqlx::error::ErrorKind::ForeignKeyViolation => {
                    return StoreError::Constraint { constraint };
                }
                // Exclusion constraints (e.g. overlapping meetings) conflict like unique ones.
                _ if db.code().as_deref() == Some("23P01") => {
                    return StoreError::Conflict { constraint };
                }
                _ if db.code().is_some_and(|c| c.starts_with("22")) => {
                    return StoreError::InvalidValue {
                        sqlstate: db.code().unwrap_or_default().into_owned(),
                        message: db.message().to_owned(),
                    };
                }
                _ => {}
            }
        }
        StoreError::Database(err)
    }
}

impl StoreError {
    /// A `Decode` error for a stored value that does not parse.
    pub fn decode(column: &str, err: impl std::fmt::Display) -> Self {
        StoreError::Decode(format!("{column}: {err}"))
    }

    /// True when a unique constraint with this name refused the write.
    pub fn is_conflict_on(&self, name: &str) -> bool {
        matches!(self, StoreError::Conflict { constraint } if constraint == name)
    }
}
