//! The `frontrow` binary: `serve`, `migrate`, `seed --demo`.

use clap::Parser;
use frontrow::{Cli, Command, EventsCommand};

/// glibc's malloc was a sixth of the server's CPU in a rush profile (many
/// small, short-lived allocations across threads); mimalloc is made for that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    frontrow::init_logging(cli.config.log_format);
    let result = match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => frontrow::serve(cli.config, demo).await,
        Command::Migrate => frontrow::migrate(cli.config).await,
        Command::Seed { demo } => frontrow::seed(cli.config, demo).await,
        Command::Events {
            command:
                EventsCommand::Tail {
                    topic,
                    group,
                    idle_exit_seconds,
                },
        } => frontrow::tail_events(cli.config, topic, group, idle_exit_seconds).await,
    };
    if let Err(error) = result {
        // One line, with its causes, and a non-zero exit: never a panic.
        eprintln!("frontrow: {error:#}");
        std::process::exit(1);
    }
}
