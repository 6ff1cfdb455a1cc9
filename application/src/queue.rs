//! The waiting room: one per concert, strict FIFO, admission by
//! `AdmissionPolicy`. The `WaitingRoom` store decides order and admission
//! atomically (Redis Lua, or one lock in process); this module only parses
//! input and checks that a token belongs to its caller.
//!
//! The gate keeps read leases (`read_leases`): a token the room confirmed
//! ACTIVE may read seats for a moment without asking again. Holds and
//! payments never use a lease: they always ask the room.

use crate::catalogue::Catalogue;
use crate::read_leases::ReadLeases;
use crate::seat_changes::SeatChangeLog;
use crate::{Clock, StoreError};
use async_trait::async_trait;
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::queue::{
    AdmissionPolicy, QueueRuleError, QueueStatus, QueueToken, SaleOpening, Stock,
};
use frontrow_domain::{ConcertId, ScheduleId, Timestamp, UserId};
use std::sync::Arc;
use thiserror::Error;

/// Why a queue call, or the gate in front of a seat call, refused.
#[derive(Debug, Error)]
pub enum QueueError {
    /// The call needs a queue token and came without one.
    #[error("a queue token is required (X-Queue-Token)")]
    MissingToken,
    /// Malformed, forged, altered, or unknown to the room.
    #[error("unknown queue token")]
    UnknownToken,
    /// A genuine token of another user.
    #[error("this queue token belongs to someone else")]
    NotYourToken,
    /// A token for another concert's room.
    #[error("this queue token is for another concert")]
    WrongConcert,
    /// Still waiting (or pre-queued): not admitted yet.
    #[error("your place in the queue is not active yet")]
    NotActive,
    /// The place ended (paid, left, lapsed): join again.
    #[error("this queue token has expired; join the queue again")]
    Expired,
    /// Every seat of the concert is sold; the room is closed.
    #[error("every seat of this concert is sold")]
    SoldOut,
    /// A scheduled sale before its pre-queue: no place was made.
    #[error("this sale's waiting room has not opened yet")]
    SaleNotOpen {
        /// When the sale opens (the pre-queue starts earlier).
        opens_at: Timestamp,
    },
    /// No such concert.
    #[error("concert not found")]
    ConcertNotFound,
    /// An operator's room settings do not parse.
    #[error(transparent)]
    InvalidPolicy(#[from] QueueRuleError),
    /// A store failed (a 503).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One holder's place, as the room sees it right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The place's token, as the seal issued it.
    pub token: QueueToken,
    /// The concert whose room this is.
    pub concert: ConcertId,
    /// The holder.
    pub user: UserId,
    /// Where the place stands now.
    pub status: QueueStatus,
    /// 1 for the first waiting user, 0 unless WAITING.
    pub position: i64,
    /// From the room's policy (`AdmissionPolicy::estimated_wait_seconds`);
    /// `None` while nobody can say: the room is paused or has nothing to sell.
    pub estimated_wait_seconds: Option<i64>,
    /// The operator paused admission.
    pub paused: bool,
    /// Nothing is AVAILABLE now; `held_seats` are held and may return.
    pub sold_out: bool,
    /// Seats under live holds, which may still return (0 when unknown).
    pub held_seats: i64,
    /// How long the holder should wait before asking again
    /// (`AdmissionPolicy::refresh_seconds`).
    pub refresh_seconds: i64,
    /// In a scheduled sale's pre-queue: when it opens, and the whole seconds
    /// left until then (see `Place::with_opening`).
    pub opens_at: Option<Timestamp>,
    /// Whole seconds until `opens_at`, rounded up (PRE_QUEUE only).
    pub seconds_until_open: Option<i64>,
}

impl Place {
    /// A place as a room found it, with what follows from the room's policy
    /// and stock (`None`: the room was never told the concert's seats). A
    /// waiting place in a room whose every seat is sold is SOLD_OUT.
    pub fn new(
        token: QueueToken,
        concert: ConcertId,
        user: UserId,
        found: (QueueStatus, i64),
        policy: AdmissionPolicy,
        stock: Option<Stock>,
    ) -> Self {
        let (mut status, position) = found;
        let sold_out = stock.is_some_and(Stock::sold_out);
        if status == QueueStatus::Waiting && stock.is_some_and(Stock::closed) {
            status = QueueStatus::SoldOut;
        }
        let waiting = status == QueueStatus::Waiting;
        let position = if waiting { position } else { 0 };
        Self {
            token,
            concert,
            user,
            status,
            position,
            estimated_wait_seconds: (!(waiting && (policy.paused() || sold_out)))
                .then(|| policy.estimated_wait_seconds(position)),
            paused: policy.paused(),
            sold_out,
            held_seats: stock.map_or(0, |s| s.held),
            refresh_seconds: policy.refresh_seconds(status, position, sold_out),
            opens_at: None,
            seconds_until_open: None,
        }
    }

    /// A PRE_QUEUE place learns its sale's opening; it is asked to look again
    /// by the opening at the latest. Other places are left as they are.
    pub fn with_opening(mut self, opening: Option<SaleOpening>, now: Timestamp) -> Self {
        let scheduled = matches!(self.status, QueueStatus::PreQueue | QueueStatus::NotOpen);
        if let (true, Some(opening)) = (scheduled, opening) {
            let left = opening.seconds_until_open(now);
            self.opens_at = Some(opening.opens_at());
            self.seconds_until_open = Some(left);
            self.estimated_wait_seconds = None;
            self.refresh_seconds = self.refresh_seconds.min(left.max(1));
        }
        self
    }

