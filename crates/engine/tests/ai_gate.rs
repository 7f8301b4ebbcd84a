//! The AI spend gate against real PostgreSQL and Redis: 50 concurrent callers against a small
//! budget never overshoot it by more than one call's estimate (on Redis and on the PostgreSQL
//! fallback), counters equal the ledger to the micro-dollar, a crash between reserve and settle
//! is given back after the timeout, the platform cap, failed calls, the circuit and the local
//! day roll-over.

use std::sync::Arc;
use std::time::Duration;

use agency_cache::keys::local_day;
use agency_cache::{Cache, PgCache, RedisCache};
use agency_domain::ClientId;
use agency_domain::ai::AiPurpose;
use agency_engine::ai::{AiError, AiGate, AiSettings, BudgetScope, Prompt, client_counter};
use agency_providers::{
    AiAnswer, AiRequest, LanguageModel, Provider, ProviderError, SandboxClaude, ToolSpec,
};
use agency_store::PgPool;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::json;

/// The sandbox's answer after `delay`, billed as if the model used its whole output cap (the
/// worst case the estimate covers), so concurrent calls overlap and cost what they hold.
#[derive(Debug)]
struct SlowFullCap {
    delay: Duration,
}

#[async_trait]
impl LanguageModel for SlowFullCap {
    async fn complete(&self, request: &AiRequest) -> Result<AiAnswer, ProviderError> {
        tokio::time::sleep(self.delay).await;
        let mut answer = SandboxClaude::new().complete(request).await?;
        answer.usage.output_tokens = u64::from(request.max_tokens);
        Ok(answer)
    }

    fn is_sandbox(&self) -> bool {
        true
    }
}

/// Always overloaded.
#[derive(Debug)]
struct Overloaded;

#[async_trait]
impl LanguageModel for Overloaded {
    async fn complete(&self, _: &AiRequest) -> Result<AiAnswer, ProviderError> {
        Err(ProviderError::Upstream {
            provider: Provider::Anthropic,
            status: 529,
            attempts: 3,
        })
    }

    fn is_sandbox(&self) -> bool {
        false
    }
}

fn prompt(user: &str) -> Prompt {
    Prompt {
        system: "Classify the reply to a cold email.".into(),
        user: user.into(),
        tool: Some(ToolSpec {
            name: "record_reply_intent".into(),
            description: "Record the intent".into(),
            input_schema: json!({"type": "object", "properties": {
                "intent": {"type": "string", "enum": ["interested", "question"]}}}),
        }),
    }
}

/// Settings with a unique platform counter and a USD->AUD rate of 50, so that one call's
/// estimate (about 0.19 AUD) is large next to the cent precision of client budgets.
fn settings(cap: Decimal) -> AiSettings {
    AiSettings {
        usd_to_aud: Decimal::from(50),
        platform_counter: format!("test:ai_spend:platform:{}", uuid::Uuid::new_v4().simple()),
        platform_daily_cap_aud: cap,
        circuit_recheck: Duration::ZERO,
        ..AiSettings::default()
    }
}

async fn client(pool: &PgPool, budget: Decimal, tz: &str) -> ClientId {
    let id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO clients (name, daily_ai_budget_aud, timezone) VALUES ('Acme', $1, $2) RETURNING id",
    )
    .bind(budget)
    .bind(tz)
    .fetch_one(pool)
    .await
    .expect("client");
    ClientId::from_uuid(id)
}

fn redis() -> Arc<dyn Cache> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    Arc::new(RedisCache::from_url(&url).expect("redis"))
}

/// Settled cost in the ledger for the client's local day of `now`.
async fn ledger_total(pool: &PgPool, client: ClientId) -> Decimal {
    sqlx::query_scalar(
        "SELECT COALESCE(sum(cost_aud), 0) FROM ai_usage WHERE client_id = $1 AND status = 'settled'",
    )
    .bind(client.into_uuid())
    .fetch_one(pool)
    .await
    .expect("ledger")
}

