//! What every Agency OS process shares at its edges: typed configuration from the environment
//! (and `.env`), JSON logging and Sentry, Prometheus metrics, health and readiness endpoints,
//! and graceful shutdown. The binaries stay thin by calling into this crate.

pub mod config;
pub mod health;
pub mod metrics;
pub mod shutdown;
pub mod telemetry;

pub use config::{
    AlertArgs, CommonArgs, ConfigError, DatabaseArgs, Environment, MetricsArgs, PublicLinksArgs,
    RedisArgs, TelemetryArgs,
};
pub use shutdown::Shutdown;
