//! frontrow's use cases and the ports they need: a complete ticketing
//! engine without HTTP.
//!
//! A sale here is what the service runs: buyers join a concert's waiting
//! room and are admitted at the operator's pace, browse seat maps that
//! follow every change, hold a seat for a few minutes and pay for it with
//! prepaid points. Nothing in this crate knows a database, Redis or HTTP;
//! it asks for what it needs through *ports* (async traits), and
//! `frontrow-adapters` implements each of them for MySQL/SQLite, Redis and
//! in process. Embed the use cases behind your own front end, or implement
//! a port for your own infrastructure.
//!
//! # Layout
//!
//! Each feature module holds its port traits (what the use case needs from the
//! outside world, named for that need), its error enum, and its use cases. A
//! guarantee that needs one database transaction is one port call, so the
//! store can make it atomic; use cases never stitch a check and a write
//! together across calls. Every port documents its contract: what it must
//! guarantee and which error it returns when.
//!
//! | module | use case | ports | shipped adapters (frontrow-adapters) |
//! |---|---|---|---|
//! | [`users`] | [`users::Users`] | [`users::UserStore`], [`users::AccountStore`], [`users::AccessTokens`], [`users::PasswordHasher`], [`users::SignInThrottle`] | `SqlStore`; `Hs256Tokens`; `Argon2Passwords`; `SignInLimits` |
//! | [`points`] | [`points::PointsService`] | [`points::Ledger`] | `SqlStore` |
//! | [`catalogue`] | [`catalogue::CatalogueService`] | [`catalogue::Catalogue`], [`seat_changes::SeatChangeLog`] | `SqlStore`; `RedisSeatChangeLog`, `MemorySeatChangeLog` |
//! | [`queue`] | [`queue::QueueService`] | [`queue::WaitingRoom`], [`queue::SeatGate`], [`queue::QueueTokenSeal`] | `RedisWaitingRoom`, `MemoryWaitingRoom`, [`queue::SeparateSeatGate`]; `HmacQueueSeal` |
//! | [`seating`] | [`seating::SeatingService`] | (the catalogue's and the queue's) | |
//! | [`streams`] | [`streams::PlaceFollower`], [`streams::SeatFollower`] (what a live stream sends) | | |
//! | [`reservations`] | [`reservations::ReservationService`] | [`reservations::SeatHolds`] | `SqlStore` |
//! | [`payments`] | [`payments::PaymentService`] | [`payments::PaymentStore`] | `SqlStore` |
//! | [`events`] | [`events::EventRelay`] | [`events::Outbox`], [`events::EventSink`] | `SqlStore`; `KafkaSink`, `InProcessBus` |
//! | [`clock`] | | [`Clock`] | [`clock::SystemClock`] |
//! | [`limits`] | [`limits::RateLimits`] | [`limits::RateLimiter`] | `RedisRateLimiter`, `MemoryRateLimiter` |
//!
//! Errors: each feature has its own enum; [`StoreError`] is the one
//! infrastructure failure, and it never stands for "not found".
//!
//! # Wiring
//!
//! Services depend on ports and on the services listed before them, so
//! they are built in this order, each once per process and shared through
//! an `Arc` (their caches are what make reads cheap):
//!
//! 1. [`catalogue::CatalogueService::new`] (catalogue store, seat-change log, clock);
//! 2. [`queue::QueueService::new`] (room, token seal, seat gate, the
//!    catalogue service's cached port [`catalogue::CatalogueService::cached`], clock);
//! 3. [`reservations::ReservationService::new`] (holds store, catalogue, queue, hold settings, clock);
//! 4. [`payments::PaymentService::new`] (payment store, reservations, catalogue, queue, clock),
//!    [`seating::SeatingService::new`] (catalogue, queue, clock),
//!    [`sales::SaleService::new`] (catalogue, queue),
//!    [`users::Users::new`], [`points::PointsService::new`],
//!    [`events::EventRelay::new`].
//!
//! Every service that decides with time reads the one [`Clock`] it was
//! given; no service reads the system clock itself. What a service keeps in
//! memory is a [`cache::BoundedMap`]: bounded, and locked by the one lock
//! policy that module states.
//!
//! Besides the calls your front end makes, an embedding runs two loops,
//! as the `frontrow` binary does: [`reservations::ReservationService::expire_due`]
//! every second (it records lapsed holds and their events; seats are free
//! from the deadline anyway), and [`events::EventRelay::relay_once`] to
//! publish the outbox. With the in-process room, which forgets on restart,
//! it calls [`catalogue::CatalogueService::reopen_sales`] and
//! [`sales::SaleService::restore_openings`] once at start.
//!
//! `adapters/examples/in_process_sale.rs` wires all of it with SQLite and
//! the in-process room and runs a sale of 1,000 buyers without HTTP.
//!
//! # The smallest useful program
//!
//! A use case over a port you implement yourself: points kept in a map.
//!
//! ```
//! use async_trait::async_trait;
//! use frontrow_application::points::{Ledger, PointsError, PointsService};
//! use frontrow_application::StoreError;
//! use frontrow_domain::points::{ChargeAmount, IdempotencyKey, PointBalance, Points};
//! use frontrow_domain::hold_cost::Purse;
//! use frontrow_domain::{Timestamp, UserId};
//! use std::collections::HashMap;
//! use std::sync::{Arc, Mutex};
//!
//! /// Balances in a map (no idempotency keys): enough for a demo.
//! struct MapLedger(Mutex<HashMap<UserId, Points>>);
//!
//! #[async_trait]
//! impl Ledger for MapLedger {
//!     async fn balance(&self, user: UserId) -> Result<Option<Points>, StoreError> {
//!         let balances = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
//!         Ok(balances.get(&user).copied())
//!     }
//!
//!     async fn charge(
//!         &self,
//!         user: UserId,
//!         amount: ChargeAmount,
//!         _key: Option<IdempotencyKey>,
//!     ) -> Result<Points, PointsError> {
//!         let mut balances = self.0.lock().map_err(|_| StoreError::new("poisoned"))?;
//!         let balance = balances.get_mut(&user).ok_or(PointsError::UnknownUser)?;
//!         *balance = PointBalance::new(*balance).charge(amount)?.points();
//!         Ok(*balance)
//!     }
//!
//!     async fn purse(&self, user: UserId, _now: Timestamp) -> Result<Option<Purse>, StoreError> {
//!         // No holds in this demo, so nothing is reserved.
//!         Ok(self.balance(user).await?.map(|b| Purse::new(b, Points::ZERO)))
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let ada = UserId::from_store(1);
//!     let ledger = MapLedger(Mutex::new(HashMap::from([(ada, Points::ZERO)])));
//!     let points = PointsService::new(Arc::new(ledger));
//!
//!     assert_eq!(points.charge(ada, 500, None).await?.get(), 500);
//!     // The use case parses at the edge: a bad amount never reaches the port.
//!     assert!(matches!(points.charge(ada, 0, None).await, Err(PointsError::Rule(_))));
//!     Ok(())
//! }
//! ```

#![warn(missing_docs)]

pub mod best_available;
pub mod cache;
pub mod catalogue;
pub mod catalogue_cache;
pub mod clock;
pub mod door;
pub mod events;
pub mod limits;
pub mod live_sessions;
pub mod lost_seats;
pub mod payments;
pub mod points;
pub mod queue;
pub mod read_leases;
pub mod reservations;
pub mod room_history;
pub mod sales;
pub mod seat_changes;
pub mod seat_maps;
pub mod seating;
pub mod store;
pub mod streams;
pub mod users;
pub mod venues;
pub mod version_reads;

#[cfg(test)]
mod fixtures;

pub use clock::Clock;
pub use store::StoreError;
