//! The job runner. Per lane, a fetcher claims due jobs from `apalis.jobs` ahead into a local
//! buffer and executor tasks drain it, running each handler (in a tracing span, under the
//! kind's timeout); two acknowledging tasks mark successes done in batches across all
//! executors, and failures are retried after a jittered exponential backoff or dead-lettered.
//! A heartbeat task extends the leases of claimed jobs (buffered ones too) and puts back jobs
//! of workers that stopped heartbeating; a sampler publishes queue depth and oldest-job age.
//! Database errors never stop the runner: tasks back off and carry on. Why this loop and not
//! apalis's worker: `docs/jobs.md`.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use agency_engine::Services;
use agency_engine::jobs::queue::{self, ClaimedJob, FailureOutcome};
use agency_engine::jobs::{JobContext, JobError, JobKind, Lane, Registry, metrics};
use agency_runtime::Shutdown;
use tokio::sync::{Mutex, Notify, mpsc};
use tokio::task::JoinSet;
use tracing::Instrument;

/// Most job ids one acknowledging statement marks done.
const ACK_BATCH_MAX: usize = 1000;

/// Acknowledging tasks: two, so one slow statement does not hold back every lane's acks.
const ACKERS: usize = 2;

/// How a runner behaves.
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// This process's unique worker name.
    pub worker_name: String,
    /// (lane, executor tasks, fetch-ahead) per lane; zero tasks disables a lane. Fetch-ahead is
    /// the size of the lane's local buffer of claimed jobs (at least the task count).
    pub lanes: Vec<(Lane, u32, u32)>,
    /// Idle poll interval.
    pub poll_interval: Duration,
    /// Lease extension interval.
    pub heartbeat: Duration,
    /// Lease length: running jobs not extended for this long are put back.
    pub lease: Duration,
    /// Queue-depth sampling interval.
    pub sample_interval: Duration,
    /// Session URL for LISTEN; `None` polls only.
    pub listen_url: Option<String>,
}

/// Runs jobs until shutdown.
#[derive(Clone)]
pub struct Runner {
    services: Services,
    registry: Arc<Registry>,
    settings: Arc<RunnerSettings>,
    kinds: Arc<Vec<String>>,
    wake: Arc<Notify>,
    held: Arc<Held>,
}

/// The ids of the jobs this runner holds: claimed (buffered or running) and not yet settled.
/// The heartbeat extends exactly their leases.
#[derive(Debug, Default)]
struct Held(std::sync::Mutex<HashSet<String>>);

