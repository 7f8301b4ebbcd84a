//! A small circuit breaker: after `failure_threshold` consecutive transient failures it opens
//! for `cool_down`, failing calls fast; then it lets one trial call through (half-open), which
//! closes it on success or re-opens it on failure.

use std::sync::Mutex;
use std::time::{Duration, Instant};

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
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(settings: BreakerSettings) -> Self {
        CircuitBreaker {
            settings,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere mid-update; the state is still a value.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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
        *self.lock() = State::Closed { failures: 0 };
    }

    /// Records a transient failure: opens the circuit at the threshold, or re-opens after a
    /// failed trial.
    pub fn record_failure(&self) {
        let mut state = self.lock();
        let open = State::Open {
            until: Instant::now() + self.settings.cool_down,
        };
        *state = match *state {
            State::Closed { failures } => {
                let failures = failures.saturating_add(1);
                if failures >= self.settings.failure_threshold {
                    tracing::warn!(failures, "circuit breaker opened");
                    open
                } else {
                    State::Closed { failures }
                }
            }
            State::HalfOpen { .. } | State::Open { .. } => open,
        };
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
