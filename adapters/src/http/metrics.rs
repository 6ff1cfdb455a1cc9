//! `GET /metrics`: what operators watch during a sale, in the Prometheus /
//! OpenMetrics text format, encoded by `prometheus-client`.
//!
//! Two kinds of series. Request series (counts and latency per route,
//! requests in flight, problems by `code`) live in `HttpMetrics`, which the
//! request middleware updates. Everything else (the outbox, the seat maps,
//! each concert's room, and what each dependency reports through
//! `Ping::metrics`: the database pools, Redis failures) is read at scrape
//! time into a registry made for that scrape, so nothing is counted twice
//! and no store is asked between scrapes.

use super::{AppState, RouteMethods};
use frontrow_application::door::Refusal;
use frontrow_application::queue::{Write, WritePathLatency};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{Endpoint, IntoResponse, Request, Response, handler};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProblemLabels {
    code: String,
}

/// A rate limit by its stable name (a bounded set: `Limit::ALL`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    limit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConcertLabels {
    concert: i64,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms to about 16 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The request series, updated by `record` for every response.
pub struct HttpMetrics {
    /// The API's routes, which name the `route` label (see `route_label`).
    routes: Arc<RouteMethods>,
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
    problems: Family<ProblemLabels, Counter>,
    /// Holds' and payments' times also go to the admission controller.
    write_path: Arc<WritePathLatency>,
}

/// The writes the admission controller watches, by route.
fn write_of(method: &str, route: &str) -> Option<Write> {
    match (method, route) {
        ("POST", "/api/v1/reservations") => Some(Write::Hold),
        ("POST", "/api/v1/payments") => Some(Write::Payment),
        _ => None,
    }
}

impl HttpMetrics {
    /// The series of an application whose API answers `routes`; holds and
    /// payments are also timed into `write_path`.
    pub(super) fn new(routes: Arc<RouteMethods>, write_path: Arc<WritePathLatency>) -> Self {
        let mut registry = Registry::with_prefix("frontrow_http");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let in_flight = Gauge::default();
        let problems = Family::<ProblemLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by route and status",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to answer, by route (for a stream: until its headers)",
            latency.clone(),
        );
        registry.register(
            "requests_in_flight",
            "Requests being answered now",
            in_flight.clone(),
        );
        registry.register(
            "problems",
            "Problem responses, by their stable code (refusals and failures)",
            problems.clone(),
        );
        Self {
            routes,
            registry,
            requests,
            latency,
            in_flight,
            problems,
            write_path,
        }
    }
}

/// The pages beside the API, each its own label.
const PAGES: [&str; 4] = ["/", "/admin", "/openapi.json", "/metrics"];

/// The `route` label of a path: the API route it belongs to, with each
/// parameter written `{id}` (so a label names a route, not a resource), a
/// page of the web app, or `unmatched`. Only a route or page can name a
/// label: a label per path a client makes up would grow `/metrics` without
/// bound (issue 23: 20,000 made-up paths grew it to 37 MB).
fn route_label(routes: &RouteMethods, path: &str) -> String {
    if let Some(route) = routes.route(path) {
        return route;
    }
    if PAGES.contains(&path) {
        path.to_owned()
    } else if path == "/docs" || path.starts_with("/docs/") {
        "/docs".to_owned()
    } else if path.starts_with("/assets/") {
        "/assets/{file}".to_owned()
    } else {
        "unmatched".to_owned()
    }
}

/// The `method` label: the methods HTTP defines, or `other`, for the same
/// reason as `route_label` (a method is any token a client sends).
fn method_label(method: &poem::http::Method) -> &'static str {
    use poem::http::Method;
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::PATCH, "PATCH"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known == method)
        .map_or("other", |(_, label)| label)
}

