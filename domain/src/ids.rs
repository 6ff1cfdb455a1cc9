//! Identifiers. They are positive integers issued by the system of record;
//! `parse` rejects anything else, so an id below the edge always looked valid.
//!
//! Each id is its own type, so a schedule id cannot be passed where a
//! concert id is expected:
//!
//! ```
//! use frontrow_domain::{ConcertId, ScheduleId};
//!
//! assert_eq!(ConcertId::parse(0), None, "ids start at 1");
//! let concert = ConcertId::parse(42).ok_or("not an id")?;
//! assert_eq!((concert.get(), concert.to_string()), (42, "42".to_owned()));
//! // `fn seats(schedule: ScheduleId)` does not accept `concert`.
//! let _schedule: ScheduleId = ScheduleId::from_store(7);
//! # Ok::<(), &str>(())
//! ```

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            /// An id from outside (a path segment, a body field): positive
            /// ids only, `None` for anything else, which callers answer as
            /// "not found" rather than "bad request" since no such row can
            /// exist.
            pub fn parse(raw: i64) -> Option<Self> {
                (raw > 0).then_some(Self(raw))
            }

            /// For stores, which only hand back ids they issued; skips the
            /// check `parse` makes.
            pub const fn from_store(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw id, for a store query or a wire format.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id!(
    /// A ticket buyer.
    UserId
);
id!(
    /// A concert: a title with one or more schedules (dates).
    ConcertId
);
id!(
    /// One performance of a concert, with its own numbered seats.
    ScheduleId
);
id!(
    /// A hold on one seat, which payment may confirm.
    ReservationId
);
id!(
    /// A completed payment for one reservation.
    PaymentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_must_be_positive() {
        assert!(UserId::parse(0).is_none());
        assert!(UserId::parse(-5).is_none());
        assert_eq!(UserId::parse(7).map(UserId::get), Some(7));
    }
}
