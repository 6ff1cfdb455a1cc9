//! One concert's waiting room as a pure machine: the line, the ACTIVE
//! places, presence and both idle lapses, the pre-queue and its shuffle,
//! the stock it follows and the admission it decides. Time comes in as
//! `now`; nothing here does IO.
//!
//! This is the one home of the room's rules. The in-process room is a lock
//! around a [`Room`] per concert; the Redis room runs the same rules as Lua
//! (`adapters/src/redis/*.lua`), a checked copy: the spec suite
//! (`tests/tests/spec/room.rs`) drives random sequences through both and
//! compares every answer and every place after every step.
//!
//! The rules, each in the method that applies it:
//! - **Admission** ([`Room::admit`]): every call first lets in, from the
//!   head of the line, what [`AdmissionPolicy::admissions`] allows, while a
//!   seat is AVAILABLE and the sale is open. A round drops at most
//!   [`MAX_DROPPED`] lapsed ACTIVE places and skips at most [`MAX_SKIPPED`]
//!   absent waiting ones; the next round goes on.
//! - **A waiting place lapses** when the line reaches it and its holder has
//!   not asked for its status for `waiting_idle_ms` ([`Room::place`] records
//!   presence near the front only, at most every quarter of the idle time).
//! - **An ACTIVE place lapses** at its hard deadline (`active_ms` after
//!   admission) or `active_idle_ms` after its holder last asked for
//!   anything ([`Room::touch`]), whichever is first.
//! - **The pick window** ([`Room::keep`]): an ACTIVE place that holds
//!   nothing ends `pick_ms` after its admission or after its last cart
//!   ended (paid, released or lapsed), whichever is later, so a holder who
//!   cannot or does not hold seats gives its slot back; a live cart keeps
//!   the place, and the hard deadline bounds the window too.
//! - **One place per holder**: a join with a live place returns it, and
//!   counts as the holder's presence.
//! - **The pre-queue** of a scheduled sale takes joins from
//!   [`SaleOpening::pre_queue_from`]; each place's secret draw orders it,
//!   and at the opening the pre-queue joins the back of the line in draw
//!   order (a uniform shuffle), ahead of every later arrival.
//! - **Stock**: a room told its seats ([`Room::open_stock`]) follows every
//!   committed seat change; it keeps no more places ACTIVE than the seats
//!   AVAILABLE warrant ([`StockRule::most_active`](crate::queue::StockRule::most_active)), so with nothing
//!   AVAILABLE it admits nobody, and with every seat sold it takes no join.
//! - **The admission rate** follows the write path under the operator's
//!   rate ([`Room::steer`], `control.rs`).

mod admission;
mod control;
mod parts;
mod view;

pub use control::{
    JUDGED_PERCENTILE, LatencyBudget, MIN_SAMPLES, RateController, WriteLatency, WritePath,
    percentile_ms,
};
pub use view::{Answer, Ending, Joined, Outflow, RoomSettings, RoomSnapshot, RoomStats};

use crate::queue::{
    AdmissionBucket, AdmissionPolicy, QueueStatus, QueueToken, SaleOpening, SalePhase, Stock,
};
use crate::seat::{SeatNumber, SeatState};
use crate::{ScheduleId, Timestamp, UserId};
use control::Steering;
use parts::{Fenwick, Slot, StockBook};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Most lapsed ACTIVE places one admission round drops.
pub const MAX_DROPPED: usize = 2_000;
/// Most absent waiting places one admission round skips.
pub const MAX_SKIPPED: usize = 1_000;
/// Most endings a room remembers; past it the record starts over, and a
/// forgotten ending reads as a plain EXPIRED.
pub const MAX_ENDED: usize = 100_000;

