//! The HTTP API: poem + poem-openapi. Handlers are thin: extract, call one
//! use case, map the result. The OpenAPI document is generated from these
//! handlers (served at /openapi.json, Swagger UI at /docs), so it cannot drift
//! from the routes. Every error, ours or poem's, leaves as a problem+json.
//! The web app (`web`) is served beside it at `/`, `/admin` and `/assets/`.

mod admin;
mod best_available;
pub mod catalogue;
pub mod client_address;
pub mod connections;
mod door;
mod health;
mod limits;
mod metrics;
mod payments;
mod points;
pub mod problem;
mod queue;
pub mod rate_limits;
mod request_id;
mod reservations;
pub mod seat_pages;
mod security;
mod sse;
mod text;
mod tickets;
mod users;
pub mod venues;
mod web;

use async_trait::async_trait;
use frontrow_application::catalogue::CatalogueService;
use frontrow_application::events::EventRelay;
use frontrow_application::payments::PaymentService;
use frontrow_application::points::PointsService;
use frontrow_application::queue::QueueService;
use frontrow_application::reservations::ReservationService;
use frontrow_application::sales::SaleService;
use frontrow_application::seating::SeatingService;
use frontrow_application::users::Users;
use poem::http::{StatusCode, header};
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Request, Route};
use poem_openapi::{OpenApiService, Tags};
use std::sync::Arc;

/// The largest request body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The most header bytes (names and values) a request may carry; more get
/// 431. The server's HTTP layer reads up to about 400 KB of headers; nothing
/// frontrow reads needs more than a few hundred bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// A dependency the readiness check asks, and whose own series (a pool's
/// connections and waits, a client's failures) `/metrics` shows.
#[async_trait]
pub trait Ping: Send + Sync {
    /// `Ok` while the dependency answers; the error says why not (logged,
    /// never shown to clients).
    async fn ping(&self) -> Result<(), String>;

    /// Adds this dependency's series to a `/metrics` scrape (the registry
    /// carries the `frontrow` prefix). None by default.
    fn metrics(&self, registry: &mut prometheus_client::registry::Registry) {
        let _ = registry;
    }
}

