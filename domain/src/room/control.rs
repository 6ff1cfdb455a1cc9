//! The admission controller: under the operator's rate (the ceiling), the
//! room's admission rate follows the sale's write path. Instances measure
//! their own hold and payment latency; a window over budget is a
//! [`WritePath::Slow`] verdict, one within it [`WritePath::Fine`]; the room
//! steps its rate with the verdict ([`Room::steer`]), at most once per
//! period each way, so every instance acts on the one rate the room keeps.
//!
//! The rule is AIMD, as TCP's congestion window: a slow write path cuts the
//! rate to `decrease_percent` of itself (never below `floor_percent` of the
//! ceiling); a fine one adds `increase_percent` of the ceiling, up to the
//! ceiling. Admitted buyers reach the write path seconds after admission,
//! so the rate moves by steps a second apart, not in one jump.

use super::{Room, RoomSettings};
use crate::Timestamp;

/// What an instance saw of the write path over the last period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WritePath {
    /// Holds or payments answered slower than their budget.
    Slow,
    /// Within budget (or nothing was written).
    Fine,
}

impl WritePath {
    /// The wire form for the Redis room (`SLOW`, `FINE`).
    pub fn as_str(self) -> &'static str {
        match self {
            WritePath::Slow => "SLOW",
            WritePath::Fine => "FINE",
        }
    }
}

/// Fewest writes of a kind a window needs before its latency can make a
/// verdict: with fewer, its slowest few are one preempted thread, not a
/// queue (at the 10 % floor of a 500/s rate a window held about 30 holds,
/// and their p99 was the single slowest).
pub const MIN_SAMPLES: usize = 20;

/// The share of a window's writes that must answer within the budget, in
/// percent: the controller judges the window's p90, not its p99. Over a
/// 1 s window on a loaded 2-core box the slowest 1 % are scheduling noise
/// (the 10,000-seat rush on MySQL + Redis: hold p50 12 ms, p99 over 2 s,
/// at any admission rate); a write path that admission overloads queues
/// every write, which moves the p90 with the median.
pub const JUDGED_PERCENTILE: usize = 90;

/// One kind of write over one window: how many, and their
/// [`JUDGED_PERCENTILE`] in whole ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteLatency {
    /// Writes of this kind in the window.
    pub samples: usize,
    /// Their judged percentile, ms.
    pub percentile_ms: i64,
}

impl WriteLatency {
    /// The window's latency from its samples in µs (nearest rank, rounded
    /// up to whole ms); `None` for an empty window. Reorders `micros`.
    pub fn of(micros: &mut [u32]) -> Option<Self> {
        percentile_ms(micros, JUDGED_PERCENTILE).map(|percentile_ms| Self {
            samples: micros.len(),
            percentile_ms,
        })
    }

    /// Over `budget` ms, on enough writes to say so.
    fn over(self, budget: i64) -> bool {
        self.samples >= MIN_SAMPLES && self.percentile_ms > budget
    }
}

/// The nearest-rank `percent`th percentile of `micros`, rounded up to whole
/// ms; `None` when empty. Reorders `micros`.
pub fn percentile_ms(micros: &mut [u32], percent: usize) -> Option<i64> {
    if micros.is_empty() {
        return None;
    }
    let rank = (micros.len() * percent).div_ceil(100).max(1) - 1;
    let (_, value, _) = micros.select_nth_unstable(rank);
    Some(i64::from(value.div_ceil(1000)))
}

/// The write path's latency budget for holds and for payments, in ms: the
/// operator's p99 target. The controller holds the window's
/// [`JUDGED_PERCENTILE`] to it (see there). A budget of 0 turns the
/// controller off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyBudget {
    /// Hold target.
    pub hold_ms: i64,
    /// Payment target.
    pub pay_ms: i64,
}

impl LatencyBudget {
    /// The controller steers only with a budget.
    pub fn is_on(self) -> bool {
        self.hold_ms > 0 && self.pay_ms > 0
    }

    /// The verdict on a window (`None`: nothing of that kind was written,
    /// which is within budget): slow when either kind's judged percentile
    /// is over its budget on at least [`MIN_SAMPLES`] writes.
    pub fn verdict(self, holds: Option<WriteLatency>, payments: Option<WriteLatency>) -> WritePath {
        let over =
            |latency: Option<WriteLatency>, budget: i64| latency.is_some_and(|l| l.over(budget));
        if over(holds, self.hold_ms) || over(payments, self.pay_ms) {
            WritePath::Slow
        } else {
            WritePath::Fine
        }
    }
}

