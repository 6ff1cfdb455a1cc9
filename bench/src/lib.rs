//! The "ticket open" scenario: U buyers (pre-created, each with enough points)
//! join one concert's waiting room within T seconds, poll until ACTIVE (at the
//! pace the server asks for, `refreshIntervalSeconds`), list schedules and
//! seats, try to hold a random AVAILABLE seat (retrying on 409), then pay or
//! abandon the hold. A buyer the room tells that nothing is AVAILABLE
//! (`soldOut`) or that every seat is sold (`SOLD_OUT`, or 409 on joining)
//! leaves: that is an outcome too. A 429 is waited out (its `Retry-After`)
//! and asked again, as the web app does; the statuses count every 429.
//! Afterwards it checks the invariants in the
//! database, and reports its own CPU share so a reader can judge whether the
//! load generator held the server back.
//!
//! Latency is measured per endpoint from the client; a request's time includes
//! queueing in the client, which is what a buyer feels. Beside it, the
//! server's own latency per route, from its `/metrics` (`server_side`), so
//! queueing can be told from server time. The buyers may come from many
//! loopback addresses (`Scenario::addresses`), as a crowd behind carrier
//! NATs does, so limits per address see what they would in production.

pub mod botfarm;
pub mod crowd;
mod prepare;
mod record;
pub mod retry;
pub mod server_side;
pub mod streams;

pub use prepare::{churn, payment_lines, prepare};
pub use record::EndpointStats;

use anyhow::{Context, bail};
use frontrow_client::{Buyer, Client, NewConcert, NewSchedule};
use record::{Recorder, Rng, cpu_time};
use reqwest::StatusCode;
use retry::patiently;
use serde_json::Value;
use server_side::{RouteLatency, SeatMapLag};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Scenario {
    pub schedules: i64,
    pub seats: i64,
    pub price: i64,
    pub users: usize,
    pub join_window: Duration,
    /// Share of buyers who hold a seat and then walk away, 0.0..=1.0.
    pub abandon: f64,
    pub capacity: i64,
    pub admit_per_second: i64,
    /// How many buyers are created at once before the sale opens.
    pub setup_concurrency: usize,
    /// Loopback addresses the buyers come from, spread evenly (buyer `i`
    /// from address `i % addresses`, `crowd::CROWD_BLOCK`); 0: all from the
    /// system's choice (127.0.0.1).
    pub addresses: usize,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            schedules: 2,
            seats: 300,
            price: 100,
            users: 3000,
            join_window: Duration::from_secs(10),
            abandon: 0.1,
            capacity: 500,
            admit_per_second: 400,
            setup_concurrency: 32,
            addresses: 0,
        }
    }
}

/// The API client of a run, and what it has recorded.
struct Api {
    client: Client,
    recorder: Arc<Recorder>,
    /// For what is no buyer's request (scrapes of `/metrics`).
    unobserved: Client,
    base: String,
    admin_key: String,
}

impl Api {
    fn new(base: &str, admin_key: &str) -> anyhow::Result<Self> {
        let recorder = Arc::<Recorder>::default();
        let unobserved = Client::new(crowd::http(None)?, base).with_admin_key(admin_key);
        let client = unobserved.clone().observed_by(recorder.clone());
        Ok(Api {
            client,
            recorder,
            unobserved,
            base: base.to_owned(),
            admin_key: admin_key.to_owned(),
        })
    }

    /// Clients from `count` addresses of `block` (see `crowd::clients`),
    /// recorded with this one.
    fn clients_from(&self, block: u8, count: usize) -> anyhow::Result<Vec<Client>> {
        Ok(crowd::clients(block, count, |http| {
            Client::new(http, &self.base)
                .with_admin_key(&self.admin_key)
                .observed_by(self.recorder.clone())
        })?)
    }

    /// `/metrics`, parsed; empty when the server does not answer it (the
    /// server side of a report is then missing, not the run).
    async fn scrape(&self) -> Vec<server_side::Sample> {
        match self.unobserved.metrics().await {
            Ok((status, text)) if status == StatusCode::OK => server_side::parse(&text),
            _ => Vec::new(),
        }
    }

