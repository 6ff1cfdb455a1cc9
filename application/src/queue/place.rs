//! One holder's place as a buyer reads it: the room's answer with what
//! follows from its policy, stock and opening (estimate, pace).

use super::RoomSettings;
use frontrow_domain::queue::{AdmissionPolicy, QueueStatus, QueueToken, SaleOpening, Stock};
use frontrow_domain::room::{Answer, Ending, Outflow};
use frontrow_domain::{ConcertId, Timestamp, UserId};

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
    /// When an ACTIVE place's turn lapses (its hard deadline, or sooner if
    /// its holder goes quiet or its pick window ends first). A place whose holder holds seats stays
    /// ACTIVE past it until the cart lapses, but may hold no more seats.
    pub turn_ends_at: Option<Timestamp>,
    /// Why an EXPIRED place ended, when the room still knows.
    pub ended: Option<Ending>,
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
            turn_ends_at: None,
            ended: None,
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
    /// settings (see `RoomSettings::longest_refresh_seconds`), and, for a
    /// waiting place the AVAILABLE seats do not reach, by
    /// `StockRule::unreached_refresh_seconds` (10 s up to place 20,000).
    pub fn paced(mut self, settings: &RoomSettings, stock: Option<Stock>) -> Self {
        self.refresh_seconds = self.refresh_seconds.min(settings.longest_refresh_seconds());
        if self.status == QueueStatus::Waiting
            && let Some(most) = settings
                .stock_rule
                .unreached_refresh_seconds(stock, self.position)
        {
            self.refresh_seconds = self.refresh_seconds.min(most);
        }
        self
    }

    /// The same place with its turn's end, when the room told it (ACTIVE
    /// places only).
    pub fn with_turn(mut self, turn_ends_at: Option<Timestamp>) -> Self {
        if self.status == QueueStatus::Active {
            self.turn_ends_at = turn_ends_at;
        }
        self
    }

    /// A WAITING place's estimate from the room's outflow while the room
    /// is full: admissions then wait for slots to free, not for the rate,
    /// so each place ahead takes [`Outflow::per_place_ms`] (the smoothed
    /// gap between frees, or the time since the line last moved if longer)
    /// and the estimate is `ceil(position × per_place / 1000)` seconds,
    /// never less than the rate's. A line that does not move reads a wait
    /// that grows, never "less than a minute".
    pub fn with_outflow(mut self, outflow: Option<Outflow>, now: Timestamp) -> Self {
        let per_place = outflow.and_then(|o| o.per_place_ms(now));
        if let (Some(per_place), Some(by_rate)) = (per_place, self.estimated_wait_seconds)
            && self.status == QueueStatus::Waiting
        {
            let by_outflow = (self.position.saturating_mul(per_place) + 999) / 1000;
            // Only what the buyer reads changes: the polling pace stays the
            // rate's, so a buyer far back still hears "sold out" within it
            // (a pace from a growing estimate delayed it by up to a minute).
            self.estimated_wait_seconds = Some(by_rate.max(by_outflow));
        }
        self
    }

    /// The same place with why it ended, when the room told it (EXPIRED
    /// places only).
    pub fn with_ending(mut self, ended: Option<Ending>) -> Self {
        if self.status == QueueStatus::Expired {
            self.ended = ended;
        }
        self
    }

    /// A place from the room machine's answer (or a store's copy of it),
    /// with everything that follows: the outflow's estimate, the pace the
    /// room's settings allow, the opening, the turn and the ending. Every
    /// room builds its places here, so they differ only if the answers do.
    pub fn from_answer(
        token: QueueToken,
        concert: ConcertId,
        user: UserId,
        answer: Answer,
        settings: &RoomSettings,
        now: Timestamp,
    ) -> Self {
        Self::new(
            token,
            concert,
            user,
            (answer.status, answer.position),
            answer.policy,
            answer.stock,
        )
        .with_outflow(answer.outflow, now)
        .paced(settings, answer.stock)
        .with_opening(answer.opening, now)
        .with_turn(answer.turn_ends_at)
        .with_ending(answer.ended)
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
            turn_ends_at: None,
            ended: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontrow_domain::queue::StockRule;
    use frontrow_domain::room::RateController;

    fn waiting_at(position: i64, stock: Option<Stock>) -> Place {
        let policy = AdmissionPolicy::new(1_000, 500, false).expect("a policy");
        let settings = RoomSettings {
            default_policy: policy,
            active_ms: 600_000,
            active_idle_ms: 0,
            waiting_idle_ms: 0,
            pick_ms: 0,
            stock_rule: StockRule::new(125, 2).expect("a rule"),
            controller: RateController::default(),
        };
        Place::new(
            QueueToken::parse("ab.cd").expect("a token"),
            ConcertId::from_store(1),
            UserId::from_store(1),
            (QueueStatus::Waiting, position),
            policy,
            stock,
        )
        .paced(&settings, stock)
    }

    #[test]
    fn a_buyer_the_available_seats_cannot_reach_hears_the_end_of_them_within_ten_seconds() {
        // 2,000 seats AVAILABLE reach 2,502 places: 18,000 back at 500/s
        // would wait 36 s and poll every 18 s; it polls every 10 s.
        let stock = Some(Stock {
            total: 2_000,
            sold: 0,
            held: 0,
        });
        assert_eq!(waiting_at(18_000, stock).refresh_seconds, 10);
        // Far back, a pause that grows with the place: 50,000 back waits
        // 25 s, under the rate's 50 s.
        assert_eq!(waiting_at(50_000, stock).refresh_seconds, 25);
        assert_eq!(waiting_at(18_000, None).refresh_seconds, 18);
        // Within reach, the rate sets the pace.
        assert_eq!(waiting_at(2_000, stock).refresh_seconds, 2);
    }
}
