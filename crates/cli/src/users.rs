//! `agencyctl users grant-admin|revoke-admin <user-id>`: platform-admin rights.

use agency_runtime::DatabaseArgs;
use clap::{Args, Subcommand};

/// Arguments of `users`.
#[derive(Debug, Args)]
pub struct UsersArgs {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Make a user a platform admin (creates the user row if the user never signed in).
    GrantAdmin {
        /// The user's id (the JWT `sub`).
        user_id: uuid::Uuid,
    },
    /// Take platform-admin rights away.
    RevokeAdmin {
        /// The user's id.
        user_id: uuid::Uuid,
    },
}

/// Runs the subcommand.
pub async fn run(args: UsersArgs) -> anyhow::Result<()> {
    let pool = crate::migrate::direct_pool(&args.database).await?;
    let (user_id, admin) = match args.action {
        Action::GrantAdmin { user_id } => (user_id, true),
        Action::RevokeAdmin { user_id } => (user_id, false),
    };
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO users (id, is_platform_admin) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET is_platform_admin = EXCLUDED.is_platform_admin, updated_at = now()",
    )
    .bind(user_id)
    .bind(admin)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO audit_log (actor_kind, action, entity_type, entity_id, after)
         VALUES ('system', $1, 'user', $2, jsonb_build_object('is_platform_admin', $3::boolean))",
    )
    .bind(if admin {
        "user.grant_admin"
    } else {
        "user.revoke_admin"
    })
    .bind(user_id)
    .bind(admin)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    println!("user {user_id}: is_platform_admin = {admin}");
    Ok(())
}
