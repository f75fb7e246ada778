//! Admission control. The networks use every core, so running more requests at once only makes
//! each slower: a few run, a bounded queue waits, and the rest are told at once to come back
//! (429) instead of piling up memory. A request that waits its whole time limit gets 503.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ApiError;

#[derive(Debug)]
pub struct Gate {
    turns: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    timeout: Duration,
}

/// One request counted as waiting, until dropped.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A turn to run; dropping it lets the next request in.
#[derive(Debug)]
pub struct Turn {
    _permit: OwnedSemaphorePermit,
    _busy: Busy,
    /// When the request must be done by.
    pub deadline: Instant,
}

/// Turns being run now, over every gate.
static BUSY: AtomicUsize = AtomicUsize::new(0);

/// One turn counted as running. When the last one ends, the memory the work freed goes back to
/// the operating system: the process keeps freed blocks while networks run (page faults on
/// fresh buffers cost a quarter of adaptation's time), but an idle server should not hold
/// what its last request needed.
#[derive(Debug)]
struct Busy;

impl Busy {
    fn new() -> Self {
        BUSY.fetch_add(1, Ordering::SeqCst);
        Busy
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if BUSY.fetch_sub(1, Ordering::SeqCst) == 1 {
            // Off the async workers when there are some: trimming a large heap takes a while.
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn_blocking(voxclone::allocator::give_back_freed_memory);
                }
                Err(_) => voxclone::allocator::give_back_freed_memory(),
            }
        }
    }
}

impl Gate {
    pub fn new(max_running: usize, max_waiting: usize, timeout: Duration) -> Self {
        Self {
            turns: Arc::new(Semaphore::new(max_running.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting,
            timeout,
        }
    }

    /// Waits for a turn, or refuses at once when the queue is full.
    pub async fn enter(&self) -> Result<Turn, ApiError> {
        let deadline = Instant::now() + self.timeout;
        if let Ok(permit) = self.turns.clone().try_acquire_owned() {
            return Ok(Turn {
                _permit: permit,
                _busy: Busy::new(),
                deadline,
            });
        }
        if self.turns.is_closed() {
            return Err(ApiError::overloaded("the server is shutting down"));
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::busy(format!(
                "the server is busy ({} requests waiting); try again shortly",
                self.max_waiting
            )));
        }
        // Counted until this future ends, however it ends: a client that hangs up while
        // waiting drops it mid-await.
        let _waiting = Waiting(&self.waiting);
        let waited = tokio::time::timeout(self.timeout, self.turns.clone().acquire_owned()).await;
        match waited {
            // A turn that comes with almost no time left would run only to be answered 504.
            Ok(Ok(_)) if deadline.saturating_duration_since(Instant::now()) < self.timeout / 4 => {
                Err(ApiError::overloaded(format!(
                    "waited too long for a turn (time limit {} s); the server is overloaded",
                    self.timeout.as_secs()
                )))
            }
            Ok(Ok(permit)) => Ok(Turn {
                _permit: permit,
                _busy: Busy::new(),
                deadline,
            }),
            Ok(Err(_)) => Err(ApiError::overloaded("the server is shutting down")),
            Err(_) => Err(ApiError::overloaded(format!(
                "no turn to run within {} s; the server is overloaded",
                self.timeout.as_secs()
            ))),
        }
    }

    /// Lets no one else in: waiting requests are answered 503 at once (shutting down).
    pub fn close(&self) {
        self.turns.close();
    }

    /// Requests waiting for a turn now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}

/// Runs blocking work (the networks) on its own thread while holding `turn`, and gives up waiting
/// for it at the turn's deadline (504). The work keeps its turn until it really ends, so the
/// count of running requests stays true; long work should watch the deadline itself.
pub async fn run_blocking<T: Send + 'static>(
    turn: Turn,
    work: impl FnOnce(Instant) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let deadline = turn.deadline;
    let task = tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work(deadline)
    });
    let left = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(left, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(ApiError::internal(format!("the work failed: {e}"))),
        Err(_) => Err(ApiError::timeout(
            "the request took longer than its time limit",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request waiting at `gate`, counted before this returns.
    async fn waiter(gate: &Arc<Gate>) -> tokio::task::JoinHandle<Result<(), ApiError>> {
        let before = gate.waiting();
        let handle = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.enter().await.map(|_| ()) })
        };
        while gate.waiting() == before {
            tokio::task::yield_now().await;
        }
        handle
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_a_long_wait_times_out() {
        let gate = Arc::new(Gate::new(1, 1, Duration::from_millis(300)));
        let running = gate.enter().await.unwrap();
        // One may wait...
        let waiter = waiter(&gate).await;
        // ...the next is refused with 429 without waiting: its first poll already answers.
        let mut entering = std::pin::pin!(gate.enter());
        let first_poll = std::future::Future::poll(
            entering.as_mut(),
            &mut std::task::Context::from_waker(std::task::Waker::noop()),
        );
        let std::task::Poll::Ready(Err(refused)) = first_poll else {
            panic!("a full queue must refuse at once, not wait");
        };
        assert_eq!(refused.status.as_u16(), 429);
        // The waiter gives up at its time limit with 503.
        let waited = waiter.await.unwrap().unwrap_err();
        assert_eq!(waited.status.as_u16(), 503);
        drop(running);
        assert!(gate.enter().await.is_ok());
    }

    #[tokio::test]
    async fn a_turn_passes_to_the_next_waiter_when_released() {
        let gate = Arc::new(Gate::new(1, 4, Duration::from_secs(5)));
        let first = gate.enter().await.unwrap();
        let second = waiter(&gate).await;
        drop(first);
        assert!(second.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_is_no_longer_counted() {
        let gate = Arc::new(Gate::new(1, 1, Duration::from_millis(300)));
        let _running = gate.enter().await.unwrap();
        // The client hangs up: its request's future is dropped mid-wait.
        let gone = waiter(&gate).await;
        gone.abort();
        let _ = gone.await;
        assert_eq!(gate.waiting(), 0);
        // So the queue's one place is free again: the next request waits (and times out with
        // 503) instead of being refused with 429.
        assert_eq!(gate.enter().await.unwrap_err().status.as_u16(), 503);
    }

    #[tokio::test]
    async fn a_closed_gate_turns_waiters_away() {
        let gate = Arc::new(Gate::new(1, 4, Duration::from_secs(5)));
        let _running = gate.enter().await.unwrap();
        let waiting = waiter(&gate).await;
        gate.close();
        assert_eq!(waiting.await.unwrap().unwrap_err().status.as_u16(), 503);
        assert_eq!(gate.enter().await.unwrap_err().status.as_u16(), 503);
    }

    #[tokio::test]
    async fn work_past_its_deadline_is_answered_with_504() {
        let gate = Gate::new(1, 0, Duration::from_millis(100));
        let turn = gate.enter().await.unwrap();
        let late = run_blocking(turn, |_| {
            std::thread::sleep(Duration::from_millis(400));
            Ok(())
        })
        .await
        .unwrap_err();
        assert_eq!(late.status.as_u16(), 504);
        // The slow work still holds its turn until it ends: the gate stays honest.
        assert_eq!(gate.enter().await.unwrap_err().status.as_u16(), 429);
    }
}
