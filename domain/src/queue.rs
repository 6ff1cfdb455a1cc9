//! The waiting room of one concert and its admission rules.
//!
//! Arrivals wait in strict FIFO order. A waiting user becomes ACTIVE when
//! (1) the room is not paused, (2) fewer than `capacity` users are ACTIVE, and
//! (3) the admission bucket holds a whole token: it refills at
//! `admit_per_second` and holds at most one second's worth, so admissions never
//! burst above the configured rate. An ACTIVE user stays so until they pay,
//! leave, or their active time runs out. Every queue store (Redis Lua, in
//! process) applies exactly `AdmissionPolicy::admissions`.

use crate::Timestamp;
use thiserror::Error;

/// The most ACTIVE buyers one room may hold at once.
pub const MAX_CAPACITY: i64 = 1_000_000;
/// The fastest admission rate an operator may set, per second.
pub const MAX_ADMIT_PER_SECOND: i64 = 100_000;

/// Why an operator's room setting was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum QueueRuleError {
    /// Capacity outside 1 to [`MAX_CAPACITY`].
    #[error("capacity must be from 1 to {MAX_CAPACITY}")]
    InvalidCapacity,
    /// Rate outside 1 to [`MAX_ADMIT_PER_SECOND`].
    #[error("admitPerSecond must be from 1 to {MAX_ADMIT_PER_SECOND}")]
    InvalidRate,
    /// Pre-queue outside 0 to [`MAX_PRE_QUEUE_MINUTES`].
    #[error("preQueueMinutes must be from 0 to {MAX_PRE_QUEUE_MINUTES}")]
    InvalidPreQueue,
}

/// The pre-queue of a scheduled sale opens this many minutes before it,
/// unless the operator says otherwise.
pub const DEFAULT_PRE_QUEUE_MINUTES: i64 = 30;
/// The longest pre-queue: a day.
pub const MAX_PRE_QUEUE_MINUTES: i64 = 24 * 60;

/// A scheduled sale: from `pre_queue_from` buyers may join a pre-queue, in
/// which nobody has a position yet; at `opens_at` the pre-queue becomes the
/// head of the line in uniformly random order, later arrivals queue behind
/// it in arrival order, and admission starts.
///
/// The random order is drawn at join time: every pre-queued place gets a
/// secret uniform draw, and the line at the opening is the pre-queue sorted
/// by draw. Sorting by independent uniform draws is a uniform shuffle, and
/// because the order exists as soon as the place does, the opening itself
/// moves nobody: it is one comparison with the clock.
///
/// ```
/// use frontrow_domain::queue::{QueueRuleError, SaleOpening, SalePhase};
/// use frontrow_domain::Timestamp;
///
/// let opening = SaleOpening::new(Timestamp(3_600_000), 30)?; // 01:00, pre-queue from 00:30
/// assert_eq!(opening.phase(Timestamp(1_799_999)), SalePhase::NotOpen);
/// assert_eq!(opening.phase(Timestamp(1_800_000)), SalePhase::PreQueue);
/// assert_eq!(opening.seconds_until_open(Timestamp(3_598_500)), 2); // rounded up
/// assert_eq!(opening.phase(Timestamp(3_600_000)), SalePhase::Open);
/// assert_eq!(SaleOpening::new(Timestamp(0), -1), Err(QueueRuleError::InvalidPreQueue));
/// # Ok::<(), QueueRuleError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleOpening {
    opens_at: Timestamp,
    pre_queue_minutes: i64,
}

/// Where a scheduled sale stands at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalePhase {
    /// Before the pre-queue: nobody may join.
    NotOpen,
    /// Joins are taken and shuffled at the opening; nobody is admitted.
    PreQueue,
    /// The line runs as in any room.
    Open,
}

impl SaleOpening {
    /// A sale opening at `opens_at`, taking joins from `pre_queue_minutes`
    /// before it; [`QueueRuleError::InvalidPreQueue`] outside 0 to
    /// [`MAX_PRE_QUEUE_MINUTES`] (0: no pre-queue, joins from the opening).
    pub fn new(opens_at: Timestamp, pre_queue_minutes: i64) -> Result<Self, QueueRuleError> {
        if !(0..=MAX_PRE_QUEUE_MINUTES).contains(&pre_queue_minutes) {
            return Err(QueueRuleError::InvalidPreQueue);
        }
        Ok(Self {
            opens_at,
            pre_queue_minutes,
        })
    }

