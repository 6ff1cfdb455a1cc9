//! The waiting-room use cases and the gate every seat call passes.
//!
//! The gate keeps read leases (`read_leases`): a token the room confirmed
//! ACTIVE may read seats for a moment without asking again. Holds and
//! payments never use a lease: they always ask the room.

use super::{Place, QueueClaims, QueueError, QueueTokenSeal, RoomStats, SeatGate, WaitingRoom};
use crate::catalogue::Catalogue;
use crate::read_leases::ReadLeases;
use crate::{Clock, StoreError};
use frontrow_domain::catalogue::Schedule;
use frontrow_domain::queue::{AdmissionPolicy, QueueStatus, QueueToken, SaleOpening};
use frontrow_domain::room::{Ending, WritePath};
use frontrow_domain::{ConcertId, Timestamp, UserId};
use std::sync::Arc;

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
    /// the room itself, or a [`SeparateSeatGate`](super::SeparateSeatGate)), the catalogue (asked
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
        let (token, version, _) = self.seat_pass(user, token, schedule).await?;
        Ok((token, version))
    }

    /// The gate in front of a hold: `require_active_for_seats`, and the
    /// place's turn still running ([`QueueError::TurnOver`] once only its
    /// cart keeps it ACTIVE), so a cart cannot keep a place for ever.
    pub async fn require_turn_for_seats(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: &Schedule,
    ) -> Result<(QueueToken, u64), QueueError> {
        let (token, version, turn_ends_at) = self.seat_pass(user, token, schedule).await?;
        if turn_ends_at.is_some_and(|ends| ends <= self.clock.now()) {
            return Err(QueueError::TurnOver);
        }
        Ok((token, version))
    }

    /// The seat gate's verdict: the caller's ACTIVE token, the seat-map
    /// version, and when the place's turn ends (if the room said).
    async fn seat_pass(
        &self,
        user: UserId,
        token: Option<&str>,
        schedule: &Schedule,
    ) -> Result<(QueueToken, u64, Option<Timestamp>), QueueError> {
        let token = self.genuine(token, user)?;
        let (place, version) = self
            .seat_gate
            .place_and_version(&token, schedule.id)
            .await?;
        let turn_ends_at = place.as_ref().and_then(|place| place.turn_ends_at);
        let token = self.admitted(place, user, schedule.concert).await?;
        Ok((token, version, turn_ends_at))
    }

    /// The caller's own genuine token for this concert, checked by the seal
    /// alone, with no store asked: what paying or releasing a live hold
    /// needs, since the hold itself is the right to pay for it, whether or
    /// not the turn has ended since.
    pub fn own_token_for(
        &self,
        user: UserId,
        token: Option<&str>,
        concert: ConcertId,
    ) -> Result<QueueToken, QueueError> {
        let token = self.genuine(token, user)?;
        match QueueClaims::read(&token) {
            Some(claims) if claims.concert == concert => Ok(token),
            _ => Err(QueueError::WrongConcert),
        }
    }

    /// The holder's cart now lasts until `cart` (`None`: it is empty): the
    /// ACTIVE place lapses no earlier (see `Room::keep`). Best effort: the
    /// holds themselves decide what may be paid.
    pub async fn keep_cart(&self, token: &QueueToken, cart: Option<Timestamp>) {
        if let Err(error) = self.room.keep(token, cart).await {
            tracing::warn!(%error, "could not keep an ACTIVE place for its cart");
        }
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
        self.end(&place.token, Ending::Left).await
    }

    /// Frees the slot of a token whose holder has finished (paid).
    pub async fn finish(&self, token: &QueueToken) -> Result<(), QueueError> {
        self.end(token, Ending::Paid).await
    }

    /// The place's turn ends now, holding nothing: its holder can buy
    /// nothing more in it (see `ReservationService::hold_together`), so the
    /// slot goes to the next buyer.
    pub async fn end_turn(&self, token: &QueueToken) -> Result<(), QueueError> {
        self.end(token, Ending::TurnEnded).await
    }

    /// The place ends (`why`) and its read lease with it.
    async fn end(&self, token: &QueueToken, why: Ending) -> Result<(), QueueError> {
        self.room.leave(token, why).await?;
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

    /// Steps the concert's admission rate with this instance's verdict on
    /// the write path (`WaitingRoom::steer`); the rate in force after.
    pub async fn steer(
        &self,
        concert: ConcertId,
        write_path: WritePath,
    ) -> Result<i64, StoreError> {
        self.room.steer(concert, write_path).await
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
    use crate::queue::{MockQueueTokenSeal, MockSeatGate, MockWaitingRoom, QueueClaims};
    use crate::read_leases::READ_LEASE_MS;
    use frontrow_domain::ScheduleId;

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
            room.expect_leave().returning(|_, _| Ok(()));
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
