//! `X-Request-Id`: taken from the load balancer (or made here), echoed in
//! the response, carried by every log line of the request (a `request` span)
//! and by its problem body (`requestId`).
//!
//! What a client sends reaches the log only in a shape it cannot forge: an
//! id of `[A-Za-z0-9._-]`, at most 64 characters (anything else is replaced
//! by a new one: `zz}:request{remote_addr=6.6.6.6` once made a log line look
//! like a second span), and the path quoted, without its query (a secret put
//! in a URL stays out of the log).

use poem::http::HeaderValue;
use poem::web::RealIp;
use poem::{Endpoint, FromRequest, IntoResponse, Request, Response};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

/// The longest id taken from a client.
const MAX_ID_CHARS: usize = 64;

tokio::task_local! {
    /// The id of the request this task is serving.
    static REQUEST_ID: String;
}

/// The current request's id, where there is one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// An id a client may choose: what load balancers and tracers make (hex,
/// UUIDs, dotted or dashed tokens), nothing a log line could be split on.
fn is_sane(id: &str) -> bool {
    (1..=MAX_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A client's id if it is sane, otherwise a new one.
fn id_of(request: &Request) -> String {
    request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane(v))
        .map(str::to_owned)
        .unwrap_or_else(|| crate::random::hex32().unwrap_or_else(|_| "unavailable".to_owned()))
}

/// Serves the request inside its id's span and scope, logs its answer, and
/// echoes the id.
pub async fn around<E: Endpoint>(endpoint: Arc<E>, request: Request) -> poem::Result<Response> {
    let id = id_of(&request);
    // The client's address as the load balancer forwards it: a claim (a
    // client without one in front may send any), so it has a field of its
    // own beside the socket's peer, and it is logged only as a parsed IP.
    let forwarded_for = RealIp::from_request_without_body(&request)
        .await
        .ok()
        .and_then(|ip| ip.0)
        .map(|ip| ip.to_string());
    // The method is an HTTP token (no spaces or braces); the path is quoted
    // (`?`) so no character of it can end the field.
    let span = tracing::info_span!(
        "request",
        id = %id,
        remote_addr = %request.remote_addr(),
        forwarded_for = forwarded_for.as_deref(),
        method = %request.method(),
        path = ?request.uri().path(),
    );
    let started = Instant::now();
    let answer = REQUEST_ID
        .scope(id.clone(), endpoint.call(request))
        .instrument(span.clone())
        .await;
    let mut response = match answer {
        Ok(output) => output.into_response(),
        Err(error) => error.into_response(),
    };
    span.in_scope(|| {
        tracing::info!(
            status = %response.status(),
            duration = ?started.elapsed(),
            "response"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem::EndpointExt;
    use poem::test::TestClient;
    use std::io::Write;
    use std::sync::Mutex;

    /// Every log line, in the text format the service writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
        }
    }

    #[test]
    fn only_a_bounded_token_is_taken_as_an_id() {
        assert!(is_sane("lb-1234"));
        assert!(is_sane("0af7651916cd43dd8448eb211c80319c"));
        assert!(is_sane("3fa85f64-5717-4562-b3fc-2c963f66afa6.1_a"));
        assert!(!is_sane(""));
        assert!(!is_sane(&"a".repeat(65)));
        assert!(!is_sane("zz}:request{remote_addr=6.6.6.6"));
        assert!(!is_sane("a b"));
    }

    #[tokio::test]
    async fn a_forged_id_and_a_query_never_reach_the_log_as_sent() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _logging = tracing::subscriber::set_default(subscriber);
        let app = poem::endpoint::make(|_| async {
            tracing::info!("handled");
            "ok"
        })
        .around(around);
        let forged = "zz}:request{remote_addr=6.6.6.6";
        let client = TestClient::new(app);
        let answer = client
            .get("/api/v1/points")
            .query("token", &"hunter2")
            .header(HEADER, forged)
            .header("x-forwarded-for", "zz}:request{remote_addr=6.6.6.6")
            .send()
            .await;
        answer.assert_status_is_ok();
        let echoed = answer.0.headers()[HEADER]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_ne!(echoed, forged, "a new id replaces the forged one");

        let log = captured.text();
        assert!(log.contains("handled") && log.contains("response"), "{log}");
        assert!(!log.contains("6.6.6.6"), "{log}");
        assert!(!log.contains("hunter2"), "{log}");
        assert!(log.contains(&format!("id={echoed}")), "{log}");
        assert!(log.contains(r#"path="/api/v1/points""#), "{log}");

        // The address a load balancer forwards is logged as a parsed IP,
        // beside the socket's peer.
        client
            .get("/health/live")
            .header("x-forwarded-for", "203.0.113.7")
            .send()
            .await
            .assert_status_is_ok();
        assert!(captured.text().contains(r#"forwarded_for="203.0.113.7""#));
    }
}