    /// When admission starts and the pre-queue is placed.
    pub fn opens_at(self) -> Timestamp {
        self.opens_at
    }

    /// How long before the opening joins are taken.
    pub fn pre_queue_minutes(self) -> i64 {
        self.pre_queue_minutes
    }

    /// When joins are first taken.
    pub fn pre_queue_from(self) -> Timestamp {
        Timestamp(
            self.opens_at
                .millis()
                .saturating_sub(self.pre_queue_minutes * 60_000),
        )
    }

    /// Where the sale stands at `now`. The room decides with its own clock,
    /// so every instance agrees on the moment.
    pub fn phase(self, now: Timestamp) -> SalePhase {
        if now < self.pre_queue_from() {
            SalePhase::NotOpen
        } else if now < self.opens_at {
            SalePhase::PreQueue
        } else {
            SalePhase::Open
        }
    }

    /// Whole seconds until the opening, rounded up; 0 once open.
    pub fn seconds_until_open(self, now: Timestamp) -> i64 {
        ((self.opens_at.millis() - now.millis()).max(0) + 999) / 1000
    }
}

/// A place's status in its room, as a buyer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueStatus {
    /// In a scheduled sale's pre-queue: no position until the opening.
    PreQueue,
    /// In line, with a position; admitted in arrival order.
    Waiting,
    /// Admitted: may read seats, hold and pay until the place ends.
    Active,
    /// Paid, left, or ran out of active time: the holder must join again.
    Expired,
    /// Every seat of the concert is sold: the room is closed for good.
    SoldOut,
    /// Only as the answer to a join: the sale's pre-queue has not begun, and
    /// no place was made.
    NotOpen,
}

impl QueueStatus {
    /// The wire form (`PRE_QUEUE`, `WAITING`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            QueueStatus::PreQueue => "PRE_QUEUE",
            QueueStatus::Waiting => "WAITING",
            QueueStatus::Active => "ACTIVE",
            QueueStatus::Expired => "EXPIRED",
            QueueStatus::SoldOut => "SOLD_OUT",
            QueueStatus::NotOpen => "NOT_OPEN",
        }
    }
}

/// What is left to sell in a concert, as the room knows it from committed
/// seat changes: every seat, the sold ones, and the holds still live now.
/// A hold that lapses returns its seat, so `available` can grow again until
/// every seat is sold; then the room is closed for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stock {
    /// Every seat of every schedule of the concert.
    pub total: i64,
    /// Seats paid for.
    pub sold: i64,
    /// Seats under a hold that is live now.
    pub held: i64,
}

impl Stock {
    /// Seats nobody holds or owns now.
    pub fn available(self) -> i64 {
        (self.total - self.sold - self.held).max(0)
    }

    /// Nothing to sell right now; held seats may still return.
    pub fn sold_out(self) -> bool {
        self.available() == 0
    }

    /// Every seat is sold: nothing can ever return.
    pub fn closed(self) -> bool {
        self.sold >= self.total
    }
}

/// The default [`StockRule::percent`]: a buyer per AVAILABLE seat (with
/// the spare and a place per live hold). 125 % let 20–71 buyers of a
/// 2,000-seat rush in to find nothing AVAILABLE (up to 3.6 %); 100 % let
/// 1–2 in, and every buyer still had an outcome within 16–26 s
/// (docs/benchmarks.md).
pub const DEFAULT_STOCK_PERCENT: i64 = 100;
/// The default [`StockRule::spare`].
pub const DEFAULT_STOCK_SPARE: i64 = 2;
/// The largest [`StockRule::percent`]: ten buyers per seat.
pub const MAX_STOCK_PERCENT: i64 = 1_000;

