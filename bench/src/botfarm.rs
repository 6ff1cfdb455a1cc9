//! The bot-farm scenario (issue 25): people against a farm, in one sale.
//!
//! People, each from a loopback address of their own, join within a window,
//! wait their turn, hold the seats they want and pay for them; a person keeps
//! trying (waiting while nothing is AVAILABLE, joining again when a place
//! ends) until they have their seats, the room says every seat is sold, or
//! their patience runs out. At the same moment a farm on a few addresses
//! creates as many accounts as it can, joins with each and hoards: once
//! ACTIVE it holds as many seats as the server lets one account hold, never
//! pays, and holds again as its holds lapse, joining again when a place
//! ends. Optionally it charges each account's points first (free on this
//! service). Both sides obey `Retry-After` and solve the door's challenge
//! when the server asks for one (`door`).
//!
//! The report: the share of the people's demand the people bought, what the
//! farm got (accounts, places, holds) and spent (points, challenge time),
//! the 429s each side met, and the people's latency against a run of the
//! same people without the farm (`baseline`).

mod door;
mod journeys;

use crate::EndpointStats;
use crate::crowd::{self, FARM_BLOCK, PEOPLE_BLOCK};
use crate::record::{Recorder, Rng};
use anyhow::{Context, bail};
use door::Door;
use frontrow_client::{Buyer, Client, NewConcert, NewSchedule};
use journeys::{FarmStats, PersonOutcome, hoarder, person};
use reqwest::StatusCode;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What a run of the scenario is made of.
#[derive(Debug, Clone)]
pub struct BotFarm {
    /// People, each from their own address.
    pub people: usize,
    /// Seats each person wants.
    pub wanted: usize,
    /// Seats on sale (one schedule).
    pub seats: i64,
    pub price: i64,
    /// People join at random moments within this window.
    pub people_window: Duration,
    /// How long a person keeps trying after first joining.
    pub patience: Duration,
    /// Sign-ups the farm attempts (each retried after a 429 until the end).
    pub farm_accounts: usize,
    /// Addresses the farm spreads its accounts over.
    pub farm_addresses: usize,
    /// The farm charges each account enough points for `seats_per_account`
    /// seats before it joins.
    pub farm_points: bool,
    /// Seats one account may hold (the server's `--max-seats-per-user`):
    /// what a farm that charges points charges for.
    pub seats_per_account: usize,
    /// Sign-ups the farm has in flight at once.
    pub farm_concurrency: usize,
    pub capacity: i64,
    pub admit_per_second: i64,
    /// First run the same people alone, for their latency without the farm.
    pub baseline: bool,
    /// The concert's own door level (`PUT /api/v1/admin/concerts/{id}/door`,
    /// 0 to 10: every join pays at least that much work); `None`: the
    /// server's settings alone.
    pub door_level: Option<i64>,
}

impl BotFarm {
    /// The people's demand the seats on sale can meet.
    pub fn demand(&self) -> usize {
        (self.people * self.wanted).min(usize::try_from(self.seats).unwrap_or(0))
    }
}

impl Default for BotFarm {
    /// Issue 25's "Why": 200 people wanting 2 seats each, 200 seats, a farm
    /// of 2,000 accounts on 2 addresses, a room of 50 admitting 50/s.
    fn default() -> Self {
        BotFarm {
            people: 200,
            wanted: 2,
            seats: 200,
            price: 100,
            people_window: Duration::from_secs(20),
            patience: Duration::from_secs(120),
            farm_accounts: 2_000,
            farm_addresses: 2,
            farm_points: false,
            seats_per_account: 4,
            farm_concurrency: 64,
            capacity: 50,
            admit_per_second: 50,
            baseline: true,
            door_level: None,
        }
    }
}

/// The people's side of one sale.
pub struct PeopleRun {
    pub seconds: f64,
    /// Seats the people paid for.
    pub bought: usize,
    /// People who got every seat they wanted, some, none.
    pub satisfied: usize,
    pub partly: usize,
    pub empty_handed: usize,
    /// People who were ever ACTIVE, and the median time from their first
    /// join to their first ACTIVE.
    pub admitted: usize,
    pub to_active_p50_ms: Option<f64>,
    /// Time spent solving the door's challenges, median and p95 per person.
    pub door_p50_ms: f64,
    pub door_p95_ms: f64,
    pub endpoints: Vec<EndpointStats>,
    pub too_many_requests: u64,
    pub statuses: BTreeMap<(String, u16), u64>,
    pub errors: usize,
}

/// The farm's side of a sale.
pub struct FarmRun {
    pub attempted: usize,
    pub accounts: u64,
    pub sign_ups_refused: u64,
    pub places: u64,
    pub holds: u64,
    pub points_charged: u64,
    pub challenges: u64,
    pub challenge_seconds: f64,
    pub too_many_requests: u64,
    pub requests: u64,
    /// Seats held (by anyone) and sold when the people were done.
    pub held_at_end: i64,
    pub sold_at_end: i64,
    /// Answers of 500 and above the farm met.
    pub server_errors: u64,
}

