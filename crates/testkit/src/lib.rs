//! Test helpers for Agency OS: [`TestApp`] (a fresh, migrated database per test, the real API
//! router on 127.0.0.1:0, HS256 token minting, fixtures for users, clients and memberships,
//! and a `reqwest` client), a local [`JwksServer`] for RS256 tests, the tenancy/role
//! [`matrix`] runner, and [`process`] helpers for tests of the real service binaries. Helpers
//! panic on failure (they are test code).

pub mod jwks;
pub mod matrix;
pub mod process;
pub mod rsa_keys;

use std::net::SocketAddr;
use std::sync::Arc;

use agency_api::{ApiSettings, AppState, AuthSettings, CorsOrigins};
use agency_domain::{ClientId, Role, UserId};
use agency_store::{PgPool, PoolSettings};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub use jwks::JwksServer;
pub use matrix::{MatrixCase, run_matrix};

/// The HS256 secret test apps verify with.
pub const TEST_JWT_SECRET: &str = "agency-os-test-secret-0123456789abcdef0123456789";

/// The server URL test databases are created on (`DATABASE_URL`, else the local server).
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A user known to the test app.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Id (the JWT `sub`).
    pub id: Uuid,
    /// Email.
    pub email: String,
    /// An HS256 access token valid for an hour.
    pub token: String,
}

/// A fresh database, migrated, with the API serving it on a random port.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    /// A pool on the test database (for fixtures and assertions).
    pub pool: PgPool,
    /// An HTTP client.
    pub http: reqwest::Client,
    /// The settings the app runs with.
    pub settings: ApiSettings,
    /// The engine services the app runs with (sandbox providers); [`TestApp::drain`] runs
    /// jobs with them, as the worker would.
    pub services: agency_engine::Services,
    db_name: String,
    stop: CancellationToken,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("base_url", &self.base_url)
            .field("db", &self.db_name)
            .finish()
    }
}

/// The `CREDENTIALS_KEYS` test apps run with (a fixed key, so tests can seal and open).
pub const TEST_CREDENTIALS_KEYS: &str = "test1:dGVzdC1jcmVkZW50aWFscy1rZXktMzItYnl0ZXMhISE=";

/// [`TEST_CREDENTIALS_KEYS`], parsed.
pub fn test_credential_keys() -> agency_engine::twilio_accounts::CredentialKeys {
    agency_engine::twilio_accounts::CredentialKeys::parse(TEST_CREDENTIALS_KEYS)
        .expect("test credentials key")
}

/// Settings for tests: HS256 with [`TEST_JWT_SECRET`], CORS `*`, a high rate limit.
pub fn test_settings() -> ApiSettings {
    let mut settings = ApiSettings::new(AuthSettings::hs256(TEST_JWT_SECRET));
    settings.cors = CorsOrigins::Any;
    settings.rate_limit_per_minute = 100_000;
    settings
}

