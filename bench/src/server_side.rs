//! The server's side of a run, read from its `/metrics` (the Prometheus /
//! OpenMetrics text of `adapters/src/http/metrics.rs`): each route's latency
//! histogram scraped before and after the sale, so the difference is the
//! sale's own requests, and the seat-map lag if the server exposes one.
//!
//! A client's latency includes waiting for a core in the load generator and
//! in the kernel; the server's histogram starts when the request reaches the
//! handler stack. The two side by side tell queueing from server time.
//!
//! The server's quantiles come from histogram buckets (powers of two from
//! 0.5 ms), interpolated linearly within the bucket the rank falls in, as
//! Prometheus's `histogram_quantile` does: "300 ms" means "in the 256-512 ms
//! bucket", not a measured 300.

use crate::EndpointStats;
use std::collections::BTreeMap;
use std::fmt;

/// The histogram of request latency per route.
const REQUEST_DURATION: &str = "frontrow_http_request_duration_seconds";

/// Series named `frontrow_seat_map…lag…` are the seat-map lag (issue 26):
/// whichever kind the server exposes (gauges such as
/// `frontrow_seat_map_lag_seconds` and `frontrow_seat_map_read_lag_max_seconds`,
/// or a histogram), or none.
const SEAT_MAP: &str = "frontrow_seat_map";

fn is_lag(name: &str) -> bool {
    name.starts_with(SEAT_MAP) && name.contains("lag")
}

/// Which route each of the client's endpoints is (`method`, `route` labels).
pub const ROUTES: [(&str, &str, &str); 10] = [
    ("users", "POST", "/api/v1/users"),
    ("charge", "POST", "/api/v1/points/charge"),
    ("queue_join", "POST", "/api/v1/queue/tokens"),
    ("queue_status", "GET", "/api/v1/queue/status"),
    ("queue_leave", "DELETE", "/api/v1/queue/tokens"),
    ("schedules", "GET", "/api/v1/concerts/{id}/schedules"),
    ("seats", "GET", "/api/v1/schedules/{id}/seats"),
    ("hold", "POST", "/api/v1/reservations"),
    ("pay", "POST", "/api/v1/payments"),
    ("pay_cart", "POST", "/api/v1/payments"),
];

/// One line of the exposition: a series' name, its labels and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Every sample of an exposition; comments and lines that do not parse are
/// skipped (a metric this reader does not know is no reason to fail a run).
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(after_brace) = rest.strip_prefix('{') {
        // Values are quoted and may hold `}` and `,` (a route is
        // `/api/v1/concerts/{id}/schedules`), so read them char by char.
        let mut chars = after_brace.char_indices().peekable();
        loop {
            while chars.next_if(|(_, c)| *c == ',' || *c == ' ').is_some() {}
            let (start, first) = chars.next()?;
            if first == '}' {
                rest = &after_brace[start + 1..];
                break;
            }
            let mut key = String::from(first);
            for (_, c) in chars.by_ref() {
                if c == '=' {
                    break;
                }
                key.push(c);
            }
            if chars.next()?.1 != '"' {
                return None;
            }
            let mut value = String::new();
            loop {
                match chars.next()?.1 {
                    '"' => break,
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    c => value.push(c),
                }
            }
            labels.insert(key.trim().to_owned(), value);
        }
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// A histogram's cumulative buckets: (upper bound, count at or below it),
/// ascending, the last one `+Inf`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Buckets(Vec<(f64, f64)>);

impl Buckets {
    /// How many observations in all.
    pub fn count(&self) -> f64 {
        self.0.last().map_or(0.0, |(_, n)| *n)
    }

    /// What was observed between `earlier` and `self` (both of the same
    /// histogram, so the same bounds).
    pub fn since(&self, earlier: &Buckets) -> Buckets {
        Buckets(
            self.0
                .iter()
                .map(|&(le, n)| {
                    let before = earlier
                        .0
                        .iter()
                        .find(|(b, _)| *b == le)
                        .map_or(0.0, |(_, m)| *m);
                    (le, (n - before).max(0.0))
                })
                .collect(),
        )
    }

    /// The `q` quantile, interpolated within its bucket (as Prometheus's
    /// `histogram_quantile`); a rank in the `+Inf` bucket answers the
    /// highest finite bound. `None` when nothing was observed.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let i = self.0.iter().position(|(_, n)| *n >= rank)?;
        let (upper, count) = self.0[i];
        let (lower, below) = if i == 0 { (0.0, 0.0) } else { self.0[i - 1] };
        if upper.is_infinite() {
            return Some(lower);
        }
        if count <= below {
            return Some(upper);
        }
        Some(lower + (upper - lower) * (rank - below) / (count - below))
    }
}

