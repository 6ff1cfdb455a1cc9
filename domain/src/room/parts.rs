//! The machine's working parts: positions in the line, ACTIVE slots and
//! the stock book.

use crate::queue::Stock;
use crate::seat::SeatNumber;
use crate::{ScheduleId, Timestamp};
use std::collections::{BTreeSet, HashMap};

/// Counts of waiting arrivals by arrival number, for positions in
/// O(log n) although places leave from the middle of the line.
#[derive(Debug, Default, Clone)]
pub(super) struct Fenwick(Vec<i64>);

impl Fenwick {
    pub(super) fn add(&mut self, index: usize, delta: i64) {
        if index >= self.0.len() {
            // Grow by doubling and rebuild: amortised O(log n) per arrival.
            let old = Fenwick(std::mem::take(&mut self.0));
            let counts: Vec<i64> = (0..old.0.len())
                .map(|i| old.before(i + 1) - old.before(i))
                .collect();
            self.0 = vec![0; (index + 1).next_power_of_two().max(64)];
            for (i, c) in counts.into_iter().enumerate().filter(|(_, c)| *c != 0) {
                self.add(i, c);
            }
        }
        let mut i = index + 1;
        while i <= self.0.len() {
            self.0[i - 1] += delta;
            i += i & i.wrapping_neg();
        }
    }

    /// Sum of counts at indices < `index`.
    pub(super) fn before(&self, index: usize) -> i64 {
        let mut sum = 0;
        let mut i = index.min(self.0.len());
        while i > 0 {
            sum += self.0[i - 1];
            i -= i & i.wrapping_neg();
        }
        sum
    }
}

/// An ACTIVE place: its turn (the hard deadline, `active_ms` after
/// admission, and `own`, when the turn lapses now: the hard deadline or
/// `active_idle_ms` after its holder was last seen, whichever is first),
/// its pick window (`pick`, `pick_ms` after admission or after its last
/// cart ended; `None` while the rule is off) and the cart it keeps: while
/// the holder holds seats, the place lapses no earlier than the cart
/// (`kept`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Slot {
    pub(super) hard: Timestamp,
    pub(super) own: Timestamp,
    pub(super) pick: Option<Timestamp>,
    pub(super) kept: Option<Timestamp>,
}

impl Slot {
    /// When the turn ends: its own time, or the pick window if that ends
    /// first (so never past the hard deadline).
    pub(super) fn turn(self) -> Timestamp {
        self.pick.map_or(self.own, |pick| pick.min(self.own))
    }

    /// When the place lapses: its turn, or its cart if that lasts longer.
    pub(super) fn lapse(self) -> Timestamp {
        let turn = self.turn();
        self.kept.map_or(turn, |kept| kept.max(turn))
    }
}

/// What is left to sell, kept from the committed seat changes.
#[derive(Debug, Clone)]
pub(super) struct StockBook {
    pub(super) total: i64,
    pub(super) sold: i64,
    /// Live holds by deadline (a lapsed one stops counting at its deadline).
    pub(super) holds: BTreeSet<(Timestamp, ScheduleId, SeatNumber)>,
    /// Each changed seat's seat version and the hold deadline it carries.
    pub(super) seats: HashMap<(ScheduleId, SeatNumber), (u64, Option<Timestamp>)>,
}

impl StockBook {
    /// Holds whose deadline has passed stop counting (the room's clock
    /// only moves forward), so they are dropped as they are passed.
    pub(super) fn stock(&mut self, now: Timestamp) -> Stock {
        while self
            .holds
            .first()
            .is_some_and(|(until, _, _)| *until <= now)
        {
            self.holds.pop_first();
        }
        Stock {
            total: self.total,
            sold: self.sold,
            held: self.holds.len() as i64,
        }
    }
}