/// How many ACTIVE places the seats still to buy warrant: the buyers who
/// hold seats (at most one place per live hold), and for the rest, with
/// `available` seats AVAILABLE, at most `ceil(available × percent / 100) +
/// spare`; none while nothing is AVAILABLE. The room admits nobody past it,
/// so a rush does not let in a thousand buyers for the last ten seats;
/// seats that return (a hold lapses or is released) raise it again. Holders
/// count apart because they need no AVAILABLE seat: counted against the
/// seats, buyers who hold and walk away would keep the last seats from
/// every buyer in line until their holds lapse.
///
/// ```
/// use frontrow_domain::queue::{Stock, StockRule};
///
/// let rule = StockRule::new(125, 2).ok_or("a rule")?;
/// let stock = |held| Some(Stock { total: 100, sold: 80, held });
/// assert_eq!(rule.most_active(stock(10)), 25); // 10 held, 10 AVAILABLE: ceil(12.5) + 2
/// assert_eq!(rule.most_active(stock(20)), 0); // nothing AVAILABLE: nobody
/// assert_eq!(rule.most_active(None), i64::MAX); // a room never told its seats
/// # Ok::<(), &str>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockRule {
    percent: i64,
    spare: i64,
}

impl Default for StockRule {
    fn default() -> Self {
        Self {
            percent: DEFAULT_STOCK_PERCENT,
            spare: DEFAULT_STOCK_SPARE,
        }
    }
}

impl StockRule {
    /// A rule of `percent` (1 to [`MAX_STOCK_PERCENT`]) ACTIVE places per
    /// hundred AVAILABLE seats, plus `spare` (0 to [`MAX_CAPACITY`]).
    pub fn new(percent: i64, spare: i64) -> Option<Self> {
        ((1..=MAX_STOCK_PERCENT).contains(&percent) && (0..=MAX_CAPACITY).contains(&spare))
            .then_some(Self { percent, spare })
    }

    /// ACTIVE places per hundred AVAILABLE seats.
    pub fn percent(self) -> i64 {
        self.percent
    }

    /// ACTIVE places allowed above the share, while a seat is AVAILABLE.
    pub fn spare(self) -> i64 {
        self.spare
    }

    /// The most ACTIVE places `stock` warrants; unbounded for a room that
    /// was never told its seats (it admits by capacity and rate alone).
    pub fn most_active(self, stock: Option<Stock>) -> i64 {
        let Some(stock) = stock else {
            return i64::MAX;
        };
        match stock.available() {
            0 => 0,
            available => (available * self.percent + 99) / 100 + self.spare + stock.held,
        }
    }

    /// Whether the seats AVAILABLE now could admit a buyer `position`
    /// places back (1 is the head of the line): within the ACTIVE places
    /// they warrant. A buyer further back is admitted only if seats come
    /// back, and is most likely told "sold out", which comes as soon as
    /// the seats within reach are taken: its pace is
    /// [`Self::unreached_refresh_seconds`], not its place's share of the
    /// rate (up to a minute; 20,000 buyers for 2,000 seats heard "sold out"
    /// up to 50 s after the last seat went). True for a room never told its
    /// seats.
    pub fn reaches(self, stock: Option<Stock>, position: i64) -> bool {
        position <= self.most_active(stock)
    }

    /// The longest pause a waiting client at `position` may be asked for:
    /// none while the seats AVAILABLE reach it, else the still pace, and
    /// far back a pause that grows with the place (see
    /// [`UNREACHED_PLACES_PER_SECOND`]).
    pub fn unreached_refresh_seconds(self, stock: Option<Stock>, position: i64) -> Option<i64> {
        (!self.reaches(stock, position))
            .then(|| STILL_REFRESH_SECONDS.max(position / UNREACHED_PLACES_PER_SECOND))
    }
}

