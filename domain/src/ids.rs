//! Identifiers. They are positive integers issued by the system of record;
//! `parse` rejects anything else, so an id below the edge always looked valid.

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            /// Accepts positive ids only.
            pub fn parse(raw: i64) -> Option<Self> {
                (raw > 0).then_some(Self(raw))
            }

            /// For stores, which only hand back ids they issued.
            pub const fn from_store(raw: i64) -> Self {
                Self(raw)
            }

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
