//! In-process implementations of the ports that Redis serves in production,
//! for the embedded default (one instance, no Redis).

pub mod bus;
pub mod door;
pub mod rate;
pub mod seat_log;
pub mod waiting_room;
