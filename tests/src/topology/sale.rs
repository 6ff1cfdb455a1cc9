//! A sale through the topology: the buyers' whole attempts (each retrying
//! what failed on the wire the way a careful client does), a rush of them,
//! and the sale's invariants checked exactly in the database.

use super::client::{Client, retry_after};
use frontrow_client::{NewConcert, NewSchedule};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A sale: one concert with one schedule.
#[derive(Debug, Clone, Copy)]
pub struct Sale {
    pub concert: i64,
    pub schedule: i64,
    pub seats: i64,
    pub price: i64,
}

/// How a buyer's attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Paid for this seat (reservation id, seat).
    Paid { reservation: i64, seat: i64 },
    /// Every seat went to others.
    SoldOut,
}

/// A registered buyer with enough points for one seat.
#[derive(Debug, Clone)]
pub struct Buyer {
    /// The id and access token, as the typed client takes them.
    pub api: frontrow_client::Buyer,
    pub name: String,
}

impl Sale {
    pub async fn create(client: &Client, seats: i64, price: i64) -> Sale {
        let schedule = NewSchedule::new("2031-06-01T19:00:00Z", seats, price);
        let concert = NewConcert::new("Topology night", vec![schedule]);
        // The key makes a retry after a lost answer find the first concert.
        let key = format!("topology-{}", crate::unique());
        let created = client
            .until_answered("create concert", |api| {
                api.create_concert_with_key(&concert, &key)
            })
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        Sale {
            concert: created.body["concertId"].as_i64().expect("concert"),
            schedule: created.body["schedules"][0]["scheduleId"]
                .as_i64()
                .expect("schedule"),
            seats,
            price,
        }
    }

    pub async fn set_queue(&self, client: &Client, capacity: i64, rate: i64, paused: bool) {
        let set = client
            .until_answered("set queue", |api| {
                api.set_queue(self.concert, capacity, rate, paused)
            })
            .await;
        assert_eq!(set.status, 200, "{}", set.body);
    }

    /// Registers a buyer (before the fault: a sign-up is not repeatable).
    pub async fn buyer(client: &Client, name: String) -> Buyer {
        let made = client
            .until_answered("sign up", |api| api.register(&name))
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        Buyer {
            api: made.buyer().expect("a registered buyer"),
            name,
        }
    }

    /// Joins the room (one place per user, so a retry is safe): the token.
    pub async fn join(&self, client: &Client, buyer: &Buyer) -> Option<String> {
        let joined = client
            .until_answered("join", |api| api.join(&buyer.api, self.concert))
            .await;
        match (joined.status.as_u16(), joined.code()) {
            (200 | 201, _) => Some(joined.body["token"].as_str().expect("token").to_owned()),
            (409, "SOLD_OUT") => None,
            _ => panic!("join: {} {}", joined.status, joined.body),
        }
    }

    /// The buyer's place: (status, position).
    pub async fn place(&self, client: &Client, buyer: &Buyer, token: &str) -> (String, i64) {
        let status = client
            .until_answered("status", |api| api.queue_status(&buyer.api, token))
            .await;
        assert_eq!(status.status, 200, "{}", status.body);
        (
            status.body["status"].as_str().expect("status").to_owned(),
            status.body["position"].as_i64().expect("position"),
        )
    }

    /// One buyer's whole attempt: charge, join, wait for ACTIVE, hold a free
    /// seat, pay. Whatever fails on the wire is retried the way a careful
    /// client retries it.
    pub async fn buy(&self, client: &Client, buyer: &Buyer) -> Outcome {
        let charge_key = format!("charge-{}", buyer.api.user_id);
        let charged = client
            .until_answered("charge", |api| {
                api.charge(&buyer.api, self.price, Some(&charge_key))
            })
            .await;
        assert_eq!(charged.status, 200, "charge: {}", charged.body);
        let Some(token) = self.join(client, buyer).await else {
            return Outcome::SoldOut;
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(
                Instant::now() < deadline,
                "{} never got an outcome",
                buyer.name
            );
            match self.place(client, buyer, &token).await.0.as_str() {
                "ACTIVE" => break,
                "SOLD_OUT" => return Outcome::SoldOut,
                "WAITING" | "PRE_QUEUE" => tokio::time::sleep(Duration::from_millis(100)).await,
                other => panic!("{}: unexpected place {other}", buyer.name),
            }
        }
        let outcome = self.hold_and_pay(client, buyer, &token, deadline).await;
        if outcome == Outcome::SoldOut {
            // Give the slot back so the line moves.
            let _ = client
                .send("leave", |api| api.leave(&buyer.api, &token))
                .await;
        }
        outcome
    }