    /// The same place with its refresh interval capped by the room's
    /// settings (see `RoomSettings::longest_refresh_seconds`).
    pub fn paced(mut self, settings: &RoomSettings) -> Self {
        self.refresh_seconds = self.refresh_seconds.min(settings.longest_refresh_seconds());
        self
    }

    /// An ACTIVE place from a read that knows nothing else of the room.
    pub fn active(token: QueueToken, concert: ConcertId, user: UserId) -> Self {
        Self {
            token,
            concert,
            user,
            status: QueueStatus::Active,
            position: 0,
            estimated_wait_seconds: Some(0),
            paused: false,
            sold_out: false,
            held_seats: 0,
            refresh_seconds: frontrow_domain::queue::ACTIVE_REFRESH_SECONDS,
            opens_at: None,
            seconds_until_open: None,
        }
    }
}

/// What a genuine queue token says of itself: it names its concert (so a
/// store can find the token's room from the token alone) and its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueClaims {
    /// The room the token belongs to.
    pub concert: ConcertId,
    /// The holder: only they may use it.
    pub user: UserId,
    /// When it was issued.
    pub issued_at: Timestamp,
}

impl QueueClaims {
    /// The claims as a token spells them before its random part and seal:
    /// `concert.user.issued_ms`. The one place the token's layout is written.
    pub fn spelled(&self) -> String {
        format!("{}.{}.{}", self.concert, self.user, self.issued_at.millis())
    }

    /// What a token says of itself, read from its text and not checked:
    /// only a `QueueTokenSeal` says whether it is genuine, so use this on a
    /// token the seal has opened (or to implement a seal).
    pub fn read(token: &QueueToken) -> Option<Self> {
        let mut parts = token.as_str().split('.');
        let mut number = || parts.next()?.parse::<i64>().ok();
        Some(Self {
            concert: ConcertId::parse(number()?)?,
            user: UserId::from_store(number()?),
            issued_at: Timestamp(number()?),
        })
    }
}

/// Issues and checks queue tokens. A forged or altered token is refused
/// here, before any store is asked; the room still decides the place.
///
/// Contract:
/// - `issue` returns a token no one can guess, valid for
///   [`QueueToken::parse`] (digits, `a`-`f` and dots, at most
///   [`MAX_QUEUE_TOKEN_CHARS`](frontrow_domain::queue::MAX_QUEUE_TOKEN_CHARS)),
///   that `open` maps back to exactly these claims. It fails, with
///   [`StoreError`], only when its source of randomness does.
/// - `open` is `Some` only for a token this service issued (under its
///   current key, or the previous one while keys rotate) and `None` for
///   anything else. It runs on every queue and seat call before any
///   store, so it must not block or do IO.
/// - Every instance of a service must open the tokens any of them issued.
///
/// The shipped seal is `HmacQueueSeal` (HMAC-SHA256, keys rotate). A seal
/// that remembers what it issued works for tests in one process; its
/// counter is guessable, which the contract forbids in production:
///
/// ```
/// use frontrow_application::queue::{QueueClaims, QueueTokenSeal};
/// use frontrow_application::StoreError;
/// use frontrow_domain::queue::QueueToken;
/// use frontrow_domain::{ConcertId, Timestamp, UserId};
/// use std::collections::HashMap;
/// use std::sync::Mutex;
///
/// #[derive(Default)]
/// struct Registry(Mutex<HashMap<QueueToken, QueueClaims>>);
///
/// impl QueueTokenSeal for Registry {
///     fn issue(&self, concert: ConcertId, user: UserId, now: Timestamp) -> Result<QueueToken, StoreError> {
///         let mut issued = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
///         let raw = format!("{concert}.{user}.{}.{:x}", now.millis(), issued.len());
///         let token = QueueToken::parse(&raw).ok_or_else(|| StoreError::new("not a token"))?;
///         issued.insert(token.clone(), QueueClaims { concert, user, issued_at: now });
///         Ok(token)
///     }
///
///     fn open(&self, token: &QueueToken) -> Option<QueueClaims> {
///         self.0.lock().ok()?.get(token).copied()
///     }
/// }
///
/// let seal = Registry::default();
/// let (concert, ada) = (ConcertId::from_store(1), UserId::from_store(7));
/// let token = seal.issue(concert, ada, Timestamp(1_000))?;
/// assert_eq!(seal.open(&token).map(|c| (c.concert, c.user)), Some((concert, ada)));
/// let forged = QueueToken::parse("1.7.1000.1").ok_or_else(|| StoreError::new("syntax"))?;
/// assert_eq!(seal.open(&forged), None);
/// # Ok::<(), StoreError>(())
/// ```
#[cfg_attr(test, mockall::automock)]
pub trait QueueTokenSeal: Send + Sync {
    /// A new, unguessable token for this holder's place in this concert's
    /// room. Fails only when the OS random source does.
    fn issue(
        &self,
        concert: ConcertId,
        user: UserId,
        now: Timestamp,
    ) -> Result<QueueToken, StoreError>;
    /// The claims of a token this service issued, under its current key or
    /// the previous one while keys rotate; `None` for any other token.
    fn open(&self, token: &QueueToken) -> Option<QueueClaims>;
}

pub use frontrow_domain::room::{RoomSettings, RoomStats};

