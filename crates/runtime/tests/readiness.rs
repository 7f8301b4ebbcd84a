//! Readiness against real servers: a Redis we start and then kill (degraded, PostgreSQL
//! fallback in use), a database that does not answer (not ready, 503), and a database whose
//! migrations are missing (not ready).

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use agency_cache::FallbackCache;
use agency_runtime::health::{CheckStatus, Readiness, public_router, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sqlx::PgPool;
use tower::ServiceExt;

/// A private redis-server on a free port, killed on drop.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/services.sh installs it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Self { child, port };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-server on port {port} did not start");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn get_json(readiness: Readiness, path: &str) -> (StatusCode, serde_json::Value) {
    let response = router(readiness)
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[sqlx::test(migrations = false)]
async fn ready_with_redis_then_degraded_when_redis_stops(pool: PgPool) {
    agency_store::migrate::run(&pool).await.unwrap();
    let mut redis = OwnRedis::start();
    let cache = Arc::new(FallbackCache::new(Some(&redis.url()), pool.clone()).unwrap());
    let readiness = Readiness::new("test", pool.clone(), cache.clone());

    let (status, body) = get_json(readiness.clone(), "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["cache"]["status"], "ok", "{body}");

    redis.kill();
    let (status, body) = get_json(readiness.clone(), "/readyz").await;
    assert_eq!(status, StatusCode::OK, "a degraded service still serves");
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["cache"]["status"], "degraded", "{body}");
    assert!(
        body["cache"]["detail"]
            .as_str()
            .unwrap()
            .contains("PostgreSQL"),
        "{body}"
    );

    // The fallback really serves: a counter works while Redis is down.
    use agency_cache::Cache;
    let hit = cache
        .hit_window("readiness-test", Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(hit.count, 1);
}

#[sqlx::test(migrations = false)]
async fn no_redis_configured_is_ready_on_postgres(pool: PgPool) {
    agency_store::migrate::run(&pool).await.unwrap();
    let cache = Arc::new(FallbackCache::new(None, pool.clone()).unwrap());
    let report = Readiness::new("test", pool, cache).report().await;
    assert_eq!(report.status, "ready");
    assert_eq!(report.cache.status, CheckStatus::Ok);
}

#[sqlx::test(migrations = false)]
async fn pending_migrations_make_the_service_not_ready(pool: PgPool) {
    let cache = Arc::new(FallbackCache::new(None, pool.clone()).unwrap());
    let readiness = Readiness::new("test", pool.clone(), cache);
    let report = readiness.report().await;
    assert_eq!(report.status, "not_ready");
    assert_eq!(report.migrations.status, CheckStatus::Down);
    assert!(
        report
            .migrations
            .detail
            .as_deref()
            .unwrap()
            .contains("agencyctl migrate run")
    );

    agency_store::migrate::run(&pool).await.unwrap();
    assert_eq!(readiness.report().await.status, "ready");
}

/// Readiness over a database that nothing listens on (a free port), and that port.
fn unreachable_database() -> (Readiness, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = agency_store::PoolSettings {
        acquire_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let pool = agency_store::connect_lazy(
        &format!("postgres://postgres@127.0.0.1:{port}/none"),
        &settings,
    )
    .unwrap();
    let cache = Arc::new(FallbackCache::new(Some("redis://127.0.0.1:6379"), pool.clone()).unwrap());
    (Readiness::new("test", pool, cache), port)
}

#[tokio::test]
async fn an_unreachable_database_is_not_ready_and_healthz_stays_up() {
    let (readiness, _port) = unreachable_database();

    let (status, body) = get_json(readiness.clone(), "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "not_ready", "{body}");
    assert_eq!(body["database"]["status"], "down", "{body}");

    let (status, body) = get_json(readiness, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn the_public_readiness_answer_names_no_backend_error() {
    let (readiness, port) = unreachable_database();
    // The private router (metrics port) tells what is wrong...
    let (_, private) = get_json(readiness.clone(), "/readyz").await;
    assert!(private["database"]["detail"].is_string(), "{private}");
    // ...the public one only that it is down.
    let response = public_router(readiness)
        .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["status"], "not_ready", "{body}");
    assert_eq!(body["database"]["status"], "down", "{body}");
    for check in ["database", "migrations", "cache"] {
        assert!(body[check].get("detail").is_none(), "{body}");
    }
    assert!(!body.to_string().contains(&port.to_string()), "{body}");
}