impl HttpMetrics {
    /// The middleware: counts and times every request, and counts problem
    /// responses by their `code` (read from the small body of an error).
    pub async fn record<E: Endpoint>(
        self: Arc<Self>,
        endpoint: E,
        request: Request,
    ) -> poem::Result<Response> {
        let method = method_label(request.method()).to_owned();
        let route = route_label(&self.routes, request.uri().path());
        let started = Instant::now();
        self.in_flight.inc();
        let mut response = endpoint.get_response(request).await;
        self.in_flight.dec();
        let status = response.status();
        let is_problem = response
            .content_type()
            .is_some_and(|t| t.starts_with("application/problem+json"));
        if status.as_u16() >= 400 && is_problem {
            let body = response.take_body().into_bytes().await.unwrap_or_default();
            if let Ok(problem) = serde_json::from_slice::<serde_json::Value>(&body)
                && let Some(code) = problem["code"].as_str()
            {
                self.problems
                    .get_or_create(&ProblemLabels {
                        code: code.to_owned(),
                    })
                    .inc();
            }
            response.set_body(body);
        }
        let took = started.elapsed();
        if let Some(write) = write_of(&method, &route) {
            self.write_path.record(write, took);
        }
        self.latency
            .get_or_create(&RouteLabels {
                method: method.clone(),
                route: route.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests
            .get_or_create(&RequestLabels {
                method,
                route,
                status: status.as_u16(),
            })
            .inc();
        Ok(response)
    }
}

/// A counter holding `value`, for a registry made at scrape time.
fn counter(value: u64) -> Counter {
    let counter = Counter::default();
    counter.inc_by(value);
    counter
}

fn gauge(value: i64) -> Gauge {
    let gauge = Gauge::default();
    gauge.set(value);
    gauge
}

fn seconds(value: std::time::Duration) -> Gauge<f64, std::sync::atomic::AtomicU64> {
    let gauge = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
    gauge.set(value.as_secs_f64());
    gauge
}

/// What is read at scrape time: the outbox, the seat maps, every room.
async fn scraped(state: &AppState) -> Registry {
    let mut registry = Registry::with_prefix("frontrow");
    let relay = &state.relay;
    match relay.backlog().await {
        Ok(backlog) => {
            let age_ms = backlog
                .oldest_unpublished_at
                .map_or(0, |at| (relay.now().millis() - at.millis()).max(0));
            registry.register(
                "outbox_unpublished",
                "Outbox events not yet published",
                gauge(backlog.unpublished),
            );
            registry.register(
                "outbox_oldest_unpublished_seconds",
                "Age of the oldest unpublished event, in whole seconds",
                gauge(age_ms / 1000),
            );
        }
        Err(error) => tracing::warn!(%error, "cannot read the outbox backlog"),
    }
    let stats = &relay.stats;
    registry.register(
        "outbox_published",
        "Events this instance published",
        counter(stats.published_total.load(Ordering::Relaxed)),
    );
    registry.register(
        "outbox_publish_failures",
        "Failed publish attempts",
        counter(stats.failures_total.load(Ordering::Relaxed)),
    );
    registry.register(
        "outbox_publish_lag_milliseconds",
        "Occurred-to-published time of the newest event of the last batch",
        gauge(stats.last_lag_ms.load(Ordering::Relaxed)),
    );
    for (_, dependency) in &state.dependencies {
        dependency.metrics(&mut registry);
    }
    registry.register(
        "seat_map_loads",
        "Whole seat maps read from the database (start, unfillable gaps, age)",
        counter(state.catalogue.seat_map_loads()),
    );
    registry.register(
        "seat_changes_applied",
        "Seat changes applied to this instance's maps from the change log",
        counter(state.catalogue.seat_changes_applied()),
    );
    let door = state.door.stats();
    registry.register(
        "door_challenges_issued",
        "Door challenges (proof-of-work) this instance issued",
        counter(door.issued()),
    );
    registry.register(
        "door_challenges_solved",
        "Door challenge solutions this instance accepted",
        counter(door.solved()),
    );
    let refused = Family::<RefusalLabels, Counter>::default();
    for why in Refusal::ALL {
        let reason = why.as_str().to_owned();
        refused
            .get_or_create(&RefusalLabels { reason })
            .inc_by(door.refused(why));
    }
    registry.register(
        "door_challenges_refused",
        "Joins and sign-ups the door refused, by reason (missing, forged, wrong_purpose, expired, replayed, too_easy)",
        refused,
    );
    let refused = Family::<LimitLabels, Counter>::default();
    for (limit, count) in state.rate_limits.refusals() {
        refused
            .get_or_create(&LimitLabels {
                limit: limit.name().to_owned(),
            })
            .inc_by(count);
    }
    registry.register(
        "rate_limited",
        "Requests refused with 429 RATE_LIMITED by this instance, per limit",
        refused,
    );
    registry.register(
        "rate_limiter_failures",
        "Rate-limit checks the limiter could not answer (Redis down or slow), let through: the limiter fails open",
        counter(state.rate_limits.limiter_failures()),
    );
    let maps = state.catalogue.seat_maps();
    registry.register(
        "seat_map_catch_ups",
        "Catch-ups of this instance's seat-map followers (one change-log read each)",
        counter(maps.catch_ups()),
    );
    registry.register(
        "seat_maps_followed",
        "Schedules whose seat map this instance holds and follows",
        gauge(maps.followed() as i64),
    );
    registry.register(
        "seat_map_lag_seconds",
        "The most stale followed seat map now: time since a catch-up or reader found it current",
        seconds(maps.lag()),
    );
    registry.register(
        "seat_map_read_lag_max_seconds",
        "The most stale seat map a reader was handed since the previous scrape",
        seconds(maps.take_read_lag()),
    );
    let waiting = Family::<ConcertLabels, Gauge>::default();
    let active = Family::<ConcertLabels, Gauge>::default();
    let admitted = Family::<ConcertLabels, Counter>::default();
    let lapsed = Family::<ConcertLabels, Counter>::default();
    let available = Family::<ConcertLabels, Gauge>::default();
    let admission_rate = Family::<ConcertLabels, Gauge>::default();
    match state.catalogue.concerts().await {
        Ok(concerts) => {
            for concert in concerts {
                let Ok(room) = state.queue.stats(concert.id.get()).await else {
                    continue;
                };
                let labels = ConcertLabels {
                    concert: concert.id.get(),
                };
                waiting.get_or_create(&labels).set(room.waiting);
                active.get_or_create(&labels).set(room.active);
                admitted
                    .get_or_create(&labels)
                    .inc_by(u64::try_from(room.admitted).unwrap_or(0));
                lapsed
                    .get_or_create(&labels)
                    .inc_by(u64::try_from(room.lapsed).unwrap_or(0));
                admission_rate
                    .get_or_create(&labels)
                    .set(room.admission_rate);
                if let Some(stock) = room.stock {
                    available.get_or_create(&labels).set(stock.available());
                }
            }
        }
        Err(error) => tracing::warn!(%error, "cannot list the concerts"),
    }
    registry.register(
        "room_waiting",
        "Places waiting (and pre-queued), per concert",
        waiting,
    );
    registry.register("room_active", "ACTIVE places, per concert", active);
    registry.register("room_admitted", "Places admitted, per concert", admitted);
    registry.register(
        "room_lapsed",
        "Places that ended unused (absent waiters skipped, ACTIVE places run out), per concert",
        lapsed,
    );
    registry.register(
        "room_seats_available",
        "Seats nobody holds or owns, as the room knows them, per concert",
        available,
    );
    registry.register(
        "room_admission_rate",
        "Admissions per second now: the operator's rate, or fewer while the write path is over budget, per concert",
        admission_rate,
    );
    let window = state.write_path.last();
    registry.register(
        "write_path_hold_p99_milliseconds",
        "This instance's hold p99 over the admission controller's last window (0: no hold)",
        gauge(window.hold_p99_ms.unwrap_or(0)),
    );
    registry.register(
        "write_path_payment_p99_milliseconds",
        "This instance's payment p99 over the admission controller's last window (0: no payment)",
        gauge(window.pay_p99_ms.unwrap_or(0)),
    );
    let judged = |latency: Option<frontrow_domain::room::WriteLatency>| {
        gauge(latency.map_or(0, |l| l.percentile_ms))
    };
    registry.register(
        "write_path_hold_p90_milliseconds",
        "This instance's hold p90 over the admission controller's last window, the latency it judges (0: no hold)",
        judged(window.holds),
    );
    registry.register(
        "write_path_payment_p90_milliseconds",
        "This instance's payment p90 over the admission controller's last window, the latency it judges (0: no payment)",
        judged(window.payments),
    );
    registry
}

#[handler]
pub async fn metrics(state: Data<&Arc<AppState>>, http: Data<&Arc<HttpMetrics>>) -> Response {
    let scraped = scraped(&state).await;
    let mut out = String::new();
    let encoded = encode_registry(&mut out, &http.registry)
        .and_then(|()| encode_registry(&mut out, &scraped))
        .and_then(|()| encode_eof(&mut out));
    if encoded.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    Response::builder()
        .status(StatusCode::OK)
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> RouteMethods {
        RouteMethods::from_spec(
            r#"{"paths": {
                "/api/v1/reservations/{reservation_id}": {"get": {}},
                "/api/v1/concerts/{concert_id}/schedules": {"get": {}},
                "/health/live": {"get": {}}
            }}"#,
        )
    }

    #[test]
    fn a_route_label_names_the_route_not_the_resource() {
        let routes = routes();
        let label = |path| route_label(&routes, path);
        assert_eq!(
            label("/api/v1/reservations/42"),
            "/api/v1/reservations/{id}"
        );
        assert_eq!(
            label("/api/v1/reservations/not-a-number"),
            "/api/v1/reservations/{id}"
        );
        assert_eq!(
            label("/api/v1/concerts/7/schedules"),
            "/api/v1/concerts/{id}/schedules"
        );
        assert_eq!(label("/health/live"), "/health/live");
        assert_eq!(label("/assets/app.js"), "/assets/{file}");
    }

    #[test]
    fn a_path_or_method_a_client_makes_up_shares_one_label() {
        let routes = routes();
        assert_eq!(route_label(&routes, "/api/zz/1x"), "unmatched");
        assert_eq!(
            route_label(&routes, "/api/v1/reservations/1/x"),
            "unmatched"
        );
        assert_eq!(route_label(&routes, "/wp-login.php"), "unmatched");
        let made_up = poem::http::Method::from_bytes(b"BREW").expect("a token");
        assert_eq!(method_label(&made_up), "other");
        assert_eq!(method_label(&poem::http::Method::POST), "POST");
    }
}
