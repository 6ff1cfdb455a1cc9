//! The waiting room: one per concert. Its rules live in the domain's room
//! machine (`frontrow_domain::room`); the `WaitingRoom` store runs them
//! atomically (one lock in process, Lua in Redis). This module holds the
//! ports, the buyer's view of a place, the token seal, and the use cases,
//! which only parse input and check that a token belongs to its caller.

mod control;
mod error;
mod place;
mod ports;
mod seal;
mod service;

pub use control::{Write, WritePathLatency, WritePathWindow};
pub use error::QueueError;
pub use frontrow_domain::room::{RoomSettings, RoomStats};
pub use place::Place;
pub use ports::{SeatGate, SeparateSeatGate, WaitingRoom};
pub use seal::{QueueClaims, QueueTokenSeal};
pub use service::QueueService;

#[cfg(test)]
pub use ports::{MockSeatGate, MockWaitingRoom};
#[cfg(test)]
pub use seal::MockQueueTokenSeal;
