//! `agencyctl credentials new-key|reseal`: the keys that seal clients' own provider
//! credentials. `new-key <id>` prints a fresh `id:base64` entry for `CREDENTIALS_KEYS`;
//! `reseal` re-seals every stored secret under the first key of `CREDENTIALS_KEYS` (rotation:
//! put the new key first, run `reseal`, then drop the old key).

use agency_engine::twilio_accounts::{self, CredentialKeys, CredentialsConfig};
use agency_runtime::DatabaseArgs;
use clap::{Args, Subcommand};

/// Arguments of `credentials`.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Print a new random key entry (`id:base64`) to put first in CREDENTIALS_KEYS.
    NewKey {
        /// The key's id (letters, digits, '-' or '_'), e.g. the date: 2026-12.
        id: String,
    },
    /// Re-seal every stored credential under the first key of CREDENTIALS_KEYS.
    Reseal {
        #[command(flatten)]
        keys: CredentialsConfig,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// Runs the subcommand.
pub async fn run(args: CredentialsArgs) -> anyhow::Result<()> {
    match args.action {
        Action::NewKey { id } => {
            let keys = CredentialKeys::ephemeral(&id);
            anyhow::ensure!(
                keys.current_key_id() == Some(id.as_str()),
                "the key id must be letters, digits, '-' or '_'"
            );
            println!(
                "{}",
                keys.export_current().expect("a generated key exports")
            );
            Ok(())
        }
        Action::Reseal { keys, database } => {
            let keys = keys.keys()?;
            anyhow::ensure!(keys.is_configured(), "CREDENTIALS_KEYS is not set");
            let pool = crate::migrate::direct_pool(&database).await?;
            let report = twilio_accounts::reseal_all(&pool, &keys).await?;
            println!(
                "resealed {} credential(s) under key `{}`; {} could not be opened with the configured keys",
                report.resealed,
                keys.current_key_id().unwrap_or_default(),
                report.unreadable
            );
            Ok(())
        }
    }
}