    /// Creates a concert; its id and the whole answer (with its schedules).
    async fn create_concert(&self, concert: &NewConcert) -> anyhow::Result<(i64, Value)> {
        let created = self.client.create_concert(concert).await?;
        let id = created.body["concertId"]
            .as_i64()
            .with_context(|| format!("cannot create the concert: {}", created.body))?;
        Ok((id, created.body))
    }

    async fn set_queue(&self, concert: i64, capacity: i64, rate: i64) -> anyhow::Result<()> {
        let reply = self
            .client
            .set_queue(concert, capacity, rate, false)
            .await?;
        if reply.status != StatusCode::OK {
            bail!("cannot set the queue policy: {}", reply.body);
        }
        Ok(())
    }
}

/// What one buyer saw, in times since the sale opened.
#[derive(Debug, Clone, Default)]
struct Journey {
    join_sent: Duration,
    join_answered: Duration,
    /// Start of the last poll that still said WAITING.
    last_waiting_poll_sent: Option<Duration>,
    active_seen: Option<Duration>,
    held_at: Option<Duration>,
    paid_at: Option<Duration>,
    /// When the buyer had an outcome: a ticket, a walk-away, or the room's
    /// word that nothing is left.
    outcome_at: Duration,
    /// Admitted, then found no AVAILABLE seat in any schedule.
    admitted_to_nothing: bool,
    outcome: &'static str,
}

/// The first moment any buyer heard that every seat is sold, in
/// milliseconds since the sale opened (u64::MAX: not yet).
struct Closure(std::sync::atomic::AtomicU64);

impl Closure {
    fn heard(&self, at: Duration) {
        self.0
            .fetch_min(at.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
    }
    fn at(&self) -> Option<Duration> {
        let ms = self.0.load(std::sync::atomic::Ordering::Relaxed);
        (ms != u64::MAX).then(|| Duration::from_millis(ms))
    }
}

pub struct Report {
    pub scenario: Scenario,
    pub elapsed: Duration,
    pub endpoints: Vec<EndpointStats>,
    pub statuses: BTreeMap<(String, u16), u64>,
    pub outcomes: BTreeMap<&'static str, usize>,
    pub sold_out_after: Option<Duration>,
    /// When the last seat was held (abandoned holds return only at expiry).
    pub all_taken_after: Option<Duration>,
    pub fairness_violations: usize,
    pub invariants: Vec<(String, i64)>,
    /// When the last buyer had an outcome.
    pub every_outcome_after: Duration,
    /// Buyers admitted who then found nothing AVAILABLE.
    pub admitted_to_nothing: usize,
    /// Buyers admitted after the room had closed (must be 0).
    pub admitted_after_close: usize,
    /// The load generator's CPU time over the sale, as a share of one core.
    pub loadtest_cpu_share: Option<f64>,
    /// The server's latency per route over the sale (empty: no `/metrics`).
    pub server: Vec<RouteLatency>,
    /// The seat-map lag the server reported during the sale, if any.
    pub seat_map_lag: SeatMapLag,
}

impl Report {
    pub fn server_errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|((_, s), _)| *s >= 500)
            .map(|(_, n)| n)
            .sum()
    }
    pub fn invariant_violations(&self) -> i64 {
        self.invariants.iter().map(|(_, n)| n).sum::<i64>() + self.admitted_after_close as i64
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.scenario;
        writeln!(
            f,
            "ticket open: {} users, {} schedules x {} seats, join window {:?}, abandon {:.0}%, capacity {}, admit {}/s",
            s.users,
            s.schedules,
            s.seats,
            s.join_window,
            s.abandon * 100.0,
            s.capacity,
            s.admit_per_second
        )?;
        writeln!(f, "elapsed {:.1} s", self.elapsed.as_secs_f64())?;
        server_side::side_by_side(f, &self.endpoints, &self.server)?;
        write!(f, "{}", self.seat_map_lag)?;
        writeln!(f, "statuses: {:?}", self.statuses)?;
        writeln!(f, "outcomes: {:?}", self.outcomes)?;
        match self.all_taken_after {
            Some(t) => writeln!(
                f,
                "every seat taken (held or sold) after {:.2} s",
                t.as_secs_f64()
            )?,
            None => writeln!(f, "seats left")?,
        }
        match self.sold_out_after {
            Some(t) => writeln!(
                f,
                "sold out (every seat paid) after {:.2} s",
                t.as_secs_f64()
            )?,
            None => writeln!(
                f,
                "not sold out within the run (abandoned holds return only when they expire)"
            )?,
        }
        writeln!(
            f,
            "every buyer had an outcome (ticket, walked away, or told nothing is AVAILABLE) after {:.2} s",
            self.every_outcome_after.as_secs_f64()
        )?;
        writeln!(
            f,
            "admitted while nothing was AVAILABLE: {}",
            self.admitted_to_nothing
        )?;
        if let Some(share) = self.loadtest_cpu_share {
            writeln!(
                f,
                "load generator CPU: {:.0}% of one core over the sale",
                share * 100.0
            )?;
        }
        writeln!(
            f,
            "fairness violations (admitted before an earlier arrival): {}",
            self.fairness_violations
        )?;
        writeln!(
            f,
            "invariant no buyer admitted after the room closed: {} violations",
            self.admitted_after_close
        )?;
        writeln!(f, "5xx responses: {}", self.server_errors())?;
        for (name, n) in &self.invariants {
            writeln!(f, "invariant {name}: {n} violations")?;
        }
        Ok(())
    }
}

