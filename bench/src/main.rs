//! `frontrow-loadtest`: the ticket-open scenario against a running frontrow
//! (exits non-zero on any invariant or fairness violation or 5xx), and the
//! data preparation for the per-endpoint wrk benchmarks in `bench/run.sh`.

use clap::{Args, Parser, Subcommand};
use frontrow_loadtest::{Scenario, churn, payment_lines, prepare, ticket_open};
use std::path::PathBuf;
use std::time::Duration;

/// The load generator shares the server's cores: the cheaper its
/// allocations, the less it holds the server back.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "Load tests for frontrow")]
struct Cli {
    #[arg(long, default_value = "http://127.0.0.1:8080", global = true)]
    base_url: String,
    #[arg(long, env = "FRONTROW_ADMIN_KEY", global = true, default_value = "")]
    admin_key: String,
    /// For invariant checks and payment lines (mysql://... or sqlite://...).
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The rush: many buyers join at once, most are told "sold out".
    TicketOpen(TicketOpen),
    /// People against a bot farm in one sale (issue 25): the share of
    /// their demand people bought, and what the farm got and spent.
    Botfarm(Botfarm),
    /// Create the buyers and ids the wrk benchmarks use, into --out.
    Prepare {
        #[arg(long, default_value_t = 10_000)]
        active: usize,
        #[arg(long, default_value_t = 20_000)]
        fresh: usize,
        /// Concerts for the token benchmark; each fresh buyer joins each once.
        #[arg(long, default_value_t = 10)]
        rushes: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// Hold and cancel seats of --schedule at --rate changes per second, with
    /// the ACTIVE buyers of --dir/active.txt (the seat-map churn benchmark).
    Churn {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        schedule: i64,
        #[arg(long, default_value_t = 200)]
        rate: u32,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Open --count queue streams of waiting buyers and report the server's
    /// memory per open stream (read from /proc/--server-pid).
    Streams {
        #[arg(long, default_value_t = 20_000)]
        count: usize,
        /// Loopback source addresses to spread the connections over.
        #[arg(long, default_value_t = 4)]
        sources: u8,
        #[arg(long, default_value_t = 60)]
        hold_seconds: u64,
        #[arg(long)]
        server_pid: u32,
        /// Idle keep-alive connections instead of streams, for comparison.
        #[arg(long)]
        idle: bool,
    },
    /// After the hold benchmark: write payments.txt into --dir.
    PaymentLines {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        schedule: i64,
    },
}

#[derive(Args)]
struct TicketOpen {
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
    /// Loopback addresses the buyers come from (127.10.0.1, 127.10.1.1,
    /// ...), a few hundred to a few thousand buyers each as behind a
    /// carrier NAT; 0: all from 127.0.0.1.
    #[arg(long, default_value_t = 0)]
    addresses: usize,
}

#[derive(Args)]
struct Botfarm {
    /// People, each from a loopback address of their own (127.1.0.1, 127.1.1.1, ...).
    #[arg(long, default_value_t = 200)]
    people: usize,
    /// Seats each person wants.
    #[arg(long, default_value_t = 2)]
    wanted: usize,
    #[arg(long, default_value_t = 200)]
    seats: i64,
    #[arg(long, default_value_t = 20)]
    people_window_seconds: u64,
    /// How long a person keeps trying after first joining.
    #[arg(long, default_value_t = 120)]
    patience_seconds: u64,
    /// Sign-ups the farm attempts.
    #[arg(long, default_value_t = 2_000)]
    farm_accounts: usize,
    /// Addresses the farm spreads over (127.200.0.1, 127.200.1.1, ...).
    #[arg(long, default_value_t = 2)]
    farm_addresses: usize,
    /// The farm charges each account's points first (free on this service).
    #[arg(long)]
    farm_points: bool,
    /// Seats one account may hold (the server's --max-seats-per-user).
    #[arg(long, default_value_t = 4)]
    seats_per_account: usize,
    #[arg(long, default_value_t = 50)]
    capacity: i64,
    #[arg(long, default_value_t = 50)]
    admit_per_second: i64,
    /// Skip the run of the people alone (their latency without the farm).
    #[arg(long)]
    no_baseline: bool,
    /// The concerts' own door level (0 to 10), set through the admin API;
    /// unset: the server's settings alone.
    #[arg(long)]
    door_level: Option<i64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::TicketOpen(a) => {
            let scenario = Scenario {
                schedules: a.schedules,
                seats: a.seats,
                users: a.users,
                join_window: Duration::from_secs(a.join_window_seconds),
                abandon: a.abandon,
                capacity: a.capacity,
                admit_per_second: a.admit_per_second,
                addresses: a.addresses,
                ..Scenario::default()
            };
            let report = ticket_open(
                &cli.base_url,
                &cli.admin_key,
                scenario,
                cli.database_url.as_deref(),
            )
            .await?;
            println!("{report}");
            if report.invariant_violations() > 0
                || report.fairness_violations > 0
                || report.server_errors() > 0
            {
                anyhow::bail!("the run broke a guarantee");
            }
        }
        Command::Botfarm(a) => {
            let scenario = frontrow_loadtest::botfarm::BotFarm {
                people: a.people,
                wanted: a.wanted,
                seats: a.seats,
                people_window: Duration::from_secs(a.people_window_seconds),
                patience: Duration::from_secs(a.patience_seconds),
                farm_accounts: a.farm_accounts,
                farm_addresses: a.farm_addresses,
                farm_points: a.farm_points,
                seats_per_account: a.seats_per_account,
                capacity: a.capacity,
                admit_per_second: a.admit_per_second,
                baseline: !a.no_baseline,
                door_level: a.door_level,
                ..Default::default()
            };
            let report =
                frontrow_loadtest::botfarm::botfarm(&cli.base_url, &cli.admin_key, scenario)
                    .await?;
            println!("{report}");
            if report.server_errors() > 0 {
                anyhow::bail!("the run met 5xx answers");
            }
        }
        Command::Prepare {
            active,
            fresh,
            rushes,
            out,
        } => prepare(&cli.base_url, &cli.admin_key, active, fresh, rushes, &out).await?,
        Command::Churn {
            dir,
            schedule,
            rate,
            seconds,
        } => {
            let changes = churn(&cli.base_url, &dir, schedule, rate, seconds).await?;
            println!("{changes} seat changes in {seconds} s");
        }
        Command::Streams {
            count,
            sources,
            hold_seconds,
            server_pid,
            idle,
        } => {
            let report = if idle {
                frontrow_loadtest::streams::idle_connections(
                    &cli.base_url,
                    count,
                    sources,
                    server_pid,
                )
                .await?
            } else {
                frontrow_loadtest::streams::streams(
                    &cli.base_url,
                    &cli.admin_key,
                    count,
                    sources,
                    Duration::from_secs(hold_seconds),
                    server_pid,
                )
                .await?
            };
            println!("{report}");
        }
        Command::PaymentLines { dir, schedule } => {
            let url = cli
                .database_url
                .ok_or_else(|| anyhow::anyhow!("--database-url is required"))?;
            let n = payment_lines(&url, &dir, schedule).await?;
            eprintln!("{n} holds to pay");
        }
    }
    Ok(())
}
