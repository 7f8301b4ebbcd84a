//! `agencyctl dev`: the whole system in one process for a laptop. API, worker and scheduler
//! share one pool and one shutdown signal; with `DATABASE_URL` unset a private PostgreSQL
//! cluster starts under `.dev/`; a demo tenant is seeded (with scored demo leads) and a dev
//! token printed; a demo agency website is served on loopback for onboarding to analyse.
//!
//! Safe on a shared network: it refuses `AGENCY_ENV=production`, the API listens on
//! 127.0.0.1 only, tokens are signed with a random secret made for this run (printed with
//! the token) unless `SUPABASE_JWT_SECRET` is set, and CORS allows
//! the local dashboard's origins (not `*`) unless `CORS_ALLOWED_ORIGINS` is set.

mod postgres;
mod seed;
mod site;

use std::path::PathBuf;
use std::sync::Arc;

use agency_runtime::{Shutdown, telemetry};
use clap::{Args, Parser};
use secrecy::{ExposeSecret, SecretString};

/// Arguments of `dev`.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Folder for the private PostgreSQL cluster (used when DATABASE_URL is unset).
    #[arg(long, default_value = ".dev")]
    pub data_dir: PathBuf,
    /// Start, migrate and seed, print the token, then exit (a smoke test of the set-up).
    #[arg(long)]
    pub check: bool,
    /// Port of the local demo agency website (default: the API port + 3; 0 picks a free one).
    #[arg(long = "demo-site-port", value_name = "PORT")]
    pub demo_site_port: Option<u16>,
}

/// Origins CORS allows in dev mode when `CORS_ALLOWED_ORIGINS` is unset: the dashboard's
/// local development server.
pub const DEV_CORS_ORIGINS: &str = "http://localhost:3000,http://127.0.0.1:3000";

/// A fresh HS256 secret for one dev run: 64 hex characters from the OS random source.
fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Runs dev mode until Ctrl-C.
pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let mut api = agency_api::ApiConfig::try_parse_from(["agency-api"])?;
    let mut worker = agency_worker::WorkerConfig::try_parse_from(["agency-worker"])?;
    let mut scheduler = agency_scheduler::SchedulerConfig::try_parse_from(["agency-scheduler"])?;
    if api.common.environment == agency_runtime::config::Environment::Production {
        anyhow::bail!(
            "agencyctl dev refuses to run with AGENCY_ENV=production: it seeds demo data, \
             sandboxes providers and mints tokens. Run agency-api, agency-worker and \
             agency-scheduler instead."
        );
    }
    // Loopback only: dev mode is for this machine.
    api.host = std::net::IpAddr::from([127, 0, 0, 1]);
    let _telemetry = telemetry::init(
        "agencyctl-dev",
        &api.common.telemetry,
        api.common.environment,
    );

    let embedded = match api.common.database.database_url {
        Some(_) => None,
        None => {
            let pg =
                tokio::task::block_in_place(|| postgres::EmbeddedPostgres::start(&args.data_dir))?;
            let admin = sqlx::PgPool::connect(&pg.url("postgres")).await?;
            let exists: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'agency')",
            )
            .fetch_one(&admin)
            .await?;
            if !exists {
                sqlx::query("CREATE DATABASE agency")
                    .execute(&admin)
                    .await?;
            }
            admin.close().await;
            let url = SecretString::from(pg.url("agency"));
            for db in [
                &mut api.common.database,
                &mut worker.common.database,
                &mut scheduler.common.database,
            ] {
                db.database_url = Some(url.clone());
            }
            Some(pg)
        }
    };
    let result = run_services(args, api, worker, scheduler).await;
    drop(embedded);
    result
}