/// A new buyer with `points`.
async fn create_buyer(api: &Client, i: usize, points: i64) -> anyhow::Result<Buyer> {
    let name = format!("fan {i}");
    let user = patiently(None, || api.register(&name)).await?;
    let buyer = user
        .buyer()
        .with_context(|| format!("no user id and access token: {}", user.body))?;
    let charged = patiently(None, || api.charge(&buyer, points, None)).await?;
    if charged.status != StatusCode::OK {
        bail!("charge failed: {}", charged.body);
    }
    Ok(buyer)
}

#[allow(clippy::too_many_arguments)]
async fn buyer_journey(
    api: Client,
    opened: Instant,
    delay: Duration,
    buyer: Buyer,
    concert: i64,
    seed: u64,
    abandon: f64,
    closure: Arc<Closure>,
) -> anyhow::Result<Journey> {
    let mut rng = Rng(seed | 1);
    tokio::time::sleep(delay).await;
    let mut journey = Journey {
        join_sent: opened.elapsed(),
        ..Journey::default()
    };
    let joined = patiently(None, || api.join(&buyer, concert)).await?;
    journey.join_answered = opened.elapsed();
    if joined.status == StatusCode::CONFLICT && joined.code() == "SOLD_OUT" {
        closure.heard(journey.join_answered);
        journey.outcome_at = journey.join_answered;
        journey.outcome = "room closed";
        return Ok(journey);
    }
    let token = joined.body["token"]
        .as_str()
        .with_context(|| format!("no queue token: {}", joined.body))?
        .to_owned();
    let leave = || patiently(None, || api.leave(&buyer, &token));
    let mut status = joined.body;
    loop {
        match status["status"].as_str() {
            Some("ACTIVE") => break,
            Some("WAITING") if status["soldOut"] == true => {
                // Nothing is AVAILABLE: most buyers leave rather than wait
                // for a lapsed hold.
                journey.outcome_at = opened.elapsed();
                journey.outcome = "told sold out";
                leave().await?;
                return Ok(journey);
            }
            Some("WAITING") => {}
            Some("SOLD_OUT") => {
                journey.outcome_at = opened.elapsed();
                closure.heard(journey.outcome_at);
                journey.outcome = "room closed";
                leave().await?;
                return Ok(journey);
            }
            _ => bail!("unexpected queue state {status}"),
        }
        // The server's pace, with a little jitter so polls do not align.
        let pace = status["refreshIntervalSeconds"].as_f64().unwrap_or(2.0);
        let pause = Duration::from_millis((pace * 1000.0) as u64 + rng.below(250));
        tokio::time::sleep(pause).await;
        let sent = opened.elapsed();
        status = patiently(None, || api.queue_status(&buyer, &token))
            .await?
            .body;
        if status["status"] == "WAITING" {
            journey.last_waiting_poll_sent = Some(sent);
        }
    }
    journey.active_seen = Some(opened.elapsed());
    let schedules = patiently(None, || api.schedules(&buyer, &token, concert)).await?;
    let mut open: Vec<i64> = schedules.body["schedules"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|s| s["availableSeats"].as_i64().unwrap_or(0) > 0)
                .filter_map(|s| s["scheduleId"].as_i64())
                .collect()
        })
        .unwrap_or_default();
    journey.admitted_to_nothing = open.is_empty();
    let mut held = None;
    let mut attempts = 0;
    while held.is_none() && !open.is_empty() && attempts < 4 {
        attempts += 1;
        let schedule = open[rng.below(open.len() as u64) as usize];
        let free = api.available_seats(&buyer, &token, schedule).await?;
        if free.is_empty() {
            open.retain(|s| *s != schedule);
            continue;
        }
        let seat = free[rng.below(free.len() as u64) as usize];
        let reply = patiently(None, || api.hold(&buyer, &token, schedule, seat)).await?;
        if reply.status == StatusCode::CREATED {
            held = reply.body["reservationId"].as_i64();
            journey.held_at = Some(opened.elapsed());
        }
    }
    let Some(reservation) = held else {
        leave().await?;
        journey.outcome_at = opened.elapsed();
        journey.outcome = "sold out";
        return Ok(journey);
    };
    if rng.chance(abandon) {
        journey.outcome_at = opened.elapsed();
        journey.outcome = "abandoned";
        return Ok(journey);
    }
    let paid = patiently(None, || api.pay(&buyer, &token, reservation)).await?;
    journey.outcome_at = opened.elapsed();
    journey.outcome = if paid.status == StatusCode::CREATED {
        "paid"
    } else {
        "payment refused"
    };
    if paid.status == StatusCode::CREATED {
        journey.paid_at = Some(opened.elapsed());
    }
    Ok(journey)
}

