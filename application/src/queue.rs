//! The waiting room: one per concert, strict FIFO, admission by
//! `AdmissionPolicy`. The `WaitingRoom` store decides order and admission
//! atomically (Redis Lua, or one lock in process); this module only parses
//! input and checks that a token belongs to its caller.

use crate::StoreError;
use crate::catalogue::CatalogueService;
use async_trait::async_trait;
use frontrow_domain::queue::{AdmissionPolicy, QueueRuleError, QueueStatus, QueueToken};
use frontrow_domain::{ConcertId, UserId};
use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum QueueError {
    #[error("a queue token is required (X-Queue-Token)")]
    MissingToken,
    #[error("unknown queue token")]
    UnknownToken,
    #[error("this queue token belongs to someone else")]
    NotYourToken,
    #[error("this queue token is for another concert")]
    WrongConcert,
    #[error("your place in the queue is not active yet")]
    NotActive,
    #[error("this queue token has expired; join the queue again")]
    Expired,
    #[error("concert not found")]
    ConcertNotFound,
    #[error(transparent)]
    InvalidPolicy(#[from] QueueRuleError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One holder's place, as the room sees it right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub token: QueueToken,
    pub concert: ConcertId,
    pub user: UserId,
    pub status: QueueStatus,
    /// 1 for the first waiting user, 0 unless WAITING.
    pub position: i64,
    pub policy: AdmissionPolicy,
}

impl Place {
    pub fn estimated_wait_seconds(&self) -> i64 {
        self.policy.estimated_wait_seconds(self.position)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomStats {
    pub waiting: i64,
    pub active: i64,
    pub policy: AdmissionPolicy,
}

/// Every call first admits whoever the policy lets in, atomically, so that
/// admission needs no background job and stays correct with many instances.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait WaitingRoom: Send + Sync {
    /// The user's live place in this concert's room, or a new one at the back.
    /// The bool is true when the place is new.
    async fn join(&self, concert: ConcertId, user: UserId) -> Result<(Place, bool), StoreError>;
    /// `None` for a token the room never issued (or long forgotten).
    async fn place(&self, token: &QueueToken) -> Result<Option<Place>, StoreError>;
    /// Ends the place (after payment, or when the user leaves), freeing its slot.
    async fn leave(&self, token: &QueueToken) -> Result<(), StoreError>;
    async fn set_policy(
        &self,
        concert: ConcertId,
        policy: AdmissionPolicy,
    ) -> Result<(), StoreError>;
    async fn stats(&self, concert: ConcertId) -> Result<RoomStats, StoreError>;
}

pub struct QueueService {
    room: Arc<dyn WaitingRoom>,
    catalogue: Arc<CatalogueService>,
}

impl QueueService {
    pub fn new(room: Arc<dyn WaitingRoom>, catalogue: Arc<CatalogueService>) -> Self {
        Self { room, catalogue }
    }

    #[tracing::instrument(skip(self), fields(user = %user))]
    pub async fn join(&self, user: UserId, concert: i64) -> Result<(Place, bool), QueueError> {
        let concert = self.existing_concert(concert).await?;
        Ok(self.room.join(concert, user).await?)
    }

    /// The caller's own place; someone else's token is refused.
    pub async fn status(&self, user: UserId, token: Option<&str>) -> Result<Place, QueueError> {
        let token = token.ok_or(QueueError::MissingToken)?;
        let token = QueueToken::parse(token).ok_or(QueueError::UnknownToken)?;
        let place = self
            .room
            .place(&token)
            .await?
            .ok_or(QueueError::UnknownToken)?;
        if place.user != user {
            return Err(QueueError::NotYourToken);
        }
        Ok(place)
    }

    /// The gate in front of every seat-related call: the caller's own token,
    /// for this concert, ACTIVE now.
    pub async fn require_active(
        &self,
        user: UserId,
        token: Option<&str>,
        concert: ConcertId,
    ) -> Result<QueueToken, QueueError> {
        let place = self.status(user, token).await?;
        if place.concert != concert {
            return Err(QueueError::WrongConcert);
        }
        match place.status {
            QueueStatus::Active => Ok(place.token),
            QueueStatus::Waiting => Err(QueueError::NotActive),
            QueueStatus::Expired => Err(QueueError::Expired),
        }
    }

    pub async fn leave(&self, user: UserId, token: Option<&str>) -> Result<(), QueueError> {
        let place = self.status(user, token).await?;
        Ok(self.room.leave(&place.token).await?)
    }

    /// Frees the slot of a token whose holder has finished (paid).
    pub async fn finish(&self, token: &QueueToken) -> Result<(), QueueError> {
        Ok(self.room.leave(token).await?)
    }

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

    pub async fn stats(&self, concert: i64) -> Result<RoomStats, QueueError> {
        let concert = self.existing_concert(concert).await?;
        Ok(self.room.stats(concert).await?)
    }

    async fn existing_concert(&self, concert: i64) -> Result<ConcertId, QueueError> {
        let id = ConcertId::parse(concert).ok_or(QueueError::ConcertNotFound)?;
        match self.catalogue.concert_exists(id).await? {
            true => Ok(id),
            false => Err(QueueError::ConcertNotFound),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::MockCatalogue;
    use crate::catalogue::MockSeatMapVersions;
    use crate::clock::MockClock;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn place(user: i64, concert: i64, status: QueueStatus) -> Place {
        Place {
            token: QueueToken::parse(TOKEN).unwrap(),
            concert: ConcertId::from_store(concert),
            user: UserId::from_store(user),
            status,
            position: 0,
            policy: AdmissionPolicy::new(10, 10, false).unwrap(),
        }
    }

    fn service(room: MockWaitingRoom) -> QueueService {
        let catalogue = CatalogueService::new(
            Arc::new(MockCatalogue::new()),
            Arc::new(MockSeatMapVersions::new()),
            Arc::new(MockClock::new()),
        );
        QueueService::new(Arc::new(room), Arc::new(catalogue))
    }

    fn room_with(found: Place) -> MockWaitingRoom {
        let mut room = MockWaitingRoom::new();
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
