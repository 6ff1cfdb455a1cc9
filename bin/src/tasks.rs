//! Background tasks: the expiry sweeper, the event relay and the admission
//! controller, supervised.
//!
//! They run in one `JoinSet` beside the HTTP server until shutdown.
//! - A task that ends before shutdown asked it to, or panics, is logged as an
//!   error and named in `/health/ready`, which then answers 503: an instance
//!   whose relay died stops taking traffic instead of silently keeping
//!   events back.
//! - At shutdown the relay publishes what is due once more (bounded), so the
//!   events of the last requests served leave with the instance.
//! - `Supervisor::stop` returns when every task has ended.

use async_trait::async_trait;
use frontrow_adapters::http::{AppState, Ping};
use frontrow_application::events::EventRelay;
use frontrow_domain::room::LatencyBudget;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// What `/health/ready` says of the background tasks: the ones that stopped
/// unasked, with how.
#[derive(Default)]
pub struct TaskHealth {
    failed: Mutex<Vec<String>>,
}

impl TaskHealth {
    fn record(&self, failure: String) {
        self.failed.lock().push(failure);
    }
}

#[async_trait]
impl Ping for TaskHealth {
    async fn ping(&self) -> Result<(), String> {
        let failed = self.failed.lock();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(failed.join("; "))
        }
    }
}

/// Asks the tasks to stop; each sees it at its next pause.
#[derive(Clone)]
pub(crate) struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    /// Resolves once stop was asked; never if the supervisor was dropped
    /// without asking, so a dropped handle cannot stop a task by accident.
    pub(crate) async fn requested(&mut self) {
        if self.0.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    fn is_requested(&self) -> bool {
        *self.0.borrow()
    }
}

/// The running background tasks.
pub(crate) struct Supervisor {
    stop: watch::Sender<bool>,
    watcher: JoinHandle<()>,
}

/// A task to supervise: its name (for logs and readiness) and its body,
/// which returns when its `StopSignal` is requested.
pub(crate) type Task = (
    &'static str,
    Box<dyn FnOnce(StopSignal) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send>,
);

impl Supervisor {
    /// Spawns `tasks` and a watcher that reports any that ends early.
    pub(crate) fn spawn(tasks: Vec<Task>, health: Arc<TaskHealth>) -> Self {
        let (stop, stopped) = watch::channel(false);
        let signal = StopSignal(stopped);
        let mut set = JoinSet::new();
        let mut names = HashMap::new();
        for (name, body) in tasks {
            let handle = set.spawn(body(signal.clone()));
            names.insert(handle.id(), name);
        }
        let watcher = tokio::spawn(async move {
            while let Some(ended) = set.join_next_with_id().await {
                let (id, panic) = match ended {
                    Ok((id, ())) => (id, None),
                    Err(error) => (error.id(), Some(error)),
                };
                let task = names.get(&id).copied().unwrap_or("background task");
                match panic {
                    Some(error) => {
                        tracing::error!(
                            task,
                            error = &error as &dyn std::error::Error,
                            "background task panicked"
                        );
                        health.record(format!("{task} panicked"));
                    }
                    None if !signal.is_requested() => {
                        tracing::error!(task, "background task ended before shutdown");
                        health.record(format!("{task} stopped"));
                    }
                    None => tracing::debug!(task, "background task stopped"),
                }
            }
        });
        Self { stop, watcher }
    }

    /// Asks every task to stop and waits until all have ended.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.watcher.await;
    }
}

/// The service's tasks; the admission controller only with a budget.
pub(crate) fn service_tasks(
    state: Arc<AppState>,
    relay: Arc<EventRelay>,
    retention_hours: i64,
    budget: LatencyBudget,
) -> Vec<Task> {
    let controlled = state.clone();
    let mut tasks: Vec<Task> = vec![
        (
            "expiry sweeper",
            Box::new(move |stop| Box::pin(sweep_lapsed_holds(state, stop))),
        ),
        (
            "event relay",
            Box::new(move |stop| Box::pin(relay_outbox(relay, retention_hours, stop))),
        ),
    ];
    if budget.is_on() {
        tasks.push((
            "admission controller",
            Box::new(move |stop| Box::pin(control_admission(controlled, budget, stop))),
        ));
    }
    tasks
}

