//! The admission controller's input: this instance's own write path. The
//! HTTP layer records how long each hold and payment took; once per period
//! the controller task takes the window's latencies, judges them against
//! the budget ([`LatencyBudget::verdict`]) and steps every room on sale with
//! the verdict (`WaitingRoom::steer`). The rule and its constants live in
//! the domain (`frontrow_domain::room::RateController`).

use frontrow_domain::room::{LatencyBudget, WriteLatency, WritePath, percentile_ms};
use parking_lot::Mutex;
use std::time::Duration;

/// Most samples of each kind one window keeps; past it a window's p99 is
/// that of its first samples (at 2,000 holds/s and a 1 s window, never).
const MAX_SAMPLES: usize = 50_000;

/// A write the controller watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `POST /api/v1/reservations`.
    Hold,
    /// `POST /api/v1/payments`.
    Payment,
}

/// What one window saw of holds and of payments (`None`: none of that
/// kind): the latency the controller judges, and the p99 for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WritePathWindow {
    /// Holds: count and judged percentile.
    pub holds: Option<WriteLatency>,
    /// Payments: count and judged percentile.
    pub payments: Option<WriteLatency>,
    /// Holds' p99, ms.
    pub hold_p99_ms: Option<i64>,
    /// Payments' p99, ms.
    pub pay_p99_ms: Option<i64>,
}

/// This instance's hold and payment latencies since the last window was
/// taken, and the last window's p99s (for `/metrics`).
#[derive(Default)]
pub struct WritePathLatency {
    /// A `parking_lot` mutex, held only to push or swap a vector, never
    /// across an `.await`.
    window: Mutex<(Vec<u32>, Vec<u32>)>,
    last: Mutex<WritePathWindow>,
}

impl WritePathLatency {
    /// A write of `kind` took `took`.
    pub fn record(&self, kind: Write, took: Duration) {
        let micros = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        let mut window = self.window.lock();
        let samples = match kind {
            Write::Hold => &mut window.0,
            Write::Payment => &mut window.1,
        };
        if samples.len() < MAX_SAMPLES {
            samples.push(micros);
        }
    }

    /// Ends the window: its latencies, and a fresh window from now.
    pub fn take(&self) -> WritePathWindow {
        let (mut holds, mut payments) = std::mem::take(&mut *self.window.lock());
        let window = WritePathWindow {
            holds: WriteLatency::of(&mut holds),
            payments: WriteLatency::of(&mut payments),
            hold_p99_ms: percentile_ms(&mut holds, 99),
            pay_p99_ms: percentile_ms(&mut payments, 99),
        };
        *self.last.lock() = window;
        window
    }

    /// Ends the window and judges it against `budget`.
    pub fn verdict(&self, budget: LatencyBudget) -> WritePath {
        let window = self.take();
        budget.verdict(window.holds, window.payments)
    }

    /// The last window taken.
    pub fn last(&self) -> WritePathWindow {
        *self.last.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontrow_domain::Timestamp;
    use frontrow_domain::queue::{AdmissionPolicy, StockRule};
    use frontrow_domain::room::{RateController, Room, RoomSettings};

    const BUDGET: LatencyBudget = LatencyBudget {
        hold_ms: 100,
        pay_ms: 250,
    };

    fn settings() -> RoomSettings {
        RoomSettings {
            default_policy: AdmissionPolicy::new(1_000, 500, false).expect("a policy"),
            active_ms: 600_000,
            active_idle_ms: 0,
            waiting_idle_ms: 0,
            pick_ms: 0,
            stock_rule: StockRule::default(),
            controller: RateController::default(),
        }
    }

    /// One second of writes: 200 holds and 100 payments, `slow_in_100` in
    /// a hundred of each taking `slow_ms`, the rest 5 ms.
    fn a_second_of_writes(latency: &WritePathLatency, slow_in_100: u64, slow_ms: u64) {
        for n in 0..200 {
            let ms = if n % 100 < slow_in_100 { slow_ms } else { 5 };
            latency.record(Write::Hold, Duration::from_millis(ms));
            if n % 2 == 0 {
                latency.record(Write::Payment, Duration::from_millis(ms));
            }
        }
    }

    #[test]
    fn the_rate_falls_while_holds_are_slow_and_recovers_when_they_are_fast_again() {
        let latency = WritePathLatency::default();
        let settings = settings();
        let mut room = Room::default();
        let mut rates = Vec::new();
        for second in 0..40 {
            if (5..15).contains(&second) {
                // The store is slow: a fifth of the writes wait 300 ms.
                a_second_of_writes(&latency, 20, 300);
            } else {
                // Fast, with a preempted tail: 5 % of the writes take 2 s.
                a_second_of_writes(&latency, 5, 2_000);
            }
            let verdict = latency.verdict(BUDGET);
            rates.push(room.steer(verdict, &settings, Timestamp(second * 1_000)));
        }
        assert!(rates[..5].iter().all(|&rate| rate == 500), "{rates:?}");
        assert_eq!(rates[9], 125, "five slow seconds: down to the floor");
        assert_eq!(rates[14], 125, "and no lower");
        assert!(rates[15..].windows(2).all(|w| w[0] <= w[1]), "{rates:?}");
        assert_eq!(rates[29], 500, "back at the operator's rate");
        assert!(rates.iter().all(|&rate| (125..=500).contains(&rate)));
    }

    #[test]
    fn the_percentiles_are_the_nearest_rank_and_an_empty_window_has_none() {
        let latency = WritePathLatency::default();
        assert_eq!(latency.take(), WritePathWindow::default());
        for ms in 1..=100 {
            latency.record(Write::Hold, Duration::from_millis(ms));
        }
        latency.record(Write::Payment, Duration::from_micros(1_500));
        let window = latency.take();
        assert_eq!(window.hold_p99_ms, Some(99));
        assert_eq!(window.pay_p99_ms, Some(2));
        let judged = |samples, percentile_ms| {
            Some(WriteLatency {
                samples,
                percentile_ms,
            })
        };
        assert_eq!(window.holds, judged(100, 90));
        assert_eq!(window.payments, judged(1, 2));
        assert_eq!(latency.last(), window);
        assert_eq!(latency.take(), WritePathWindow::default(), "a fresh window");
    }
}
