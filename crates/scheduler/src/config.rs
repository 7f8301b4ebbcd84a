//! The scheduler's configuration, read from the environment (and `.env`).

use std::net::{IpAddr, SocketAddr};

use agency_runtime::CommonArgs;
use clap::Parser;

/// Configuration of `agency-scheduler`; `--help` lists every variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "agency-scheduler",
    about = "Agency OS cron scheduler: enqueues scheduled jobs",
    version
)]
pub struct SchedulerConfig {
    /// Address of the health and metrics server.
    #[arg(
        long = "metrics-host",
        env = "METRICS_HOST",
        value_name = "METRICS_HOST",
        default_value = "0.0.0.0"
    )]
    pub metrics_host: IpAddr,
    /// Port of the health and metrics server (`/healthz`, `/readyz`, `/metrics`).
    #[arg(
        long = "metrics-port",
        env = "METRICS_PORT",
        value_name = "METRICS_PORT",
        default_value_t = 9092
    )]
    pub metrics_port: u16,
    /// Shared settings: database, Redis, telemetry.
    #[command(flatten)]
    pub common: CommonArgs,
}

impl SchedulerConfig {
    /// The health server's socket address.
    pub fn metrics_addr(&self) -> SocketAddr {
        SocketAddr::new(self.metrics_host, self.metrics_port)
    }
}
