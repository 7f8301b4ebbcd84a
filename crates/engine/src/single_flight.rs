//! [`SingleFlight`]: callers asking for the same key at the same time share one computation
//! (the first runs it, the others wait for its result), so a cache miss on a hot key costs one
//! query, not one per waiting request. Nothing is kept once a computation ends: the cache the
//! computation fills serves later callers.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// In-flight computations by key.
#[derive(Debug)]
pub struct SingleFlight<V> {
    flights: Mutex<HashMap<String, Arc<OnceCell<V>>>>,
}

impl<V> Default for SingleFlight<V> {
    fn default() -> Self {
        Self {
            flights: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> SingleFlight<V> {
    /// The result of `compute` for `key`, shared with every concurrent caller of the same key.
    /// A failed computation is not shared: the next waiter runs its own. A caller that goes
    /// away mid-computation hands it to a waiter.
    pub async fn run<E, F, Fut>(&self, key: &str, compute: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let cell = self
            .flights
            .lock()
            .map(|mut flights| flights.entry(key.to_owned()).or_default().clone())
            .unwrap_or_default();
        let result = cell.get_or_try_init(compute).await.cloned();
        if let Ok(mut flights) = self.flights.lock()
            && flights.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell))
        {
            flights.remove(key);
        }
        result
    }

    /// Keys being computed now.
    pub fn in_flight(&self) -> usize {
        self.flights.lock().map_or(0, |f| f.len())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn concurrent_callers_of_one_key_share_one_computation() {
        let flights = Arc::new(SingleFlight::<i64>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (flights, runs) = (flights.clone(), runs.clone());
            tasks.push(tokio::spawn(async move {
                flights
                    .run("k", || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, ()>(42)
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(42));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(flights.in_flight(), 0, "nothing is kept after the flight");
        // A later call computes again.
        assert_eq!(flights.run("k", || async { Ok::<_, ()>(7) }).await, Ok(7));
    }

    #[tokio::test]
    async fn other_keys_and_failures_are_not_shared() {
        let flights = SingleFlight::<i64>::default();
        let (a, b) = tokio::join!(
            flights.run("a", || async { Ok::<_, &str>(1) }),
            flights.run("b", || async { Ok::<_, &str>(2) })
        );
        assert_eq!((a, b), (Ok(1), Ok(2)));
        assert_eq!(
            flights.run("a", || async { Err("down") }).await,
            Err("down")
        );
        assert_eq!(flights.run("a", || async { Ok::<_, &str>(3) }).await, Ok(3));
    }
}