    async fn hold_and_pay(
        &self,
        client: &Client,
        buyer: &Buyer,
        token: &str,
        deadline: Instant,
    ) -> Outcome {
        let mut attempt = 0usize;
        // A hold whose answer was lost may still have been made.
        let mut uncertain = false;
        let (reservation, seat) = loop {
            assert!(
                Instant::now() < deadline,
                "{} never got an outcome",
                buyer.name
            );
            attempt += 1;
            if uncertain && let Some(held) = self.my_hold(client, buyer).await {
                break held;
            }
            let map = client
                .until_answered("seat map", |api| {
                    api.seats(&buyer.api, token, self.schedule)
                })
                .await;
            if map.status == 403 {
                // The room closed (every seat sold) or the place ended.
                return Outcome::SoldOut;
            }
            assert_eq!(map.status, 200, "seat map: {}", map.body);
            let seats = map.body["seats"].as_array().expect("seats");
            let free: Vec<i64> = seats
                .iter()
                .filter(|s| s["status"] == "AVAILABLE")
                .map(|s| s["seatNumber"].as_i64().expect("seat number"))
                .collect();
            if free.is_empty() {
                if seats.iter().all(|s| s["status"] == "SOLD") {
                    return Outcome::SoldOut;
                }
                // Held by others who are paying now.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            let seat = free[(buyer.api.user_id as usize * 7 + attempt) % free.len()];
            let held = client
                .send("hold", |api| {
                    api.hold(&buyer.api, token, self.schedule, seat)
                })
                .await;
            match held {
                Some(a) if a.status == 201 => {
                    break (a.body["reservationId"].as_i64().expect("reservation"), seat);
                }
                Some(a) if a.status == 409 && a.code() == "SEAT_UNAVAILABLE" => {}
                Some(a) if a.status == 403 => return Outcome::SoldOut,
                Some(a) if matches!(a.status.as_u16(), 502..=504) => {
                    uncertain = true;
                    let wait = retry_after(&a).map_or(100, |s| s.min(2) * 1000);
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                None => uncertain = true,
                Some(a) => panic!("hold: {} {}", a.status, a.body),
            }
        };
        let paid = client
            .until_answered("pay", |api| api.pay(&buyer.api, token, reservation))
            .await;
        assert!(
            paid.status == 201 || paid.status == 200,
            "{} pay: {} {}",
            buyer.name,
            paid.status,
            paid.body
        );
        if uncertain {
            // A lost hold found no answer in time but was made after all:
            // give its seat back.
            while let Some((extra, _)) = self.my_hold(client, buyer).await {
                let cancelled = client
                    .until_answered("cancel", |api| api.cancel(&buyer.api, extra))
                    .await;
                assert_eq!(cancelled.status, 200, "{}", cancelled.body);
            }
        }
        Outcome::Paid { reservation, seat }
    }

    /// The buyer's live hold on this schedule, if they have one:
    /// (reservation, seat).
    async fn my_hold(&self, client: &Client, buyer: &Buyer) -> Option<(i64, i64)> {
        let list = client
            .until_answered("my reservations", |api| {
                api.reservations(&buyer.api, None, None)
            })
            .await;
        assert_eq!(list.status, 200, "{}", list.body);
        list.body["reservations"]
            .as_array()
            .expect("reservations")
            .iter()
            .find(|r| r["scheduleId"] == self.schedule && r["status"] == "HELD")
            .and_then(|r| Some((r["reservationId"].as_i64()?, r["seatNumber"].as_i64()?)))
    }

    /// The sale's invariants, exactly, from the system of record:
    /// - no seat sold twice, and every seat sold;
    /// - no point lost or created: every buyer charged `price` once, and the
    ///   charges equal the balances plus what was spent;
    /// - every buyer has an outcome, and the database agrees with it.
    pub async fn invariants(
        &self,
        database: &sqlx::AnyPool,
        buyers: &[Buyer],
        outcomes: &[Outcome],
    ) {
        use sqlx::Row;
        let one = |sql: &'static str| async move {
            sqlx::query(sql)
                .fetch_one(database)
                .await
                .expect(sql)
                .try_get::<i64, _>(0)
                .expect("a number")
        };
        let n = buyers.len() as i64;
        assert_eq!(outcomes.len(), buyers.len(), "every buyer has an outcome");
        let paid: Vec<(i64, i64)> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Paid { reservation, seat } => Some((*reservation, *seat)),
                Outcome::SoldOut => None,
            })
            .collect();
        assert_eq!(paid.len() as i64, self.seats, "every seat sold, once each");
        let mut seats: Vec<i64> = paid.iter().map(|p| p.1).collect();
        seats.sort_unstable();
        seats.dedup();
        assert_eq!(seats.len() as i64, self.seats, "no seat paid by two buyers");