/// The pause asked of a waiting client whose turn does not follow from the
/// rate: the room is paused or sold out, or the seats AVAILABLE do not
/// reach its place ([`StockRule::reaches`]; far back, see
/// [`UNREACHED_PLACES_PER_SECOND`]). It learns within this long that the
/// last seats went, or that some came back.
pub const STILL_REFRESH_SECONDS: i64 = 10;
/// How far back, in places per second of pause, a waiting client the
/// AVAILABLE seats do not reach is paced: at place p it waits
/// `max(STILL_REFRESH_SECONDS, p / 2,000)` s ([`StockRule::unreached_refresh_seconds`]).
/// Up to place 20,000 that is the still pace (10 s); beyond, the tail's
/// polls grow with the log of the line, not with its length: 50,000
/// buyers for 2,000 seats poll at about 3,600/s, where a flat 10 s was
/// 4,750/s and more than MySQL + Redis served on 2 cores.
pub const UNREACHED_PLACES_PER_SECOND: i64 = 2_000;
/// The shortest pause the server asks of a polling client.
pub const MIN_REFRESH_SECONDS: i64 = 2;
/// The longest pause the server asks of a polling client (before the
/// room's idle settings shorten it).
pub const MAX_REFRESH_SECONDS: i64 = 60;
/// An ACTIVE holder has nothing to wait for; it looks again now and then
/// to learn that its place lapsed.
pub const ACTIVE_REFRESH_SECONDS: i64 = 30;

/// An operator's settings for one concert's waiting room, and the rule
/// that admits waiting buyers under them.
///
/// Admission is a token bucket that refills at `admit_per_second` and
/// holds one second's worth, bounded by the free ACTIVE slots: a room never
/// bursts above its rate, however long it sat idle. Every room store (the
/// Redis script, the in-process room) applies exactly
/// [`AdmissionPolicy::admissions`].
///
/// ```
/// use frontrow_domain::queue::{AdmissionPolicy, QueueRuleError};
/// use frontrow_domain::Timestamp;
///
/// let policy = AdmissionPolicy::new(100, 5, false)?; // 100 ACTIVE at most, 5 per second
/// let start = Timestamp(0);
///
/// // A fresh room lets in one second's worth at once...
/// let (admitted, bucket) = policy.admissions(0, 40, i64::MAX, policy.fresh_bucket(start), start);
/// assert_eq!(admitted, 5);
/// // ...then one more every 200 ms.
/// let (admitted, bucket) = policy.admissions(5, 35, i64::MAX, bucket, Timestamp(199));
/// assert_eq!(admitted, 0);
/// let (admitted, _) = policy.admissions(5, 35, i64::MAX, bucket, Timestamp(200));
/// assert_eq!(admitted, 1);
///
/// // With no seat AVAILABLE nobody is let in, as if the room were paused.
/// let (admitted, _) = policy.admissions(0, 40, 0, policy.fresh_bucket(start), start);
/// assert_eq!(admitted, 0);
/// assert_eq!(AdmissionPolicy::new(0, 5, false), Err(QueueRuleError::InvalidCapacity));
/// # Ok::<(), QueueRuleError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionPolicy {
    capacity: i64,
    admit_per_second: i64,
    paused: bool,
}

/// The admission token bucket, in thousandths of a token so that refills at
/// millisecond granularity stay exact integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdmissionBucket {
    /// Thousandths of an admission available now, at most
    /// `1000 * admit_per_second`.
    pub milli_tokens: i64,
    /// When `milli_tokens` was last computed; refills run from here.
    pub updated_at: Timestamp,
}

impl AdmissionPolicy {
    /// A policy from an operator's numbers: [`QueueRuleError::InvalidCapacity`]
    /// or [`QueueRuleError::InvalidRate`] outside 1 to [`MAX_CAPACITY`] and 1
    /// to [`MAX_ADMIT_PER_SECOND`]. A paused room keeps its line and admits
    /// nobody.
    pub fn new(capacity: i64, admit_per_second: i64, paused: bool) -> Result<Self, QueueRuleError> {
        if !(1..=MAX_CAPACITY).contains(&capacity) {
            return Err(QueueRuleError::InvalidCapacity);
        }
        if !(1..=MAX_ADMIT_PER_SECOND).contains(&admit_per_second) {
            return Err(QueueRuleError::InvalidRate);
        }
        Ok(Self {
            capacity,
            admit_per_second,
            paused,
        })
    }

    /// The most ACTIVE buyers at once.
    pub fn capacity(self) -> i64 {
        self.capacity
    }

