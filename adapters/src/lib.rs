//! frontrow's adapters: every port of `frontrow-application`, implemented
//! against a real technology, plus the HTTP API in front of the use cases.
//!
//! - `sql`: MySQL/MariaDB and SQLite through one sqlx `Any` store; every
//!   guarantee is one transaction there.
//! - `redis`: the waiting room (Lua) and seat-map versions, shared by every
//!   app instance.
//! - `memory`: the same two ports in process, for the embedded default.
//! - `http`: poem + poem-openapi; the one place errors become problems.
//! - `auth`: HS256 access tokens and HMAC-sealed queue tokens;
//!   `passwords`: Argon2id; `throttle`: failed sign-ins slowed down.
//! - `tickets`: Ed25519-signed ticket codes a door checks offline.
//! - `kafka` and `events`: the outbox's sink and wire form.
//!
//! Which adapter serves which port:
//!
//! | port (frontrow-application) | adapters |
//! |---|---|
//! | `UserStore`, `AccountStore`, `Ledger`, `Catalogue`, `SeatHolds`, `PaymentStore`, `Outbox` | [`sql::SqlStore`] (MySQL/MariaDB, SQLite) |
//! | `WaitingRoom`, `SeatGate` | [`redis::waiting_room::RedisWaitingRoom`]; [`memory::waiting_room::MemoryWaitingRoom`] (with `SeparateSeatGate`) |
//! | `SeatChangeLog` | [`redis::seat_log::RedisSeatChangeLog`]; [`memory::seat_log::MemorySeatChangeLog`] |
//! | `AccessTokens`, `QueueTokenSeal` | [`auth::Hs256Tokens`], [`auth::HmacQueueSeal`] |
//! | `PasswordHasher`, `SignInThrottle` | [`passwords::Argon2Passwords`], [`throttle::SignInLimits`] |
//! | `EventSink` | [`kafka::KafkaSink`]; [`memory::bus::InProcessBus`] |
//!
//! The in-process adapters are correct for one instance; with more, use
//! Redis, so every instance sees the same rooms and seat changes.
//!
//! # The smallest useful program
//!
//! A user store and a ledger on SQLite, behind the application's use cases:
//!
//! ```
//! use frontrow_adapters::auth::Hs256Tokens;
//! use frontrow_adapters::sql::SqlStore;
//! use frontrow_application::clock::SystemClock;
//! use frontrow_application::points::PointsService;
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let dir = std::env::temp_dir().join(format!("frontrow-doc-lib-{}", std::process::id()));
//!     std::fs::create_dir_all(&dir)?;
//!     let url = format!("sqlite://{}?mode=rwc", dir.join("frontrow.db").display());
//!
//!     let store = Arc::new(SqlStore::connect(&url, 4, Duration::from_secs(2), Arc::new(SystemClock)).await?);
//!     store.migrate().await?;
//!     let tokens = Hs256Tokens::new(b"a secret", 3600, Arc::new(SystemClock));
//!     let users = store.users(Arc::new(tokens), Arc::new(SystemClock));
//!     let points = PointsService::new(store);
//!
//!     let ada = users.register("Ada", Some("correct horse"), None).await?; // no known network
//!     assert_eq!(users.authenticate(&ada.access_token).await?, Some(ada.user));
//!     let again = users.sign_in("ada", "correct horse").await?; // on any device
//!     assert_eq!(again.user, ada.user);
//!     points.charge(ada.user, 500, Some("first-top-up")).await?;
//!     points.charge(ada.user, 500, Some("first-top-up")).await?; // a retry adds nothing
//!     assert_eq!(points.balance(ada.user).await?.get(), 500);
//!
//!     std::fs::remove_dir_all(&dir)?;
//!     Ok(())
//! }
//! ```
//!
//! `adapters/examples/in_process_sale.rs` wires every use case this way (no
//! HTTP) and runs a whole sale; `adapters/examples/json_lines_sink.rs` plugs
//! a port of your own in beside these.

pub mod auth;
pub mod challenges;
pub mod events;
pub mod http;
pub mod kafka;
pub mod memory;
pub mod passwords;
pub mod random;
pub mod redis;
pub mod sql;
pub mod throttle;
pub mod tickets;
