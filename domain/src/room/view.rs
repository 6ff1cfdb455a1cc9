//! What the room answers and is configured with.

use super::RateController;
use crate::Timestamp;
use crate::queue::{AdmissionPolicy, QueueStatus, QueueToken, SaleOpening, Stock, StockRule};
use std::collections::BTreeMap;

/// What every room of an instance starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomSettings {
    /// The policy of a room whose operator set none.
    pub default_policy: AdmissionPolicy,
    /// How long an admitted place stays ACTIVE at most.
    pub active_ms: i64,
    /// An ACTIVE place whose holder asked for nothing for this long lapses
    /// (0: never).
    pub active_idle_ms: i64,
    /// The pick window: an ACTIVE place that holds nothing ends this long
    /// after its admission or after its last cart ended, whichever is
    /// later (0: never; `Room::keep`).
    pub pick_ms: i64,
    /// A waiting place whose holder has not asked for its status for this
    /// long is skipped when the line reaches it (0: never).
    pub waiting_idle_ms: i64,
    /// How many ACTIVE places the AVAILABLE seats warrant.
    pub stock_rule: StockRule,
    /// How the admission rate follows the write path (`Room::steer`).
    pub controller: RateController,
}

impl RoomSettings {
    /// When a pick window opened at `from` (an admission, or a cart's end)
    /// ends; `None` while the rule is off.
    pub fn pick_window(&self, from: Timestamp) -> Option<Timestamp> {
        (self.pick_ms > 0).then(|| Timestamp(from.millis().saturating_add(self.pick_ms)))
    }

    /// The longest pause between polls the server may ask for: at least
    /// two polls per idle time, so a holder always sees ACTIVE, and is seen
    /// waiting, before its place could lapse.
    pub fn longest_refresh_seconds(&self) -> i64 {
        [self.active_idle_ms, self.waiting_idle_ms]
            .into_iter()
            .filter(|&idle| idle > 0)
            .map(|idle| (idle / 2_000).max(1))
            .min()
            .unwrap_or(i64::MAX)
    }
}

/// A room at a glance, for operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomStats {
    /// Places in line, the pre-queue included.
    pub waiting: i64,
    /// ACTIVE places.
    pub active: i64,
    /// Places admitted since the room began counting.
    pub admitted: i64,
    /// The operator's policy, or the instance's default: its rate is the
    /// ceiling of `admission_rate`.
    pub policy: AdmissionPolicy,
    /// Admissions per second now: the operator's rate, or lower while the
    /// controller holds it back for the write path.
    pub admission_rate: i64,
    /// What is left to sell, if the room was told the concert's seats.
    pub stock: Option<Stock>,
    /// The scheduled opening the room keeps, if any.
    pub opening: Option<SaleOpening>,
    /// Places that ended unused: waiting places skipped for absence, and
    /// ACTIVE places that ran out of time or idled.
    pub lapsed: i64,
    /// How long the first buyer in line has waited (0 while nobody waits).
    pub longest_wait_ms: i64,
}

/// A place as the room answers it: where it stands, and what a buyer's
/// view needs of the room (its policy, stock and opening).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The place's status; NOT_OPEN and SOLD_OUT only answer a refused join.
    pub status: QueueStatus,
    /// 1-based position while WAITING, else 0.
    pub position: i64,
    /// The policy admission runs under: the operator's, at the rate in
    /// force (`RoomStats::admission_rate`).
    pub policy: AdmissionPolicy,
    /// What is left to sell, if known.
    pub stock: Option<Stock>,
    /// The room's scheduled opening, if any.
    pub opening: Option<SaleOpening>,
    /// When an ACTIVE place's turn lapses (see `Room::turn_running`).
    pub turn_ends_at: Option<Timestamp>,
    /// Why an EXPIRED place ended, when the room still knows.
    pub ended: Option<Ending>,
    /// WAITING only: how the line moves out (see [`Outflow`]).
    pub outflow: Option<Outflow>,
}

/// How the line moves out, for a waiting buyer's estimate: while the room
/// is full, admissions wait for slots to free, not for the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outflow {
    /// Every ACTIVE slot is taken.
    pub full: bool,
    /// When a slot was last freed (or the first buyer admitted).
    pub moved_at: Option<Timestamp>,
    /// The smoothed gap between slots freed, once two were.
    pub gap_ms: Option<i64>,
}

impl Outflow {
    /// How long one place ahead takes at `now`, in ms, when the room is
    /// full: the smoothed gap between frees, or the time since the line
    /// last moved if that is longer, so a line that does not move reads a
    /// growing wait. `None` while the room is not full, or has never moved.
    pub fn per_place_ms(self, now: Timestamp) -> Option<i64> {
        if !self.full {
            return None;
        }
        let since = (now.millis() - self.moved_at?.millis()).max(0);
        Some(self.gap_ms.unwrap_or(0).max(since))
    }
}

/// What a join made: the holder's place (a live one, or the new one) and
/// whether it is new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The live place's token: the fresh one when `created`.
    pub token: QueueToken,
    /// A new place was made.
    pub created: bool,
    /// The place now.
    pub answer: Answer,
}

/// Every place of a room, in order, for comparing two copies of the
/// machine: the line front to back (the pre-queue at its end, in draw
/// order), the ACTIVE places with the moment each lapses, and the counters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoomSnapshot {
    /// Waiting and pre-queued places, front first.
    pub line: Vec<QueueToken>,
    /// ACTIVE places (lapsed ones not yet dropped included) by token, with
    /// the moment each lapses.
    pub active: BTreeMap<QueueToken, Timestamp>,
    /// Places that ended unused.
    pub lapsed: i64,
    /// Places admitted so far.
    pub admitted: i64,
}

/// Why a place ended, as its holder reads it with EXPIRED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ending {
    /// The holder paid, and nothing else was held.
    Paid,
    /// The holder left the line.
    Left,
    /// The line reached a waiting place whose holder had gone quiet for
    /// longer than the grace (`waiting_idle_ms`).
    Lapsed,
    /// The ACTIVE place's turn ended (its time, or its holder went quiet),
    /// with no live hold keeping it.
    TurnEnded,
}

impl Ending {
    /// The wire form (`PAID`, `LEFT`, `LAPSED`, `TURN_ENDED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Paid => "PAID",
            Ending::Left => "LEFT",
            Ending::Lapsed => "LAPSED",
            Ending::TurnEnded => "TURN_ENDED",
        }
    }

    /// The ending a wire form names.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Ending::Paid,
            Ending::Left,
            Ending::Lapsed,
            Ending::TurnEnded,
        ]
        .into_iter()
        .find(|ending| ending.as_str() == raw)
    }
}