/// Every histogram named `name` in `samples`, by its labels other than `le`.
fn histograms(samples: &[Sample], name: &str) -> BTreeMap<BTreeMap<String, String>, Buckets> {
    let bucket = format!("{name}_bucket");
    let mut found: BTreeMap<BTreeMap<String, String>, Buckets> = BTreeMap::new();
    for sample in samples.iter().filter(|s| s.name == bucket) {
        let mut labels = sample.labels.clone();
        let Some(le) = labels.remove("le") else {
            continue;
        };
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            match le.parse() {
                Ok(le) => le,
                Err(_) => continue,
            }
        };
        found.entry(labels).or_default().0.push((le, sample.value));
    }
    for buckets in found.values_mut() {
        buckets.0.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    found
}

/// One route's server-side latency over the sale, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteLatency {
    pub method: String,
    pub route: String,
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Each route's latency between two scrapes: the requests answered in
/// between, busiest route first.
pub fn route_latencies(before: &[Sample], after: &[Sample]) -> Vec<RouteLatency> {
    let earlier = histograms(before, REQUEST_DURATION);
    let mut routes: Vec<RouteLatency> = histograms(after, REQUEST_DURATION)
        .into_iter()
        .filter_map(|(labels, buckets)| {
            let during = match earlier.get(&labels) {
                Some(earlier) => buckets.since(earlier),
                None => buckets,
            };
            Some(RouteLatency {
                method: labels.get("method")?.clone(),
                route: labels.get("route")?.clone(),
                count: during.count() as u64,
                p50_ms: during.quantile(0.50)? * 1000.0,
                p99_ms: during.quantile(0.99)? * 1000.0,
            })
        })
        .collect();
    routes.sort_by_key(|r| std::cmp::Reverse(r.count));
    routes
}

/// The seat-map lag as the server reports it, if it does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SeatMapLag {
    /// A histogram's p50 and p99 over the sale, per histogram name.
    pub histograms: Vec<(String, f64, f64)>,
    /// A gauge's highest reading (any map) over the scrapes during the
    /// sale, and how many scrapes saw it, per gauge name.
    pub gauges: BTreeMap<String, (f64, usize)>,
}

impl SeatMapLag {
    /// Takes in one scrape during the sale: the highest value of each lag
    /// gauge (a histogram's series are read once, at the end).
    pub fn observe(&mut self, samples: &[Sample]) {
        let mut seen: BTreeMap<&str, f64> = BTreeMap::new();
        for sample in samples.iter().filter(|s| is_lag_gauge(&s.name, samples)) {
            let highest = seen.entry(&sample.name).or_insert(f64::NEG_INFINITY);
            *highest = highest.max(sample.value);
        }
        for (name, value) in seen {
            let (highest, scrapes) = self
                .gauges
                .entry(name.to_owned())
                .or_insert((f64::NEG_INFINITY, 0));
            *highest = highest.max(value);
            *scrapes += 1;
        }
    }

