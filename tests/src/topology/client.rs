//! The buyers' side of the topology: a client that records every call
//! (when, how long, what came back), and the tally of what a rush saw.

use super::ADMIN_KEY;
use frontrow_client::{Client as Api, Reply};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one answer was, as a client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Status(u16),
    /// No HTTP answer: the connection failed or timed out.
    Wire,
}

/// One request of the rush: when it was sent (since the rush started), how
/// long it took, and what came back.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Duration,
    pub took: Duration,
    pub what: &'static str,
    pub seen: Seen,
    /// A 503 said `Retry-After`.
    pub retry_after: bool,
}

/// Worth asking again: the service or the proxy could not answer now.
fn transient(reply: &Reply) -> bool {
    matches!(reply.status.as_u16(), 502..=504)
}

/// What `Retry-After` said, in seconds.
pub fn retry_after(reply: &Reply) -> Option<u64> {
    reply
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
}

/// The buyers' client, through nginx: the typed client (`frontrow-client`,
/// with the operators' key), each call recorded with its time and answer.
pub struct Client {
    api: Api,
    pub started: Instant,
    calls: Mutex<Vec<Call>>,
}

impl Client {
    pub fn new(base: &str) -> Arc<Client> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .pool_max_idle_per_host(64)
            .build()
            .expect("client");
        Arc::new(Client {
            api: Api::new(http, base).with_admin_key(ADMIN_KEY),
            started: Instant::now(),
            calls: Mutex::new(Vec::new()),
        })
    }

    /// Sends once, as `call` asks the typed client: the answer, or `None`
    /// when nothing came back. `what` names the call in the record.
    pub async fn send<'a, Fut>(
        &'a self,
        what: &'static str,
        call: impl FnOnce(&'a Api) -> Fut,
    ) -> Option<Reply>
    where
        Fut: Future<Output = Result<Reply, reqwest::Error>>,
    {
        let sent = Instant::now();
        let at = sent - self.started;
        let answer = call(&self.api).await.ok();
        let record = Call {
            at,
            took: sent.elapsed(),
            what,
            seen: answer
                .as_ref()
                .map_or(Seen::Wire, |a| Seen::Status(a.status.as_u16())),
            retry_after: answer.as_ref().is_some_and(|a| retry_after(a).is_some()),
        };
        self.calls.lock().expect("calls").push(record);
        answer
    }

    /// Sends until the answer is not a transient failure (a 502/503/504 or
    /// nothing at all), waiting as `Retry-After` says (at most 2 s) or
    /// 100 ms. For requests that are safe to repeat.
    pub async fn until_answered<'a, Fut>(
        &'a self,
        what: &'static str,
        call: impl Fn(&'a Api) -> Fut,
    ) -> Reply
    where
        Fut: Future<Output = Result<Reply, reqwest::Error>>,
    {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            match self.send(what, &call).await {
                Some(answer) if !transient(&answer) => return answer,
                other => {
                    assert!(Instant::now() < deadline, "{what} never answered");
                    let wait = other
                        .as_ref()
                        .and_then(retry_after)
                        .map_or(Duration::from_millis(100), |s| {
                            Duration::from_secs(s.min(2))
                        });
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("calls").clone()
    }
}

/// What the calls of a rush saw.
#[derive(Debug, Default)]
pub struct Tally {
    pub calls: usize,
    pub unavailable: usize,
    pub unavailable_without_retry_after: usize,
    /// From the first 503 sent to the last one answered.
    pub unavailable_span: Option<(Duration, Duration)>,
    pub slowest_unavailable: Duration,
    pub server_errors: usize,
    pub bad_gateway: usize,
    pub gateway_timeouts: usize,
    pub wire: usize,
}

impl Tally {
    pub fn of(calls: &[Call]) -> Tally {
        let mut tally = Tally {
            calls: calls.len(),
            ..Tally::default()
        };
        for call in calls {
            match call.seen {
                Seen::Status(503) => {
                    tally.unavailable += 1;
                    if !call.retry_after {
                        tally.unavailable_without_retry_after += 1;
                    }
                    tally.slowest_unavailable = tally.slowest_unavailable.max(call.took);
                    let (first, last) = tally
                        .unavailable_span
                        .unwrap_or((call.at, call.at + call.took));
                    tally.unavailable_span =
                        Some((first.min(call.at), last.max(call.at + call.took)));
                }
                Seen::Status(500) | Seen::Status(501) | Seen::Status(505..=599) => {
                    tally.server_errors += 1
                }
                Seen::Status(502) => tally.bad_gateway += 1,
                Seen::Status(504) => tally.gateway_timeouts += 1,
                Seen::Wire => tally.wire += 1,
                Seen::Status(_) => {}
            }
        }
        tally
    }

    /// Every call that did not get a real answer from the service: 5xx
    /// (503 included) or nothing.
    pub fn failures(&self) -> usize {
        self.unavailable + self.server_errors + self.bad_gateway + self.gateway_timeouts + self.wire
    }
}