pub struct BotFarmReport {
    pub scenario: BotFarm,
    pub baseline: Option<PeopleRun>,
    pub people: PeopleRun,
    pub farm: FarmRun,
}

impl BotFarmReport {
    /// The share of the people's demand the people bought, 0.0..=1.0, of
    /// the demand the stock can meet: 200 people wanting 2 seats each for
    /// 200 seats have bought all they could with 200.
    pub fn people_share(&self) -> f64 {
        self.people.bought as f64 / self.scenario.demand().max(1) as f64
    }

    /// Answers of 500 and above, on either side.
    pub fn server_errors(&self) -> u64 {
        let people: u64 = self
            .people
            .statuses
            .iter()
            .filter(|((_, s), _)| *s >= 500)
            .map(|(_, n)| n)
            .sum();
        people + self.farm.server_errors
    }
}

/// The people's clients, and their accounts with points for what they want.
struct People {
    clients: Vec<Client>,
    buyers: Vec<Buyer>,
    recorder: Arc<Recorder>,
}

impl People {
    async fn sign_up(base: &str, s: &BotFarm) -> anyhow::Result<People> {
        let recorder = Arc::<Recorder>::default();
        let clients = crowd::clients(PEOPLE_BLOCK, s.people, |http| {
            Client::new(http, base).observed_by(recorder.clone())
        })?;
        let semaphore = Arc::new(tokio::sync::Semaphore::new(32));
        let door = Door {
            recorder: recorder.clone(),
        };
        let mut tasks = Vec::with_capacity(s.people);
        for (i, client) in clients.iter().enumerate() {
            let (client, semaphore, door) = (client.clone(), semaphore.clone(), door.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = semaphore.acquire().await?;
                let name = format!("person {i} {}", nonce());
                let (buyer, _) = door
                    .sign_up(&client, &name, Some("correct horse battery"), None)
                    .await?;
                buyer.with_context(|| format!("person {i} cannot sign up"))
            }));
        }
        let mut buyers = Vec::with_capacity(s.people);
        for task in tasks {
            buyers.push(task.await??);
        }
        Ok(People {
            clients,
            buyers,
            recorder,
        })
    }

    /// Tops every person up to the points for the seats they want.
    async fn charge(&self, s: &BotFarm, run: &str) -> anyhow::Result<()> {
        let amount = s.price * s.wanted as i64;
        for (client, buyer) in self.clients.iter().zip(&self.buyers) {
            let key = format!("{run}-{}", buyer.user_id);
            let charged = client.charge(buyer, amount, Some(&key)).await?;
            if charged.status != StatusCode::OK {
                bail!("cannot charge a person: {}", charged.body);
            }
        }
        Ok(())
    }

    /// One sale: every person's journey, and the farm's while it lasts.
    async fn shop(&self, s: &BotFarm, sale: &Sale) -> anyhow::Result<PeopleRun> {
        self.recorder.take()?;
        let started = Instant::now();
        let mut rng = Rng(0x0b07_fa12_5eed_0001);
        let window = s.people_window.as_millis() as u64;
        let mut tasks = Vec::with_capacity(s.people);
        for (client, buyer) in self.clients.iter().zip(&self.buyers) {
            let delay = Duration::from_millis(rng.below(window.max(1)));
            tasks.push(tokio::spawn(person(
                client.clone(),
                Door {
                    recorder: self.recorder.clone(),
                },
                buyer.clone(),
                *sale,
                s.wanted,
                delay,
                s.patience,
                rng.next(),
            )));
        }
        let mut outcomes: Vec<PersonOutcome> = Vec::with_capacity(tasks.len());
        let mut errors = 0;
        for task in tasks {
            match task.await? {
                Ok(outcome) => outcomes.push(outcome),
                Err(error) => {
                    eprintln!("a person failed: {error:#}");
                    errors += 1;
                }
            }
        }
        let elapsed = started.elapsed();
        let mut recorded = self.recorder.take()?;
        let mut to_active: Vec<u32> = outcomes
            .iter()
            .filter_map(|o| o.to_active.map(|d| d.as_micros() as u32))
            .collect();
        to_active.sort_unstable();
        let mut door: Vec<u32> = outcomes.iter().map(|o| o.door.as_micros() as u32).collect();
        door.sort_unstable();
        let bought = outcomes.iter().map(|o| o.bought).sum();
        let satisfied = outcomes.iter().filter(|o| o.bought >= s.wanted).count();
        let empty_handed = outcomes.iter().filter(|o| o.bought == 0).count() + errors;
        Ok(PeopleRun {
            seconds: elapsed.as_secs_f64(),
            bought,
            satisfied,
            partly: s.people - satisfied - empty_handed,
            empty_handed,
            admitted: to_active.len(),
            to_active_p50_ms: (!to_active.is_empty())
                .then(|| crate::record::percentile(&to_active, 0.5)),
            door_p50_ms: crate::record::percentile(&door, 0.5),
            door_p95_ms: crate::record::percentile(&door, 0.95),
            too_many_requests: recorded.count_of(429),
            endpoints: recorded.endpoint_stats(elapsed),
            statuses: recorded
                .statuses
                .iter()
                .map(|((n, s), c)| ((n.to_string(), *s), *c))
                .collect(),
            errors,
        })
    }
}