        assert_eq!(
            one("SELECT COUNT(*) FROM seats WHERE sold = 1").await,
            self.seats
        );
        assert_eq!(
            one(
                "SELECT COUNT(*) FROM (SELECT schedule_id, seat_number FROM reservations \
                 WHERE status = 'CONFIRMED' GROUP BY schedule_id, seat_number \
                 HAVING COUNT(*) > 1) twice"
            )
            .await,
            0,
            "a seat confirmed twice"
        );
        assert_eq!(
            one("SELECT COUNT(*) FROM reservations WHERE status = 'CONFIRMED'").await,
            self.seats
        );
        assert_eq!(one("SELECT COUNT(*) FROM payment_lines").await, self.seats);
        assert_eq!(
            one("SELECT COUNT(*) FROM reservations WHERE status = 'HELD'").await,
            0,
            "no hold left behind"
        );
        // Points: each buyer charged once, exactly.
        assert_eq!(
            one("SELECT COUNT(*) FROM point_ledger WHERE reason = 'CHARGE'").await,
            n,
            "one charge per buyer, retries included"
        );
        let charged = one("SELECT CAST(COALESCE(SUM(delta), 0) AS SIGNED) FROM point_ledger WHERE reason = 'CHARGE'")
            .await;
        let balances = one("SELECT CAST(COALESCE(SUM(balance), 0) AS SIGNED) FROM users").await;
        let spent = one("SELECT CAST(COALESCE(SUM(amount), 0) AS SIGNED) FROM payments").await;
        assert_eq!(charged, n * self.price);
        assert_eq!(spent, self.seats * self.price);
        assert_eq!(charged, balances + spent, "no point lost or created");
        assert_eq!(
            one("SELECT CAST(COALESCE(SUM(delta), 0) AS SIGNED) FROM point_ledger").await,
            balances,
            "the ledger explains every balance"
        );
        // The database agrees with what each buyer was told.
        for (buyer, outcome) in buyers.iter().zip(outcomes) {
            let confirmed: Vec<i64> = sqlx::query(
                "SELECT id FROM reservations WHERE user_id = ? AND status = 'CONFIRMED'",
            )
            .bind(buyer.api.user_id)
            .fetch_all(database)
            .await
            .expect("reservations")
            .iter()
            .map(|r| r.try_get::<i64, _>("id").expect("id"))
            .collect();
            match outcome {
                Outcome::Paid { reservation, .. } => {
                    assert_eq!(confirmed, vec![*reservation], "{}", buyer.name)
                }
                Outcome::SoldOut => assert!(confirmed.is_empty(), "{}", buyer.name),
            }
        }
    }
}

/// A rush: `buyers` buy at once through `client`, at most `concurrency` at a
/// time. `done` counts finished buyers, so a fault can be timed for the
/// middle of the rush. Outcomes come back in the buyers' order.
pub async fn rush(
    sale: Sale,
    client: Arc<Client>,
    buyers: Arc<Vec<Buyer>>,
    concurrency: usize,
    done: Arc<AtomicUsize>,
) -> Vec<Outcome> {
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..buyers.len() {
        // Turns are taken in the buyers' order, which is also their order
        // in line: in a room smaller than the line, the buyers who may act
        // are the ones admitted first (taken in any order, the turns could
        // all go to buyers behind admitted ones who have none).
        let turn = permits.clone().acquire_owned().await.expect("permits");
        let (client, buyers, done) = (client.clone(), buyers.clone(), done.clone());
        tasks.spawn(async move {
            let _turn = turn;
            let outcome = sale.buy(&client, &buyers[index]).await;
            done.fetch_add(1, Ordering::Relaxed);
            (index, outcome)
        });
    }
    let mut outcomes = vec![Outcome::SoldOut; buyers.len()];
    while let Some(finished) = tasks.join_next().await {
        let (index, outcome) = finished.expect("a buyer's task");
        outcomes[index] = outcome;
    }
    outcomes
}

/// Signs `count` buyers up, a few at a time.
pub async fn sign_up(client: &Arc<Client>, prefix: &str, count: usize) -> Vec<Buyer> {
    let mut tasks = tokio::task::JoinSet::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(16));
    for i in 0..count {
        let (client, permits) = (client.clone(), permits.clone());
        let name = format!("{prefix} {i}");
        tasks.spawn(async move {
            let _turn = permits.acquire_owned().await.expect("permits");
            (i, Sale::buyer(&client, name).await)
        });
    }
    let mut buyers: Vec<Option<Buyer>> = vec![None; count];
    while let Some(made) = tasks.join_next().await {
        let (i, buyer) = made.expect("a sign-up");
        buyers[i] = Some(buyer);
    }
    buyers.into_iter().map(|b| b.expect("signed up")).collect()
}

/// Waits until `done` reaches `count`; a rush that fails before that
/// fails the test here.
pub async fn when_done(
    done: &AtomicUsize,
    count: usize,
    rush: &mut tokio::task::JoinHandle<Vec<Outcome>>,
) {
    let reached = async {
        while done.load(Ordering::Relaxed) < count {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        () = reached => {}
        ended = rush => match ended {
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            _ => panic!("the rush ended before {count} buyers were done"),
        },
    }
}

/// The value of a sample (a line starting with `prefix`) in Prometheus text.
pub fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}