    /// Admissions per second at most.
    pub fn admit_per_second(self) -> i64 {
        self.admit_per_second
    }

    /// The operator stopped admission; the line keeps its order.
    pub fn paused(self) -> bool {
        self.paused
    }

    /// A bucket for a room that has not admitted anyone yet: full.
    pub fn fresh_bucket(self, now: Timestamp) -> AdmissionBucket {
        AdmissionBucket {
            milli_tokens: self.admit_per_second * 1000,
            updated_at: now,
        }
    }

    /// This policy admitting at most `rate` per second (at least one): the
    /// rate in force while the room's controller holds admission below the
    /// operator's rate, which stays the ceiling.
    pub fn with_rate_at_most(self, rate: i64) -> Self {
        Self {
            admit_per_second: rate.clamp(1, self.admit_per_second),
            ..self
        }
    }

    /// How many waiting users to admit now, and the bucket after admitting
    /// them. `most_active` is how many ACTIVE places the stock warrants
    /// ([`StockRule::most_active`]): 0 while the concert has no seat
    /// AVAILABLE, and then nobody is let in to a sale with nothing to sell,
    /// exactly as if the room were paused; admission resumes by itself when
    /// a seat returns.
    pub fn admissions(
        self,
        active: i64,
        waiting: i64,
        most_active: i64,
        bucket: AdmissionBucket,
        now: Timestamp,
    ) -> (i64, AdmissionBucket) {
        let elapsed = (now.0 - bucket.updated_at.0).max(0);
        let full = self.admit_per_second * 1000;
        let milli_tokens = bucket
            .milli_tokens
            .saturating_add(elapsed.saturating_mul(self.admit_per_second))
            .min(full);
        let admit = if self.paused {
            0
        } else {
            (self.capacity.min(most_active) - active)
                .max(0)
                .min(waiting)
                .min(milli_tokens / 1000)
        };
        (
            admit,
            AdmissionBucket {
                milli_tokens: milli_tokens - admit * 1000,
                updated_at: now,
            },
        )
    }

    /// A waiting user's estimate: the room admits `admit_per_second` at best.
    pub fn estimated_wait_seconds(self, position: i64) -> i64 {
        if position <= 0 {
            0
        } else {
            (position + self.admit_per_second - 1) / self.admit_per_second
        }
    }

    /// How long a client at `position` should wait before asking again: half
    /// its estimated wait, from `MIN_REFRESH_SECONDS` to
    /// `MAX_REFRESH_SECONDS`. Buyers near the front ask often, buyers far
    /// back rarely, so a line of N buyers admitted at r/s polls at about
    /// `r/2 * 2 + 2r * ln(N / 4r)` (the head within 4r places at one poll
    /// per 2 s, the rest at 2r/p each), capped at N / 60 for the tail:
    /// 3,300/s for 20,000 buyers at 500/s, 6,700/s for 200,000 (see
    /// docs/architecture.md). A paused or sold-out room is asked every
    /// [`STILL_REFRESH_SECONDS`]: nothing moves until an operator or a
    /// lapsing hold moves it.
    pub fn refresh_seconds(self, status: QueueStatus, position: i64, sold_out: bool) -> i64 {
        match status {
            QueueStatus::Waiting if self.paused || sold_out => STILL_REFRESH_SECONDS,
            QueueStatus::Waiting => (self.estimated_wait_seconds(position) / 2)
                .clamp(MIN_REFRESH_SECONDS, MAX_REFRESH_SECONDS),
            QueueStatus::Active => ACTIVE_REFRESH_SECONDS,
            // Capped by the time left (`Place::with_opening`), so the
            // pre-queue asks again at the opening.
            QueueStatus::PreQueue => MAX_REFRESH_SECONDS,
            QueueStatus::Expired | QueueStatus::SoldOut | QueueStatus::NotOpen => 0,
        }
    }
}

/// A waiting-room token as it arrives (see `QueueToken::parse`); a genuine
/// one is sealed by the service and names its concert and holder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueToken(String);

/// The longest queue token accepted.
pub const MAX_QUEUE_TOKEN_CHARS: usize = 96;

