//! Logging and error reporting: `tracing` to stdout as JSON (or pretty for a terminal), and
//! Sentry when `SENTRY_DSN` is set (errors logged through tracing become Sentry events).

use secrecy::ExposeSecret;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{Environment, LogFormat, TelemetryArgs};

/// Keeps Sentry flushing until dropped at the end of `main`.
#[must_use = "dropping the guard stops Sentry reporting"]
pub struct TelemetryGuard {
    _sentry: Option<sentry::ClientInitGuard>,
}

/// Installs the global subscriber, Sentry and the metrics recorder. Call once, first thing in
/// `main`.
pub fn init(
    service: &'static str,
    args: &TelemetryArgs,
    environment: Environment,
) -> TelemetryGuard {
    // The metrics recorder is installed before any work, so nothing counted before the
    // first scrape of `/metrics` is lost.
    let _ = crate::metrics::recorder();
    let sentry_guard = args.sentry_dsn.as_ref().map(|dsn| {
        sentry::init((
            dsn.expose_secret().to_owned(),
            sentry::ClientOptions {
                release: sentry::release_name!(),
                environment: Some(
                    match environment {
                        Environment::Development => "development",
                        Environment::Production => "production",
                    }
                    .into(),
                ),
                server_name: Some(service.into()),
                traces_sample_rate: args.sentry_traces_sample_rate,
                attach_stacktrace: true,
                ..Default::default()
            },
        ))
    });

    let filter = EnvFilter::try_new(&args.log_filter).unwrap_or_else(|e| {
        eprintln!("error: RUST_LOG is invalid: {e}");
        std::process::exit(2);
    });
    let fmt = match args.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().compact().boxed(),
    };
    let registry = tracing_subscriber::registry().with(filter).with(fmt);
    let result = if sentry_guard.is_some() {
        registry
            .with(sentry::integrations::tracing::layer())
            .try_init()
    } else {
        registry.try_init()
    };
    // A second init in one process (agencyctl dev runs three services) keeps the first.
    drop(result);
    tracing::info!(service, sentry = sentry_guard.is_some(), "telemetry ready");
    TelemetryGuard {
        _sentry: sentry_guard,
    }
}
