//! `agencyctl`: the ops command line. Migrations, development all-in-one mode, dev tokens and
//! platform-admin grants. Each subcommand is a module; this file only dispatches.

mod credentials;
mod dev;
mod jobs;
mod migrate;
mod token;
mod users;

use clap::{Parser, Subcommand};

/// Agency OS operations.
#[derive(Debug, Parser)]
#[command(
    name = "agencyctl",
    version,
    about = "Agency OS operations: migrations, dev mode, tokens"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply or inspect database migrations (ours and the job tables).
    Migrate(migrate::MigrateArgs),
    /// Run api + worker + scheduler in one process, with an embedded PostgreSQL when
    /// DATABASE_URL is unset and sandbox providers when no keys are set.
    Dev(dev::DevArgs),
    /// Job queue operations: dead-letter list and retry.
    Jobs(jobs::JobsArgs),
    /// Mint a development JWT signed with SUPABASE_JWT_SECRET.
    Token(token::TokenArgs),
    /// Manage users.
    Users(users::UsersArgs),
    /// Keys sealing clients' own provider credentials: new key, re-seal after a rotation.
    Credentials(credentials::CredentialsArgs),
}

fn main() -> anyhow::Result<()> {
    agency_runtime::config::load_dotenv();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Migrate(args) => migrate::run(args).await,
            Command::Dev(args) => dev::run(args).await,
            Command::Jobs(args) => jobs::run(args).await,
            Command::Token(args) => token::run(args),
            Command::Users(args) => users::run(args).await,
            Command::Credentials(args) => credentials::run(args).await,
        }
    })
}