/// The sale a run is about: its concert and its one schedule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sale {
    pub(crate) concert: i64,
    pub(crate) schedule: i64,
}

async fn new_sale(operator: &Client, s: &BotFarm, title: &str) -> anyhow::Result<Sale> {
    let schedule = NewSchedule::new("2031-03-01T19:00:00Z", s.seats, s.price);
    let created = operator
        .create_concert(&NewConcert::new(title, vec![schedule]))
        .await?;
    let (Some(concert), Some(schedule)) = (
        created.body["concertId"].as_i64(),
        created.body["schedules"][0]["scheduleId"].as_i64(),
    ) else {
        bail!("cannot create the concert: {}", created.body);
    };
    let policy = operator
        .set_queue(concert, s.capacity, s.admit_per_second, false)
        .await?;
    if policy.status != StatusCode::OK {
        bail!("cannot set the queue policy: {}", policy.body);
    }
    if let Some(level) = s.door_level {
        let door = operator.set_door_level(concert, level).await?;
        if !door.status.is_success() {
            bail!("cannot set the door's level: {}", door.body);
        }
    }
    Ok(Sale { concert, schedule })
}

/// Runs the scenario against the server at `base`.
pub async fn botfarm(base: &str, admin_key: &str, s: BotFarm) -> anyhow::Result<BotFarmReport> {
    let operator = Client::new(crowd::http(None)?, base).with_admin_key(admin_key);
    let people = People::sign_up(base, &s).await?;

    let baseline = if s.baseline {
        let sale = new_sale(&operator, &s, "Without the farm").await?;
        people.charge(&s, "baseline").await?;
        Some(people.shop(&s, &sale).await?)
    } else {
        None
    };

    let sale = new_sale(&operator, &s, "With the farm").await?;
    people.charge(&s, "farm").await?;
    let farm_recorder = Arc::<Recorder>::default();
    let farm_clients = crowd::clients(FARM_BLOCK, s.farm_addresses.max(1), |http| {
        Client::new(http, base).observed_by(farm_recorder.clone())
    })?;
    let stats = Arc::new(FarmStats::default());
    let door = Door {
        recorder: farm_recorder.clone(),
    };
    let farm = tokio::spawn(run_farm(farm_clients, door, s.clone(), sale, stats.clone()));
    let shopped = people.shop(&s, &sale).await;
    farm.abort();
    let _ = farm.await;
    let people_run = shopped?;

    let counts = operator.seat_counts(sale.concert).await?;
    let farm_recorded = farm_recorder.take()?;
    let seconds = stats.challenge_micros.load(Ordering::Relaxed) as f64 / 1e6;
    Ok(BotFarmReport {
        farm: FarmRun {
            attempted: s.farm_accounts,
            accounts: stats.accounts.load(Ordering::Relaxed),
            sign_ups_refused: farm_recorded
                .statuses
                .get(&("users", 429))
                .copied()
                .unwrap_or(0),
            places: stats.places.load(Ordering::Relaxed),
            holds: stats.holds.load(Ordering::Relaxed),
            points_charged: stats.points.load(Ordering::Relaxed),
            challenges: stats.challenges.load(Ordering::Relaxed),
            challenge_seconds: seconds,
            too_many_requests: farm_recorded.count_of(429),
            requests: farm_recorded.statuses.values().sum(),
            held_at_end: counts.body["schedules"][0]["held"].as_i64().unwrap_or(-1),
            sold_at_end: counts.body["schedules"][0]["sold"].as_i64().unwrap_or(-1),
            server_errors: farm_recorded
                .statuses
                .iter()
                .filter(|((_, s), _)| *s >= 500)
                .map(|(_, n)| n)
                .sum(),
        },
        scenario: s,
        baseline,
        people: people_run,
    })
}

