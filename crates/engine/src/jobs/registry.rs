//! The handler registry: which function runs each kind. A worker claims only the kinds
//! registered here, so jobs of a kind without a handler wait (visible as queue depth) until a
//! build that handles them is deployed.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use uuid::Uuid;

use super::context::{JobContext, JobError};
use super::kind::JobKind;
use super::payload::JobPayload;

/// A running attempt.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>>;

type Erased = Arc<dyn Fn(JobContext, &[u8]) -> Result<Prepared, JobError> + Send + Sync>;

/// A decoded job, ready to run.
pub struct Prepared {
    /// The attempt.
    pub future: JobFuture,
    /// The tenant, for the span.
    pub client_id: Option<Uuid>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Handlers by kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: BTreeMap<JobKind, Erased>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.handlers.keys()).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for `J`'s kind (replacing any earlier one).
    pub fn register<J, F, Fut>(&mut self, handler: F) -> &mut Self
    where
        J: JobPayload,
        F: Fn(JobContext, J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let erased: Erased = Arc::new(move |ctx: JobContext, bytes: &[u8]| {
            let payload: J = serde_json::from_slice(bytes).map_err(|e| {
                JobError::Permanent(format!("payload of {} does not decode: {e}", J::KIND))
            })?;
            let client_id = payload.client_id();
            Ok(Prepared {
                future: Box::pin(handler(ctx, payload)),
                client_id,
            })
        });
        self.handlers.insert(J::KIND, erased);
        self
    }

    /// The registered kinds.
    pub fn kinds(&self) -> Vec<JobKind> {
        self.handlers.keys().copied().collect()
    }

    /// True when `kind` has a handler.
    pub fn handles(&self, kind: JobKind) -> bool {
        self.handlers.contains_key(&kind)
    }

    /// Decodes `bytes` for `kind` and starts its handler; an unknown kind or a payload that
    /// does not decode is a permanent error.
    pub fn prepare(
        &self,
        kind: JobKind,
        ctx: JobContext,
        bytes: &[u8],
    ) -> Result<Prepared, JobError> {
        let handler = self
            .handlers
            .get(&kind)
            .ok_or_else(|| JobError::Permanent(format!("no handler for {kind}")))?;
        handler(ctx, bytes)
    }
}
