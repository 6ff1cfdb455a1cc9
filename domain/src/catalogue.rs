//! Concerts, their schedules (dates) and how an operator describes a new one.

use crate::points::Points;
use crate::seat::MAX_SEATS_PER_SCHEDULE;
use crate::{ConcertId, ScheduleId, Timestamp};
use thiserror::Error;

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_SCHEDULES_PER_CONCERT: usize = 50;
pub const MAX_PRICE: i64 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CatalogueError {
    #[error("title must be 1 to {MAX_TITLE_CHARS} characters and not blank")]
    InvalidTitle,
    #[error("a concert needs 1 to {MAX_SCHEDULES_PER_CONCERT} schedules")]
    InvalidScheduleCount,
    #[error("seatCount must be from 1 to {MAX_SEATS_PER_SCHEDULE}")]
    InvalidSeatCount,
    #[error("price must be from 0 to {MAX_PRICE}")]
    InvalidPrice,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concert {
    pub id: ConcertId,
    pub title: String,
    /// A scheduled sale's opening; `None` for a sale that is open now.
    pub opening: Option<crate::queue::SaleOpening>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub id: ScheduleId,
    pub concert: ConcertId,
    pub starts_at: Timestamp,
    pub seat_count: i64,
    pub price: Points,
}

/// A schedule as an operator asks for it; every seat gets the same price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewSchedule {
    pub starts_at: Timestamp,
    pub seat_count: i64,
    pub price: Points,
}

impl NewSchedule {
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
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConcert {
    pub title: String,
    pub schedules: Vec<NewSchedule>,
    pub opening: Option<crate::queue::SaleOpening>,
}

impl NewConcert {
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
