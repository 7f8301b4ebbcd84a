//! `agencyctl migrate run|status`: our migrations and the apalis job tables, over
//! `DATABASE_DIRECT_URL` when set (migrations take a session advisory lock), else `DATABASE_URL`.

use agency_runtime::DatabaseArgs;
use clap::{Args, Subcommand};

/// Arguments of `migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Apply every pending migration (safe to run again).
    Run,
    /// List applied and pending migrations; exits 1 when any are pending.
    Status,
}

/// Connects over the session URL.
pub async fn direct_pool(database: &DatabaseArgs) -> anyhow::Result<sqlx::PgPool> {
    let url = database.direct_url()?;
    let pool = agency_store::connect(url, &database.direct_pool_settings("agencyctl"))
        .await
        .map_err(|e| {
            let var = if database.has_direct_url() {
                "DATABASE_DIRECT_URL"
            } else {
                "DATABASE_URL"
            };
            anyhow::anyhow!("cannot connect with {var}: {e}")
        })?;
    Ok(pool)
}

/// Runs the subcommand.
pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let pool = direct_pool(&args.database).await?;
    match args.action {
        Action::Run => {
            agency_store::migrate::run(&pool).await?;
            print_status(&pool).await?;
            Ok(())
        }
        Action::Status => {
            if print_status(&pool).await? {
                Ok(())
            } else {
                std::process::exit(1);
            }
        }
    }
}

/// Prints both migration sets; true when everything is applied.
pub async fn print_status(pool: &sqlx::PgPool) -> anyhow::Result<bool> {
    let sets = agency_store::migrate::status(pool).await?;
    let mut current = true;
    for set in &sets {
        println!("{:<7} {}/{} applied", set.name, set.applied, set.known);
        for (version, description) in &set.pending {
            println!("        pending {version} {description}");
        }
        for version in &set.dirty {
            println!("        DIRTY   {version} (failed half way: fix by hand, then re-run)");
        }
        for version in &set.unknown_applied {
            println!("        applied {version} is unknown to this binary (a newer release ran?)");
        }
        current &= set.is_current();
    }
    Ok(current)
}
