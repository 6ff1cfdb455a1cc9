//! The data of the per-endpoint wrk benchmarks (`bench/run.sh`): buyers
//! and ids prepared through the API, the live holds to pay, and the writer
//! that churns a seat map while wrk reads it.

use crate::{Api, create_buyer};
use anyhow::bail;
use frontrow_client::{Buyer, Client, NewConcert, NewSchedule};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Files for the per-endpoint benchmarks (`bench/run.sh`): buyers who are
/// ACTIVE in one concert's room, buyers who have not joined yet, and the ids
/// the wrk scripts need (`meta.env`).
pub async fn prepare(
    base: &str,
    admin_key: &str,
    active: usize,
    fresh: usize,
    rushes: usize,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let api = Api::new(base, admin_key)?;
    let schedule = |seats: i64| NewSchedule::new("2031-06-01T19:00:00Z", seats, 10);
    let schedules = vec![
        schedule(active.clamp(1, 10_000) as i64),
        schedule(10),
        schedule(500),
    ];
    let (concert, created) = api
        .create_concert(&NewConcert::new("Benchmark", schedules))
        .await?;
    let ids: Vec<i64> = created["schedules"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["scheduleId"].as_i64()).collect())
        .unwrap_or_default();
    let [hold, contended, seats] = ids[..] else {
        bail!("expected three schedules")
    };
    api.set_queue(concert, 1_000_000, 100_000).await?;
    // The token benchmark's rooms, on the default policy, so most joiners
    // wait as in a real rush. Every fresh buyer joins each of them once:
    // fresh × rushes new places before a join can repeat.
    let mut rush_concerts = Vec::with_capacity(rushes);
    for _ in 0..rushes {
        let rush = NewConcert::new("Rush", vec![schedule(1)]);
        let (id, _) = api.create_concert(&rush).await?;
        rush_concerts.push(id.to_string());
    }

    let semaphore = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::new();
    for i in 0..active + fresh {
        let (api, semaphore) = (api.client.clone(), semaphore.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = semaphore.acquire().await?;
            let buyer = create_buyer(&api, i, 1_000).await?;
            let (id, access) = (buyer.user_id, &buyer.access_token);
            if i >= active {
                return Ok::<_, anyhow::Error>(format!("{id} {access} -"));
            }
            let joined = api.join(&buyer, concert).await?;
            if joined.body["status"] != "ACTIVE" {
                bail!("buyer {i} was not admitted at once: {}", joined.body);
            }
            Ok(format!(
                "{id} {access} {}",
                joined.body["token"].as_str().unwrap_or("-")
            ))
        }));
    }
    let mut lines = Vec::with_capacity(tasks.len());
    for task in tasks {
        lines.push(task.await??);
    }
    let (active_lines, fresh_lines) = lines.split_at(active);
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("active.txt"), active_lines.join("\n") + "\n")?;
    std::fs::write(out.join("fresh.txt"), fresh_lines.join("\n") + "\n")?;
    let first: Vec<&str> = active_lines
        .first()
        .map(|l| l.split(' ').collect())
        .unwrap_or_default();
    let meta = format!(
        "CONCERT={concert}\nRUSH_CONCERTS={}\nHOLD_SCHEDULE={hold}\nCONTENDED_SCHEDULE={contended}\nSEATS_SCHEDULE={seats}\nSTATUS_ACCESS={}\nSTATUS_QUEUE={}\n",
        rush_concerts.join(","),
        first.get(1).unwrap_or(&""),
        first.get(2).unwrap_or(&"")
    );
    std::fs::write(out.join("meta.env"), meta)?;
    Ok(())
}

/// `payments.txt`: one live hold per line ("userId access queue reservationId"),
/// read from the database after the hold benchmark.
pub async fn payment_lines(
    database_url: &str,
    dir: &std::path::Path,
    schedule: i64,
) -> anyhow::Result<usize> {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await?;
    let rows = sqlx::query(
        "SELECT id, user_id FROM reservations WHERE schedule_id = ? AND status = 'HELD'",
    )
    .bind(schedule)
    .fetch_all(&pool)
    .await?;
    let holds: BTreeMap<i64, i64> = rows
        .iter()
        .map(|r| Ok((r.try_get::<i64, _>("user_id")?, r.try_get::<i64, _>("id")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let active = std::fs::read_to_string(dir.join("active.txt"))?;
    let lines: Vec<String> = active
        .lines()
        .filter_map(|line| {
            let user: i64 = line.split(' ').next()?.parse().ok()?;
            holds
                .get(&user)
                .map(|reservation| format!("{line} {reservation}"))
        })
        .collect();
    std::fs::write(dir.join("payments.txt"), lines.join("\n") + "\n")?;
    Ok(lines.len())
}

/// The writer beside the seat-map benchmark under churn: ACTIVE buyers from
/// `active.txt` hold a seat of `schedule` and cancel it again, `rate` seat
/// changes per second (a hold and a cancel are two) for `seconds`. Returns
/// the changes made.
pub async fn churn(
    base: &str,
    dir: &std::path::Path,
    schedule: i64,
    rate: u32,
    seconds: u64,
) -> anyhow::Result<u64> {
    let api = Client::new(crate::crowd::http(None)?, base);
    let active = std::fs::read_to_string(dir.join("active.txt"))?;
    // "userId access queueToken" lines.
    let buyers: Vec<(Buyer, String)> = active
        .lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            let buyer = Buyer {
                user_id: parts.next()?.parse().ok()?,
                access_token: parts.next()?.to_owned(),
            };
            Some((buyer, parts.next()?.to_owned()))
        })
        .take(500)
        .collect();
    if buyers.is_empty() {
        bail!("no ACTIVE buyers in active.txt");
    }
    let pairs_per_second = (rate / 2).max(1);
    let mut tick = tokio::time::interval(Duration::from_secs(1) / pairs_per_second);
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut changes = 0;
    let mut i = 0usize;
    while Instant::now() < until {
        tick.tick().await;
        let (buyer, token) = &buyers[i % buyers.len()];
        // Seats from the far end, away from what the readers' buyers hold.
        let seat = 500 - (i % 250) as i64;
        i += 1;
        let held = api.hold(buyer, token, schedule, seat).await?;
        let Some(reservation) = held.body["reservationId"].as_i64() else {
            continue;
        };
        changes += 1;
        let cancelled = api.cancel(buyer, reservation).await?;
        if cancelled.status.is_success() {
            changes += 1;
        }
    }
    Ok(changes)
}