async fn run_services(
    args: DevArgs,
    mut api: agency_api::ApiConfig,
    mut worker: agency_worker::WorkerConfig,
    mut scheduler: agency_scheduler::SchedulerConfig,
) -> anyhow::Result<()> {
    let migrations = crate::migrate::direct_pool(&api.common.database).await?;
    agency_store::migrate::run(&migrations).await?;
    migrations.close().await;

    // Dev mode verifies the tokens it prints (a secret made for this run unless one is
    // configured) and lets the local dashboard call it.
    let generated_secret = match &api.supabase_jwt_secret {
        None => {
            let secret = random_secret();
            api.supabase_jwt_secret = Some(SecretString::from(secret.clone()));
            Some(secret)
        }
        Some(_) => None,
    };
    if api.cors_allowed_origins.trim().is_empty() {
        api.cors_allowed_origins = DEV_CORS_ORIGINS.to_owned();
    }
    let api_settings = api.settings()?;
    // Onboarding may read the local demo site: the website reader allows loopback and private
    // addresses here, as in any development set-up (production always refuses them).
    if worker.common.environment != agency_runtime::config::Environment::Production {
        worker.website.allow_private_addresses = true;
    }
    // The worker's providers: keys from the environment, sandboxes for the rest (production
    // refuses sandboxes without ALLOW_SANDBOX_IN_PRODUCTION=true).
    worker.validate_providers()?;
    let sandboxed: Vec<String> = worker
        .providers
        .sandboxed()
        .into_iter()
        .map(|(provider, _)| provider.to_string())
        .collect();
    let pool = api.common.database.pool("agencyctl-dev")?;
    let demo = seed::seed_demo(&pool).await?;
    let secret = match &api.supabase_jwt_secret {
        Some(secret) => secret.expose_secret().to_owned(),
        None => anyhow::bail!("dev mode mints HS256 tokens but has no secret"),
    };
    let token = crate::token::mint(&secret, demo.user_id, Some(seed::DEMO_EMAIL), 24 * 30)?;
    let base = format!("http://127.0.0.1:{}", api.port);
    // The check binds any free port (several checks may run at once); otherwise the given
    // port, or the API's + 3 when free.
    let loopback = |port| std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let site = match (args.demo_site_port, args.check) {
        (Some(port), _) => site::serve(loopback(port)).await?,
        (None, true) => site::serve(loopback(0)).await?,
        (None, false) => match site::serve(loopback(api.port.saturating_add(3))).await {
            Ok(addr) => addr,
            Err(e) => {
                tracing::warn!(error = %e, "demo website port busy: using a free one");
                site::serve(loopback(0)).await?
            }
        },
    };
    let site_url = format!("http://{site}/");
    println!("\nAgency OS dev mode");
    println!("  api:       {base}   (docs: {base}/api/v1/docs)");
    println!("  client id: {}", demo.client_id);
    println!("  demo site: {site_url}   (an agency website onboarding can analyse offline)");
    if sandboxed.is_empty() {
        println!("  providers: all real");
    } else {
        println!("  providers: sandbox for {}", sandboxed.join(", "));
    }
    println!("  listen:    {}   (loopback only)", api.listen_addr());
    println!("  cors:      {}", api.cors_allowed_origins);
    match &generated_secret {
        Some(secret) => println!(
            "  jwt secret: {secret}   (made for this run; tokens from an earlier run no longer verify)"
        ),
        None => println!("  jwt secret: from SUPABASE_JWT_SECRET"),
    }
    println!("  token:     {token}\n");
    println!("  curl -H 'Authorization: Bearer {token}' {base}/api/v1/me");
    println!(
        "  curl -H 'Authorization: Bearer {token}' {base}/api/v1/clients/{}/campaigns",
        demo.client_id
    );
    println!(
        "  curl -H 'Authorization: Bearer {token}' -H 'content-type: application/json' -d '{{\"website_url\": \"{site_url}\"}}' {base}/api/v1/onboarding/analyze"
    );
    println!("  curl {base}/readyz\n");
    if args.check {
        pool.close().await;
        return Ok(());
    }

    let cache = Arc::new(api.common.redis.cache(pool.clone())?);
    worker.metrics.metrics_port = api.port.saturating_add(1);
    scheduler.metrics.metrics_port = api.port.saturating_add(2);
    let shutdown = Shutdown::on_signals();
    // One Services value for the API and the worker of this all-in-one process.
    let mut services = agency_worker::build_services(&worker, pool.clone(), cache.clone())?;
    // The sandbox loop: sandboxed messages come back as the providers' webhooks.
    services.settings = Arc::new(agency_engine::EngineSettings {
        sandbox_feedback: true,
        ..(*services.settings).clone()
    });
    let state = agency_api::AppState::new(services.clone(), api_settings);
    let (api_result, worker_result, scheduler_result) = tokio::join!(
        agency_api::serve(api.listen_addr(), state, shutdown.clone(), |_| {}),
        agency_worker::run(worker, services, shutdown.clone()),
        agency_scheduler::run(scheduler, pool.clone(), cache, shutdown.clone()),
    );
    pool.close().await;
    api_result.and(worker_result).and(scheduler_result)
}