/// Creates a fresh database on the test server, migrates it and returns (name, pool).
pub async fn fresh_database() -> (String, PgPool) {
    let server = server_url();
    let admin = sqlx::PgPool::connect(&server)
        .await
        .expect("connect to the test server (DATABASE_URL)");
    let name = format!("agency_test_{}", Uuid::now_v7().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create test database");
    admin.close().await;
    let mut url = url::Url::parse(&server).expect("DATABASE_URL is a URL");
    url.set_path(&name);
    let settings = PoolSettings {
        max_connections: 8,
        application_name: "agency-testkit".into(),
        ..PoolSettings::default()
    };
    let pool = agency_store::connect(url.as_str(), &settings)
        .await
        .expect("connect to test database");
    agency_store::migrate::run(&pool)
        .await
        .expect("migrate test database");
    (name, pool)
}

impl TestApp {
    /// An app with [`test_settings`].
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// An app whose settings `adjust` changes first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut ApiSettings)) -> TestApp {
        Self::spawn_with_services(adjust, |s| s).await
    }

    /// An app whose settings `adjust` changes and whose engine services `services` replaces
    /// (other providers or engine settings).
    pub async fn spawn_with_services(
        adjust: impl FnOnce(&mut ApiSettings),
        replace: impl FnOnce(agency_engine::Services) -> agency_engine::Services,
    ) -> TestApp {
        let mut settings = test_settings();
        adjust(&mut settings);
        let (db_name, pool) = fresh_database().await;
        let redis = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty());
        let cache =
            agency_cache::FallbackCache::new(redis.as_deref(), pool.clone()).expect("cache");
        let services =
            agency_engine::Services::with_sandbox_providers(pool.clone(), Arc::new(cache))
                .with_settings(agency_engine::EngineSettings {
                    credentials: test_credential_keys(),
                    ..agency_engine::EngineSettings::default()
                });
        let services = replace(services);
        let state = AppState::new(services.clone(), settings.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let app =
            agency_api::build_router(state).into_make_service_with_connect_info::<SocketAddr>();
        let token = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await;
        });
        TestApp {
            base_url: format!("http://{addr}"),
            addr,
            pool,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            settings,
            services,
            db_name,
            stop,
        }
    }

    /// Runs every due job (and the jobs they enqueue) to completion in this process with the
    /// worker's handler registry; see [`agency_engine::jobs::drain`]. Panics when the queue
    /// cannot be read or the drain never ends.
    pub async fn drain(&self) -> agency_engine::jobs::DrainReport {
        let registry = agency_engine::jobs::handlers::registry();
        let report = agency_engine::jobs::drain(&self.services, &registry)
            .await
            .expect("drain the job queue");
        assert!(!report.hit_limit, "the drain did not end: {report:?}");
        report
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A request without credentials.
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, self.url(path))
    }

    /// A request as `user` (bearer token).
    pub fn as_user(&self, user: &TestUser, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.request(method, path).bearer_auth(&user.token)
    }

    /// Sends a request without a body as `user`; panics when nothing answers.
    pub async fn send_as(&self, user: &TestUser, method: Method, path: &str) -> reqwest::Response {
        self.as_user(user, method, path)
            .send()
            .await
            .expect("request sent")
    }

    /// Sends `body` as JSON as `user`; panics when nothing answers.
    pub async fn send_json_as<B: serde::Serialize + ?Sized>(
        &self,
        user: &TestUser,
        method: Method,
        path: &str,
        body: &B,
    ) -> reqwest::Response {
        self.as_user(user, method, path)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Mints an HS256 token for `sub` with `email`, valid for an hour.
    pub fn token(&self, sub: Uuid, email: Option<&str>) -> String {
        let now = chrono::Utc::now().timestamp();
        self.token_with_claims(&json!({
            "sub": sub.to_string(), "aud": "authenticated", "role": "authenticated",
            "email": email, "iat": now, "exp": now + 3600,
        }))
    }

    /// Mints an HS256 token with exactly `claims`.
    pub fn token_with_claims(&self, claims: &Value) -> String {
        mint_hs256(TEST_JWT_SECRET, claims)
    }

    /// A user with a token (the `users` row exists).
    pub async fn create_user(&self) -> TestUser {
        let id = Uuid::now_v7();
        let email = format!("user-{}@example.com", id.simple());
        agency_store::users::ensure(&self.pool, UserId::from_uuid(id), Some(&email))
            .await
            .expect("create user");
        TestUser {
            id,
            token: self.token(id, Some(&email)),
            email,
        }
    }

    /// A platform admin with a token.
    pub async fn create_platform_admin(&self) -> TestUser {
        let user = self.create_user().await;
        agency_store::users::set_platform_admin(&self.pool, UserId::from_uuid(user.id), true)
            .await
            .expect("make platform admin");
        user
    }

    /// A client (no members).
    pub async fn create_client(&self, name: &str) -> ClientId {
        let id: Uuid =
            sqlx::query_scalar("INSERT INTO clients (id, name) VALUES ($1, $2) RETURNING id")
                .bind(Uuid::now_v7())
                .bind(name)
                .fetch_one(&self.pool)
                .await
                .expect("create client");
        ClientId::from_uuid(id)
    }

    /// Adds `user` to `client` with `role` (accepted); returns the membership id.
    pub async fn add_member(&self, client: ClientId, user: &TestUser, role: Role) -> Uuid {
        let mut conn = self.pool.acquire().await.expect("conn");
        agency_store::memberships::add_accepted(
            &mut conn,
            client,
            UserId::from_uuid(user.id),
            role.as_str(),
        )
        .await
        .expect("add member")
    }

    /// A new user with `role` in `client`.
    pub async fn user_with_role(&self, client: ClientId, role: Role) -> TestUser {
        let user = self.create_user().await;
        self.add_member(client, &user, role).await;
        user
    }

    /// A fingerprint of everything stored for `client` in the tenant tables (to prove a
    /// refused request changed nothing).
    pub async fn tenant_fingerprint(&self, client: ClientId) -> String {
        let mut parts = Vec::new();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.columns
              WHERE table_schema = 'public' AND column_name = 'client_id' ORDER BY table_name",
        )
        .fetch_all(&self.pool)
        .await
        .expect("list tenant tables");
        let client_row: Option<String> =
            sqlx::query_scalar("SELECT md5(c::text) FROM clients c WHERE id = $1")
                .bind(client.into_uuid())
                .fetch_optional(&self.pool)
                .await
                .expect("client row");
        parts.push(format!("clients={client_row:?}"));
        for table in tables {
            let sql = format!(
                "SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') FROM \"{table}\" t WHERE client_id = $1"
            );
            let digest: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(client.into_uuid())
                .fetch_one(&self.pool)
                .await
                .expect("fingerprint table");
            parts.push(format!("{table}={digest}"));
        }
        parts.join(";")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
        let name = self.db_name.clone();
        // Drop the database from a thread with its own runtime (Drop cannot await, and the
        // test's runtime is blocked here, so nothing may wait on the app's pool: FORCE ends
        // its connections server-side).
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(admin) = sqlx::PgPool::connect(&server_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Signs `claims` with HS256 and `secret`.
pub fn mint_hs256(secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign token")
}

/// Standard claims for `sub` expiring `exp_in_secs` from now (negative: already expired).
pub fn claims_for(sub: Uuid, email: Option<&str>, exp_in_secs: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": sub.to_string(), "aud": "authenticated", "role": "authenticated", "email": email, "iat": now, "exp": now + exp_in_secs})
}

/// Asserts `response` is the JSON error envelope with `status` and `code`, and that the body's
/// request id equals the `x-request-id` header; returns the body.
pub async fn assert_envelope(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let header_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("x-request-id header on an error");
    let ct = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["code"], code, "body {body}");
    assert_eq!(body["request_id"], header_id.as_str(), "body {body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "body {body}"
    );
    body
}
