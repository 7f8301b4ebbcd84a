//! Webhook acknowledgement load: signed Twilio (inbound SMS, form-encoded, HMAC-SHA1 over the
//! public URL) and Resend (Svix-signed JSON delivery events) webhooks sent by `SENDERS`
//! concurrent senders over loopback to a running `agency-api`, each event with its own id;
//! prints acknowledgements per second and p50 / p99 / max latency, then counts the stored
//! events in `webhook_events` and their processing jobs (nothing lost, nothing doubled).
//! Driven by `scripts/bench-webhooks.sh`, which starts the API with the same secrets.
//!
//! Two modes. Closed loop (default): each sender sends its next event as soon as the last one
//! is answered, so the rate is whatever the server sustains and the mean latency is senders /
//! rate. Open loop (`RATE` set): events are due at a fixed offered rate across the senders, as
//! providers send them, whatever our latency; a sender that is still busy when its next event
//! is due sends it late, and that event's latency counts from when it was due (no coordinated
//! omission); a sender that was idle counts from when it actually sent.
//!
//! Env: `API_URL`, `PUBLIC_BASE_URL`, `TWILIO_AUTH_TOKEN`, `RESEND_WEBHOOK_SECRET`,
//! `DATABASE_URL` (for the counts), `EVENTS` (20000), `SENDERS` (50), `RATE` (events/s; unset
//! for the closed loop), `LATENCY_LOG` (a file to write each acknowledged event to, as "sent at
//! (ms from the start) latency (ms)" lines in send order, to see when the slow ones happened),
//! `WARMUP_SECS` (2: the percentiles are printed for every event, then again without the events
//! sent in the first seconds, while connections, caches and the fresh tables warm up).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use agency_providers::webhooks::svix::SvixSecret;
use agency_providers::webhooks::twilio;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn env(name: &str) -> Result<String, Error> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