/// Buyers the room let in after it had closed: the room still said WAITING
/// to a poll sent after some buyer had been told every seat is sold, and
/// later said ACTIVE.
fn admitted_after_close(journeys: &[Journey], closed: Option<Duration>) -> usize {
    let Some(closed) = closed else { return 0 };
    journeys
        .iter()
        .filter(|j| j.active_seen.is_some() && j.last_waiting_poll_sent.is_some_and(|t| t > closed))
        .count()
}

/// Users admitted before someone who had finished joining before they began.
/// Provable only: B counts when B was seen ACTIVE before an earlier arrival A
/// even sent a poll that still said WAITING.
fn fairness_violations(journeys: &[Journey]) -> usize {
    let mut arrivals: Vec<&Journey> = journeys.iter().collect();
    arrivals.sort_by_key(|j| j.join_answered);
    // prefix_max[i]: the latest WAITING poll among the first i arrivals.
    let mut prefix_max = Vec::with_capacity(arrivals.len() + 1);
    prefix_max.push(Duration::ZERO);
    for j in &arrivals {
        let last = *prefix_max.last().unwrap_or(&Duration::ZERO);
        prefix_max.push(last.max(j.last_waiting_poll_sent.unwrap_or(Duration::ZERO)));
    }
    journeys
        .iter()
        .filter(|b| {
            let Some(active) = b.active_seen else {
                return false;
            };
            let earlier = arrivals.partition_point(|a| a.join_answered < b.join_sent);
            prefix_max[earlier] > active
        })
        .count()
}