/// One concert's waiting room (see the module doc for its rules).
#[derive(Debug, Clone, Default)]
pub struct Room {
    next_arrival: usize,
    line: BTreeMap<usize, QueueToken>,
    arrivals: HashMap<QueueToken, usize>,
    positions: Fenwick,
    /// The pre-queue by secret draw (ties by token).
    pre_line: BTreeSet<(u64, QueueToken)>,
    pre_draws: HashMap<QueueToken, u64>,
    active: HashMap<QueueToken, Slot>,
    /// ACTIVE places by the moment they lapse.
    lapses: BTreeSet<(Timestamp, QueueToken)>,
    /// Each holder's live place, and each live place's holder.
    holders: HashMap<UserId, QueueToken>,
    holder_of: HashMap<QueueToken, UserId>,
    /// Waiting places: when each joined, and was last seen near the front.
    joined: HashMap<QueueToken, Timestamp>,
    seen: HashMap<QueueToken, Timestamp>,
    policy: Option<AdmissionPolicy>,
    bucket: Option<AdmissionBucket>,
    stock: Option<StockBook>,
    opening: Option<SaleOpening>,
    lapsed: i64,
    admitted: i64,
    /// Why ended places ended (bounded by [`MAX_ENDED`]).
    endings: HashMap<QueueToken, Ending>,
    /// When the line last moved out (an ACTIVE slot freed, or the first
    /// admission), and the smoothed gap between slots freed.
    moved_at: Option<Timestamp>,
    gap_ms: Option<i64>,
    /// The admission controller's rate and steps (`control.rs`).
    steering: Steering,
}

impl Room {
    /// The operator's policy (the instance's default if none was set): its
    /// rate is the ceiling of the controller's.
    pub fn policy(&self, settings: &RoomSettings) -> AdmissionPolicy {
        self.policy.unwrap_or(settings.default_policy)
    }

    /// The policy admission runs under: the operator's, at the rate in
    /// force ([`Room::admission_rate`]).
    fn in_force(&self, settings: &RoomSettings) -> AdmissionPolicy {
        self.policy(settings)
            .with_rate_at_most(self.admission_rate(settings))
    }

    /// The operator's policy for this room.
    pub fn set_policy(&mut self, policy: AdmissionPolicy) {
        self.policy = Some(policy);
    }

    /// Sets (or clears) the scheduled opening.
    pub fn set_opening(&mut self, opening: Option<SaleOpening>) {
        self.opening = opening;
    }

    /// The concert's seats, once: the room starts following its stock.
    pub fn open_stock(&mut self, total: i64) {
        if self.stock.is_none() {
            self.stock = Some(StockBook {
                total,
                sold: 0,
                holds: BTreeSet::new(),
                seats: HashMap::new(),
            });
        }
    }

    /// A committed seat change, applied once and in seat-version order (an
    /// older or repeated change is ignored); nothing before `open_stock`.
    pub fn seat_changed(
        &mut self,
        schedule: ScheduleId,
        seat: SeatNumber,
        seat_version: u64,
        state: SeatState,
    ) {
        let Some(book) = self.stock.as_mut() else {
            return;
        };
        let key = (schedule, seat);
        let old = book.seats.get(&key).copied();
        if old.is_some_and(|(known, _)| seat_version <= known) {
            return;
        }
        if let Some((_, Some(until))) = old {
            book.holds.remove(&(until, schedule, seat));
        }
        let deadline = match state {
            SeatState::Held { until, .. } => {
                book.holds.insert((until, schedule, seat));
                Some(until)
            }
            SeatState::Sold { .. } => {
                book.sold += 1;
                None
            }
            SeatState::Available => None,
        };
        book.seats.insert(key, (seat_version, deadline));
    }

    /// What is left to sell now, if the room was told.
    pub fn stock(&mut self, now: Timestamp) -> Option<Stock> {
        self.stock.as_mut().map(|book| book.stock(now))
    }

    fn phase(&self, now: Timestamp) -> SalePhase {
        self.opening.map_or(SalePhase::Open, |o| o.phase(now))
    }

