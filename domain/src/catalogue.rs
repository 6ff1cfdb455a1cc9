//! Concerts, their schedules (dates) and how an operator describes a new one.
//!
//! A concert and its schedules never change once created (only a scheduled
//! sale's opening may move), which is what lets the application cache them
//! for the life of a process.
//!
//! ```
//! use frontrow_domain::catalogue::{CatalogueError, NewConcert, NewSchedule};
//! use frontrow_domain::Timestamp;
//!
//! let friday = NewSchedule::parse(Timestamp(1_900_000_000_000), 500, 120)?;
//! let concert = NewConcert::parse("  The Proms  ", vec![friday])?;
//! assert_eq!(concert.title, "The Proms");
//! assert_eq!(
//!     NewSchedule::parse(Timestamp(0), 0, 120),
//!     Err(CatalogueError::InvalidSeatCount)
//! );
//! # Ok::<(), CatalogueError>(())
//! ```

use crate::points::{IdempotencyKey, Points};
use crate::seat::MAX_SEATS_PER_SCHEDULE;
use crate::venue::VenueLayout;
use crate::{ConcertId, ScheduleId, Timestamp};
use thiserror::Error;

/// The longest concert title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The most schedules (dates) one concert may have.
pub const MAX_SCHEDULES_PER_CONCERT: usize = 50;
/// The highest seat price, in points; a free seat (0) is allowed.
pub const MAX_PRICE: i64 = 1_000_000;

/// Why an operator's description of a concert was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CatalogueError {
    /// Blank, invisible or longer than [`MAX_TITLE_CHARS`].
    #[error("title must be 1 to {MAX_TITLE_CHARS} characters and not blank")]
    InvalidTitle,
    /// No schedules, or more than [`MAX_SCHEDULES_PER_CONCERT`].
    #[error("a concert needs 1 to {MAX_SCHEDULES_PER_CONCERT} schedules")]
    InvalidScheduleCount,
    /// Fewer than one seat, or more than [`MAX_SEATS_PER_SCHEDULE`].
    #[error("seatCount must be from 1 to {MAX_SEATS_PER_SCHEDULE}")]
    InvalidSeatCount,
    /// Negative, or above [`MAX_PRICE`].
    #[error("price must be from 0 to {MAX_PRICE}")]
    InvalidPrice,
}

/// A concert as stored: a title with one or more schedules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concert {
    /// Issued by the store.
    pub id: ConcertId,
    /// As the operator typed it, trimmed.
    pub title: String,
    /// A scheduled sale's opening; `None` for a sale that is open now.
    pub opening: Option<crate::queue::SaleOpening>,
}

/// One performance of a concert as stored, with its numbered seats
/// `1..=seat_count`, all at one price. Immutable once created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Issued by the store.
    pub id: ScheduleId,
    /// The concert this is a date of.
    pub concert: ConcertId,
    /// When the performance starts (for display; no rule depends on it).
    pub starts_at: Timestamp,
    /// How many seats: seat numbers run from 1 to this.
    pub seat_count: i64,
    /// What every seat costs, in points.
    pub price: Points,
}

/// A schedule as an operator asks for it: numbered seats at one price, or
/// a venue layout whose tiers price each seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchedule {
    /// When the performance starts.
    pub starts_at: Timestamp,
    /// 1 to [`MAX_SEATS_PER_SCHEDULE`] (a layout's seat count).
    pub seat_count: i64,
    /// 0 to [`MAX_PRICE`]: every seat's price, or a layout's lowest.
    pub price: Points,
    /// Where each seat sits and what it costs; `None`: a numbered hall at
    /// `price` ([`VenueLayout::numbered_hall`]).
    pub layout: Option<VenueLayout>,
}

impl NewSchedule {
    /// A schedule from an operator's numbers: [`CatalogueError::InvalidSeatCount`]
    /// or [`CatalogueError::InvalidPrice`] when out of range.
    pub fn parse(
        starts_at: Timestamp,
        seat_count: i64,
        price: i64,
    ) -> Result<Self, CatalogueError> {
        if !(1..=MAX_SEATS_PER_SCHEDULE).contains(&seat_count) {
            return Err(CatalogueError::InvalidSeatCount);
        }
        let price = Points::new(price)
            .filter(|p| p.get() <= MAX_PRICE)
            .ok_or(CatalogueError::InvalidPrice)?;
        Ok(Self {
            starts_at,
            seat_count,
            price,
            layout: None,
        })
    }

    /// A schedule sold by a checked layout: its seats are the layout's, its
    /// `price` the lowest tier's (what a single price says: "from").
    pub fn with_layout(starts_at: Timestamp, layout: VenueLayout) -> Self {
        Self {
            starts_at,
            seat_count: layout.seat_count(),
            price: layout.lowest_price(),
            layout: Some(layout),
        }
    }

    /// Every seat's price by seat number from 1: the layout's tiers, or the
    /// one price.
    pub fn seat_prices(&self) -> Vec<Points> {
        match &self.layout {
            Some(layout) => layout.seat_prices().collect(),
            None => vec![self.price; self.seat_count.max(0) as usize],
        }
    }
}

