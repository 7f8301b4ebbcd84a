//! A small circuit breaker: after `failure_threshold` consecutive transient failures it opens
//! for `cool_down`, failing calls fast; then it lets one trial call through (half-open), which
//! closes it on success or re-opens it on failure. A breaker built with a [`CircuitWatch`]
//! tells its [`CircuitObserver`] every change of state (closed, open, half-open), e.g. for the
//! worker to publish it to the admin console.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::provider::Provider;

/// A circuit's state as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CircuitState {
    /// Calls go through.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// One trial call is in flight.
    HalfOpen,
}

impl CircuitState {
    /// `closed`, `open` or `half_open`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }
}

/// One change of a provider's circuit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitChange {
    /// Whose circuit.
    pub provider: Provider,
    /// The new state.
    pub state: CircuitState,
    /// When it changed.
    pub since: DateTime<Utc>,
    /// When open: the earliest instant of a trial call.
    pub retry_at: Option<DateTime<Utc>>,
    /// The kind of the last failure recorded ([`crate::ProviderError::kind`]), if any.
    pub last_error: Option<&'static str>,
}

/// Told about every change of a watched circuit. Called on the caller's thread right after the
/// change, outside the breaker's lock: it must not block (hand the change to a task).
pub trait CircuitObserver: Send + Sync {
    /// The circuit changed.
    fn changed(&self, change: CircuitChange);
}

/// The observer of the circuits built with some [`crate::HttpSettings`] (none by default). A
/// process-lifetime reference, so the settings stay `Copy`.
#[derive(Clone, Copy, Default)]
pub struct CircuitWatch(Option<&'static dyn CircuitObserver>);

impl CircuitWatch {
    /// Circuits built with these settings report to `observer`.
    pub fn new(observer: &'static dyn CircuitObserver) -> Self {
        CircuitWatch(Some(observer))
    }

    fn tell(self, change: CircuitChange) {
        if let Some(observer) = self.0 {
            observer.changed(change);
        }
    }
}

impl PartialEq for CircuitWatch {
    fn eq(&self, other: &Self) -> bool {
        match (self.0, other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => std::ptr::addr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for CircuitWatch {}

impl fmt::Debug for CircuitWatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "CircuitWatch(observed)"
        } else {
            "CircuitWatch(none)"
        })
    }
}

/// When the breaker opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSettings {
    /// Consecutive failed calls (after their retries) that open the circuit.
    pub failure_threshold: u32,
    /// How long the circuit stays open before a trial call.
    pub cool_down: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_in_flight: bool },
}