    /// `user` asks for a place, with `fresh` to use if a new one is made
    /// and `draw` (below 2^53) to order it in a pre-queue. A closed room
    /// answers SOLD_OUT and a sale before its pre-queue NOT_OPEN, making
    /// nothing; a live place is returned (and its holder is present);
    /// otherwise a new place joins the back of the line (or the pre-queue).
    pub fn join(
        &mut self,
        user: UserId,
        fresh: QueueToken,
        draw: u64,
        settings: &RoomSettings,
        now: Timestamp,
    ) -> Joined {
        let closed = self.stock(now).is_some_and(Stock::closed);
        if closed || self.phase(now) == SalePhase::NotOpen {
            let status = if closed {
                QueueStatus::SoldOut
            } else {
                QueueStatus::NotOpen
            };
            let answer = Answer {
                status,
                position: 0,
                ..self.answer(&fresh, settings, now)
            };
            return Joined {
                token: fresh,
                created: false,
                answer,
            };
        }
        let live = self
            .holders
            .get(&user)
            .filter(|token| self.status(token, now).0 != QueueStatus::Expired)
            .cloned();
        let (token, created) = match live {
            Some(token) => (token, false),
            None => {
                if self.phase(now) == SalePhase::PreQueue {
                    self.pre_line.insert((draw, fresh.clone()));
                    self.pre_draws.insert(fresh.clone(), draw);
                } else {
                    self.open_if_due(now);
                    self.enqueue(fresh.clone());
                }
                self.holders.insert(user, fresh.clone());
                self.holder_of.insert(fresh.clone(), user);
                self.joined.insert(fresh.clone(), now);
                self.seen.insert(fresh.clone(), now);
                (fresh, true)
            }
        };
        self.admit(settings, now);
        if !created {
            // Asking again for a live place is a sign of life, like a poll.
            self.touch(&token, settings, now);
            self.present(&token, settings, now);
        }
        let answer = self.answer(&token, settings, now);
        Joined {
            token,
            created,
            answer,
        }
    }

    /// The place of `token` as its holder polls it: an ACTIVE place is
    /// answered as it is; any other call first admits, and a waiting
    /// holder near the front is recorded present. A token the room does
    /// not hold is EXPIRED.
    pub fn place(&mut self, token: &QueueToken, settings: &RoomSettings, now: Timestamp) -> Answer {
        if self.active_lapse(token, now).is_none() {
            self.admit(settings, now);
            self.present(token, settings, now);
        }
        self.answer(token, settings, now)
    }

    /// When `token`'s ACTIVE place lapses, if it is ACTIVE now; no
    /// admission round (the gate's hot path).
    pub fn active_lapse(&self, token: &QueueToken, now: Timestamp) -> Option<Timestamp> {
        self.active
            .get(token)
            .map(|slot| slot.lapse())
            .filter(|&lapse| lapse > now)
    }

    /// The holder of an ACTIVE place asked for something: its turn lapses
    /// `active_idle_ms` from now, never after its hard deadline. Recorded
    /// only when the turn would lapse within three quarters of the idle
    /// time, so a busy buyer's requests are not all writes. Presence does
    /// not move the pick window: only a cart does. Returns when the turn
    /// lapses for idleness now (`None`: not ACTIVE).
    pub fn touch(
        &mut self,
        token: &QueueToken,
        settings: &RoomSettings,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let idle = settings.active_idle_ms;
        let slot = self.active.get(token).copied()?;
        if slot.lapse() <= now {
            return None;
        }
        if idle <= 0 || slot.hard <= now || slot.own.millis() > now.millis() + idle * 3 / 4 {
            return Some(slot.own);
        }
        let own = slot.hard.min(Timestamp(now.millis().saturating_add(idle)));
        self.reslot(token, Slot { own, ..slot });
        Some(own)
    }

    /// The holder of an ACTIVE place holds seats until `cart` (`None`: no
    /// more): the place lapses no earlier than that, whatever its turn
    /// says, so a live hold can always be paid and the buyer may still
    /// read seats. The pick window opens again where the cart ends: at
    /// `cart` while it lives (a cart that lapses ends there), or, for a
    /// cart emptied now (paid or released), now; a place that held nothing
    /// keeps the window it had. Returns when the place lapses now (`None`:
    /// not ACTIVE, and a cart does not bring an ended place back).
    pub fn keep(
        &mut self,
        token: &QueueToken,
        cart: Option<Timestamp>,
        settings: &RoomSettings,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let slot = self.active.get(token).copied()?;
        if slot.lapse() <= now {
            return None;
        }
        let cart_ends = match (cart, slot.kept) {
            (Some(cart), _) => Some(cart),
            // Emptied now, or lapsed earlier (then its window already runs).
            (None, Some(was)) => Some(was.min(now)),
            (None, None) => None,
        };
        let pick = cart_ends.map_or(slot.pick, |ends| settings.pick_window(ends));
        let kept = Slot {
            kept: cart,
            pick,
            ..slot
        };
        self.reslot(token, kept);
        Some(kept.lapse())
    }