/// Once per controller period, judges this instance's write path over the
/// period against `budget` and steps every listed concert's room with the
/// verdict (`Room::steer`: the room keeps one rate for every instance, and
/// steps it at most once per period each way).
async fn control_admission(state: Arc<AppState>, budget: LatencyBudget, mut stop: StopSignal) {
    let period = Duration::from_millis(
        frontrow_domain::room::RateController::default()
            .period_ms
            .unsigned_abs(),
    );
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.requested() => break,
        }
        let write_path = state.write_path.verdict(budget);
        let concerts = match state.catalogue.concerts().await {
            Ok(concerts) => concerts,
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "admission control cannot list the concerts"
                );
                continue;
            }
        };
        for concert in concerts {
            match state.queue.steer(concert.id, write_path).await {
                Ok(rate) => tracing::debug!(
                    concert = concert.id.get(),
                    ?write_path,
                    rate,
                    "admission rate"
                ),
                Err(error) => tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "admission control cannot steer a room"
                ),
            }
        }
    }
}

/// Writes EXPIRED (and its event) for lapsed holds, every second. Seats do
/// not wait for this: a lapsed hold is free from its deadline.
async fn sweep_lapsed_holds(state: Arc<AppState>, mut stop: StopSignal) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(error) = state.reservations.expire_due(500).await {
                    tracing::warn!(error = &error as &dyn std::error::Error, "expiry sweep failed");
                }
            }
            _ = stop.requested() => break,
        }
    }
}

/// How long the relay keeps publishing at shutdown.
const FINAL_FLUSH: Duration = Duration::from_secs(5);

/// Publishes the outbox until shutdown: at once while there is a backlog,
/// every 100 ms when idle, with backoff while the sink fails. Purges
/// published rows past retention once an hour. At shutdown, publishes what
/// is due for up to `FINAL_FLUSH`.
async fn relay_outbox(relay: Arc<EventRelay>, retention_hours: i64, mut stop: StopSignal) {
    let mut backoff = Duration::from_millis(100);
    let mut next_purge = tokio::time::Instant::now();
    loop {
        let pause = match relay.relay_once().await {
            Ok(n) if n == relay.batch_size() => Duration::ZERO,
            Ok(_) => {
                backoff = Duration::from_millis(100);
                Duration::from_millis(100)
            }
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    retry_in_ms = backoff.as_millis() as u64,
                    "event relay failed"
                );
                backoff = (backoff * 2).min(Duration::from_secs(5));
                backoff
            }
        };
        if tokio::time::Instant::now() >= next_purge {
            next_purge += Duration::from_secs(3600);
            if let Err(error) = relay.purge(retention_hours.max(0) * 3_600_000).await {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "outbox purge failed"
                );
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.requested() => break,
        }
    }
    let flush = async {
        while let Ok(n) = relay.relay_once().await {
            if n < relay.batch_size() {
                return true;
            }
        }
        false
    };
    match tokio::time::timeout(FINAL_FLUSH, flush).await {
        Ok(true) => tracing::debug!("event relay flushed at shutdown"),
        _ => tracing::warn!(
            "event relay could not publish everything at shutdown; the next instance will"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &'static str, body: impl Future<Output = ()> + Send + 'static) -> Task {
        (name, Box::new(move |_stop| Box::pin(body)))
    }

    #[tokio::test]
    async fn a_task_that_panics_makes_the_instance_unready() {
        let health = Arc::new(TaskHealth::default());
        let supervisor = Supervisor::spawn(
            vec![task("event relay", async { panic!("relay bug") })],
            health.clone(),
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(health.ping().await, Err("event relay panicked".to_owned()));
        supervisor.stop().await;
    }

    #[tokio::test]
    async fn a_task_that_ends_unasked_makes_the_instance_unready() {
        let health = Arc::new(TaskHealth::default());
        let supervisor = Supervisor::spawn(vec![task("expiry sweeper", async {})], health.clone());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            health.ping().await,
            Err("expiry sweeper stopped".to_owned())
        );
        supervisor.stop().await;
    }

    #[tokio::test]
    async fn stop_waits_for_every_task_and_is_no_failure() {
        let health = Arc::new(TaskHealth::default());
        let finished = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = finished.clone();
        let slow: Task = (
            "slow",
            Box::new(move |mut stop| {
                Box::pin(async move {
                    stop.requested().await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    seen.store(true, std::sync::atomic::Ordering::SeqCst);
                })
            }),
        );
        let supervisor = Supervisor::spawn(vec![slow], health.clone());
        supervisor.stop().await;
        assert!(finished.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(health.ping().await, Ok(()));
    }
}
