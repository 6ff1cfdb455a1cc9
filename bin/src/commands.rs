//! The subcommands other than `serve`: `migrate`, `seed --demo` and
//! `events tail`.

use crate::config::Config;
use crate::wiring::{Wiring, open_store, wire};
use anyhow::{Context, bail};
use frontrow_adapters::http::AppState;
use frontrow_application::clock::SystemClock;
use frontrow_domain::Timestamp;
use std::sync::Arc;
use std::time::Duration;

/// `frontrow migrate`: applies the database migrations and exits.
pub async fn migrate(config: Config) -> anyhow::Result<()> {
    open_store(&config, Arc::new(SystemClock)).await?;
    tracing::info!("migrations applied");
    Ok(())
}

/// `frontrow seed --demo`: creates the demo concerts if there are none.
pub async fn seed(config: Config, demo: bool) -> anyhow::Result<()> {
    if !demo {
        bail!("nothing to seed: pass --demo");
    }
    let Wiring { state, .. } = wire(&config).await?;
    seed_demo(&state).await
}

/// `frontrow events tail`: prints events from Kafka as JSON lines, once each.
pub async fn tail_events(
    config: Config,
    topic: String,
    group: String,
    idle_exit_seconds: Option<u64>,
) -> anyhow::Result<()> {
    let brokers = config
        .kafka_brokers
        .context("--kafka-brokers / KAFKA_BROKERS is required")?;
    let idle = idle_exit_seconds.map(Duration::from_secs);
    frontrow_adapters::kafka::tail(&brokers, &topic, &group, idle, |event| {
        println!("{event}");
        true
    })
    .await?;
    Ok(())
}

/// Three concerts a month or two away, so a new user can try the flow at
/// once. Skipped when any concert exists.
pub(crate) async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    if !state.catalogue.concerts().await?.is_empty() {
        tracing::info!("concerts already exist; demo seed skipped");
        return Ok(());
    }
    let day = 24 * 3600 * 1000;
    let now = state.reservations.now().millis();
    let demo_concerts = [
        (
            "The Midnight Owls: Reunion Tour",
            vec![(now + 30 * day, 50, 120), (now + 31 * day, 50, 120)],
        ),
        (
            "Seoul Philharmonic: Mahler 2",
            vec![(now + 45 * day, 100, 80)],
        ),
        (
            "Neon Harbor Live",
            vec![
                (now + 60 * day, 20, 200),
                (now + 61 * day, 20, 200),
                (now + 62 * day, 20, 200),
            ],
        ),
    ];
    for (title, schedules) in demo_concerts {
        let schedules: Vec<_> = schedules
            .into_iter()
            .map(|(at, seats, price)| (Timestamp(at), seats, price).into())
            .collect();
        let (id, _) = state
            .sales
            .create_concert(title, &schedules, None, None)
            .await?;
        tracing::info!(concert = %id, title, "created demo concert");
    }
    Ok(())
}