/// Every call first admits whoever the policy lets in, atomically, so that
/// admission needs no background job and stays correct with many instances.
///
/// Contract (both shipped rooms, `RedisWaitingRoom` for many instances and
/// `MemoryWaitingRoom` for one, pass the same tests of it):
/// - Each call is atomic, and first admits from the head of the line what
///   [`AdmissionPolicy::admissions`] allows at the room's clock, with at
///   least one seat AVAILABLE (the stock learned through
///   [`SeatChangeLog::append`]), skipping waiting places absent longer
///   than [`RoomSettings::waiting_idle_ms`].
/// - A user has at most one live place per room: `join` returns it (with
///   `false`) rather than make a second. A join to a room whose every seat
///   is sold makes no place and answers a SOLD_OUT place (and `false`).
/// - Places are admitted in arrival order (a pre-queue in its secret
///   random order, ahead of later arrivals); nobody is admitted while the
///   room is paused, before its opening, or with nothing AVAILABLE.
/// - An ended place (left, paid, lapsed) reads EXPIRED until the room
///   forgets it; a token the room never saw is `None`. `leave` and `touch`
///   of an unknown or ended token do nothing.
/// - Every method fails only with [`StoreError`].
///
/// Implementing a room from scratch means all of that; wrapping a shipped
/// one is the usual way to add to it. A room that counts new places for a
/// metric and leaves every decision to the room it wraps:
///
/// ```
/// use async_trait::async_trait;
/// use frontrow_application::queue::{Place, RoomStats, WaitingRoom};
/// use frontrow_application::StoreError;
/// use frontrow_domain::queue::{AdmissionPolicy, QueueStatus, QueueToken, SaleOpening};
/// use frontrow_domain::{ConcertId, UserId};
/// use std::sync::atomic::{AtomicU64, Ordering};
/// # use std::collections::HashMap;
/// # use std::sync::Mutex;
/// # /// Every join is ACTIVE at once (a test double).
/// # #[derive(Default)]
/// # struct NoLine(Mutex<HashMap<QueueToken, Place>>);
/// # #[async_trait]
/// # impl WaitingRoom for NoLine {
/// #     async fn join(&self, concert: ConcertId, user: UserId, fresh: QueueToken) -> Result<(Place, bool), StoreError> {
/// #         let mut places = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
/// #         let live = places.values().find(|p| p.concert == concert && p.user == user && p.status == QueueStatus::Active);
/// #         if let Some(place) = live { return Ok((place.clone(), false)); }
/// #         let place = Place::active(fresh.clone(), concert, user);
/// #         places.insert(fresh, place.clone());
/// #         Ok((place, true))
/// #     }
/// #     async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
/// #         Ok(self.0.lock().map_err(|_| StoreError::new("poisoned"))?.get(token).cloned())
/// #     }
/// #     async fn active_place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
/// #         Ok(self.place(token).await?.filter(|p| p.status == QueueStatus::Active))
/// #     }
/// #     async fn touch(&self, _: &QueueToken) -> Result<(), StoreError> { Ok(()) }
/// #     async fn leave(&self, token: &QueueToken) -> Result<(), StoreError> {
/// #         let mut places = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
/// #         if let Some(place) = places.get_mut(token) { place.status = QueueStatus::Expired; }
/// #         Ok(())
/// #     }
/// #     async fn set_policy(&self, _: ConcertId, _: AdmissionPolicy) -> Result<(), StoreError> { Ok(()) }
/// #     async fn set_opening(&self, _: ConcertId, _: Option<SaleOpening>) -> Result<(), StoreError> { Ok(()) }
/// #     async fn stats(&self, _: ConcertId) -> Result<RoomStats, StoreError> { Err(StoreError::new("not kept")) }
/// # }
///
/// struct Counted<R> {
///     room: R, // MemoryWaitingRoom or RedisWaitingRoom, in practice
///     new_places: AtomicU64,
/// }
///
/// #[async_trait]
/// impl<R: WaitingRoom> WaitingRoom for Counted<R> {
///     async fn join(&self, concert: ConcertId, user: UserId, fresh: QueueToken) -> Result<(Place, bool), StoreError> {
///         let (place, created) = self.room.join(concert, user, fresh).await?;
///         if created {
///             self.new_places.fetch_add(1, Ordering::Relaxed);
///         }
///         Ok((place, created))
///     }
///     async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
///         self.room.place(token).await
///     }
///     async fn active_place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
///         self.room.active_place(token).await
///     }
///     async fn touch(&self, token: &QueueToken) -> Result<(), StoreError> {
///         self.room.touch(token).await
///     }
///     async fn leave(&self, token: &QueueToken) -> Result<(), StoreError> {
///         self.room.leave(token).await
///     }
///     async fn set_policy(&self, concert: ConcertId, policy: AdmissionPolicy) -> Result<(), StoreError> {
///         self.room.set_policy(concert, policy).await
///     }
///     async fn set_opening(&self, concert: ConcertId, opening: Option<SaleOpening>) -> Result<(), StoreError> {
///         self.room.set_opening(concert, opening).await
///     }
///     async fn stats(&self, concert: ConcertId) -> Result<RoomStats, StoreError> {
///         self.room.stats(concert).await
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), StoreError> {
/// let room = Counted { room: NoLine::default(), new_places: AtomicU64::new(0) };
/// let (concert, ada) = (ConcertId::from_store(1), UserId::from_store(7));
/// let token = |n: u8| QueueToken::parse(&format!("1.7.0.{n}")).ok_or_else(|| StoreError::new("syntax"));
///
/// let (first, created) = room.join(concert, ada, token(1)?).await?;
/// assert!(created);
/// let (again, created) = room.join(concert, ada, token(2)?).await?;
/// assert!(!created && again.token == first.token, "one live place per user");
/// room.leave(&first.token).await?;
/// assert_eq!(room.place(&first.token).await?.map(|p| p.status), Some(QueueStatus::Expired));
/// assert_eq!(room.new_places.load(Ordering::Relaxed), 1);
/// # Ok(()) }
/// ```
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait WaitingRoom: Send + Sync {
    /// The user's live place in this concert's room, or a new one at the
    /// back under `fresh` (a token the seal issued). The bool is true when
    /// the place is new. In a scheduled sale, a join
    /// before the pre-queue makes no place and answers `NotOpen`, and a join
    /// in the pre-queue gets a secret uniform draw that orders it at the
    /// opening (see `SaleOpening`).
    async fn join(
        &self,
        concert: ConcertId,
        user: UserId,
        fresh: QueueToken,
    ) -> Result<(Place, bool), StoreError>;
    /// `None` for a token the room never issued (or long forgotten).
    async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError>;
    /// The place if the token is ACTIVE now, from the cheapest read that can
    /// tell (no admission round); `None` when it is not ACTIVE or unknown,
    /// and then only `place` says which.
    async fn active_place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError>;
    /// The holder of an ACTIVE place asked for something: the place stays
    /// present (see `RoomSettings::active_idle_ms`). A store may skip most
    /// calls, as long as a place asked for at least every quarter of the
    /// idle time never lapses for idleness.
    async fn touch(&self, token: &QueueToken) -> Result<(), StoreError>;
    /// Ends the place (after payment, or when the user leaves), freeing its slot.
    async fn leave(&self, token: &QueueToken) -> Result<(), StoreError>;
    /// Replaces the room's policy (creating the room if need be); the
    /// next call admits under it.
    async fn set_policy(
        &self,
        concert: ConcertId,
        policy: AdmissionPolicy,
    ) -> Result<(), StoreError>;
    /// Sets or clears the room's scheduled opening. The room decides the
    /// phase by its own clock, so every instance agrees on the moment.
    async fn set_opening(
        &self,
        concert: ConcertId,
        opening: Option<SaleOpening>,
    ) -> Result<(), StoreError>;
    /// The room at a glance (after an admission round, like every call).
    async fn stats(&self, concert: ConcertId) -> Result<RoomStats, StoreError>;
}

/// What every seat read and hold asks first: the caller's place in line and
/// the schedule's seat-map version. One port call, so a shared store answers
/// both in one round trip; these two reads are most of a cached read's cost.
///
/// Contract: the answer is what [`WaitingRoom::place`] and
/// [`SeatChangeLog::version`] would answer, each read after the call began
/// (a version read earlier could hide a change the caller already saw);
/// it fails only with [`StoreError`]. `RedisWaitingRoom` answers both in
/// one script; for a room and a log that live apart, [`SeparateSeatGate`]
/// asks both at once:
///
/// ```
/// use frontrow_application::queue::{SeatGate, SeparateSeatGate, WaitingRoom};
/// use frontrow_application::seat_changes::SeatChangeLog;
/// use frontrow_domain::queue::QueueToken;
/// use frontrow_domain::ScheduleId;
/// use std::sync::Arc;
/// # use async_trait::async_trait;
/// # use frontrow_application::queue::{Place, RoomStats};
/// # use frontrow_application::seat_changes::SeatChange;
/// # use frontrow_application::StoreError;
/// # use frontrow_domain::queue::{QueueStatus, SaleOpening};
/// # use frontrow_domain::{ConcertId, UserId};
/// # use std::collections::HashMap;
/// # use std::sync::Mutex;
/// # use frontrow_domain::queue::AdmissionPolicy;
/// # /// Every join is ACTIVE at once (a test double).
/// # #[derive(Default)]
/// # struct NoLine(Mutex<HashMap<QueueToken, Place>>);
/// # #[async_trait]
/// # impl WaitingRoom for NoLine {
/// #     async fn join(&self, concert: ConcertId, user: UserId, fresh: QueueToken) -> Result<(Place, bool), StoreError> {
/// #         let mut places = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
/// #         let live = places.values().find(|p| p.concert == concert && p.user == user && p.status == QueueStatus::Active);
/// #         if let Some(place) = live { return Ok((place.clone(), false)); }
/// #         let place = Place::active(fresh.clone(), concert, user);
/// #         places.insert(fresh, place.clone());
/// #         Ok((place, true))
/// #     }
/// #     async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
/// #         Ok(self.0.lock().map_err(|_| StoreError::new("poisoned"))?.get(token).cloned())
/// #     }
/// #     async fn active_place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError> {
/// #         Ok(self.place(token).await?.filter(|p| p.status == QueueStatus::Active))
/// #     }
/// #     async fn touch(&self, _: &QueueToken) -> Result<(), StoreError> { Ok(()) }
/// #     async fn leave(&self, token: &QueueToken) -> Result<(), StoreError> {
/// #         let mut places = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
/// #         if let Some(place) = places.get_mut(token) { place.status = QueueStatus::Expired; }
/// #         Ok(())
/// #     }
/// #     async fn set_policy(&self, _: ConcertId, _: AdmissionPolicy) -> Result<(), StoreError> { Ok(()) }
/// #     async fn set_opening(&self, _: ConcertId, _: Option<SaleOpening>) -> Result<(), StoreError> { Ok(()) }
/// #     async fn stats(&self, _: ConcertId) -> Result<RoomStats, StoreError> { Err(StoreError::new("not kept")) }
/// # }
/// # struct Unchanged;
/// # #[async_trait]
/// # impl SeatChangeLog for Unchanged {
/// #     async fn version(&self, _: ScheduleId) -> Result<u64, StoreError> { Ok(0) }
/// #     async fn append(&self, _: &SeatChange) -> Result<u64, StoreError> { Err(StoreError::new("read-only")) }
/// #     async fn since(&self, _: ScheduleId, _: u64) -> Result<Option<Vec<(u64, SeatChange)>>, StoreError> { Ok(Some(vec![])) }
/// #     async fn open_sale(&self, _: ConcertId, _: &[ScheduleId], _: i64) -> Result<(), StoreError> { Ok(()) }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), StoreError> {
/// let room: Arc<dyn WaitingRoom> = Arc::new(NoLine::default());
/// let log: Arc<dyn SeatChangeLog> = Arc::new(Unchanged);
/// let gate = SeparateSeatGate { room, log };
///
/// let stranger = QueueToken::parse("1.2.0.3").ok_or_else(|| StoreError::new("syntax"))?;
/// let (place, version) = gate.place_and_version(&stranger, ScheduleId::from_store(1)).await?;
/// assert_eq!((place, version), (None, 0), "a token the room never saw has no place");
/// # Ok(()) }
/// ```
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait SeatGate: Send + Sync {
    /// `WaitingRoom::place` and `SeatChangeLog::version`, read together.
    async fn place_and_version(
        &self,
        token: &QueueToken,
        schedule: ScheduleId,
    ) -> Result<(Option<Place>, u64), StoreError>;
}

/// A `SeatGate` over a room and versions that live apart (the in-process
/// stores): two calls, both local.
pub struct SeparateSeatGate {
    /// Answers the place.
    pub room: Arc<dyn WaitingRoom>,
    /// Answers the version.
    pub log: Arc<dyn SeatChangeLog>,
}

#[async_trait]
impl SeatGate for SeparateSeatGate {
    async fn place_and_version(
        &self,
        token: &QueueToken,
        schedule: ScheduleId,
    ) -> Result<(Option<Place>, u64), StoreError> {
        let (place, version) = tokio::join!(self.room.place(token), self.log.version(schedule));
        Ok((place?, version?))
    }
}

/// The waiting-room use cases, and the gate every seat call passes: a
/// buyer's own genuine token, for the right concert, ACTIVE now. One per
/// process (it keeps the read leases), shared through an `Arc`.
pub struct QueueService {
    room: Arc<dyn WaitingRoom>,
    seal: Arc<dyn QueueTokenSeal>,
    seat_gate: Arc<dyn SeatGate>,
    concerts: Arc<dyn Catalogue>,
    clock: Arc<dyn Clock>,
    leases: ReadLeases,
}

impl QueueService {
    /// The service over the room, the token seal, the seat gate (usually
    /// the room itself, or a [`SeparateSeatGate`]), the catalogue (asked
    /// only whether a concert exists: give it a cached one) and the clock.
    pub fn new(
        room: Arc<dyn WaitingRoom>,
        seal: Arc<dyn QueueTokenSeal>,
        seat_gate: Arc<dyn SeatGate>,
        concerts: Arc<dyn Catalogue>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            room,
            seal,
            seat_gate,
            concerts,
            clock,
            leases: ReadLeases::default(),
        }
    }

    /// The user's place in the concert's room: their live one, or a new one
    /// at the back under a freshly sealed token (the bool says which).
    /// [`QueueError::SoldOut`] for a closed room and
    /// [`QueueError::SaleNotOpen`] before a scheduled sale's pre-queue;
    /// neither makes a place.
    #[tracing::instrument(skip(self), fields(user = %user))]
    pub async fn join(&self, user: UserId, concert: i64) -> Result<(Place, bool), QueueError> {
        let concert = self.existing_concert(concert).await?;
        let fresh = self.seal.issue(concert, user, self.clock.now())?;
        let (place, created) = self.room.join(concert, user, fresh).await?;
        match (place.status, place.opens_at) {
            (QueueStatus::SoldOut, _) => Err(QueueError::SoldOut),
            (QueueStatus::NotOpen, Some(opens_at)) => Err(QueueError::SaleNotOpen { opens_at }),
            _ => Ok((place, created)),
        }
    }

    /// The caller's own place; someone else's token is refused.
    pub async fn status(&self, user: UserId, token: Option<&str>) -> Result<Place, QueueError> {
        let token = self.genuine(token, user)?;
        // Most polls come from waiting users, so the cheap ACTIVE-only read is
        // tried first only for a token seen ACTIVE here.
        let seen_active = self.leases.seen(&token);
        let place = own(self.place_of(&token, seen_active).await?, user)?;
        if place.status == QueueStatus::Active {
            self.grant_lease(&place.token, user, place.concert);
            self.present(&place.token).await;
        }
        Ok(place)
    }

    /// The room's answer; `likely_active` tries the cheap ACTIVE-only read
    /// first. A token found not ACTIVE loses its lease here.
    async fn place_of(
        &self,
        token: &QueueToken,
        likely_active: bool,
    ) -> Result<Option<Place>, StoreError> {
        if likely_active && let Some(place) = self.room.active_place(token).await? {
            return Ok(Some(place));
        }
        let place = self.room.place(token).await?;
        if place
            .as_ref()
            .is_none_or(|p| p.status != QueueStatus::Active)
        {
            self.end_lease(token);
        }
        Ok(place)
    }

    /// The gate in front of every concert-wide call: the caller's own token,
    /// for this concert, ACTIVE now.
    pub async fn require_active(
        &self,
        user: UserId,
        token: Option<&str>,
        concert: ConcertId,
    ) -> Result<QueueToken, QueueError> {
        let token = self.genuine(token, user)?;
        self.admitted(self.place_of(&token, true).await?, user, concert)
            .await
    }

    /// `require_active` for a seat read or hold, with the schedule's seat-map
    /// version read in the same call.
    pub async fn require_active_for_seats(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: &Schedule,
    ) -> Result<(QueueToken, u64), QueueError> {
        let token = self.genuine(token, user)?;
        let (place, version) = self
            .seat_gate
            .place_and_version(&token, schedule.id)
            .await?;
        Ok((self.admitted(place, user, schedule.concert).await?, version))
    }

    /// The gate's verdict on the room's answer; a pass also leases reads.
    async fn admitted(
        &self,
        place: Option<Place>,
        user: UserId,
        concert: ConcertId,
    ) -> Result<QueueToken, QueueError> {
        let token = active_for(own(place, user)?, concert)?;
        self.grant_lease(&token, user, concert);
        self.present(&token).await;
        Ok(token)
    }

    /// An ACTIVE holder asked for something: keep the place from lapsing
    /// for idleness. Best effort: the room's own answer already let it in.
    async fn present(&self, token: &QueueToken) {
        if let Err(error) = self.room.touch(token).await {
            tracing::warn!(%error, "could not keep an ACTIVE place present");
        }
    }

    /// True when a read-only seat call may skip the room: the caller's own
    /// token, for this concert, confirmed ACTIVE here within
    /// [`READ_LEASE_MS`](crate::read_leases::READ_LEASE_MS).
    pub fn has_read_lease(&self, user: UserId, token: Option<&str>, concert: ConcertId) -> bool {
        token
            .and_then(QueueToken::parse)
            .is_some_and(|token| self.leases.allows(&token, user, concert, self.clock.now()))
    }

    fn grant_lease(&self, token: &QueueToken, user: UserId, concert: ConcertId) {
        self.leases.grant(token, user, concert, self.clock.now());
    }

    fn end_lease(&self, token: &QueueToken) {
        self.leases.end(token);
    }

    /// The caller gives up their own place; its slot goes to the next buyer.
    pub async fn leave(&self, user: UserId, token: Option<&str>) -> Result<(), QueueError> {
        let place = self.status(user, token).await?;
        self.room.leave(&place.token).await?;
        self.end_lease(&place.token);
        Ok(())
    }

    /// Frees the slot of a token whose holder has finished (paid).
    pub async fn finish(&self, token: &QueueToken) -> Result<(), QueueError> {
        self.room.leave(token).await?;
        self.end_lease(token);
        Ok(())
    }

    /// An operator sets the room's capacity, rate and pause
    /// ([`QueueError::InvalidPolicy`] when out of range); returns the room
    /// under the new policy.
    pub async fn set_policy(
        &self,
        concert: i64,
        capacity: i64,
        admit_per_second: i64,
        paused: bool,
    ) -> Result<RoomStats, QueueError> {
        let concert = self.existing_concert(concert).await?;
        let policy = AdmissionPolicy::new(capacity, admit_per_second, paused)?;
        self.room.set_policy(concert, policy).await?;
        Ok(self.room.stats(concert).await?)
    }

    /// Sets (or, with `None`, clears) the concert's scheduled opening in
    /// its room, which decides the phase from then on. The opening is kept
    /// with the concert by `SaleService`.
    pub async fn set_opening(
        &self,
        concert: ConcertId,
        opening: Option<SaleOpening>,
    ) -> Result<(), StoreError> {
        self.room.set_opening(concert, opening).await
    }

    /// The concert's room at a glance, for operators.
    pub async fn stats(&self, concert: i64) -> Result<RoomStats, QueueError> {
        let concert = self.existing_concert(concert).await?;
        Ok(self.room.stats(concert).await?)
    }

    /// The caller's own genuine token, checked by the seal alone: a forged,
    /// altered or someone else's token never reaches a store.
    fn genuine(&self, token: Option<&str>, user: UserId) -> Result<QueueToken, QueueError> {
        let token = token.ok_or(QueueError::MissingToken)?;
        let token = QueueToken::parse(token).ok_or(QueueError::UnknownToken)?;
        let claims = self.seal.open(&token).ok_or(QueueError::UnknownToken)?;
        if claims.user != user {
            return Err(QueueError::NotYourToken);
        }
        Ok(token)
    }

    async fn existing_concert(&self, concert: i64) -> Result<ConcertId, QueueError> {
        let id = ConcertId::parse(concert).ok_or(QueueError::ConcertNotFound)?;
        match self.concerts.concert_exists(id).await? {
            true => Ok(id),
            false => Err(QueueError::ConcertNotFound),
        }
    }
}