/// The controller's constants (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateController {
    /// Each way, the rate steps at most once per period.
    pub period_ms: i64,
    /// A slow write path leaves this share of the rate, in percent.
    pub decrease_percent: i64,
    /// A fine write path adds this share of the ceiling, in percent.
    pub increase_percent: i64,
    /// The rate never goes below this share of the ceiling, in percent (and
    /// never below 1 per second), so the line always moves.
    pub floor_percent: i64,
}

impl Default for RateController {
    /// A second per step; a quarter off when slow, a twentieth of the
    /// ceiling back when fine (15 s from the floor to the ceiling at most);
    /// never below a quarter of the ceiling: a controller misled for a
    /// whole sale costs it at most 4× its time, not 10×, and a quarter of
    /// the rate is still a tenth of what admission at the ceiling puts on
    /// the write path after the opening burst.
    fn default() -> Self {
        Self {
            period_ms: 1_000,
            decrease_percent: 75,
            increase_percent: 5,
            floor_percent: 25,
        }
    }
}

impl RateController {
    /// The rate after one step from `current` under `ceiling`, the
    /// operator's rate: never above the ceiling, never below the floor
    /// (unless it already was, when a slow path keeps it there).
    ///
    /// ```
    /// use frontrow_domain::room::{RateController, WritePath};
    ///
    /// let control = RateController::default();
    /// assert_eq!(control.step(WritePath::Slow, 500, 500), 375);
    /// assert_eq!(control.step(WritePath::Slow, 150, 500), 125); // the floor: a quarter
    /// assert_eq!(control.step(WritePath::Fine, 375, 500), 400);
    /// assert_eq!(control.step(WritePath::Fine, 490, 500), 500);
    /// ```
    pub fn step(self, write_path: WritePath, current: i64, ceiling: i64) -> i64 {
        let current = current.clamp(1, ceiling.max(1));
        match write_path {
            WritePath::Slow => {
                let floor = ((ceiling * self.floor_percent + 99) / 100).max(1);
                (current * self.decrease_percent / 100)
                    .max(floor)
                    .min(current)
            }
            WritePath::Fine => {
                (current + (ceiling * self.increase_percent / 100).max(1)).min(ceiling)
            }
        }
    }
}

/// The controller's state in a room: the rate it holds admission to (none:
/// the operator's rate), and when it last lowered and raised it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Steering {
    pub(super) rate: Option<i64>,
    pub(super) lowered_at: Option<Timestamp>,
    pub(super) raised_at: Option<Timestamp>,
}

impl Room {
    /// The admission rate in force: the operator's, or lower while the
    /// controller holds it back.
    pub fn admission_rate(&self, settings: &RoomSettings) -> i64 {
        let ceiling = self.policy(settings).admit_per_second();
        self.steering.rate.map_or(ceiling, |rate| rate.min(ceiling))
    }