/// The breaker's state, shared by every call through one provider client.
#[derive(Debug)]
pub struct CircuitBreaker {
    settings: BreakerSettings,
    state: Mutex<State>,
    watched: Option<(Provider, CircuitWatch)>,
    last_error: Mutex<Option<&'static str>>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(settings: BreakerSettings) -> Self {
        CircuitBreaker {
            settings,
            state: Mutex::new(State::Closed { failures: 0 }),
            watched: None,
            last_error: Mutex::new(None),
        }
    }

    /// A closed breaker of `provider`'s client whose changes `watch` is told.
    pub fn watched(settings: BreakerSettings, provider: Provider, watch: CircuitWatch) -> Self {
        CircuitBreaker {
            watched: Some((provider, watch)),
            ..CircuitBreaker::new(settings)
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere mid-update; the state is still a value.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells the observer (if any) that the circuit is now `state` (`until`: end of an open
    /// period).
    fn publish(&self, state: CircuitState, until: Option<Instant>) {
        let Some((provider, watch)) = self.watched else {
            return;
        };
        let now = Utc::now();
        let retry_at = until.map(|u| {
            now + chrono::Duration::from_std(u.saturating_duration_since(Instant::now()))
                .unwrap_or_default()
        });
        let last_error = *self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        watch.tell(CircuitChange {
            provider,
            state,
            since: now,
            retry_at,
            last_error,
        });
    }

    /// Asks to make a call: `Err(time left)` while open (or while a half-open trial runs).
    pub fn try_acquire(&self) -> Result<(), Duration> {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } => {
                let now = Instant::now();
                if now >= until {
                    *state = State::HalfOpen {
                        trial_in_flight: true,
                    };
                    drop(state);
                    self.publish(CircuitState::HalfOpen, None);
                    Ok(())
                } else {
                    Err(until - now)
                }
            }
            State::HalfOpen { trial_in_flight } => {
                if trial_in_flight {
                    Err(self.settings.cool_down)
                } else {
                    *state = State::HalfOpen {
                        trial_in_flight: true,
                    };
                    Ok(())
                }
            }
        }
    }

    /// Records a call that reached a healthy provider: closes the circuit.
    pub fn record_success(&self) {
        let mut state = self.lock();
        let was_closed = matches!(*state, State::Closed { .. });
        *state = State::Closed { failures: 0 };
        drop(state);
        if !was_closed {
            self.publish(CircuitState::Closed, None);
        }
    }

    /// Records a transient failure: opens the circuit at the threshold, or re-opens after a
    /// failed trial.
    pub fn record_failure(&self) {
        self.record_failure_of("unknown");
    }

    /// Records a transient failure of `kind` ([`crate::ProviderError::kind`]), as
    /// [`record_failure`](Self::record_failure) does.
    pub fn record_failure_of(&self, kind: &'static str) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(kind);
        let mut state = self.lock();
        let until = Instant::now() + self.settings.cool_down;
        let open = State::Open { until };
        let (next, opened) = match *state {
            State::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if failures >= self.settings.failure_threshold {
                    tracing::warn!(failures, "circuit breaker opened");
                    (open, true)
                } else {
                    (State::Closed { failures }, false)
                }
            }
            State::HalfOpen { .. } => (open, true),
            State::Open { .. } => (open, false),
        };
        *state = next;
        drop(state);
        if opened {
            self.publish(CircuitState::Open, Some(until));
        }
    }

    /// True while calls are refused.
    pub fn is_open(&self) -> bool {
        match *self.lock() {
            State::Closed { .. } => false,
            State::Open { until } => Instant::now() < until,
            State::HalfOpen { trial_in_flight } => trial_in_flight,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(threshold: u32, cool_down_ms: u64) -> CircuitBreaker {
        CircuitBreaker::new(BreakerSettings {
            failure_threshold: threshold,
            cool_down: Duration::from_millis(cool_down_ms),
        })
    }

    #[test]
    fn opens_after_threshold_consecutive_failures() {
        let b = breaker(3, 10_000);
        b.record_failure();
        b.record_failure();
        assert!(b.try_acquire().is_ok());
        b.record_failure();
        assert!(b.is_open());
        assert!(b.try_acquire().is_err());
    }

    #[test]
    fn a_success_resets_the_count() {
        let b = breaker(2, 10_000);
        b.record_failure();
        b.record_success();
        b.record_failure();
        assert!(!b.is_open());
    }

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(CircuitState, Option<&'static str>, bool)>>);

    impl CircuitObserver for Recorder {
        fn changed(&self, change: CircuitChange) {
            assert_eq!(change.provider, Provider::Apollo);
            self.0.lock().expect("recorder").push((
                change.state,
                change.last_error,
                change.retry_at.is_some(),
            ));
        }
    }

    #[test]
    fn a_watched_breaker_reports_each_change_of_state_once() {
        let recorder: &'static Recorder = Box::leak(Box::default());
        let b = CircuitBreaker::watched(
            BreakerSettings {
                failure_threshold: 2,
                cool_down: Duration::from_millis(20),
            },
            Provider::Apollo,
            CircuitWatch::new(recorder),
        );
        b.record_success();
        b.record_failure_of("upstream");
        assert!(recorder.0.lock().expect("r").is_empty(), "still closed");
        b.record_failure_of("transport");
        b.record_failure_of("transport"); // a late failure while open: no change
        std::thread::sleep(Duration::from_millis(30));
        assert!(b.try_acquire().is_ok());
        b.record_failure_of("rate_limited");
        std::thread::sleep(Duration::from_millis(30));
        assert!(b.try_acquire().is_ok());
        b.record_success();
        b.record_success();
        assert_eq!(
            *recorder.0.lock().expect("r"),
            vec![
                (CircuitState::Open, Some("transport"), true),
                (CircuitState::HalfOpen, Some("transport"), false),
                (CircuitState::Open, Some("rate_limited"), true),
                (CircuitState::HalfOpen, Some("rate_limited"), false),
                (CircuitState::Closed, Some("rate_limited"), false),
            ]
        );
    }

    #[test]
    fn half_open_allows_one_trial_then_closes_or_reopens() {
        let b = breaker(1, 20);
        b.record_failure();
        assert!(b.try_acquire().is_err());
        std::thread::sleep(Duration::from_millis(30));
        assert!(b.try_acquire().is_ok(), "trial allowed after cool-down");
        assert!(b.try_acquire().is_err(), "only one trial at a time");
        b.record_failure();
        assert!(b.try_acquire().is_err(), "failed trial re-opens");
        std::thread::sleep(Duration::from_millis(30));
        assert!(b.try_acquire().is_ok());
        b.record_success();
        assert!(b.try_acquire().is_ok());
        assert!(b.try_acquire().is_ok(), "closed again");
    }
}