    /// Reads each lag histogram's quantiles between two scrapes.
    pub fn histograms_between(&mut self, before: &[Sample], after: &[Sample]) {
        let names: std::collections::BTreeSet<&str> = after
            .iter()
            .filter_map(|s| s.name.strip_suffix("_bucket"))
            .filter(|name| is_lag(name))
            .collect();
        for name in names {
            let earlier = histograms(before, name);
            // Every map's observations together: the lag a reader met.
            let mut all = Buckets::default();
            for (labels, buckets) in histograms(after, name) {
                let during = match earlier.get(&labels) {
                    Some(earlier) => buckets.since(earlier),
                    None => buckets,
                };
                all = all.plus(&during);
            }
            if let (Some(p50), Some(p99)) = (all.quantile(0.5), all.quantile(0.99)) {
                self.histograms.push((name.to_owned(), p50, p99));
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.histograms.is_empty() && self.gauges.is_empty()
    }
}

impl Buckets {
    /// Two histograms of the same bounds added.
    fn plus(&self, other: &Buckets) -> Buckets {
        if self.0.is_empty() {
            return other.clone();
        }
        Buckets(
            self.0
                .iter()
                .map(|&(le, n)| {
                    let m = other
                        .0
                        .iter()
                        .find(|(b, _)| *b == le)
                        .map_or(0.0, |(_, m)| *m);
                    (le, n + m)
                })
                .collect(),
        )
    }
}

/// A lag series that is a plain value (not part of a histogram).
fn is_lag_gauge(name: &str, samples: &[Sample]) -> bool {
    if !is_lag(name) {
        return false;
    }
    let histogram_part = ["_bucket", "_sum", "_count", "_created"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix));
    match histogram_part {
        // `x_sum` is a gauge only when no `x_bucket` exists.
        Some(base) => !samples
            .iter()
            .any(|s| s.name.strip_suffix("_bucket") == Some(base)),
        None => true,
    }
}

/// The client's latency per endpoint with the server's for its route
/// beside it ("-" where the server reported nothing).
pub fn side_by_side(
    f: &mut fmt::Formatter<'_>,
    client: &[EndpointStats],
    server: &[RouteLatency],
) -> fmt::Result {
    writeln!(
        f,
        "{:<14} {:>8} {:>9} {:>8} {:>8} {:>8} | {:>10} {:>10}",
        "endpoint", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "server p50", "server p99"
    )?;
    for e in client {
        let on_server =
            ROUTES
                .iter()
                .find(|(name, _, _)| *name == e.name)
                .and_then(|(_, method, route)| {
                    server
                        .iter()
                        .find(|r| r.method == *method && r.route == *route)
                });
        let (p50, p99) = match on_server {
            Some(r) => (format!("{:.2}", r.p50_ms), format!("{:.2}", r.p99_ms)),
            None => ("-".to_owned(), "-".to_owned()),
        };
        writeln!(
            f,
            "{:<14} {:>8} {:>9.1} {:>8.2} {:>8.2} {:>8.2} | {:>10} {:>10}",
            e.name, e.count, e.per_second, e.p50_ms, e.p95_ms, e.p99_ms, p50, p99
        )?;
    }
    if server.is_empty() {
        writeln!(f, "server side: no /metrics answered")
    } else {
        writeln!(
            f,
            "server side: /metrics latency histograms over the sale (buckets 0.5, 1, 2, ... ms), \
             interpolated within a bucket as histogram_quantile does; a route serves every \
             client of it (pay and pay_cart are one route)"
        )
    }
}

impl fmt::Display for SeatMapLag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return writeln!(f, "seat-map lag: the server exposes none ({SEAT_MAP}*lag*)");
        }
        for (name, p50, p99) in &self.histograms {
            writeln!(
                f,
                "seat-map lag {name} (histogram over the sale, interpolated): p50 {p50:.4}, p99 {p99:.4}"
            )?;
        }
        for (name, (highest, scrapes)) in &self.gauges {
            writeln!(
                f,
                "seat-map lag {name} (gauge, highest of any map over {scrapes} scrapes during the sale): {highest:.4}"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRAPE: &str = r#"# HELP frontrow_http_request_duration_seconds Time to answer.
# TYPE frontrow_http_request_duration_seconds histogram
frontrow_http_request_duration_seconds_sum{method="GET",route="/api/v1/concerts/{id}/schedules"} 1.5
frontrow_http_request_duration_seconds_count{method="GET",route="/api/v1/concerts/{id}/schedules"} 100
frontrow_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/api/v1/concerts/{id}/schedules"} 50
frontrow_http_request_duration_seconds_bucket{le="0.002",method="GET",route="/api/v1/concerts/{id}/schedules"} 90
frontrow_http_request_duration_seconds_bucket{le="0.004",method="GET",route="/api/v1/concerts/{id}/schedules"} 100
frontrow_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/api/v1/concerts/{id}/schedules"} 100
frontrow_seat_map_lag_seconds{schedule="1"} 0.012
frontrow_seat_map_lag_seconds{schedule="2"} 0.040
frontrow_seat_map_read_lag_max_seconds 0.070
# EOF
"#;

    #[test]
    fn a_label_value_may_hold_braces_and_commas() {
        let samples = parse(r#"x_total{route="/a/{id},b",code="A\"B"} 3"#);
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].labels["route"], "/a/{id},b");
        assert_eq!(samples[0].labels["code"], "A\"B");
        assert_eq!(samples[0].value, 3.0);
        assert!(
            parse("# EOF\n\nplain 1.5\n")
                .iter()
                .any(|s| s.name == "plain")
        );
    }

    #[test]
    fn a_quantile_is_interpolated_within_its_bucket() {
        let routes = route_latencies(&[], &parse(SCRAPE));
        assert_eq!(routes.len(), 1);
        let schedules = &routes[0];
        assert_eq!(schedules.route, "/api/v1/concerts/{id}/schedules");
        assert_eq!(schedules.count, 100);
        // Rank 50 is the last of the first bucket: its upper bound.
        assert!((schedules.p50_ms - 1.0).abs() < 1e-9);
        // Rank 99 is the 9th of the 10 in the 2-4 ms bucket.
        assert!((schedules.p99_ms - 3.8).abs() < 1e-9);
    }

    #[test]
    fn only_what_was_observed_between_the_scrapes_counts() {
        let before = parse(SCRAPE);
        let after = parse(&SCRAPE.replace("} 100\n", "} 110\n"));
        let routes = route_latencies(&before, &after);
        // 10 more, all in the 2-4 ms bucket (and +Inf).
        assert_eq!(routes[0].count, 10);
        assert!(routes[0].p50_ms > 2.0 && routes[0].p50_ms <= 4.0);
    }

    #[test]
    fn a_rank_beyond_the_last_finite_bound_reads_that_bound() {
        let buckets = Buckets(vec![(0.5, 1.0), (f64::INFINITY, 10.0)]);
        assert_eq!(buckets.quantile(0.99), Some(0.5));
        assert_eq!(Buckets::default().quantile(0.5), None);
    }

    #[test]
    fn the_seat_map_lag_is_read_as_a_gauge_or_a_histogram_or_not_at_all() {
        let mut lag = SeatMapLag::default();
        lag.observe(&parse(SCRAPE));
        lag.observe(&parse(&SCRAPE.replace("0.040", "0.090")));
        assert_eq!(lag.gauges["frontrow_seat_map_lag_seconds"], (0.090, 2));
        assert_eq!(
            lag.gauges["frontrow_seat_map_read_lag_max_seconds"],
            (0.070, 2)
        );

        let histogram = "frontrow_seat_map_lag_seconds_bucket{le=\"0.1\"} 9\n\
                         frontrow_seat_map_lag_seconds_bucket{le=\"+Inf\"} 10\n\
                         frontrow_seat_map_lag_seconds_sum 0.3\n";
        let mut lag = SeatMapLag::default();
        lag.observe(&parse(histogram));
        assert!(lag.gauges.is_empty(), "a histogram's sum is no gauge");
        lag.histograms_between(&[], &parse(histogram));
        assert_eq!(lag.histograms.len(), 1);
        assert_eq!(lag.histograms[0].0, "frontrow_seat_map_lag_seconds");

        let mut none = SeatMapLag::default();
        none.observe(&parse("frontrow_seat_map_loads_total 3\n"));
        none.histograms_between(&[], &[]);
        assert!(none.is_empty());
    }
}
