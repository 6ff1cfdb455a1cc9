//! frontrow's domain: the rules of a ticket sale, with no IO and no async runtime.
//!
//! Every value that crosses the edge of the service is parsed into a type here
//! (`SeatNumber`, `Points`, `ChargeAmount`, ...), so code below the edge never
//! handles a raw integer that might be out of range. State machines
//! (`SeatState`, `Reservation`, `PointBalance`, `AdmissionPolicy`) only offer
//! transitions that lead to valid states; stores apply the same transitions
//! atomically (see `docs/architecture.md`).

pub mod catalogue;
pub mod events;
pub mod ids;
pub mod points;
pub mod queue;
pub mod reservation;
pub mod seat;
pub mod text;
pub mod time;
pub mod user;

pub use ids::{ConcertId, PaymentId, ReservationId, ScheduleId, UserId};
pub use time::Timestamp;