    /// An instance's verdict on the write path: the rate steps (see
    /// [`RateController::step`]) unless it already stepped that way within
    /// the period, whichever instance stepped it, so N instances do not
    /// step it N times. Reaching the ceiling hands the rate back to the
    /// operator (an operator's later change applies at once). Returns the
    /// rate in force after.
    pub fn steer(&mut self, write_path: WritePath, settings: &RoomSettings, now: Timestamp) -> i64 {
        let control = settings.controller;
        let ceiling = self.policy(settings).admit_per_second();
        let current = self.admission_rate(settings);
        let last = match write_path {
            WritePath::Slow => self.steering.lowered_at,
            WritePath::Fine => self.steering.raised_at,
        };
        if last.is_some_and(|at| now.millis() - at.millis() < control.period_ms) {
            return current;
        }
        let next = control.step(write_path, current, ceiling);
        self.steering.rate = (next < ceiling).then_some(next);
        match write_path {
            WritePath::Slow => self.steering.lowered_at = Some(now),
            WritePath::Fine => self.steering.raised_at = Some(now),
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::{AdmissionPolicy, StockRule};

    fn settings(rate: i64) -> RoomSettings {
        RoomSettings {
            default_policy: AdmissionPolicy::new(1_000, rate, false).expect("a policy"),
            active_ms: 600_000,
            active_idle_ms: 0,
            waiting_idle_ms: 0,
            pick_ms: 0,
            stock_rule: StockRule::default(),
            controller: RateController::default(),
        }
    }

    #[test]
    fn a_slow_write_path_lowers_the_rate_and_a_fine_one_raises_it_back() {
        let settings = settings(500);
        let mut room = Room::default();
        let mut rates = Vec::new();
        for second in 0..4 {
            rates.push(room.steer(WritePath::Slow, &settings, Timestamp(second * 1_000)));
        }
        assert_eq!(rates, [375, 281, 210, 157]);
        let mut second = 4;
        while room.admission_rate(&settings) < 500 {
            room.steer(WritePath::Fine, &settings, Timestamp(second * 1_000));
            second += 1;
        }
        assert_eq!(second - 4, 14, "back at 25/s a second");
        assert_eq!(room.steering.rate, None, "the operator's rate again");
    }

    #[test]
    fn the_rate_steps_at_most_once_per_period_each_way() {
        let settings = settings(500);
        let mut room = Room::default();
        assert_eq!(room.steer(WritePath::Slow, &settings, Timestamp(0)), 375);
        // Another instance's verdict within the period changes nothing.
        assert_eq!(room.steer(WritePath::Slow, &settings, Timestamp(999)), 375);
        // A fine verdict may still raise it once, and a slow one lower it
        // once the period is over.
        assert_eq!(room.steer(WritePath::Fine, &settings, Timestamp(500)), 400);
        assert_eq!(room.steer(WritePath::Fine, &settings, Timestamp(900)), 400);
        assert_eq!(
            room.steer(WritePath::Slow, &settings, Timestamp(1_000)),
            300
        );
    }

    #[test]
    fn the_rate_never_exceeds_the_operators_nor_falls_below_the_floor() {
        let control = RateController::default();
        for ceiling in [1, 2, 7, 100, 500, 100_000] {
            let mut rate = ceiling;
            for step in 0..200 {
                let write_path = if step % 7 < 4 {
                    WritePath::Slow
                } else {
                    WritePath::Fine
                };
                rate = control.step(write_path, rate, ceiling);
                assert!((1..=ceiling).contains(&rate), "{rate} under {ceiling}");
                assert!(
                    rate * 100 >= ceiling * control.floor_percent,
                    "{rate} under {ceiling}"
                );
            }
        }
        // An operator who lowers the rate lowers the rate in force at once.
        let mut room = Room::default();
        room.steer(WritePath::Slow, &settings(500), Timestamp(0));
        room.set_policy(AdmissionPolicy::new(1_000, 100, false).expect("a policy"));
        assert_eq!(room.admission_rate(&settings(500)), 100);
    }

    const BUDGET: LatencyBudget = LatencyBudget {
        hold_ms: 100,
        pay_ms: 250,
    };

    fn window(samples: usize, percentile_ms: i64) -> Option<WriteLatency> {
        Some(WriteLatency {
            samples,
            percentile_ms,
        })
    }

    #[test]
    fn a_window_over_either_budget_is_slow() {
        assert_eq!(
            BUDGET.verdict(window(500, 100), window(500, 250)),
            WritePath::Fine
        );
        assert_eq!(BUDGET.verdict(window(500, 101), None), WritePath::Slow);
        assert_eq!(BUDGET.verdict(None, window(500, 251)), WritePath::Slow);
        assert_eq!(BUDGET.verdict(None, None), WritePath::Fine);
    }

    #[test]
    fn a_window_of_few_writes_is_never_slow() {
        let few = MIN_SAMPLES - 1;
        assert_eq!(
            BUDGET.verdict(window(few, 5_000), window(few, 5_000)),
            WritePath::Fine
        );
        assert_eq!(
            BUDGET.verdict(window(MIN_SAMPLES, 101), None),
            WritePath::Slow
        );
    }

    #[test]
    fn the_slowest_tenth_is_noise_and_a_slower_median_is_not() {
        // 300 holds: 12 ms at the median, the slowest 9 % preempted for 2 s.
        let mut noisy: Vec<u32> = (0..300)
            .map(|n| if n % 100 < 9 { 2_000_000 } else { 12_000 })
            .collect();
        let noisy = WriteLatency::of(&mut noisy);
        assert_eq!(noisy, window(300, 12));
        assert_eq!(BUDGET.verdict(noisy, None), WritePath::Fine);
        // The same holds queued: a fifth of them wait 150 ms or more.
        let mut queued: Vec<u32> = (0..300)
            .map(|n| if n % 5 == 0 { 150_000 + n } else { 12_000 })
            .collect();
        assert_eq!(
            BUDGET.verdict(WriteLatency::of(&mut queued), None),
            WritePath::Slow
        );
        assert_eq!(WriteLatency::of(&mut []), None);
    }
}
