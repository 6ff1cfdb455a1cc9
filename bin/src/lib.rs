//! The `frontrow` binary's library: configuration, wiring and the server,
//! so that tests and the load test start the same service `main` does.
//!
//! - `config`: the command line and logging.
//! - `door`: the door's settings (proof-of-work at joins and sign-ups).
//! - `rate_limits`: the rate limits' settings.
//! - `secrets`: the admin key, the token keys and the files they live in.
//! - `wiring`: chooses the backends once and builds the use cases.
//! - `server`: the listener and the shutdown sequence.
//! - `tasks`: the supervised background tasks (sweeper, relay).
//! - `commands`: `migrate`, `seed --demo`, `events tail`.

mod commands;
mod config;
mod door;
mod rate_limits;
mod secrets;
mod server;
mod tasks;
mod wiring;

pub use commands::{migrate, seed, tail_events};
pub use config::{Cli, Command, Config, EventsCommand, LogFormat, init_logging};
pub use door::DoorConfig;
pub use rate_limits::{Rate, RateLimitSettings};
pub use server::{Running, serve, start};
pub use tasks::TaskHealth;
pub use wiring::{Wiring, wire};
