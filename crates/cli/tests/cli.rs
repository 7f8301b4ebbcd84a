//! `agencyctl` as an operator runs it: readable configuration errors that name the variable,
//! migrations on a fresh database, platform-admin grants and the dev-mode smoke check.

use std::process::{Command, Output};

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

fn agencyctl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agencyctl"));
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_DIRECT_URL")
        .env("LOG_FORMAT", "pretty");
    for (k, v) in env {
        cmd.env(k, v);
    }
    // No .env from the developer's checkout may leak into the test.
    cmd.current_dir(std::env::temp_dir());
    cmd.output().expect("agencyctl runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn url_of(opts: &PgConnectOptions) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        opts.get_username(),
        opts.get_host(),
        opts.get_port(),
        opts.get_database().unwrap_or("postgres")
    )
}

#[test]
fn a_bad_database_url_stops_with_the_variable_named() {
    let out = agencyctl(
        &["migrate", "status"],
        &[("DATABASE_URL", "mysql://localhost/x")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("DATABASE_URL") && err.contains("expected a postgres:// URL"),
        "{err}"
    );
}

#[test]
fn a_missing_database_url_stops_with_the_variable_named() {
    let out = agencyctl(&["migrate", "run"], &[]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("DATABASE_URL is not set"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_bad_pool_size_stops_with_the_variable_named() {
    let out = agencyctl(
        &["migrate", "status"],
        &[
            ("DATABASE_URL", "postgres://x@h/db"),
            ("DATABASE_POOL_SIZE", "many"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("DATABASE_POOL_SIZE"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_lists_every_variable() {
    let out = agencyctl(&["migrate", "--help"], &[]);
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "DATABASE_URL",
        "DATABASE_DIRECT_URL",
        "DATABASE_POOL_SIZE",
        "DATABASE_MAX_OVERFLOW",
    ] {
        assert!(help.contains(var), "{var} missing from --help:\n{help}");
    }
}

#[sqlx::test(migrations = false)]
async fn migrate_run_then_status_on_a_fresh_database(_pool: PgPoolOptions, opts: PgConnectOptions) {
    let url = url_of(&opts);
    let status = agencyctl(&["migrate", "status"], &[("DATABASE_URL", &url)]);
    assert_eq!(status.status.code(), Some(1), "pending migrations exit 1");
    assert!(String::from_utf8_lossy(&status.stdout).contains("pending"));

    // The direct URL wins when set: a broken DATABASE_URL is not used for migrations.
    let run = agencyctl(
        &["migrate", "run"],
        &[
            ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/x"),
            ("DATABASE_DIRECT_URL", &url),
        ],
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let status = agencyctl(&["migrate", "status"], &[("DATABASE_URL", &url)]);
    assert_eq!(
        status.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    assert!(!String::from_utf8_lossy(&status.stdout).contains("pending"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn grant_admin_creates_or_updates_the_user_and_audits(
    pool: PgPoolOptions,
    opts: PgConnectOptions,
) {
    let pool: PgPool = pool.connect_with(opts.clone()).await.unwrap();
    let url = url_of(&opts);
    let user = uuid::Uuid::now_v7();
    let out = agencyctl(
        &["users", "grant-admin", &user.to_string()],
        &[("DATABASE_URL", &url)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let admin: bool = sqlx::query_scalar("SELECT is_platform_admin FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(admin);
    let out = agencyctl(
        &["users", "revoke-admin", &user.to_string()],
        &[("DATABASE_URL", &url)],
    );
    assert!(out.status.success());
    let admin: bool = sqlx::query_scalar("SELECT is_platform_admin FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!admin);
    let audits: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE entity_id = $1")
        .bind(user)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(audits, 2);
}

#[sqlx::test(migrations = false)]
async fn dev_check_migrates_seeds_and_prints_a_working_token(
    pool: PgPoolOptions,
    opts: PgConnectOptions,
) {
    let pool: PgPool = pool.connect_with(opts.clone()).await.unwrap();
    let url = url_of(&opts);
    let secret = "test-secret-for-dev-check-0123456789abcdef";
    let out = agencyctl(
        &["dev", "--check"],
        &[("DATABASE_URL", &url), ("SUPABASE_JWT_SECRET", secret)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let token = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("token:"))
        .expect("token line")
        .trim()
        .to_owned();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["authenticated"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .expect("the printed token verifies with SUPABASE_JWT_SECRET")
    .claims;
    let sub: uuid::Uuid = claims["sub"].as_str().unwrap().parse().unwrap();
    let role: String = sqlx::query_scalar(
        "SELECT role FROM memberships WHERE user_id = $1 AND accepted_at IS NOT NULL",
    )
    .bind(sub)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(role, "owner");
    assert!(stdout.contains("curl"), "{stdout}");
    assert!(
        stdout.contains("demo site: http://127.0.0.1:"),
        "the demo website's address is printed: {stdout}"
    );

    // The demo leads are seeded and scored: every tier shows, no channel list is null.
    let tiers: Vec<(String, i64)> = sqlx::query_as(
        "SELECT als_tier, count(*) FROM leads WHERE client_id = '01940000-0000-7000-8000-000000000002'
         AND als_score IS NOT NULL AND als_channels IS NOT NULL AND status = 'scored'
         GROUP BY als_tier ORDER BY als_tier",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let names: Vec<&str> = tiers.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(names, ["cold", "cool", "dead", "hot", "warm"], "{tiers:?}");
    assert_eq!(tiers.iter().map(|(_, n)| n).sum::<i64>(), 36);
    let first_scores: Vec<(uuid::Uuid, Option<chrono::DateTime<chrono::Utc>>)> =
        sqlx::query_as("SELECT id, scored_at FROM leads ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();

    // Seeding is idempotent.
    let again = agencyctl(
        &["dev", "--check"],
        &[("DATABASE_URL", &url), ("SUPABASE_JWT_SECRET", secret)],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    let clients: i64 = sqlx::query_scalar("SELECT count(*) FROM clients")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(clients, 1);
    let again_scores: Vec<(uuid::Uuid, Option<chrono::DateTime<chrono::Utc>>)> =
        sqlx::query_as("SELECT id, scored_at FROM leads ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        again_scores, first_scores,
        "a re-run adds and rescores nothing"
    );
}

/// The value printed after `label` in dev mode's banner.
fn banner_value(stdout: &str, label: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("{label} line in {stdout}"))
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[sqlx::test(migrations = false)]
async fn dev_binds_loopback_makes_a_secret_per_run_and_no_wildcard_cors(
    _pool: PgPoolOptions,
    opts: PgConnectOptions,
) {
    let url = url_of(&opts);
    let run = || {
        let out = agencyctl(
            &["dev", "--check"],
            &[("DATABASE_URL", &url), ("HOST", "0.0.0.0")],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = run();
    let listen = banner_value(&first, "listen:");
    assert!(listen.starts_with("127.0.0.1:"), "{first}");
    let cors = banner_value(&first, "cors:");
    assert!(!cors.contains('*') && cors.contains("localhost"), "{first}");
    let secret = banner_value(&first, "jwt secret:");
    assert!(secret.len() >= 32, "{first}");
    let token = banner_value(&first, "token:");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["authenticated"]);
    jsonwebtoken::decode::<serde_json::Value>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .expect("the printed token verifies with the printed secret");
    let second = run();
    assert_ne!(
        banner_value(&second, "jwt secret:"),
        secret,
        "a new secret per run"
    );
}

#[test]
fn dev_refuses_to_run_in_production() {
    let out = agencyctl(
        &["dev", "--check"],
        &[
            ("AGENCY_ENV", "production"),
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none"),
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("AGENCY_ENV=production"), "{err}");
}
