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
    /// Time zone the schedules' wall-clock times are read in.
    #[arg(
        long = "scheduler-timezone",
        env = "SCHEDULER_TIMEZONE",
        value_name = "SCHEDULER_TIMEZONE",
        default_value = "Australia/Sydney"
    )]
    pub timezone: chrono_tz::Tz,
    /// How often due ticks are checked, in milliseconds.
    #[arg(long = "scheduler-check-interval-ms", env = "SCHEDULER_CHECK_INTERVAL_MS", value_name = "SCHEDULER_CHECK_INTERVAL_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub check_interval_ms: u64,
    /// A missed tick (the scheduler was down) still fires when at most this many hours late;
    /// only the latest missed tick of a schedule fires, once.
    #[arg(long = "scheduler-catch-up-hours", env = "SCHEDULER_CATCH_UP_HOURS", value_name = "SCHEDULER_CATCH_UP_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u32).range(0..=24 * 14))]
    pub catch_up_hours: u32,
    /// This process's name, recorded with each tick it fires; default host-pid.
    #[arg(
        long = "scheduler-name",
        env = "SCHEDULER_NAME",
        value_name = "SCHEDULER_NAME"
    )]
    pub name: Option<String>,
    /// Shared settings: database, Redis, telemetry.
    #[command(flatten)]
    pub common: CommonArgs,
}

impl SchedulerConfig {
    /// The process name recorded in `schedule_runs.fired_by`.
    pub fn scheduler_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "scheduler".into());
            format!("{host}-{}", std::process::id())
        })
    }

    /// The health server's socket address.
    pub fn metrics_addr(&self) -> SocketAddr {
        SocketAddr::new(self.metrics_host, self.metrics_port)
    }
}
