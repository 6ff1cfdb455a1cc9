//! The door of a room: a join, after waiting out a 429 and solving the
//! server's challenge when it asks for one, as a person's browser and a
//! determined farm both would.

use crate::retry::wait_out;
use frontrow_client::{Buyer, Client};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Joins rooms, paying what the door asks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Door;

/// What a join came to.
pub(crate) enum Joined {
    /// A place: its queue token and the status the join answered.
    Place { token: String, status: Value },
    /// Every seat is sold: no place will come.
    SoldOut,
    /// Refused for good, or still refused when the caller's time ran out.
    Refused,
}

/// A join and what it cost at the door.
pub(crate) struct Entry {
    pub(crate) joined: Joined,
    /// Time spent solving challenges (on this process's core).
    pub(crate) solving: Duration,
    pub(crate) challenges: u64,
}

impl Door {
    /// Joins `concert`, waiting out 429s until `until` (`None`: no limit).
    pub(crate) async fn join(
        &self,
        api: &Client,
        buyer: &Buyer,
        concert: i64,
        until: Option<Instant>,
    ) -> Result<Entry, reqwest::Error> {
        let (solving, challenges) = (Duration::ZERO, 0);
        loop {
            let reply = api.join(buyer, concert).await?;
            let joined = match (reply.status, reply.code()) {
                (StatusCode::OK | StatusCode::CREATED, _) => match reply.body["token"].as_str() {
                    Some(token) => Joined::Place {
                        token: token.to_owned(),
                        status: reply.body.clone(),
                    },
                    None => Joined::Refused,
                },
                (StatusCode::CONFLICT, "SOLD_OUT") => Joined::SoldOut,
                (StatusCode::TOO_MANY_REQUESTS, _) => {
                    if wait_out(&reply, until).await {
                        continue;
                    }
                    Joined::Refused
                }
                _ => Joined::Refused,
            };
            return Ok(Entry {
                joined,
                solving,
                challenges,
            });
        }
    }
}