    /// Whether `token`'s turn is still running: an ACTIVE place whose own
    /// time (not its cart's) has not lapsed. Only a running turn may hold
    /// more seats, so a cart cannot keep a place for ever.
    pub fn turn_running(&self, token: &QueueToken, now: Timestamp) -> bool {
        self.active.get(token).is_some_and(|slot| slot.turn() > now)
    }

    /// The ACTIVE place of `token` and its turn's (the pick window's, if
    /// that ends first) and cart's ends.
    pub fn slot_times(&self, token: &QueueToken) -> Option<(Timestamp, Option<Timestamp>)> {
        self.active.get(token).map(|slot| (slot.turn(), slot.kept))
    }

    /// Replaces an ACTIVE place's slot, keeping the lapse index in step.
    fn reslot(&mut self, token: &QueueToken, slot: Slot) {
        if let Some(old) = self.active.insert(token.clone(), slot) {
            self.lapses.remove(&(old.lapse(), token.clone()));
        }
        self.lapses.insert((slot.lapse(), token.clone()));
    }

    /// The holder gives up the place (or paid): it ends, and its slot goes
    /// to the next buyer at once.
    pub fn leave(
        &mut self,
        token: &QueueToken,
        why: Ending,
        settings: &RoomSettings,
        now: Timestamp,
    ) {
        let live = self.arrivals.contains_key(token)
            || self.pre_draws.contains_key(token)
            || self.active.contains_key(token);
        if let Some(draw) = self.pre_draws.remove(token) {
            self.pre_line.remove(&(draw, token.clone()));
        }
        if let Some(arrival) = self.arrivals.remove(token) {
            self.line.remove(&arrival);
            self.positions.add(arrival, -1);
        }
        if let Some(slot) = self.active.remove(token) {
            self.lapses.remove(&(slot.lapse(), token.clone()));
            self.moved(1, now);
        }
        self.seen.remove(token);
        self.joined.remove(token);
        self.ended(token);
        if live {
            self.record_endings(vec![token.clone()], why);
        }
        self.admit(settings, now);
    }

    /// `freed` ACTIVE slots were freed at `now`: the room's outflow, which
    /// a waiting buyer's estimate follows while the room is full. The gap
    /// between frees is smoothed as `gap = (3 * gap + latest) / 4`
    /// (integers, as `moved` in prelude.lua).
    fn moved(&mut self, freed: usize, now: Timestamp) {
        for _ in 0..freed {
            if let Some(at) = self.moved_at {
                let latest = (now.millis() - at.millis()).max(0);
                self.gap_ms = Some(self.gap_ms.map_or(latest, |gap| (3 * gap + latest) / 4));
            }
            self.moved_at = Some(now);
        }
    }

    /// Remembers why these places ended; past [`MAX_ENDED`] the record
    /// starts over (as `record_ending` in prelude.lua).
    fn record_endings(&mut self, tokens: Vec<QueueToken>, why: Ending) {
        if tokens.is_empty() {
            return;
        }
        if self.endings.len() + tokens.len() > MAX_ENDED {
            self.endings.clear();
        }
        for token in tokens {
            self.endings.insert(token, why);
        }
    }

    /// The place of `token` ended: its holder has no live place here any
    /// more (unless they joined again since), so nothing of it is kept.
    fn ended(&mut self, token: &QueueToken) {
        if let Some(user) = self.holder_of.remove(token)
            && self.holders.get(&user) == Some(token)
        {
            self.holders.remove(&user);
        }
    }