fn own(place: Option<Place>, user: UserId) -> Result<Place, QueueError> {
    let place = place.ok_or(QueueError::UnknownToken)?;
    if place.user != user {
        return Err(QueueError::NotYourToken);
    }
    Ok(place)
}

fn active_for(place: Place, concert: ConcertId) -> Result<QueueToken, QueueError> {
    if place.concert != concert {
        return Err(QueueError::WrongConcert);
    }
    match place.status {
        QueueStatus::Active => Ok(place.token),
        QueueStatus::Waiting | QueueStatus::PreQueue => Err(QueueError::NotActive),
        QueueStatus::Expired | QueueStatus::NotOpen => Err(QueueError::Expired),
        QueueStatus::SoldOut => Err(QueueError::SoldOut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::MockCatalogue;
    use crate::clock::MockClock;
    use crate::fixtures::{self, TOKEN, TrustingSeal};
    use crate::read_leases::READ_LEASE_MS;

    fn place(user: i64, concert: i64, status: QueueStatus) -> Place {
        let policy = AdmissionPolicy::new(10, 10, false).unwrap();
        Place::new(
            QueueToken::parse(TOKEN).unwrap(),
            ConcertId::from_store(concert),
            UserId::from_store(user),
            (status, 0),
            policy,
            None,
        )
    }

    fn service(room: MockWaitingRoom) -> QueueService {
        with_gate(room, MockSeatGate::new())
    }

    fn with_gate(mut room: MockWaitingRoom, gate: MockSeatGate) -> QueueService {
        room.expect_touch().returning(|_| Ok(()));
        let clock = fixtures::clock_at(1_000);
        QueueService::new(
            Arc::new(room),
            Arc::new(TrustingSeal),
            Arc::new(gate),
            Arc::new(MockCatalogue::new()),
            Arc::new(clock),
        )
    }

    fn schedule() -> Schedule {
        fixtures::schedule(10, 10)
    }

    fn room_with(found: Place) -> MockWaitingRoom {
        let mut room = MockWaitingRoom::new();
        let active = (found.status == QueueStatus::Active).then(|| found.clone());
        room.expect_active_place()
            .returning(move |_| Ok(active.clone()));
        room.expect_place()
            .returning(move |_| Ok(Some(found.clone())));
        room
    }

    #[tokio::test]
    async fn a_forged_token_is_unknown_without_asking_the_room() {
        let service = service(MockWaitingRoom::new());
        let err = service
            .status(UserId::from_store(1), Some("forged"))
            .await
            .unwrap_err();
        assert!(matches!(err, QueueError::UnknownToken));
    }

    #[tokio::test]
    async fn the_seat_gate_hands_out_the_version_only_to_an_active_holder() {
        for (status, allowed) in [
            (QueueStatus::Active, true),
            (QueueStatus::Waiting, false),
            (QueueStatus::Expired, false),
        ] {
            let mut gate = MockSeatGate::new();
            gate.expect_place_and_version()
                .withf(|_, s| *s == ScheduleId::from_store(5))
                .returning(move |_, _| Ok((Some(place(1, 1, status)), 7)));
            let service = with_gate(MockWaitingRoom::new(), gate);
            let answer = service
                .require_active_for_seats(UserId::from_store(1), Some(TOKEN), &schedule())
                .await;
            assert_eq!(answer.is_ok(), allowed, "{status:?}");
            if let Ok((_, version)) = answer {
                assert_eq!(version, 7);
            }
        }
    }

    #[tokio::test]
    async fn only_a_confirmed_active_token_gets_a_read_lease_and_only_for_its_owner_and_concert() {
        let me = UserId::from_store(1);
        let concert = ConcertId::from_store(1);
        let mut gate = MockSeatGate::new();
        gate.expect_place_and_version()
            .returning(|_, _| Ok((Some(place(1, 1, QueueStatus::Active)), 7)));
        let service = with_gate(MockWaitingRoom::new(), gate);
        assert!(!service.has_read_lease(me, Some(TOKEN), concert));
        service
            .require_active_for_seats(me, Some(TOKEN), &schedule())
            .await
            .unwrap();
        assert!(service.has_read_lease(me, Some(TOKEN), concert));
        assert!(!service.has_read_lease(UserId::from_store(2), Some(TOKEN), concert));
        assert!(!service.has_read_lease(me, Some(TOKEN), ConcertId::from_store(2)));
        assert!(!service.has_read_lease(me, None, concert));
    }

    #[tokio::test]
    async fn a_waiting_token_gets_no_read_lease() {
        let mut gate = MockSeatGate::new();
        gate.expect_place_and_version()
            .returning(|_, _| Ok((Some(place(1, 1, QueueStatus::Waiting)), 7)));
        let service = with_gate(MockWaitingRoom::new(), gate);
        let me = UserId::from_store(1);
        assert!(
            service
                .require_active_for_seats(me, Some(TOKEN), &schedule())
                .await
                .is_err()
        );
        assert!(!service.has_read_lease(me, Some(TOKEN), ConcertId::from_store(1)));
    }

    #[tokio::test]
    async fn the_gate_tries_the_cheap_active_read_first_and_the_room_only_when_it_says_no() {
        let (me, concert) = (UserId::from_store(1), ConcertId::from_store(1));
        let mut room = MockWaitingRoom::new();
        room.expect_active_place()
            .times(1)
            .returning(|_| Ok(Some(place(1, 1, QueueStatus::Active))));
        room.expect_place().times(0);
        service(room)
            .require_active(me, Some(TOKEN), concert)
            .await
            .unwrap();

        let mut room = MockWaitingRoom::new();
        room.expect_active_place().times(1).returning(|_| Ok(None));
        room.expect_place()
            .times(1)
            .returning(|_| Ok(Some(place(1, 1, QueueStatus::Waiting))));
        let err = service(room)
            .require_active(me, Some(TOKEN), concert)
            .await
            .unwrap_err();
        assert!(matches!(err, QueueError::NotActive));
    }

    #[tokio::test]
    async fn a_poll_goes_straight_to_the_room_unless_the_token_was_seen_active_here() {
        let me = UserId::from_store(1);
        let mut room = MockWaitingRoom::new();
        room.expect_active_place().times(0);
        room.expect_place()
            .times(1)
            .returning(|_| Ok(Some(place(1, 1, QueueStatus::Active))));
        let service = service(room);
        service.status(me, Some(TOKEN)).await.unwrap();
        // Now seen ACTIVE: the next poll is the cheap read (the mock has no
        // second `place` to give).
        let mut service = service;
        let mut room = MockWaitingRoom::new();
        room.expect_active_place()
            .times(1)
            .returning(|_| Ok(Some(place(1, 1, QueueStatus::Active))));
        room.expect_place().times(0);
        room.expect_touch().returning(|_| Ok(()));
        service.room = Arc::new(room);
        service.status(me, Some(TOKEN)).await.unwrap();
    }

    #[tokio::test]
    async fn a_forged_altered_or_foreign_token_is_refused_before_any_store_is_asked() {
        // Neither mock expects a call: any store call fails the test.
        let mut seal = MockQueueTokenSeal::new();
        seal.expect_open().returning(|token| {
            (token.as_str() == TOKEN).then_some(QueueClaims {
                concert: ConcertId::from_store(1),
                user: UserId::from_store(1),
                issued_at: frontrow_domain::Timestamp(0),
            })
        });
        let service = QueueService::new(
            Arc::new(MockWaitingRoom::new()),
            Arc::new(seal),
            Arc::new(MockSeatGate::new()),
            Arc::new(MockCatalogue::new()),
            Arc::new(MockClock::new()),
        );
        let (me, someone) = (UserId::from_store(1), UserId::from_store(2));
        let concert = ConcertId::from_store(1);
        let altered = TOKEN.replace(".1.", ".2.");
        for forged in ["1.1.0.0.0", altered.as_str(), "not a token"] {
            assert!(matches!(
                service.status(me, Some(forged)).await,
                Err(QueueError::UnknownToken)
            ));
            assert!(matches!(
                service.require_active(me, Some(forged), concert).await,
                Err(QueueError::UnknownToken)
            ));
        }
        assert!(matches!(
            service.status(someone, Some(TOKEN)).await,
            Err(QueueError::NotYourToken)
        ));
    }

    #[tokio::test]
    async fn a_read_lease_lapses_after_read_lease_ms() {
        use std::sync::atomic::{AtomicI64, Ordering};
        let now = Arc::new(AtomicI64::new(1_000));
        let mut clock = MockClock::new();
        let reading = now.clone();
        clock
            .expect_now()
            .returning(move || frontrow_domain::Timestamp(reading.load(Ordering::SeqCst)));
        let mut room = room_with(place(1, 1, QueueStatus::Active));
        room.expect_touch().returning(|_| Ok(()));
        let service = QueueService::new(
            Arc::new(room),
            Arc::new(TrustingSeal),
            Arc::new(MockSeatGate::new()),
            Arc::new(MockCatalogue::new()),
            Arc::new(clock),
        );
        let (me, concert) = (UserId::from_store(1), ConcertId::from_store(1));
        service
            .require_active(me, Some(TOKEN), concert)
            .await
            .unwrap();
        now.store(1_000 + READ_LEASE_MS - 1, Ordering::SeqCst);
        assert!(service.has_read_lease(me, Some(TOKEN), concert));
        now.store(1_000 + READ_LEASE_MS, Ordering::SeqCst);
        assert!(!service.has_read_lease(me, Some(TOKEN), concert));
    }

    #[tokio::test]
    async fn paying_or_leaving_here_ends_the_read_lease_at_once() {
        let me = UserId::from_store(1);
        let concert = ConcertId::from_store(1);
        for leave in [false, true] {
            let mut room = room_with(place(1, 1, QueueStatus::Active));
            room.expect_leave().returning(|_| Ok(()));
            let service = service(room);
            let token = service
                .require_active(me, Some(TOKEN), concert)
                .await
                .unwrap();
            assert!(service.has_read_lease(me, Some(TOKEN), concert));
            if leave {
                service.leave(me, Some(TOKEN)).await.unwrap();
            } else {
                service.finish(&token).await.unwrap();
            }
            assert!(!service.has_read_lease(me, Some(TOKEN), concert));
        }
    }

    #[tokio::test]
    async fn someone_elses_token_is_refused() {
        let service = service(room_with(place(2, 1, QueueStatus::Active)));
        let err = service
            .status(UserId::from_store(1), Some(TOKEN))
            .await
            .unwrap_err();
        assert!(matches!(err, QueueError::NotYourToken));
    }

    #[tokio::test]
    async fn the_gate_admits_only_an_active_token_for_the_same_concert() {
        let me = UserId::from_store(1);
        let concert = ConcertId::from_store(1);
        let waiting = service(room_with(place(1, 1, QueueStatus::Waiting)));
        assert!(matches!(
            waiting.require_active(me, Some(TOKEN), concert).await,
            Err(QueueError::NotActive)
        ));
        let other = service(room_with(place(1, 2, QueueStatus::Active)));
        assert!(matches!(
            other.require_active(me, Some(TOKEN), concert).await,
            Err(QueueError::WrongConcert)
        ));
        let expired = service(room_with(place(1, 1, QueueStatus::Expired)));
        assert!(matches!(
            expired.require_active(me, Some(TOKEN), concert).await,
            Err(QueueError::Expired)
        ));
        let active = service(room_with(place(1, 1, QueueStatus::Active)));
        assert!(
            active
                .require_active(me, Some(TOKEN), concert)
                .await
                .is_ok()
        );
        assert!(matches!(
            active.require_active(me, None, concert).await,
            Err(QueueError::MissingToken)
        ));
    }
}