impl Held {
    fn add<'a>(&self, ids: impl IntoIterator<Item = &'a String>) {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.extend(ids.into_iter().cloned());
    }

    fn remove<'a>(&self, ids: impl IntoIterator<Item = &'a String>) {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for id in ids {
            held.remove(id);
        }
    }

    fn ids(&self) -> Vec<String> {
        let held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.iter().cloned().collect()
    }
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("settings", &self.settings)
            .field("registry", &self.registry)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner over `registry`'s kinds, handing `services` to every job.
    pub fn new(services: Services, registry: Registry, settings: RunnerSettings) -> Self {
        let kinds = registry
            .kinds()
            .iter()
            .map(|k| k.name().to_owned())
            .collect();
        Self {
            services,
            registry: Arc::new(registry),
            settings: Arc::new(settings),
            kinds: Arc::new(kinds),
            wake: Arc::new(Notify::new()),
            held: Arc::new(Held::default()),
        }
    }

    /// Runs until `shutdown`; in-flight jobs finish, claimed but unstarted ones are released.
    pub async fn run(self, shutdown: Shutdown) -> anyhow::Result<()> {
        let name = self.settings.worker_name.clone();
        let mut delay = Duration::from_millis(200);
        while let Err(e) = queue::register_worker(&self.services.pool, &name).await {
            tracing::warn!(error = %e, worker = %name, "worker registration failed; retrying");
            if sleep_or_shutdown(delay, &shutdown).await {
                return Ok(());
            }
            delay = (delay * 2).min(Duration::from_secs(10));
        }
        tracing::info!(worker = %name, kinds = ?self.kinds, "job runner started");

        let mut background = JoinSet::new();
        background.spawn(self.clone().heartbeat_loop(shutdown.clone()));
        background.spawn(self.clone().sample_loop(shutdown.clone()));
        if let Some(url) = self.settings.listen_url.clone() {
            background.spawn(self.clone().listen_loop(url, shutdown.clone()));
        }
        let (acks, ack_queue) = mpsc::unbounded_channel::<String>();
        let ack_queue = Arc::new(Mutex::new(ack_queue));
        let mut acker = JoinSet::new();
        for _ in 0..ACKERS {
            acker.spawn(self.clone().ack_loop(ack_queue.clone()));
        }
        let mut lanes = JoinSet::new();
        let mut buffers = Vec::new();
        for &(lane, tasks, fetch_ahead) in &self.settings.lanes {
            if tasks == 0 {
                continue;
            }
            let capacity = fetch_ahead.max(tasks) as usize;
            let (buffer, claimed) = mpsc::channel(capacity);
            let claimed = Arc::new(Mutex::new(claimed));
            lanes.spawn(self.clone().fetch_loop(lane, buffer, shutdown.clone()));
            for _ in 0..tasks {
                lanes.spawn(self.clone().exec_loop(
                    lane,
                    claimed.clone(),
                    acks.clone(),
                    shutdown.clone(),
                ));
            }
            buffers.push(claimed);
        }
        drop(acks);
        while let Some(done) = lanes.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "lane task ended abnormally");
            }
        }
        self.release_buffered(&buffers).await;
        // Every executor has ended and dropped its sender: the acker flushes and stops.
        while let Some(done) = acker.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "acknowledging task ended abnormally");
            }
        }
        background.abort_all();
        tracing::info!(worker = %name, "job runner stopped");
        Ok(())
    }

    /// Keeps `lane`'s local buffer filled: when at least half of it is free, claims as many due
    /// jobs as fit in one statement; when none are due, waits for a wake-up or the poll interval.
    async fn fetch_loop(self, lane: Lane, buffer: mpsc::Sender<ClaimedJob>, shutdown: Shutdown) {
        let name = self.settings.worker_name.as_str();
        let refill_at = (buffer.max_capacity() / 2).max(1);
        let mut error_delay = Duration::from_millis(100);
        while !shutdown.is_triggered() {
            tokio::select! {
                biased;
                () = shutdown.wait() => break,
                room = buffer.reserve_many(refill_at) => match room {
                    Ok(permits) => drop(permits),
                    Err(_) => break,
                },
            }
            let Ok(permits) = buffer.try_reserve_many(buffer.capacity()) else {
                continue;
            };
            let room = i64::try_from(permits.len()).unwrap_or(i64::MAX);
            match queue::claim(&self.services.pool, name, lane, &self.kinds, room).await {
                Ok(jobs) if jobs.is_empty() => {
                    error_delay = Duration::from_millis(100);
                    drop(permits);
                    tokio::select! {
                        () = tokio::time::sleep(self.settings.poll_interval) => {},
                        () = self.wake.notified() => {},
                        () = shutdown.wait() => {},
                    }
                }
                Ok(jobs) => {
                    error_delay = Duration::from_millis(100);
                    self.held.add(jobs.iter().map(|j| &j.id));
                    // One permit per claimed job: the claim asked for at most `room`.
                    for (permit, job) in permits.zip(jobs) {
                        permit.send(job);
                    }
                }
                Err(e) => {
                    drop(permits);
                    tracing::warn!(error = %e, %lane, "claiming jobs failed; backing off");
                    sleep_or_shutdown(error_delay, &shutdown).await;
                    error_delay = (error_delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// One of `lane`'s executors: takes the next buffered job, runs it and hands a success to
    /// the acknowledging task; stops taking jobs at shutdown (the one in hand finishes).
    async fn exec_loop(
        self,
        lane: Lane,
        claimed: Arc<Mutex<mpsc::Receiver<ClaimedJob>>>,
        acks: mpsc::UnboundedSender<String>,
        shutdown: Shutdown,
    ) {
        loop {
            let job = tokio::select! {
                biased;
                () = shutdown.wait() => None,
                job = async { claimed.lock().await.recv().await } => job,
            };
            let Some(job) = job else { return };
            let id = job.id.clone();
            if self.run_one(lane, job).await && acks.send(id).is_err() {
                tracing::error!(
                    "acknowledging task is gone; the job's lease will expire and it will rerun"
                );
            }
        }
    }

    /// Marks succeeded jobs done in batches across all executors: whatever has accumulated
    /// while the previous batch was written goes in the next statement.
    async fn ack_loop(self, acks: Arc<Mutex<mpsc::UnboundedReceiver<String>>>) {
        let name = self.settings.worker_name.as_str();
        let mut batch = Vec::with_capacity(ACK_BATCH_MAX);
        while acks.lock().await.recv_many(&mut batch, ACK_BATCH_MAX).await > 0 {
            let mut delay = Duration::from_millis(50);
            for attempt in 0..5 {
                match queue::complete(&self.services.pool, name, &batch).await {
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, attempt, "acknowledging jobs failed; retrying");
                        tokio::time::sleep(delay).await;
                        delay *= 2;
                    }
                }
            }
            // Done, or given up on (the lease then expires and the job reruns).
            self.held.remove(&batch);
            batch.clear();
        }
    }

    /// Gives back the jobs claimed into the local buffers but never started (shutdown).
    async fn release_buffered(&self, buffers: &[Arc<Mutex<mpsc::Receiver<ClaimedJob>>>]) {
        let mut unstarted = Vec::new();
        for buffer in buffers {
            let mut buffer = buffer.lock().await;
            buffer.close();
            while let Ok(job) = buffer.try_recv() {
                unstarted.push(job.id);
            }
        }
        if let Err(e) =
            queue::release(&self.services.pool, &self.settings.worker_name, &unstarted).await
        {
            tracing::warn!(error = %e, "releasing unstarted jobs failed; their lease will expire");
        }
        self.held.remove(&unstarted);
    }

    /// Runs one claimed job; true when it succeeded (to be acknowledged).
    async fn run_one(&self, lane: Lane, job: ClaimedJob) -> bool {
        let attempt = u32::try_from(job.attempts).unwrap_or(1);
        let span = tracing::info_span!(
            "job",
            job.id = %job.id,
            job.kind = %job.job_type,
            client_id = tracing::field::Empty,
            attempt,
            queue = %lane,
        );
        let started = Instant::now();
        let outcome = async {
            let kind: JobKind = match job.job_type.parse() {
                Ok(kind) => kind,
                Err(e) => return (None, Err(JobError::permanent(e))),
            };
            metrics::started(kind, lane);
            let ctx = JobContext {
                services: self.services.clone(),
                job_id: job.id.clone(),
                kind,
                attempt,
                max_attempts: u32::try_from(job.max_attempts).unwrap_or(1),
            };
            let prepared = match self.registry.prepare(kind, ctx, &job.job) {
                Ok(p) => p,
                Err(e) => return (Some(kind), Err(e)),
            };
            if let Some(client) = prepared.client_id {
                tracing::Span::current().record("client_id", tracing::field::display(client));
            }
            let timeout = kind.policy().timeout;
            let handle = tokio::spawn(prepared.future.in_current_span());
            let abort = handle.abort_handle();
            let result = match tokio::time::timeout(timeout, handle).await {
                Ok(Ok(result)) => result,
                Ok(Err(join)) if join.is_panic() => {
                    Err(JobError::Retryable("handler panicked".into()))
                }
                Ok(Err(join)) => Err(JobError::retryable(join)),
                Err(_) => {
                    abort.abort();
                    Err(JobError::Retryable(format!("timed out after {timeout:?}")))
                }
            };
            (Some(kind), result)
        }
        .instrument(span.clone())
        .await;
        let took = started.elapsed();
        let _entered = span.enter();
        let (kind, result) = outcome;
        if let Some(kind) = kind {
            metrics::finished(kind, lane, result.is_ok(), took);
        }
        match result {
            Ok(()) => {
                tracing::debug!(took_ms = took.as_millis() as u64, "job succeeded");
                true
            }
            Err(error) => {
                self.record_failure(lane, kind, &job, &error).await;
                false
            }
        }
    }

    async fn record_failure(
        &self,
        lane: Lane,
        kind: Option<JobKind>,
        job: &ClaimedJob,
        error: &JobError,
    ) {
        let name = self.settings.worker_name.as_str();
        let settled = queue::settle_failure(&self.services.pool, name, job, kind, error).await;
        self.held.remove([&job.id]);
        match settled {
            Ok(FailureOutcome::DeadLettered) => {
                tracing::error!(error = %error, permanent = error.is_permanent(), "job dead-lettered");
                if let Some(kind) = kind {
                    metrics::dead_lettered(kind, lane);
                }
            }
            Ok(FailureOutcome::RetryAfter(delay)) => {
                tracing::warn!(error = %error, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
            }
            Err(e) => {
                tracing::error!(error = %e, "recording the job failure failed; its lease will expire and it will rerun");
            }
        }
    }

    /// Extends the leases of held jobs every heartbeat; a few times per lease, puts back the
    /// jobs of workers that stopped heartbeating.
    async fn heartbeat_loop(self, shutdown: Shutdown) {
        let name = self.settings.worker_name.as_str();
        let recover_every = (self.settings.lease / 4).max(self.settings.heartbeat);
        let mut last_recovery = Instant::now();
        loop {
            if sleep_or_shutdown(self.settings.heartbeat, &shutdown).await {
                return;
            }
            if let Err(e) = queue::heartbeat(&self.services.pool, name, &self.held.ids()).await {
                tracing::warn!(error = %e, "heartbeat failed");
            }
            if last_recovery.elapsed() < recover_every {
                continue;
            }
            last_recovery = Instant::now();
            match queue::recover_expired(&self.services.pool, self.settings.lease).await {
                Ok(ids) if !ids.is_empty() => {
                    tracing::warn!(jobs = ?ids, "recovered jobs of a worker that stopped heartbeating");
                    metrics::recovered(ids.len() as u64);
                    self.wake.notify_waiters();
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "recovering expired jobs failed"),
            }
        }
    }

    async fn sample_loop(self, shutdown: Shutdown) {
        loop {
            match queue::lane_depths(&self.services.pool).await {
                Ok(depths) => {
                    let now = chrono::Utc::now();
                    for d in depths {
                        let age = d.oldest_due.map_or(0.0, |at| {
                            (now - at).num_milliseconds().max(0) as f64 / 1000.0
                        });
                        metrics::queue_state(d.lane, d.depth, age);
                    }
                }
                Err(e) => tracing::debug!(error = %e, "sampling queue depth failed"),
            }
            if let Ok(n) = queue::dead_count(&self.services.pool).await {
                metrics::dead_jobs(n);
            }
            if sleep_or_shutdown(self.settings.sample_interval, &shutdown).await {
                return;
            }
        }
    }

    /// LISTENs for apalis's insert notifications on a session connection and wakes idle
    /// tasks; on any error it reconnects after a pause (polling covers the gap).
    async fn listen_loop(self, url: String, shutdown: Shutdown) {
        loop {
            let listener = async {
                let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
                listener.listen(queue::INSERT_CHANNEL).await?;
                Ok::<_, sqlx::Error>(listener)
            }
            .await;
            match listener {
                Ok(mut listener) => loop {
                    tokio::select! {
                        () = shutdown.wait() => return,
                        n = listener.recv() => match n {
                            Ok(_) => self.wake.notify_waiters(),
                            Err(e) => {
                                tracing::warn!(error = %e, "LISTEN connection lost; polling meanwhile");
                                break;
                            }
                        },
                    }
                },
                Err(e) => tracing::warn!(error = %e, "LISTEN unavailable; polling only"),
            }
            if sleep_or_shutdown(Duration::from_secs(5), &shutdown).await {
                return;
            }
        }
    }
}

/// Sleeps; true when shutdown came first.
async fn sleep_or_shutdown(delay: Duration, shutdown: &Shutdown) -> bool {
    tokio::select! {
        () = tokio::time::sleep(delay) => shutdown.is_triggered(),
        () = shutdown.wait() => true,
    }
}