    /// The room at a glance, after an admission round.
    pub fn stats(&mut self, settings: &RoomSettings, now: Timestamp) -> RoomStats {
        self.admit(settings, now);
        self.drop_lapsed(now);
        let stock = self.stock(now);
        let head = self
            .line
            .first_key_value()
            .map(|(_, token)| token)
            .or_else(|| self.pre_line.first().map(|(_, token)| token));
        RoomStats {
            waiting: (self.line.len() + self.pre_line.len()) as i64,
            active: self.active.len() as i64,
            admitted: self.admitted,
            policy: self.policy(settings),
            admission_rate: self.admission_rate(settings),
            stock,
            opening: self.opening,
            lapsed: self.lapsed,
            longest_wait_ms: head
                .and_then(|token| self.joined.get(token))
                .map_or(0, |joined| (now.millis() - joined.millis()).max(0)),
        }
    }

    /// Every place, for comparing copies of the machine.
    pub fn snapshot(&self) -> RoomSnapshot {
        RoomSnapshot {
            line: self
                .line
                .values()
                .chain(self.pre_line.iter().map(|(_, token)| token))
                .cloned()
                .collect(),
            active: self
                .active
                .iter()
                .map(|(token, slot)| (token.clone(), slot.lapse()))
                .collect(),
            lapsed: self.lapsed,
            admitted: self.admitted,
        }
    }

    /// True when the room holds no place and no holder (all ended).
    pub fn is_idle(&self) -> bool {
        self.line.is_empty()
            && self.pre_line.is_empty()
            && self.active.is_empty()
            && self.holders.is_empty()
            && self.seen.is_empty()
            && self.joined.is_empty()
            && self.lapses.is_empty()
    }

    /// The place of `token` now, with what its view needs of the room.
    fn answer(&mut self, token: &QueueToken, settings: &RoomSettings, now: Timestamp) -> Answer {
        let (status, position) = self.status(token, now);
        let turn_ends_at = match status {
            QueueStatus::Active => self.active.get(token).map(|slot| slot.turn()),
            _ => None,
        };
        let ended = match status {
            QueueStatus::Expired => self.ending(token),
            _ => None,
        };
        let outflow = (status == QueueStatus::Waiting).then(|| Outflow {
            full: self.active.len() as i64 >= self.policy(settings).capacity(),
            moved_at: self.moved_at,
            gap_ms: self.gap_ms,
        });
        Answer {
            status,
            position,
            policy: self.in_force(settings),
            stock: self.stock(now),
            opening: self.opening,
            turn_ends_at,
            ended,
            outflow,
        }
    }

    /// WAITING with its position (PRE_QUEUE, with none, before the
    /// opening), ACTIVE until it lapses, or EXPIRED.
    fn status(&self, token: &QueueToken, now: Timestamp) -> (QueueStatus, i64) {
        let open = self.phase(now) == SalePhase::Open;
        if self.pre_draws.contains_key(token) {
            return if open {
                // Not moved yet: behind the whole line, in draw order.
                let ahead = self.pre_draws[token];
                let before = self
                    .pre_line
                    .iter()
                    .take_while(|(draw, t)| (*draw, t) < (ahead, token))
                    .count();
                (
                    QueueStatus::Waiting,
                    self.line.len() as i64 + before as i64 + 1,
                )
            } else {
                (QueueStatus::PreQueue, 0)
            };
        }
        if let Some(&arrival) = self.arrivals.get(token) {
            return if open {
                (QueueStatus::Waiting, self.positions.before(arrival) + 1)
            } else {
                (QueueStatus::PreQueue, 0)
            };
        }
        if self.active_lapse(token, now).is_some() {
            return (QueueStatus::Active, 0);
        }
        (QueueStatus::Expired, 0)
    }

    /// Why `token`'s place ended, if it has and the room still knows: an
    /// ACTIVE place past its lapse that no round has dropped yet ended with
    /// its turn.
    fn ending(&self, token: &QueueToken) -> Option<Ending> {
        if self.active.contains_key(token) {
            return Some(Ending::TurnEnded);
        }
        self.endings.get(token).copied()
    }
}

#[cfg(test)]
mod tests;