async fn invariants(
    database_url: &str,
    first_user: i64,
    last_user: i64,
) -> anyhow::Result<Vec<(String, i64)>> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url)
        .await
        .context("invariant checks need the database")?;
    let checks: [(&str, &str); 5] = [
        (
            "a seat sold or held twice",
            "SELECT COUNT(*) FROM (SELECT schedule_id, seat_number FROM reservations \
             WHERE user_id BETWEEN ? AND ? AND status IN ('HELD', 'CONFIRMED') \
             GROUP BY schedule_id, seat_number HAVING SUM(CASE WHEN status = 'CONFIRMED' THEN 1 ELSE 0 END) > 1) t",
        ),
        (
            "a sold seat without its confirmed reservation",
            "SELECT COUNT(*) FROM seats s JOIN reservations r ON r.id = s.reservation_id \
             WHERE r.user_id BETWEEN ? AND ? AND s.sold = 1 AND r.status <> 'CONFIRMED'",
        ),
        (
            "a confirmed reservation without exactly one payment line",
            "SELECT COUNT(*) FROM reservations r WHERE r.user_id BETWEEN ? AND ? AND r.status = 'CONFIRMED' \
             AND (SELECT COUNT(*) FROM payment_lines l WHERE l.reservation_id = r.id) <> 1",
        ),
        (
            "a payment line without a confirmed reservation",
            "SELECT COUNT(*) FROM payment_lines l JOIN reservations r ON r.id = l.reservation_id \
             WHERE r.user_id BETWEEN ? AND ? AND r.status <> 'CONFIRMED'",
        ),
        (
            "points: charged - spent <> balances (points differing)",
            "SELECT ABS(CAST((SELECT COALESCE(SUM(balance), 0) FROM users WHERE id BETWEEN ? AND ?) - \
             ((SELECT COALESCE(SUM(delta), 0) FROM point_ledger WHERE user_id BETWEEN ? AND ? AND reason = 'CHARGE') - \
              (SELECT COALESCE(SUM(amount), 0) FROM payments WHERE user_id BETWEEN ? AND ?)) AS SIGNED))",
        ),
    ];
    let mut results = Vec::new();
    for (name, sql) in checks {
        let mut query = sqlx::query(sql);
        for _ in 0..sql.matches("BETWEEN").count() {
            query = query.bind(first_user).bind(last_user);
        }
        use sqlx::Row;
        let n: i64 = query
            .fetch_one(&pool)
            .await
            .with_context(|| format!("check {name}"))?
            .try_get(0)?;
        results.push((name.to_owned(), n));
    }
    Ok(results)
}

