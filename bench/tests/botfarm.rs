//! The bot-farm scenario at a small size (issue 25): its sale at a tenth,
//! 20 people wanting 2 seats each for 20 seats against a farm of 200
//! accounts on 2 addresses, a room of 5 admitting 5/s, on the embedded
//! backend. People must buy at least 90 % of the seats.
//!
//! The server runs with the settings an operator gets (every flag at its
//! shipped default: rate limits, the door's challenges, the hold-cost
//! rule), not the test suite's base configuration, which turns limits off
//! for tests that make many accounts from one address. Only holds are
//! shorter, so the farm's holds lapse and it holds again within the run.

use clap::Parser;
use frontrow_loadtest::botfarm::{BotFarm, botfarm};
use std::time::Duration;

const ADMIN_KEY: &str = "botfarm-test-admin-key";

/// A server on the shipped defaults, its data in a fresh directory.
async fn shipped_server(dir: &std::path::Path) -> frontrow::Running {
    // The sale at a tenth, with the per-address sign-up allowance scaled
    // with it (20 an hour shipped, 2 here): at full size the farm's 2
    // addresses make 40 accounts against a room of 50; here 4 against a
    // room of 5.
    server_with(dir, &["--limit-sign-up-per-address", "2/3600"]).await
}

/// A server on the shipped defaults and `extra` flags.
async fn server_with(dir: &std::path::Path, extra: &[&str]) -> frontrow::Running {
    let dir = dir.to_str().expect("a UTF-8 temporary path");
    let flags = [
        "frontrow",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir,
        "--admin-key",
        ADMIN_KEY,
        "--jwt-secret",
        "botfarm-test-jwt-secret",
        "--hold-seconds",
        "10",
    ];
    let cli = frontrow::Cli::try_parse_from(flags.iter().chain(extra)).expect("the flags parse");
    frontrow::start(&cli.config)
        .await
        .expect("the server starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn people_buy_at_least_90_percent_of_the_seats_against_a_farm_of_ten_times_their_number() {
    let dir = std::env::temp_dir().join(format!("frontrow-botfarm-{}", std::process::id()));
    let server = shipped_server(&dir).await;
    let scenario = BotFarm {
        people: 20,
        wanted: 2,
        seats: 20,
        people_window: Duration::from_secs(3),
        patience: Duration::from_secs(20),
        farm_accounts: 200,
        farm_addresses: 2,
        farm_concurrency: 16,
        capacity: 5,
        admit_per_second: 5,
        baseline: false,
        ..BotFarm::default()
    };
    people_buy_at_least_90_percent(server, &dir, scenario, Duration::from_secs(60), "").await;
}

/// Runs `scenario` against `server` within `limit`, stops the server and
/// removes `dir`, then checks the floor: no 5xx, and people bought at
/// least 90 % of what the seats could give them.
async fn people_buy_at_least_90_percent(
    server: frontrow::Running,
    dir: &std::path::Path,
    scenario: BotFarm,
    limit: Duration,
    label: &str,
) {
    let base = format!("http://{}", server.addr);
    let run = botfarm(&base, ADMIN_KEY, scenario);
    let report = tokio::time::timeout(limit, run)
        .await
        .expect("the scenario ends")
        .expect("the scenario runs");
    eprintln!("{report}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(dir);
    assert_eq!(report.server_errors(), 0);
    assert!(
        report.people_share() >= 0.9,
        "people bought {:.0} % of what the seats could give them{label}",
        report.people_share() * 100.0
    );
}

/// The household limit at work (`--household-seats`, shipped 8): the full
/// sale's 200 seats (a household's limit is a number of seats, so the
/// stock cannot shrink with the rest), half its people, every allowance
/// shipped. The farm's 2 addresses make 40 accounts an hour, each
/// address's accounts one household, so it can hold at most 16 seats.
///
/// A hold refused with `HOUSEHOLD_LIMIT` ends a turn that holds nothing,
/// so the farm's spare accounts give their places back instead of
/// hoarding the room of 25 (without that, people bought 2-3 %). Measured
/// on the embedded backend (debug build): 97.0 % (empty) and 97.5 %
/// (points), about 65 s per mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_every_allowance_shipped_people_buy_at_least_90_percent_of_200_seats() {
    for farm_points in [false, true] {
        let dir = std::env::temp_dir().join(format!(
            "frontrow-botfarm-households-{}-{farm_points}",
            std::process::id()
        ));
        let server = server_with(&dir, &[]).await;
        let scenario = BotFarm {
            people: 100,
            wanted: 2,
            seats: 200,
            people_window: Duration::from_secs(5),
            patience: Duration::from_secs(60),
            farm_accounts: 400,
            farm_addresses: 2,
            farm_points,
            farm_concurrency: 16,
            capacity: 25,
            admit_per_second: 25,
            baseline: false,
            ..BotFarm::default()
        };
        let label = format!(" (farm points: {farm_points})");
        people_buy_at_least_90_percent(server, &dir, scenario, Duration::from_secs(120), &label)
            .await;
    }
}