async fn statuses(pool: &PgPool, client: ClientId) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT status, count(*) FROM ai_usage WHERE client_id = $1 GROUP BY status ORDER BY status",
    )
    .bind(client.into_uuid())
    .fetch_all(pool)
    .await
    .expect("statuses")
}

async fn counter(cache: &dyn Cache, client: ClientId, tz: Tz, now: DateTime<Utc>) -> Decimal {
    cache
        .read_money_daily(&client_counter(client), tz, now)
        .await
        .expect("counter")
}

/// Removes the test's Redis keys (they would expire within two days anyway).
async fn forget(cache: &dyn Cache, gate: &AiGate, client: ClientId, tz: Tz, now: DateTime<Utc>) {
    for (name, tz) in [
        (client_counter(client), tz),
        (
            gate.settings().platform_counter.clone(),
            chrono_tz::Australia::Sydney,
        ),
    ] {
        let total = cache
            .read_money_daily(&name, tz, now)
            .await
            .unwrap_or_default();
        let _ = cache.add_money_daily(&name, -total, tz, now).await;
    }
}

async fn fifty_callers_never_overshoot(pool: PgPool, cache: Arc<dyn Cache>) {
    let now = Utc::now();
    let probe = AiGate::new(
        Arc::new(SandboxClaude::new()),
        settings(Decimal::from(1000)),
    );
    let estimate = probe.estimate(&probe.request(AiPurpose::ClassifyReply, &prompt("x")));
    // Room for seven and a half calls.
    let budget = (estimate * Decimal::new(75, 1)).round_dp(2);
    let client = client(&pool, budget, "Australia/Sydney").await;
    let gate = Arc::new(AiGate::new(
        Arc::new(SlowFullCap {
            delay: Duration::from_millis(30),
        }),
        settings(Decimal::from(1000)),
    ));

    let mut tasks = Vec::new();
    for i in 0..50 {
        let (gate, pool, cache) = (Arc::clone(&gate), pool.clone(), Arc::clone(&cache));
        tasks.push(tokio::spawn(async move {
            gate.call(
                &pool,
                cache.as_ref(),
                client,
                AiPurpose::ClassifyReply,
                &prompt(&format!("x{i}")),
                now,
            )
            .await
        }));
    }
    let (mut ok, mut refused) = (0, 0);
    for t in tasks {
        match t.await.expect("task") {
            Ok(_) => ok += 1,
            Err(AiError::BudgetExhausted(BudgetScope::Client)) => refused += 1,
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    let spent = ledger_total(&pool, client).await;
    let counted = counter(cache.as_ref(), client, chrono_tz::Australia::Sydney, now).await;
    assert_eq!(ok + refused, 50);
    assert!(ok >= 1 && refused >= 1, "ok {ok}, refused {refused}");
    assert!(
        spent <= budget + estimate,
        "spent {spent} > budget {budget} + one estimate {estimate}"
    );
    // Each call costs at most its estimate: at most floor(budget / cost) can have held one.
    assert!(Decimal::from(ok) * (spent / Decimal::from(ok)) <= budget + estimate);
    assert_eq!(counted, spent, "the counter equals the ledger exactly");
    assert_eq!(
        statuses(&pool, client).await,
        vec![("settled".to_owned(), ok as i64)]
    );
    forget(
        cache.as_ref(),
        &gate,
        client,
        chrono_tz::Australia::Sydney,
        now,
    )
    .await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn fifty_callers_on_redis(pool: PgPool) {
    fifty_callers_never_overshoot(pool, redis()).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn fifty_callers_on_the_postgres_fallback(pool: PgPool) {
    let cache: Arc<dyn Cache> = Arc::new(PgCache::new(pool.clone()));
    fifty_callers_never_overshoot(pool, cache).await;
}

async fn crash_between_reserve_and_settle(pool: PgPool, cache: Arc<dyn Cache>) {
    let now = Utc::now();
    let mut s = settings(Decimal::from(1000));
    s.reservation_timeout = Duration::from_secs(1);
    let gate = AiGate::new(Arc::new(SandboxClaude::new()), s);
    let request = gate.request(AiPurpose::ClassifyReply, &prompt("hello"));
    let estimate = gate.estimate(&request);
    let client = client(
        &pool,
        (estimate * Decimal::new(15, 1)).round_dp(2),
        "Australia/Perth",
    )
    .await;
    let perth = chrono_tz::Australia::Perth;

    // A process reserves, then dies before settling.
    let orphan = gate
        .reserve(
            &pool,
            cache.as_ref(),
            client,
            AiPurpose::ClassifyReply,
            &request.model,
            estimate,
            now,
        )
        .await
        .expect("reserved");
    assert_eq!(counter(cache.as_ref(), client, perth, now).await, estimate);
    let err = gate
        .call(
            &pool,
            cache.as_ref(),
            client,
            AiPurpose::ClassifyReply,
            &prompt("again"),
            now,
        )
        .await
        .expect_err("the orphan holds the budget");
    assert!(matches!(err, AiError::BudgetExhausted(BudgetScope::Client)));

    // After the timeout the refused reservation gives the orphan back and goes through.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    gate.call(
        &pool,
        cache.as_ref(),
        client,
        AiPurpose::ClassifyReply,
        &prompt("again"),
        now,
    )
    .await
    .expect("the orphan's estimate was given back");
    let spent = ledger_total(&pool, client).await;
    assert_eq!(counter(cache.as_ref(), client, perth, now).await, spent);
    assert_eq!(
        statuses(&pool, client).await,
        vec![("expired".to_owned(), 1), ("settled".to_owned(), 1)]
    );

    // A late settle of the orphan still records its cost, counted in full.
    let answer = SandboxClaude::new()
        .complete(&request)
        .await
        .expect("answer");
    let cost = gate
        .settle(&pool, cache.as_ref(), &orphan, &answer)
        .await
        .expect("settled");
    assert_eq!(
        counter(cache.as_ref(), client, perth, now).await,
        spent + cost
    );
    assert_eq!(ledger_total(&pool, client).await, spent + cost);
    forget(cache.as_ref(), &gate, client, perth, now).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn crash_released_after_timeout_on_redis(pool: PgPool) {
    crash_between_reserve_and_settle(pool, redis()).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn crash_released_after_timeout_on_the_postgres_fallback(pool: PgPool) {
    let cache: Arc<dyn Cache> = Arc::new(PgCache::new(pool.clone()));
    crash_between_reserve_and_settle(pool, cache).await;
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_platform_cap_refuses_and_the_circuit_fails_fast(pool: PgPool) {
    let cache = PgCache::new(pool.clone());
    let now = Utc::now();
    let probe = AiGate::new(Arc::new(SandboxClaude::new()), settings(Decimal::ONE));
    let estimate = probe.estimate(&probe.request(AiPurpose::WriteMessage, &prompt("x")));
    // The platform allows one call; the client would allow many.
    let mut s = settings(estimate * Decimal::new(15, 1));
    s.circuit_recheck = Duration::from_secs(600);
    let gate = AiGate::new(
        Arc::new(SlowFullCap {
            delay: Duration::ZERO,
        }),
        s,
    );
    let client = client(&pool, Decimal::from(100), "Australia/Sydney").await;
    gate.call(
        &pool,
        &cache,
        client,
        AiPurpose::WriteMessage,
        &prompt("one"),
        now,
    )
    .await
    .expect("first call fits");
    let err = gate
        .call(
            &pool,
            &cache,
            client,
            AiPurpose::WriteMessage,
            &prompt("two"),
            now,
        )
        .await
        .expect_err("cap");
    assert!(matches!(
        err,
        AiError::BudgetExhausted(BudgetScope::Platform)
    ));
    assert!(gate.circuit_open(&gate.settings().platform_counter));
    // Open circuit: fails fast without touching the counters or the ledger.
    let platform = gate.settings().platform_counter.clone();
    let before = cache
        .read_money_daily(&platform, chrono_tz::Australia::Sydney, now)
        .await
        .expect("read");
    sqlx::query("UPDATE clients SET daily_ai_budget_aud = 0 WHERE id = $1")
        .bind(client.into_uuid())
        .execute(&pool)
        .await
        .expect("update");
    let err = gate
        .call(
            &pool,
            &cache,
            client,
            AiPurpose::WriteMessage,
            &prompt("three"),
            now,
        )
        .await
        .expect_err("fast");
    assert!(matches!(
        err,
        AiError::BudgetExhausted(BudgetScope::Platform)
    ));
    assert_eq!(
        cache
            .read_money_daily(&platform, chrono_tz::Australia::Sydney, now)
            .await
            .expect("read"),
        before
    );
    assert_eq!(
        statuses(&pool, client).await,
        vec![("settled".to_owned(), 1)]
    );
    // The opening raised one platform alert (not one per refused call).
    let alerts: Vec<(String, Option<uuid::Uuid>, i32)> = sqlx::query_as(
        "SELECT kind, client_id, occurrences FROM alerts WHERE kind = 'ai_budget_exhausted'",
    )
    .fetch_all(&pool)
    .await
    .expect("alerts");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].1, None);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_failed_call_gives_its_estimate_back(pool: PgPool) {
    let cache = PgCache::new(pool.clone());
    let now = Utc::now();
    let gate = AiGate::new(Arc::new(Overloaded), settings(Decimal::from(1000)));
    let client = client(&pool, Decimal::from(10), "Australia/Sydney").await;
    let err = gate
        .call(
            &pool,
            &cache,
            client,
            AiPurpose::ClassifyReply,
            &prompt("hi"),
            now,
        )
        .await
        .expect_err("overloaded");
    assert!(matches!(
        err,
        AiError::Provider(ProviderError::Upstream { status: 529, .. })
    ));
    assert_eq!(
        counter(&cache, client, chrono_tz::Australia::Sydney, now).await,
        Decimal::ZERO
    );
    assert_eq!(
        statuses(&pool, client).await,
        vec![("released".to_owned(), 1)]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn budget_days_roll_over_at_the_clients_local_midnight(pool: PgPool) {
    let cache = PgCache::new(pool.clone());
    let gate = AiGate::new(
        Arc::new(SlowFullCap {
            delay: Duration::ZERO,
        }),
        settings(Decimal::from(1000)),
    );
    let estimate = gate.estimate(&gate.request(AiPurpose::ClassifyReply, &prompt("x")));
    let client = client(
        &pool,
        (estimate * Decimal::new(15, 1)).round_dp(2),
        "Australia/Sydney",
    )
    .await;
    let sydney = chrono_tz::Australia::Sydney;
    // 23:59:59 and 00:00:00 in Sydney (June, UTC+10).
    let late: DateTime<Utc> = "2027-06-01T13:59:59Z".parse().expect("instant");
    let midnight: DateTime<Utc> = "2027-06-01T14:00:00Z".parse().expect("instant");
    gate.call(
        &pool,
        &cache,
        client,
        AiPurpose::ClassifyReply,
        &prompt("a"),
        late,
    )
    .await
    .expect("first");
    let err = gate
        .call(
            &pool,
            &cache,
            client,
            AiPurpose::ClassifyReply,
            &prompt("b"),
            late,
        )
        .await
        .expect_err("budget spent today");
    assert!(matches!(err, AiError::BudgetExhausted(BudgetScope::Client)));
    gate.call(
        &pool,
        &cache,
        client,
        AiPurpose::ClassifyReply,
        &prompt("b"),
        midnight,
    )
    .await
    .expect("a new day, a new budget");
    assert_ne!(local_day(sydney, late), local_day(sydney, midnight));
    let days: Vec<(chrono::NaiveDate,)> =
        sqlx::query_as("SELECT usage_date FROM ai_usage WHERE client_id = $1 ORDER BY at")
            .bind(client.into_uuid())
            .fetch_all(&pool)
            .await
            .expect("days");
    assert_eq!(
        days,
        vec![(local_day(sydney, late),), (local_day(sydney, midnight),)]
    );
}
