//! `agencyctl token`: mints a Supabase-style access token (HS256, `aud` = `authenticated`) for
//! development and tests, signed with `SUPABASE_JWT_SECRET`.

use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// Arguments of `token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The user id (JWT `sub`).
    #[arg(long)]
    pub user_id: uuid::Uuid,
    /// The user's email (JWT `email`).
    #[arg(long)]
    pub email: Option<String>,
    /// Lifetime in hours.
    #[arg(long, default_value_t = 24)]
    pub hours: i64,
    /// The HS256 secret.
    #[arg(
        long = "jwt-secret",
        env = "SUPABASE_JWT_SECRET",
        value_name = "SUPABASE_JWT_SECRET",
        hide_env_values = true
    )]
    pub secret: SecretString,
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: String,
    aud: &'static str,
    role: &'static str,
    email: Option<&'a str>,
    iat: i64,
    exp: i64,
}

/// Signs a token for `user_id`.
pub fn mint(
    secret: &str,
    user_id: uuid::Uuid,
    email: Option<&str>,
    hours: i64,
) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: user_id.to_string(),
        aud: "authenticated",
        role: "authenticated",
        email,
        iat: now,
        exp: now + hours * 3600,
    };
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?)
}

/// Prints the token.
pub fn run(args: TokenArgs) -> anyhow::Result<()> {
    println!(
        "{}",
        mint(
            args.secret.expose_secret(),
            args.user_id,
            args.email.as_deref(),
            args.hours
        )?
    );
    Ok(())
}