/// Runs the scenario against a running server at `base`.
pub async fn ticket_open(
    base: &str,
    admin_key: &str,
    scenario: Scenario,
    database_url: Option<&str>,
) -> anyhow::Result<Report> {
    let api = Api::new(base, admin_key)?;
    let schedules = (0..scenario.schedules)
        .map(|i| {
            let starts_at = format!("2031-01-{:02}T19:00:00Z", i % 28 + 1);
            NewSchedule::new(starts_at, scenario.seats, scenario.price)
        })
        .collect();
    let (concert, _) = api
        .create_concert(&NewConcert::new("Ticket open", schedules))
        .await?;
    api.set_queue(concert, scenario.capacity, scenario.admit_per_second)
        .await?;

    let semaphore = Arc::new(tokio::sync::Semaphore::new(
        scenario.setup_concurrency.max(1),
    ));
    // Buyer i comes from address i % addresses, at sign-up as in the sale.
    let crowd = api.clients_from(crowd::CROWD_BLOCK, scenario.addresses)?;
    let from = |i: usize| crowd[i % crowd.len()].clone();
    let mut setup = Vec::new();
    for i in 0..scenario.users {
        let (api, semaphore, price) = (from(i), semaphore.clone(), scenario.price);
        setup.push(tokio::spawn(async move {
            let _permit = semaphore.acquire().await?;
            create_buyer(&api, i, price * 2).await
        }));
    }
    let mut buyers = Vec::with_capacity(scenario.users);
    for task in setup {
        buyers.push(task.await??);
    }
    let first_user = buyers.iter().map(|b| b.user_id).min().unwrap_or(0);
    let last_user = buyers.iter().map(|b| b.user_id).max().unwrap_or(0);
    api.recorder.take()?; // measure the sale, not the setup
    let before = api.scrape().await;
    let (stop_sampling, sampler) = sample_seat_map_lag(api.unobserved.clone());

    let opened = Instant::now();
    let cpu_at_open = cpu_time();
    let closure = Arc::new(Closure(std::sync::atomic::AtomicU64::new(u64::MAX)));
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let window = scenario.join_window.as_millis() as u64;
    let mut journeys = Vec::with_capacity(buyers.len());
    for (i, buyer) in buyers.into_iter().enumerate() {
        let delay = Duration::from_millis(rng.below(window.max(1)));
        journeys.push(tokio::spawn(buyer_journey(
            from(i),
            opened,
            delay,
            buyer,
            concert,
            rng.next(),
            scenario.abandon,
            closure.clone(),
        )));
    }
    let mut done = Vec::with_capacity(journeys.len());
    let mut outcomes = BTreeMap::new();
    for journey in journeys {
        match journey.await? {
            Ok(journey) => {
                *outcomes.entry(journey.outcome).or_insert(0) += 1;
                done.push(journey);
            }
            Err(error) => {
                eprintln!("buyer failed: {error:#}");
                *outcomes.entry("error").or_insert(0) += 1;
            }
        }
    }
    let elapsed = opened.elapsed();
    let after = api.scrape().await;
    drop(stop_sampling);
    let mut seat_map_lag = sampler.await?;
    seat_map_lag.histograms_between(&before, &after);
    let loadtest_cpu_share = cpu_at_open
        .zip(cpu_time())
        .map(|(before, after)| (after - before).as_secs_f64() / elapsed.as_secs_f64());
    let total_seats = (scenario.schedules * scenario.seats) as usize;
    let paid: Vec<Duration> = done.iter().filter_map(|j| j.paid_at).collect();
    let sold_out_after = (paid.len() >= total_seats)
        .then(|| paid.iter().max().copied())
        .flatten();
    let held: Vec<Duration> = done.iter().filter_map(|j| j.held_at).collect();
    let all_taken_after = (held.len() >= total_seats)
        .then(|| held.iter().max().copied())
        .flatten();

    let mut recorded = api.recorder.take()?;
    let endpoints = recorded.endpoint_stats(elapsed);
    let statuses = recorded
        .statuses
        .into_iter()
        .map(|((n, s), c)| ((n.to_owned(), s), c))
        .collect();
    let invariants = match database_url {
        Some(url) => invariants(url, first_user, last_user).await?,
        None => Vec::new(),
    };
    Ok(Report {
        scenario,
        elapsed,
        endpoints,
        statuses,
        outcomes,
        sold_out_after,
        all_taken_after,
        fairness_violations: fairness_violations(&done),
        invariants,
        every_outcome_after: done.iter().map(|j| j.outcome_at).max().unwrap_or_default(),
        admitted_to_nothing: done.iter().filter(|j| j.admitted_to_nothing).count(),
        admitted_after_close: admitted_after_close(&done, closure.at()),
        loadtest_cpu_share,
        server: server_side::route_latencies(&before, &after),
        seat_map_lag,
    })
}

/// Scrapes `/metrics` once a second until `stop` is dropped, keeping the
/// highest seat-map lag each gauge showed (a gauge read only at the end
/// would show the calm after the sale).
fn sample_seat_map_lag(
    api: Client,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<SeatMapLag>,
) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let sampler = tokio::spawn(async move {
        let mut lag = SeatMapLag::default();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = &mut stopped => return lag,
                _ = tick.tick() => {
                    if let Ok((StatusCode::OK, text)) = api.metrics().await {
                        lag.observe(&server_side::parse(&text));
                    }
                }
            }
        }
    });
    (stop, sampler)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journey(join: u64, waiting_until: Option<u64>, active: u64) -> Journey {
        Journey {
            join_sent: Duration::from_millis(join),
            join_answered: Duration::from_millis(join + 1),
            last_waiting_poll_sent: waiting_until.map(Duration::from_millis),
            active_seen: Some(Duration::from_millis(active)),
            ..Journey::default()
        }
    }

    #[test]
    fn a_later_arrival_admitted_while_an_earlier_one_still_waits_is_a_violation() {
        let fair = [journey(0, Some(100), 150), journey(10, Some(200), 250)];
        assert_eq!(fairness_violations(&fair), 0);
        let unfair = [journey(0, Some(300), 350), journey(10, None, 50)];
        assert_eq!(fairness_violations(&unfair), 1);
    }
}
