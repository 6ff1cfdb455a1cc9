//! The framing both event streams (the queue stream and the seat stream)
//! share: a heartbeat comment, and a `retry:` hint telling the client how
//! soon to reconnect, sent first (for a connection that breaks, say a killed
//! instance) and again as the last frame when a draining instance ends the
//! stream, so its clients come back at once through the load balancer to
//! another instance. Frames are written by poem's SSE support.

use super::AppState;
use futures_util::stream::{self, BoxStream, StreamExt};
use poem::web::sse::Event;
use poem_openapi::payload::EventStream;
use poem_openapi::types::{ToJSON, Type};
use std::sync::Arc;
use std::time::Duration;

/// A heartbeat comment this often keeps proxies from closing a quiet stream.
const HEARTBEAT: Duration = Duration::from_secs(15);

/// The reconnection time a client is told (`retry:`, in milliseconds). A
/// second spreads the reconnects of a drained instance's followers a little
/// and is still quicker than a browser's `EventSource` default of 3 s.
pub(super) const RECONNECT_MS: u64 = 1_000;

/// One frame of a stream: a message, or (`None`) the `retry:` hint. The
/// document describes the messages; a hint carries no data.
pub(super) type Frame<T> = Option<T>;

/// `messages` as an event stream: a `retry:` hint, the messages, and, when
/// the stream ended because the instance is draining, a last `retry:` hint.
pub(super) fn framed<T>(
    state: Arc<AppState>,
    messages: BoxStream<'static, T>,
) -> EventStream<BoxStream<'static, Frame<T>>>
where
    T: Type + ToJSON + Send + 'static,
{
    let hint = || stream::once(async { None });
    let last = stream::once(async move { state.is_draining() })
        .filter_map(|draining| async move { draining.then_some(None) });
    let frames = hint().chain(messages.map(Some)).chain(last).boxed();
    EventStream::new(frames)
        .keep_alive(HEARTBEAT)
        .to_event(|frame: Frame<T>| match frame {
            Some(message) => Event::message(message.to_json_string()),
            None => Event::retry(RECONNECT_MS),
        })
}