/// Everything a request may need, built once at start.
pub struct AppState {
    /// Registration and authentication.
    pub users: Users,
    /// Balances and charges.
    pub points: PointsService,
    /// Concerts, schedules, seat maps (shared with the services below).
    pub catalogue: Arc<CatalogueService>,
    /// What admitted buyers browse.
    pub seating: SeatingService,
    /// The waiting rooms and the gate.
    pub queue: Arc<QueueService>,
    /// Proof-of-work at the door: joins and sign-ups.
    pub door: frontrow_application::door::DoorService,
    /// An operator's sale: concerts with their openings.
    pub sales: SaleService,
    /// Holds and cancels.
    pub reservations: Arc<ReservationService>,
    /// Payments.
    pub payments: PaymentService,
    /// The `X-Admin-Key` operators send (its `Debug` shows no value).
    pub admin_key: secrecy::SecretString,
    /// Recent readings of each room, for the console's chart.
    pub room_history: frontrow_application::room_history::RoomHistory,
    /// Signs the ticket codes of paid seats.
    pub tickets: crate::tickets::TicketSigner,
    /// What `/health/ready` asks, by name.
    pub dependencies: Vec<(&'static str, Arc<dyn Ping>)>,
    /// The outbox relay, for `/metrics`.
    pub relay: Arc<EventRelay>,
    /// This instance's hold and payment latencies, the admission
    /// controller's input (recorded by the `/metrics` middleware).
    pub write_path: Arc<frontrow_application::queue::WritePathLatency>,
    /// Best seats together, held as one cart.
    pub best_available: frontrow_application::best_available::BestAvailableService,
    /// Rendered (and compressed) seat-map bodies, one per map, shared by
    /// its readers.
    pub seat_pages: seat_pages::SeatPages,
    /// Layouts and availability by section and tier.
    pub venues: frontrow_application::venues::VenueService,
    /// Rendered layouts with their `ETag`s (a layout never changes).
    pub layout_pages: venues::LayoutPages,
    /// Set when the instance is shutting down: readiness answers 503 at
    /// once, so the load balancer stops sending before the listener closes.
    pub draining: std::sync::atomic::AtomicBool,
    /// The proxies whose `X-Forwarded-For` names the client
    /// (`client_address`).
    pub trusted_proxies: client_address::TrustedProxies,
    /// Rate limits per client address and per account (`rate_limits`).
    pub rate_limits: frontrow_application::limits::RateLimits,
}

impl AppState {
    /// The instance is shutting down (see `draining`).
    pub fn is_draining(&self) -> bool {
        self.draining.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[derive(Tags)]
enum Tag {
    /// Ticket buyers and their access tokens
    Users,
    /// Prepaid points
    Points,
    /// The waiting room
    Queue,
    /// Concerts, schedules and seats
    Concerts,
    /// Seat holds
    Reservations,
    /// Paying for a hold
    Payments,
    /// Paid seats' ticket codes, checked at the door
    Tickets,
    /// Running a sale
    Admin,
    /// Liveness and readiness
    Health,
}

type Apis = (
    users::UsersApi,
    points::PointsApi,
    queue::QueueApi,
    catalogue::CatalogueApi,
    venues::VenuesApi,
    reservations::ReservationsApi,
    best_available::BestAvailableApi,
    payments::PaymentsApi,
    tickets::TicketsApi,
    admin::AdminApi,
    health::HealthApi,
    door::DoorApi,
    door::DoorAdminApi,
);

fn service(state: &Arc<AppState>) -> OpenApiService<Apis, ()> {
    let apis = (
        users::UsersApi(state.clone()),
        points::PointsApi(state.clone()),
        queue::QueueApi(state.clone()),
        catalogue::CatalogueApi(state.clone()),
        venues::VenuesApi(state.clone()),
        reservations::ReservationsApi(state.clone()),
        best_available::BestAvailableApi(state.clone()),
        payments::PaymentsApi(state.clone()),
        tickets::TicketsApi(state.clone()),
        admin::AdminApi(state.clone()),
        health::HealthApi(state.clone()),
        door::DoorApi(state.clone()),
        door::DoorAdminApi(state.clone()),
    );
    OpenApiService::new(apis, "frontrow", env!("CARGO_PKG_VERSION"))
        .description("Concert tickets for the minute a hot show opens: a fair waiting room, real seat availability, holds and prepaid points.")
}

/// The OpenAPI document, as served at /openapi.json.
pub fn openapi_json(state: &Arc<AppState>) -> String {
    service(state).spec()
}

/// The whole HTTP application (for a server whose shutdown does not stop
/// its acceptor first; see `app_on`).
pub fn app(state: Arc<AppState>) -> impl Endpoint {
    app_on(state, connections::Listening::default())
}

/// The whole HTTP application, served by the acceptor behind `listening`
/// (`connections::Capped::listening`): once that stops taking connections,
/// every answer says `Connection: close`, so each open connection (a load
/// balancer's pooled ones above all) ends cleanly after its next answer
/// instead of being closed under a request (see `connections`).
pub fn app_on(state: Arc<AppState>, listening: connections::Listening) -> impl Endpoint {
    let api = service(&state);
    let methods = Arc::new(RouteMethods::from_spec(&api.spec()));
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let api = Arc::new(api.into_endpoint());
    let http_metrics = Arc::new(metrics::HttpMetrics::new(
        methods.clone(),
        state.write_path.clone(),
    ));
    let trusted_proxies = Arc::new(state.trusted_proxies.clone());
    Route::new()
        .at("/openapi.json", spec)
        .at("/metrics", poem::get(metrics::metrics))
        .nest("/docs", docs)
        // The API's operations all live under these two prefixes; nesting it
        // at "/" instead would also take "/" from the web app.
        .nest_no_strip("/api", api.clone())
        .nest_no_strip("/health", api)
        .at("/", web::page("index.html"))
        .at("/admin", web::page("admin.html"))
        .nest("/assets", web::assets())
        .around(|endpoint, request| async move {
            match limit_body(request).await {
                Ok(request) => endpoint
                    .call(request)
                    .await
                    .map(IntoResponse::into_response),
                Err(refused) => Ok(refused.into_response()),
            }
        })
        // Who is calling, then whether that address is over a limit.
        .around({
            let state = state.clone();
            move |endpoint, mut request| {
                let (state, trusted) = (state.clone(), trusted_proxies.clone());
                async move {
                    client_address::identify(&mut request, &trusted);
                    rate_limits::around(endpoint, request, &state).await
                }
            }
        })
        .data(state)
        .data(http_metrics.clone())
        .catch_all_error(|error| async move { problem::from_poem_error(error) })
        .around(move |endpoint, request| {
            let (methods, listening) = (methods.clone(), listening.clone());
            async move {
                // The request's head is complete: its connection's head
                // deadline stops (see `connections`).
                let _answering = listening.exchange(request.remote_addr());
                let path = request.uri().path().to_owned();
                let mut response = endpoint.get_response(request).await;
                if response.status() == StatusCode::METHOD_NOT_ALLOWED
                    && let Some(allow) = methods.allowed(&path)
                    && let Ok(value) = header::HeaderValue::from_str(&allow)
                {
                    response.headers_mut().insert(header::ALLOW, value);
                }
                // A stopping instance tells its clients (the load balancer's
                // pooled connections above all) not to send another request
                // on this connection, so none is cut off when it stops.
                // Not before the acceptor stops: while it still takes
                // connections, closing them only makes new ones, and a new
                // one in the listen queue is reset when the socket closes.
                if listening.is_stopped() {
                    response.headers_mut().insert(
                        header::CONNECTION,
                        header::HeaderValue::from_static("close"),
                    );
                }
                Ok(response)
            }
        })
        .around(move |endpoint, request| http_metrics.clone().record(endpoint, request))
        .around(request_id::around)
}

/// Which methods each route of the API answers, read from the OpenAPI
/// document (so it cannot drift from the routes): a 405 names them in
/// `Allow` (RFC 9110), and `/metrics` labels requests by route.
struct RouteMethods(Vec<(Vec<String>, Vec<String>)>);

impl RouteMethods {
    fn from_spec(spec: &str) -> Self {
        let spec: serde_json::Value = serde_json::from_str(spec).unwrap_or_default();
        let routes = spec["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .map(|(path, operations)| {
                        let segments = path.split('/').map(str::to_owned).collect();
                        let methods = operations
                            .as_object()
                            .map(|o| o.keys().map(|m| m.to_ascii_uppercase()).collect())
                            .unwrap_or_default();
                        (segments, methods)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self(routes)
    }

    /// The route and methods of a path (`{param}` matches any segment).
    fn matching(&self, path: &str) -> Option<&(Vec<String>, Vec<String>)> {
        let segments: Vec<&str> = path.split('/').collect();
        self.0.iter().find(|(route, _)| {
            route.len() == segments.len()
                && route
                    .iter()
                    .zip(&segments)
                    .all(|(r, s)| r == s || is_parameter(r))
        })
    }

    /// `GET, POST` for a path a route matches.
    fn allowed(&self, path: &str) -> Option<String> {
        self.matching(path).map(|(_, methods)| methods.join(", "))
    }

    /// The route a path matches, each parameter written `{id}`.
    fn route(&self, path: &str) -> Option<String> {
        let (route, _) = self.matching(path)?;
        let segments: Vec<&str> = route
            .iter()
            .map(|r| if is_parameter(r) { "{id}" } else { r })
            .collect();
        Some(segments.join("/"))
    }
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// How much of a refused body is read and thrown away before the 413. A
/// client sends its whole body before it reads the answer; a server that
/// answers and closes with the rest unread makes the kernel reset the
/// connection, and the client sees a broken pipe instead of the 413. A
/// larger body, or one that does not arrive within `DRAIN_TIME`, is cut off
/// (with `Connection: close`) rather than read.
const MAX_DRAINED_BYTES: u64 = 8 * 1024 * 1024;

/// The most time spent reading a refused body.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// A request refused before it reached a handler: 413 or 431, and whether
/// the connection must close because the rest of the body was not read.
struct Refusal {
    status: StatusCode,
    close: bool,
}

impl Refusal {
    fn into_response(self) -> poem::Response {
        let mut response = problem::from_poem_error(poem::Error::from_status(self.status));
        if self.close {
            response.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

/// Reads and discards what is left of a refused body, up to
/// `MAX_DRAINED_BYTES` and `DRAIN_TIME`: true when it was all read, so the
/// connection can serve the next request.
async fn drained(body: impl tokio::io::AsyncRead + Unpin) -> bool {
    use tokio::io::AsyncReadExt;
    let mut rest = body.take(MAX_DRAINED_BYTES + 1);
    let copied = tokio::time::timeout(
        DRAIN_TIME,
        tokio::io::copy(&mut rest, &mut tokio::io::sink()),
    )
    .await;
    matches!(copied, Ok(Ok(n)) if n <= MAX_DRAINED_BYTES)
}

/// Refuses headers over `MAX_HEADER_BYTES` with 431, and bodies over
/// `MAX_BODY_BYTES` with 413: by their declared length, or, for a chunked
/// body, by reading at most that much. A refused body is drained first (see
/// `MAX_DRAINED_BYTES`), unless the client asked `Expect: 100-continue` and
/// so has not sent it.
async fn limit_body(mut request: Request) -> Result<Request, Refusal> {
    use tokio::io::AsyncReadExt;
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Err(Refusal {
            status: StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            close: false,
        });
    }
    let waits_for_continue = request
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let too_large = |close: bool| Refusal {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        close,
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => {
            let whole = !waits_for_continue
                && length <= MAX_DRAINED_BYTES
                && drained(request.take_body().into_async_read()).await;
            Err(too_large(!whole))
        }
        Some(_) => Ok(request),
        None if request.headers().contains_key(header::TRANSFER_ENCODING) => {
            let mut reader = request.take_body().into_async_read();
            let mut body = Vec::new();
            let read = (&mut reader)
                .take(MAX_BODY_BYTES as u64 + 1)
                .read_to_end(&mut body)
                .await;
            if read.is_err() {
                return Err(Refusal {
                    status: StatusCode::BAD_REQUEST,
                    close: true,
                });
            }
            if body.len() > MAX_BODY_BYTES {
                let whole = drained(reader).await;
                return Err(too_large(!whole));
            }
            request.set_body(body);
            Ok(request)
        }
        None => Ok(request),
    }
}
