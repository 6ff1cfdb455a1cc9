//! frontrow's use cases and the ports they need.
//!
//! Each feature module holds its port traits (what the use case needs from the
//! outside world, named for that need), its error enum, and its use cases. A
//! guarantee that needs one database transaction is one port call, so the
//! store can make it atomic; use cases never stitch a check and a write
//! together across calls.

pub mod catalogue;
pub mod clock;
pub mod events;
pub mod payments;
pub mod points;
pub mod queue;
pub mod reservations;
pub mod seat_changes;
pub mod seat_maps;
pub mod seating;
pub mod store;
pub mod users;

#[cfg(test)]
mod fixtures;

pub use clock::Clock;
pub use store::StoreError;
