//! frontrow's adapters: every port of `frontrow-application`, implemented
//! against a real technology, plus the HTTP API in front of the use cases.
//!
//! - `sql`: MySQL/MariaDB and SQLite through one sqlx `Any` store; every
//!   guarantee is one transaction there.
//! - `redis`: the waiting room (Lua) and seat-map versions, shared by every
//!   app instance.
//! - `memory`: the same two ports in process, for the embedded default.
//! - `http`: poem + poem-openapi; the one place errors become problems.

pub mod auth;
pub mod events;
pub mod http;
pub mod kafka;
pub mod memory;
pub mod random;
pub mod redis;
pub mod sql;