impl QueueToken {
    /// A token as it arrives: syntax only (digits, lowercase hex letters and
    /// dots, at most `MAX_QUEUE_TOKEN_CHARS`). Whether it is genuine, and
    /// whose, is for the service's seal to say (`QueueTokenSeal` in
    /// frontrow-application).
    pub fn parse(raw: &str) -> Option<Self> {
        (!raw.is_empty()
            && raw.len() <= MAX_QUEUE_TOKEN_CHARS
            && raw
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'.'))
        .then(|| Self(raw.to_owned()))
    }

    /// The token as the client sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_sale_takes_joins_only_from_its_pre_queue_on() {
        let opening = SaleOpening::new(Timestamp(3_600_000), 30).unwrap();
        assert_eq!(opening.phase(Timestamp(1_799_999)), SalePhase::NotOpen);
        assert_eq!(opening.phase(Timestamp(1_800_000)), SalePhase::PreQueue);
        assert_eq!(opening.phase(Timestamp(3_599_999)), SalePhase::PreQueue);
        assert_eq!(opening.phase(Timestamp(3_600_000)), SalePhase::Open);
        assert_eq!(opening.seconds_until_open(Timestamp(3_598_500)), 2);
        assert_eq!(
            SaleOpening::new(Timestamp(0), -1),
            Err(QueueRuleError::InvalidPreQueue)
        );
    }

    /// No stock bound: a room never told its seats.
    const ALL: i64 = i64::MAX;

    fn policy(capacity: i64, rate: i64) -> AdmissionPolicy {
        AdmissionPolicy::new(capacity, rate, false).unwrap()
    }

    #[test]
    fn policies_reject_zero_and_huge_values() {
        assert_eq!(
            AdmissionPolicy::new(0, 1, false),
            Err(QueueRuleError::InvalidCapacity)
        );
        assert_eq!(
            AdmissionPolicy::new(1, 0, false),
            Err(QueueRuleError::InvalidRate)
        );
        assert_eq!(
            AdmissionPolicy::new(MAX_CAPACITY + 1, 1, false),
            Err(QueueRuleError::InvalidCapacity)
        );
        assert_eq!(
            AdmissionPolicy::new(1, MAX_ADMIT_PER_SECOND + 1, false),
            Err(QueueRuleError::InvalidRate)
        );
    }

    #[test]
    fn admission_never_exceeds_capacity() {
        let p = policy(10, 1000);
        let (n, _) = p.admissions(7, 100, ALL, p.fresh_bucket(Timestamp(0)), Timestamp(0));
        assert_eq!(n, 3);
        let (n, _) = p.admissions(10, 100, ALL, p.fresh_bucket(Timestamp(0)), Timestamp(0));
        assert_eq!(n, 0);
    }

    #[test]
    fn admission_never_exceeds_waiting() {
        let p = policy(10, 1000);
        let (n, _) = p.admissions(0, 2, ALL, p.fresh_bucket(Timestamp(0)), Timestamp(0));
        assert_eq!(n, 2);
    }

    #[test]
    fn admission_follows_the_rate() {
        let p = policy(1000, 5);
        let start = Timestamp(0);
        let (n, bucket) = p.admissions(0, 100, ALL, p.fresh_bucket(start), start);
        assert_eq!(n, 5, "a full bucket holds one second's worth");
        let (n, bucket) = p.admissions(5, 95, ALL, bucket, Timestamp(199));
        assert_eq!(n, 0, "199 ms refills less than one token at 5/s");
        let (n, bucket) = p.admissions(5, 95, ALL, bucket, Timestamp(200));
        assert_eq!(n, 1);
        let (n, _) = p.admissions(6, 94, ALL, bucket, Timestamp(60_000));
        assert_eq!(
            n, 5,
            "an idle bucket does not burst above one second's worth"
        );
    }

    #[test]
    fn a_paused_room_admits_nobody_but_keeps_refilling() {
        let paused = AdmissionPolicy::new(10, 5, true).unwrap();
        let (n, bucket) = paused.admissions(
            0,
            10,
            ALL,
            AdmissionBucket {
                milli_tokens: 0,
                updated_at: Timestamp(0),
            },
            Timestamp(1000),
        );
        assert_eq!(n, 0);
        assert_eq!(bucket.milli_tokens, 5000);
    }

    #[test]
    fn a_sale_with_nothing_available_admits_nobody_until_a_seat_returns() {
        let p = policy(10, 5);
        let bucket = p.fresh_bucket(Timestamp(0));
        let (n, bucket) = p.admissions(0, 10, 0, bucket, Timestamp(0));
        assert_eq!(n, 0);
        let (n, _) = p.admissions(0, 10, ALL, bucket, Timestamp(0));
        assert_eq!(n, 5);
        let stock = Stock {
            total: 4,
            sold: 2,
            held: 2,
        };
        assert!(stock.sold_out() && !stock.closed());
        let stock = Stock {
            total: 4,
            sold: 4,
            held: 0,
        };
        assert!(stock.sold_out() && stock.closed());
    }

    #[test]
    fn buyers_the_available_seats_cannot_reach_are_the_ones_past_what_they_warrant() {
        let rule = StockRule::new(125, 2).unwrap();
        // 10 AVAILABLE, 5 held: ceil(12.5) + 2 + 5 = 20 places.
        let stock = Some(Stock {
            total: 100,
            sold: 85,
            held: 5,
        });
        assert!(rule.reaches(stock, 20));
        assert!(!rule.reaches(stock, 21));
        let sold_out = Some(Stock {
            total: 100,
            sold: 95,
            held: 5,
        });
        assert!(!rule.reaches(sold_out, 1));
        assert!(rule.reaches(None, 1_000_000));
        assert_eq!(rule.unreached_refresh_seconds(stock, 20), None);
        assert_eq!(rule.unreached_refresh_seconds(stock, 21), Some(10));
        assert_eq!(rule.unreached_refresh_seconds(stock, 20_000), Some(10));
        assert_eq!(rule.unreached_refresh_seconds(stock, 50_000), Some(25));
    }

    #[test]
    fn buyers_far_back_are_asked_to_poll_less_often() {
        let p = policy(1000, 500);
        let near = p.refresh_seconds(QueueStatus::Waiting, 10, false);
        let far = p.refresh_seconds(QueueStatus::Waiting, 20_000, false);
        let very_far = p.refresh_seconds(QueueStatus::Waiting, 1_000_000, false);
        assert_eq!(near, MIN_REFRESH_SECONDS);
        assert_eq!(far, 20);
        assert_eq!(very_far, MAX_REFRESH_SECONDS);
        assert_eq!(p.refresh_seconds(QueueStatus::SoldOut, 0, true), 0);
    }

    #[test]
    fn a_clock_that_goes_backwards_refills_nothing() {
        let p = policy(10, 5);
        let bucket = AdmissionBucket {
            milli_tokens: 0,
            updated_at: Timestamp(1000),
        };
        let (n, _) = p.admissions(0, 10, ALL, bucket, Timestamp(500));
        assert_eq!(n, 0);
    }

    #[test]
    fn the_wait_estimate_rounds_up_by_rate() {
        let p = policy(10, 5);
        assert_eq!(p.estimated_wait_seconds(0), 0);
        assert_eq!(p.estimated_wait_seconds(1), 1);
        assert_eq!(p.estimated_wait_seconds(5), 1);
        assert_eq!(p.estimated_wait_seconds(6), 2);
    }

    #[test]
    fn tokens_are_short_strings_of_digits_hex_and_dots() {
        let raw = "7.42.1700000000000.0123456789abcdef.0123456789abcdef0123456789abcdef";
        assert_eq!(
            QueueToken::parse(raw).map(|t| t.as_str().to_owned()),
            Some(raw.into())
        );
        assert!(QueueToken::parse("ABAB").is_none());
        assert!(QueueToken::parse("").is_none());
        assert!(QueueToken::parse(&"g".repeat(32)).is_none());
        assert!(QueueToken::parse(&"1".repeat(MAX_QUEUE_TOKEN_CHARS + 1)).is_none());
    }
}
