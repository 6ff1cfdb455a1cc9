//! What a client does with a 429: waits as long as its `Retry-After`
//! says, then asks again, as the web app does.

use frontrow_client::Reply;
use reqwest::StatusCode;
use std::future::Future;
use std::time::{Duration, Instant};

/// What a 429 asks a client to wait: its `Retry-After` in seconds, or one
/// second when it names none.
pub fn retry_after(reply: &Reply) -> Duration {
    reply
        .headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok()?.trim().parse::<f64>().ok())
        .map_or(Duration::from_secs(1), |s| {
            Duration::from_secs_f64(s.clamp(0.05, 3600.0))
        })
}

/// Sleeps for the 429's `Retry-After` when that ends before `until`;
/// whether the caller may try again.
pub async fn wait_out(reply: &Reply, until: Option<Instant>) -> bool {
    let wake = Instant::now() + retry_after(reply);
    if until.is_some_and(|until| wake > until) {
        return false;
    }
    tokio::time::sleep_until(wake.into()).await;
    true
}

/// Sends with `send` until the answer is not a 429 (waiting out each one),
/// or a 429 asks to wait past `until`: the last answer.
pub async fn patiently<F, Fut>(until: Option<Instant>, mut send: F) -> Result<Reply, reqwest::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Reply, reqwest::Error>>,
{
    loop {
        let reply = send().await?;
        if reply.status != StatusCode::TOO_MANY_REQUESTS || !wait_out(&reply, until).await {
            return Ok(reply);
        }
    }
}
