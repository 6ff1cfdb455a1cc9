//! `X-Request-Id`: taken from the load balancer (or made here), echoed in
//! the response, carried by every log line of the request (a `request` span)
//! and by its problem body (`requestId`).

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};
use std::sync::Arc;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request this task is serving.
    static REQUEST_ID: String;
}

/// The current request's id, where there is one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// A client's id if it is a sane token (printable, at most 128 bytes),
/// otherwise a new one.
fn id_of(request: &Request) -> String {
    request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| crate::random::hex32().unwrap_or_else(|_| "unavailable".to_owned()))
}

/// Serves the request inside its id's span and scope, and echoes the id.
pub async fn around<E: Endpoint>(endpoint: Arc<E>, request: Request) -> poem::Result<Response> {
    let id = id_of(&request);
    let span = tracing::info_span!("request", id = %id);
    let answer = REQUEST_ID
        .scope(id.clone(), endpoint.call(request))
        .instrument(span)
        .await;
    let mut response = match answer {
        Ok(output) => output.into_response(),
        Err(error) => error.into_response(),
    };
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    Ok(response)
}