/// The farm: sign-ups `farm_concurrency` at a time over its addresses, and
/// each account's hoarding from then on, until it is aborted.
async fn run_farm(clients: Vec<Client>, door: Door, s: BotFarm, sale: Sale, stats: Arc<FarmStats>) {
    let signing_up = Arc::new(tokio::sync::Semaphore::new(s.farm_concurrency.max(1)));
    let mut accounts = tokio::task::JoinSet::new();
    let points = if s.farm_points {
        s.price * s.seats_per_account as i64
    } else {
        0
    };
    for i in 0..s.farm_accounts {
        let Ok(permit) = signing_up.clone().acquire_owned().await else {
            break;
        };
        let client = clients[i % clients.len()].clone();
        accounts.spawn(hoarder(
            client,
            door.clone(),
            format!("farm {i} {}", nonce()),
            sale,
            points,
            stats.clone(),
            permit,
            0xfa12_0000 + i as u64,
        ));
    }
    // Dropping the set (when this task is aborted) aborts every account.
    while accounts.join_next().await.is_some() {}
}

/// A few characters no earlier run used, so names never collide.
fn nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{:x}", nanos & 0xffff_ffff_ffff)
}

impl fmt::Display for BotFarmReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.scenario;
        writeln!(
            f,
            "bot farm: {} people wanting {} seats each ({} seats, room {} at {}/s, people join within {:?}, patience {:?}) against {} accounts attempted on {} addresses, {}",
            s.people,
            s.wanted,
            s.seats,
            s.capacity,
            s.admit_per_second,
            s.people_window,
            s.patience,
            s.farm_accounts,
            s.farm_addresses,
            if s.farm_points {
                "charging points first"
            } else {
                "empty accounts"
            }
        )?;
        let p = &self.people;
        writeln!(
            f,
            "people bought {} seats of the {} they wanted ({} on sale): {:.1}% of the demand the stock can meet ({} got all, {} some, {} none; {} failed) in {:.1} s",
            p.bought,
            s.people * s.wanted,
            s.seats,
            self.people_share() * 100.0,
            p.satisfied,
            p.partly,
            p.empty_handed,
            p.errors,
            p.seconds
        )?;
        let farm = &self.farm;
        writeln!(
            f,
            "farm: {} of {} accounts created ({} sign-ups refused), {} places, {} holds; at the end {} seats held, {} sold",
            farm.accounts,
            farm.attempted,
            farm.sign_ups_refused,
            farm.places,
            farm.holds,
            farm.held_at_end,
            farm.sold_at_end
        )?;
        writeln!(
            f,
            "farm spent: {} points charged, {} challenges solved in {:.1} s of one core ({:.2} s per hold taken)",
            farm.points_charged,
            farm.challenges,
            farm.challenge_seconds,
            farm.challenge_seconds / farm.holds.max(1) as f64
        )?;
        writeln!(
            f,
            "429s: people {} of their {} requests, farm {} of {}",
            p.too_many_requests,
            p.endpoints.iter().map(|e| e.count).sum::<usize>(),
            farm.too_many_requests,
            farm.requests
        )?;
        writeln!(
            f,
            "people at the door (challenge time): p50 {:.0} ms, p95 {:.0} ms; {} of {} people ever ACTIVE, first join to ACTIVE p50: {}",
            p.door_p50_ms,
            p.door_p95_ms,
            p.admitted,
            s.people,
            p.to_active_p50_ms
                .map_or("-".to_owned(), |ms| format!("{ms:.0} ms"))
        )?;
        if let Some(base) = &self.baseline {
            writeln!(
                f,
                "without the farm: people bought {} seats; {} people ever ACTIVE, first join to ACTIVE p50: {}",
                base.bought,
                base.admitted,
                base.to_active_p50_ms
                    .map_or("-".to_owned(), |ms| format!("{ms:.0} ms"))
            )?;
        }
        let alone = self.baseline.as_ref().map_or(&[][..], |b| &b.endpoints[..]);
        latency_against(f, &p.endpoints, alone)?;
        writeln!(f, "people's statuses: {:?}", p.statuses)
    }
}

/// The people's p50 and p95 per endpoint with the farm, the same without
/// (NaN when there was no run without), and the difference: what the farm
/// cost people.
fn latency_against(
    f: &mut fmt::Formatter<'_>,
    with: &[EndpointStats],
    without: &[EndpointStats],
) -> fmt::Result {
    writeln!(
        f,
        "{:<14} {:>7} {:>16} {:>16} {:>10}",
        "endpoint", "count", "p50 ms (alone)", "p95 ms (alone)", "+p95 ms"
    )?;
    for e in with {
        let alone = without.iter().find(|b| b.name == e.name);
        let (p50, p95) = alone.map_or((f64::NAN, f64::NAN), |b| (b.p50_ms, b.p95_ms));
        writeln!(
            f,
            "{:<14} {:>7} {:>7.1} ({:>6.1}) {:>7.1} ({:>6.1}) {:>+10.1}",
            e.name,
            e.count,
            e.p50_ms,
            p50,
            e.p95_ms,
            p95,
            e.p95_ms - p95
        )?;
    }
    Ok(())
}
