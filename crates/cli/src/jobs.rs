//! `agencyctl jobs dead-letter list|retry`: inspect and re-run jobs in the dead-letter state.

use agency_engine::jobs::admin;
use agency_runtime::DatabaseArgs;
use clap::{Args, Subcommand};

/// Arguments of `jobs`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Dead-letter jobs: list them or put them back to run.
    #[command(subcommand)]
    DeadLetter(DeadLetter),
}

#[derive(Debug, Subcommand)]
enum DeadLetter {
    /// List dead jobs, most recent first.
    List {
        /// Page, from 1.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Jobs per page (at most 100).
        #[arg(long, default_value_t = 20)]
        page_size: u32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Put dead jobs back to `Pending` with a fresh attempt budget.
    Retry {
        /// Job ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// Runs the subcommand.
pub async fn run(args: JobsArgs) -> anyhow::Result<()> {
    let pool = crate::migrate::direct_pool(&args.database).await?;
    match args.action {
        Action::DeadLetter(DeadLetter::List {
            page,
            page_size,
            json,
        }) => {
            let page = admin::list_dead(&pool, page, page_size).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&page)?);
            } else {
                println!(
                    "{} dead job(s); page {}/{}",
                    page.total,
                    page.page,
                    page.total_pages.max(1)
                );
                for job in &page.items {
                    println!(
                        "{}  {:<22} {:<8} {:<6} {}/{}  {}  {}",
                        job.id,
                        job.kind,
                        job.queue,
                        job.status,
                        job.attempts,
                        job.max_attempts,
                        job.failed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                        job.last_error.as_deref().unwrap_or("-"),
                    );
                }
            }
        }
        Action::DeadLetter(DeadLetter::Retry { ids }) => {
            let mut failed = 0;
            for id in ids {
                match admin::retry(&pool, &id).await {
                    Ok(job) => println!("{} ({}): re-queued", job.id, job.kind),
                    Err(e) => {
                        failed += 1;
                        eprintln!("{id}: {e}");
                    }
                }
            }
            if failed > 0 {
                anyhow::bail!("{failed} job(s) could not be re-queued");
            }
        }
    }
    pool.close().await;
    Ok(())
}
