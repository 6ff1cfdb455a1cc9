//! `GET /metrics`: Prometheus text for what operators watch during a sale.

use super::AppState;
use poem::http::StatusCode;
use poem::{Response, handler, web::Data};
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

#[handler]
pub async fn metrics(state: Data<&Arc<AppState>>) -> Response {
    let relay = &state.relay;
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, kind: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    match relay.backlog().await {
        Ok(backlog) => {
            let age = backlog
                .oldest_unpublished_at
                .map(|at| (relay.now().millis() - at.millis()).max(0) as f64 / 1000.0)
                .unwrap_or(0.0);
            gauge(
                "frontrow_outbox_unpublished",
                "Outbox events not yet published.",
                "gauge",
                backlog.unpublished as f64,
            );
            gauge(
                "frontrow_outbox_oldest_unpublished_seconds",
                "Age of the oldest unpublished event.",
                "gauge",
                age,
            );
        }
        Err(error) => tracing::warn!(%error, "cannot read the outbox backlog"),
    }
    let stats = &relay.stats;
    gauge(
        "frontrow_outbox_published_total",
        "Events this instance published.",
        "counter",
        stats.published_total.load(Ordering::Relaxed) as f64,
    );
    gauge(
        "frontrow_outbox_publish_failures_total",
        "Failed publish attempts.",
        "counter",
        stats.failures_total.load(Ordering::Relaxed) as f64,
    );
    gauge(
        "frontrow_outbox_publish_lag_seconds",
        "Occurred-to-published time of the newest event of the last batch.",
        "gauge",
        stats.last_lag_ms.load(Ordering::Relaxed) as f64 / 1000.0,
    );
    gauge(
        "frontrow_seat_map_loads_total",
        "Whole seat maps read from the database (start, unfillable gaps, age).",
        "counter",
        state.catalogue.seat_map_loads() as f64,
    );
    gauge(
        "frontrow_seat_changes_applied_total",
        "Seat changes applied to this instance's maps from the change log.",
        "counter",
        state.catalogue.seat_changes_applied() as f64,
    );
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/plain; version=0.0.4")
        .body(out)
}
