//! The scheduler's configuration, read from the environment (and `.env`).

use agency_runtime::{CommonArgs, MetricsArgs};
use clap::Parser;

/// Configuration of `agency-scheduler`; `--help` lists every variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "agency-scheduler",
    about = "Agency OS cron scheduler: enqueues scheduled jobs",
    version
)]
pub struct SchedulerConfig {
    /// Health and metrics server (`METRICS_HOST`, `METRICS_PORT`, default port 9092).
    #[command(flatten)]
    pub metrics: MetricsArgs<9092>,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_metrics_server_defaults_to_port_9092() {
        let cfg = SchedulerConfig::try_parse_from(["agency-scheduler"]).expect("config parses");
        assert_eq!(cfg.metrics.addr().port(), 9092);
    }
}
