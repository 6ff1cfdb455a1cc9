//! `frontrow-loadtest`: runs the ticket-open scenario against a running
//! frontrow and exits non-zero on any invariant or fairness violation or 5xx.

use clap::Parser;
use frontrow_loadtest::{Scenario, ticket_open};
use std::time::Duration;

#[derive(Parser)]
#[command(about = "The ticket-open rush against a running frontrow")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base_url: String,
    #[arg(long, env = "FRONTROW_ADMIN_KEY")]
    admin_key: String,
    /// For the invariant checks after the run (mysql://... or sqlite://...).
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    #[arg(long, default_value_t = 2)]
    schedules: i64,
    #[arg(long, default_value_t = 300)]
    seats: i64,
    #[arg(long, default_value_t = 3000)]
    users: usize,
    #[arg(long, default_value_t = 10)]
    join_window_seconds: u64,
    #[arg(long, default_value_t = 0.1)]
    abandon: f64,
    #[arg(long, default_value_t = 500)]
    capacity: i64,
    #[arg(long, default_value_t = 400)]
    admit_per_second: i64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let scenario = Scenario {
        schedules: a.schedules,
        seats: a.seats,
        users: a.users,
        join_window: Duration::from_secs(a.join_window_seconds),
        abandon: a.abandon,
        capacity: a.capacity,
        admit_per_second: a.admit_per_second,
        ..Scenario::default()
    };
    let report = ticket_open(
        &a.base_url,
        &a.admin_key,
        scenario,
        a.database_url.as_deref(),
    )
    .await?;
    println!("{report}");
    if report.invariant_violations() > 0
        || report.fairness_violations > 0
        || report.server_errors() > 0
    {
        anyhow::bail!("the run broke a guarantee");
    }
    Ok(())
}
