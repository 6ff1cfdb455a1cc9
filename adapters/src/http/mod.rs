//! The HTTP API: poem + poem-openapi. Handlers are thin: extract, call one
//! use case, map the result. The OpenAPI document is generated from these
//! handlers (served at /openapi.json, Swagger UI at /docs), so it cannot drift
//! from the routes. Every error, ours or poem's, leaves as a problem+json.
//! The web app (`web`) is served beside it at `/`, `/admin` and `/assets/`.

mod admin;
pub mod catalogue;
pub mod connections;
mod health;
mod metrics;
mod payments;
mod points;
pub mod problem;
mod queue;
mod request_id;
mod reservations;
mod security;
mod text;
mod users;
mod web;

use async_trait::async_trait;
use frontrow_application::catalogue::CatalogueService;
use frontrow_application::events::EventRelay;
use frontrow_application::payments::PaymentService;
use frontrow_application::points::PointsService;
use frontrow_application::queue::QueueService;
use frontrow_application::reservations::ReservationService;
use frontrow_application::seating::SeatingService;
use frontrow_application::users::Users;
use poem::http::{StatusCode, header};
use poem::middleware::Tracing;
use poem::{Endpoint, EndpointExt, IntoEndpoint, Request, Route};
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
    /// Holds and cancels.
    pub reservations: Arc<ReservationService>,
    /// Payments.
    pub payments: PaymentService,
    /// The `X-Admin-Key` operators send.
    pub admin_key: String,
    /// What `/health/ready` asks, by name.
    pub dependencies: Vec<(&'static str, Arc<dyn Ping>)>,
    /// The outbox relay, for `/metrics`.
    pub relay: Arc<EventRelay>,
    /// Rendered seat-map pages, reused while the map is unchanged.
    pub seat_pages: catalogue::SeatPages,
    /// Set when the instance is shutting down: readiness answers 503 at
    /// once, so the load balancer stops sending before the listener closes.
    pub draining: std::sync::atomic::AtomicBool,
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
    reservations::ReservationsApi,
    payments::PaymentsApi,
    admin::AdminApi,
    health::HealthApi,
);

fn service(state: &Arc<AppState>) -> OpenApiService<Apis, ()> {
    let apis = (
        users::UsersApi(state.clone()),
        points::PointsApi(state.clone()),
        queue::QueueApi(state.clone()),
        catalogue::CatalogueApi(state.clone()),
        reservations::ReservationsApi(state.clone()),
        payments::PaymentsApi(state.clone()),
        admin::AdminApi(state.clone()),
        health::HealthApi(state.clone()),
    );
    OpenApiService::new(apis, "frontrow", env!("CARGO_PKG_VERSION"))
        .description("Concert tickets for the minute a hot show opens: a fair waiting room, real seat availability, holds and prepaid points.")
}

/// The OpenAPI document, as served at /openapi.json.
pub fn openapi_json(state: &Arc<AppState>) -> String {
    service(state).spec()
}

/// The whole HTTP application.
pub fn app(state: Arc<AppState>) -> impl Endpoint {
    let api = service(&state);
    let methods = Arc::new(RouteMethods::from_spec(&api.spec()));
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let api = Arc::new(api.into_endpoint());
    let http_metrics = Arc::new(metrics::HttpMetrics::default());
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
        .around(|endpoint, request| async move { endpoint.call(limit_body(request).await?).await })
        .data(state)
        .data(http_metrics.clone())
        .catch_all_error(|error| async move { problem::from_poem_error(error) })
        .with(Tracing)
        .around(move |endpoint, request| {
            let methods = methods.clone();
            async move {
                let path = request.uri().path().to_owned();
                let mut response = endpoint.get_response(request).await;
                if response.status() == StatusCode::METHOD_NOT_ALLOWED
                    && let Some(allow) = methods.allowed(&path)
                    && let Ok(value) = header::HeaderValue::from_str(&allow)
                {
                    response.headers_mut().insert(header::ALLOW, value);
                }
                Ok(response)
            }
        })
        .around(move |endpoint, request| http_metrics.clone().record(endpoint, request))
        .around(request_id::around)
}

/// Which methods each route of the API answers, read from the OpenAPI
/// document (so it cannot drift from the routes): a 405 names them in
/// `Allow` (RFC 9110).
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

    /// `GET, POST` for a path a route matches (`{param}` matches any segment).
    fn allowed(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        self.0.iter().find_map(|(route, methods)| {
            let matches = route.len() == segments.len()
                && route
                    .iter()
                    .zip(&segments)
                    .all(|(r, s)| r == s || (r.starts_with('{') && r.ends_with('}')));
            matches.then(|| methods.join(", "))
        })
    }
}

/// Refuses headers over `MAX_HEADER_BYTES` with 431, and bodies over
/// `MAX_BODY_BYTES` with 413: by their declared length, or, for a chunked
/// body, by reading at most that much.
async fn limit_body(mut request: Request) -> poem::Result<Request> {
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Err(poem::Error::from_status(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ));
    }
    let too_large = || poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(length) if length > MAX_BODY_BYTES as u64 => Err(too_large()),
        Some(_) => Ok(request),
        None if request.headers().contains_key(header::TRANSFER_ENCODING) => {
            let body = request
                .take_body()
                .into_bytes_limit(MAX_BODY_BYTES)
                .await
                .map_err(|_| too_large())?;
            request.set_body(body);
            Ok(request)
        }
        None => Ok(request),
    }
}