/// One prepared request: path, content type, headers and body.
struct Prepared {
    path: &'static str,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn twilio_sms(n: usize, public: &str, token: &str) -> Prepared {
    let params: Vec<(String, String)> = [
        ("MessageSid", format!("SMbench{n:026}")),
        ("AccountSid", "ACbench".to_owned()),
        ("From", format!("+614{:08}", n % 100_000_000)),
        ("To", "+61480000001".to_owned()),
        ("Body", "Sounds good, can we talk next week?".to_owned()),
        ("NumMedia", "0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let url = format!("{public}/webhooks/twilio/sms");
    let signature = twilio::signature(token, &url, &params);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish()
        .into_bytes();
    Prepared {
        path: "/webhooks/twilio/sms",
        content_type: "application/x-www-form-urlencoded",
        headers: vec![(twilio::SIGNATURE_HEADER, signature)],
        body,
    }
}

fn resend_event(n: usize, secret: &SvixSecret, now: i64) -> Prepared {
    let id = format!("msg_bench_{n}");
    let body = serde_json::to_vec(&serde_json::json!({
        "type": "email.delivered",
        "created_at": "2026-12-03T01:00:00.000Z",
        "data": {"email_id": format!("00000000-0000-4000-8000-{n:012}"),
                 "from": "Acme <hello@mail.acme.test>", "to": ["lead@example.com.au"],
                 "subject": "Quick question", "created_at": "2026-12-03T01:00:00.000Z"}
    }))
    .unwrap_or_default();
    let signature = secret.sign(&id, now, &body);
    Prepared {
        path: "/webhooks/resend",
        content_type: "application/json",
        headers: vec![
            ("svix-id", id),
            ("svix-timestamp", now.to_string()),
            ("svix-signature", signature),
        ],
        body,
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let api = env("API_URL")?;
    let public = env("PUBLIC_BASE_URL")?;
    let token = env("TWILIO_AUTH_TOKEN")?;
    let secret = SvixSecret::parse(&env("RESEND_WEBHOOK_SECRET")?)?;
    let events: usize = std::env::var("EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let senders: usize = std::env::var("SENDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let rate: Option<f64> = match std::env::var("RATE") {
        Ok(v) if !v.is_empty() => Some(
            v.parse()
                .ok()
                .filter(|r: &f64| *r > 0.0)
                .ok_or("RATE must be a positive number of events per second")?,
        ),
        _ => None,
    };
    let warmup = Duration::from_secs_f64(
        std::env::var("WARMUP_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|w: &f64| *w >= 0.0)
            .unwrap_or(2.0),
    );
    let now = chrono::Utc::now().timestamp();
    let prepared: Arc<Vec<Prepared>> = Arc::new(
        (0..events)
            .map(|n| {
                if n % 2 == 0 {
                    twilio_sms(n, &public, &token)
                } else {
                    resend_event(n, &secret, now)
                }
            })
            .collect(),
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(senders)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (client, prepared, next, api) =
            (client.clone(), prepared.clone(), next.clone(), api.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0usize;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = prepared.get(i) else { break };
                let mut request = client
                    .post(format!("{api}{}", p.path))
                    .header("content-type", p.content_type)
                    .body(p.body.clone());
                for (k, v) in &p.headers {
                    request = request.header(*k, v);
                }
                let start = match rate {
                    None => Instant::now(),
                    Some(rate) => {
                        let due = started + Duration::from_secs_f64(i as f64 / rate);
                        if Instant::now() >= due {
                            due
                        } else {
                            tokio::time::sleep_until(due.into()).await;
                            Instant::now()
                        }
                    }
                };
                match request.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push((start - started, start.elapsed()));
                    }
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    let mut timeline: Vec<(Duration, Duration)> = Vec::with_capacity(events);
    let mut failures = 0;
    for t in tasks {
        let (l, f) = t.await?;
        timeline.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    if let Ok(path) = std::env::var("LATENCY_LOG") {
        timeline.sort();
        let lines: String = timeline
            .iter()
            .map(|(at, latency)| {
                format!(
                    "{:.3} {:.3}\n",
                    at.as_secs_f64() * 1e3,
                    latency.as_secs_f64() * 1e3
                )
            })
            .collect();
        std::fs::write(&path, lines)?;
    }
    let offered = rate.map_or("closed loop".to_owned(), |r| format!("offered {r:.0}/s"));
    let all = Percentiles::of(timeline.iter().map(|&(_, latency)| latency));
    println!(
        "| {senders} senders | {offered} | {events} events | {:.0} acks/s | p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms | {failures} failed |",
        all.count() as f64 / elapsed.as_secs_f64(),
        all.ms(0.5),
        all.ms(0.99),
        all.ms(1.0),
    );
    all.print_tail("percentiles (ms):");
    let warm = Percentiles::of(
        timeline
            .iter()
            .filter(|&&(at, _)| at >= warmup)
            .map(|&(_, latency)| latency),
    );
    println!(
        "after the first {:.0} s (warm-up): {} events | p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms",
        warmup.as_secs_f64(),
        warm.count(),
        warm.ms(0.5),
        warm.ms(0.99),
        warm.ms(1.0),
    );
    warm.print_tail("  percentiles after warm-up (ms):");
    let pool = sqlx::PgPool::connect(&env("DATABASE_URL")?).await?;
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_events")
        .fetch_one(&pool)
        .await?;
    let distinct: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT (provider, provider_event_id)) FROM webhook_events",
    )
    .fetch_one(&pool)
    .await?;
    let jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'process_webhook_event'",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "stored events: {stored} (distinct {distinct}), processing jobs: {jobs}, acknowledged: {}",
        all.count()
    );
    if stored != all.count() as i64 || distinct != stored || jobs != stored {
        return Err("an acknowledged event was lost or doubled".into());
    }
    Ok(())
}

/// Sorted latencies, read as percentiles.
struct Percentiles(Vec<Duration>);

impl Percentiles {
    fn of(latencies: impl Iterator<Item = Duration>) -> Self {
        let mut sorted: Vec<Duration> = latencies.collect();
        sorted.sort();
        Self(sorted)
    }

    fn count(&self) -> usize {
        self.0.len()
    }

    /// The `p` quantile in milliseconds (nearest rank).
    fn ms(&self, p: f64) -> f64 {
        self.0
            .get(((self.0.len().max(1) - 1) as f64 * p).round() as usize)
            .copied()
            .unwrap_or_default()
            .as_secs_f64()
            * 1e3
    }

    fn print_tail(&self, label: &str) {
        println!(
            "{label} p90 {:.2}, p95 {:.2}, p97 {:.2}, p98 {:.2}, p99.5 {:.2}, p99.9 {:.2}",
            self.ms(0.90),
            self.ms(0.95),
            self.ms(0.97),
            self.ms(0.98),
            self.ms(0.995),
            self.ms(0.999),
        );
    }
}