/// A concert as an operator asks for it, checked and ready for a store to
/// create in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConcert {
    /// Trimmed, 1 to [`MAX_TITLE_CHARS`] characters that show.
    pub title: String,
    /// 1 to [`MAX_SCHEDULES_PER_CONCERT`] dates.
    pub schedules: Vec<NewSchedule>,
    /// A scheduled sale's opening; `None` (what `parse` sets) opens the
    /// sale as soon as the concert exists.
    pub opening: Option<crate::queue::SaleOpening>,
    /// The operator's retry key (`None`, what `parse` sets: none). A create
    /// repeated with the same key makes nothing and answers the concert the
    /// first one made, provided it asks for the same concert
    /// ([`NewConcert::is_answered_by`]).
    pub key: Option<IdempotencyKey>,
}

impl NewConcert {
    /// A concert from an operator's title and parsed schedules:
    /// [`CatalogueError::InvalidTitle`] or
    /// [`CatalogueError::InvalidScheduleCount`] when they do not fit. Set
    /// `opening` afterwards for a scheduled sale.
    pub fn parse(title: &str, schedules: Vec<NewSchedule>) -> Result<Self, CatalogueError> {
        let title = crate::text::visible_text(title, MAX_TITLE_CHARS)
            .ok_or(CatalogueError::InvalidTitle)?;
        if schedules.is_empty() || schedules.len() > MAX_SCHEDULES_PER_CONCERT {
            return Err(CatalogueError::InvalidScheduleCount);
        }
        Ok(Self {
            title: title.to_owned(),
            schedules,
            opening: None,
            key: None,
        })
    }

    /// Whether `concert` with `schedules` (in the order created) is what
    /// this asks for: the same title, opening and schedules. A retry key
    /// sent again with a different concert is the client's mistake, not a
    /// retry, and must not be answered with the first concert.
    pub fn is_answered_by(&self, concert: &Concert, schedules: &[Schedule]) -> bool {
        concert.title == self.title
            && concert.opening == self.opening
            && schedules.len() == self.schedules.len()
            && schedules.iter().zip(&self.schedules).all(|(made, asked)| {
                made.concert == concert.id
                    && made.starts_at == asked.starts_at
                    && made.seat_count == asked.seat_count
                    && made.price == asked.price
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_need_seats_and_a_sane_price() {
        let at = Timestamp(0);
        assert_eq!(
            NewSchedule::parse(at, 0, 10),
            Err(CatalogueError::InvalidSeatCount)
        );
        assert_eq!(
            NewSchedule::parse(at, MAX_SEATS_PER_SCHEDULE + 1, 10),
            Err(CatalogueError::InvalidSeatCount)
        );
        assert_eq!(
            NewSchedule::parse(at, 10, -1),
            Err(CatalogueError::InvalidPrice)
        );
        assert_eq!(
            NewSchedule::parse(at, 10, MAX_PRICE + 1),
            Err(CatalogueError::InvalidPrice)
        );
        assert!(NewSchedule::parse(at, 10, 0).is_ok());
    }

    #[test]
    fn a_retry_is_answered_only_by_the_concert_it_asks_for() {
        let friday = NewSchedule::parse(Timestamp(1_000), 10, 50).unwrap();
        let asked = NewConcert::parse("Show", vec![friday.clone()]).unwrap();
        let id = ConcertId::from_store(7);
        let made = Concert {
            id,
            title: "Show".to_owned(),
            opening: None,
        };
        let schedule = Schedule {
            id: ScheduleId::from_store(3),
            concert: id,
            starts_at: friday.starts_at,
            seat_count: friday.seat_count,
            price: friday.price,
        };
        assert!(asked.is_answered_by(&made, &[schedule]));

        let renamed = Concert {
            title: "Other show".to_owned(),
            ..made.clone()
        };
        assert!(!asked.is_answered_by(&renamed, &[schedule]));
        let bigger = Schedule {
            seat_count: 11,
            ..schedule
        };
        assert!(!asked.is_answered_by(&made, &[bigger]));
        assert!(!asked.is_answered_by(&made, &[schedule, schedule]));
        let opening = crate::queue::SaleOpening::new(Timestamp(500), 0).unwrap();
        let scheduled = Concert {
            opening: Some(opening),
            ..made.clone()
        };
        assert!(!asked.is_answered_by(&scheduled, &[schedule]));
    }

    #[test]
    fn concerts_need_a_title_and_schedules() {
        let one = vec![NewSchedule::parse(Timestamp(0), 10, 10).unwrap()];
        assert_eq!(
            NewConcert::parse(" ", one.clone()),
            Err(CatalogueError::InvalidTitle)
        );
        assert_eq!(
            NewConcert::parse("Show", vec![]),
            Err(CatalogueError::InvalidScheduleCount)
        );
        assert_eq!(
            NewConcert::parse(" Show ", one).map(|c| c.title),
            Ok("Show".to_owned())
        );
    }
}
