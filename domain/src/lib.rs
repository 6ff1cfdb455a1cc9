//! The rules of a frontrow ticket sale, as plain Rust: no IO, no async
//! runtime, one dependency (`thiserror`).
//!
//! This is the crate to embed when another Rust service needs frontrow's
//! rules without its stores: a box-office terminal, a back-office tool that
//! replays events, a partner's checkout that must agree with frontrow on
//! when a hold lapses. The service applies these same rules, in its SQL
//! statements and Redis scripts as well as in Rust (see
//! `docs/architecture.md`, "Where each guarantee comes from").
//!
//! # Two habits
//!
//! - **Parse at the edge.** Every value that crosses into the service is
//!   parsed into a type here ([`seat::SeatNumber`], [`points::Points`],
//!   [`points::ChargeAmount`], [`queue::QueueToken`], the ids), so code below
//!   the edge never handles a raw integer that might be out of range. Types
//!   read back from a store have a `from_store` constructor instead, which
//!   trusts the store because only parsed values were ever written to it.
//! - **State machines offer only valid moves.** [`seat::SeatState`],
//!   [`reservation::Reservation`], [`points::PointBalance`],
//!   [`queue::AdmissionPolicy`] and [`queue::SaleOpening`] take the current
//!   time as an argument and return the next state or the reason there is
//!   none. Time is always a parameter ([`Timestamp`], epoch milliseconds), so
//!   a hold that lapsed *reads* lapsed at once, with no sweeper involved,
//!   and every rule can be tested at any instant.
//!
//! # The smallest useful program
//!
//! A seat is held, then paid for with prepaid points:
//!
//! ```
//! use frontrow_domain::points::{ChargeAmount, PointBalance, Points};
//! use frontrow_domain::seat::{SeatError, SeatNumber, SeatState, SeatStatus};
//! use frontrow_domain::{ReservationId, Timestamp};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let now = Timestamp(1_700_000_000_000);
//!     let (ada, bob) = (ReservationId::from_store(1), ReservationId::from_store(2));
//!
//!     // Seat 7 of a 50-seat schedule: Ada holds it for five minutes.
//!     let _seat = SeatNumber::parse(7, 50)?;
//!     let held = SeatState::Available.hold(ada, now, now.plus_seconds(300))?;
//!     assert_eq!(held.hold(bob, now, now.plus_seconds(300)), Err(SeatError::Unavailable));
//!
//!     // She pays 120 of the 500 points she charged; only her live hold sells.
//!     let wallet = PointBalance::new(Points::ZERO).charge(ChargeAmount::parse(500)?)?;
//!     let wallet = wallet.spend(Points::new(120).ok_or("a price is never negative")?)?;
//!     let sold = held.sell(ada, now)?;
//!
//!     assert_eq!(sold.status_at(now), SeatStatus::Sold);
//!     assert_eq!(wallet.points().get(), 380);
//!     Ok(())
//! }
//! ```
//!
//! `domain/examples/box_office.rs` is a longer version: a terminal that
//! sells a small hall with these types alone. The use cases and ports that
//! put these rules behind a database and a waiting room are in
//! `frontrow-application`.

#![warn(missing_docs)]

pub mod cart;
pub mod catalogue;
pub mod door;
pub mod events;
pub mod hold_cost;
pub mod household;
pub mod ids;
pub mod points;
#[cfg(test)]
mod properties;
pub mod queue;
pub mod rate;
pub mod reservation;
pub mod room;
pub mod seat;
pub mod text;
pub mod time;
pub mod user;
pub mod venue;

pub use ids::{ConcertId, PaymentId, ReservationId, ScheduleId, UserId};
pub use time::Timestamp;
