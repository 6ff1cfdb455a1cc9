//! The server: the HTTP listener (capped, with idle timeouts) and the
//! supervised background tasks, started together and stopped in order.
//!
//! Shutdown on SIGTERM: readiness answers 503 at once; the listener stays
//! open for `--drain-ms` so the load balancer notices; then it stops
//! accepting, and open connections get `--shutdown-grace-seconds` to finish
//! their request and close (open streams end within a tick); then the
//! background tasks stop, the relay publishing what the last requests
//! wrote.

use crate::commands::seed_demo;
use crate::config::Config;
use crate::tasks::{Supervisor, service_tasks};
use crate::wiring::{Wiring, wire};
use anyhow::Context;
use frontrow_adapters::http::connections::Listening;
use frontrow_adapters::http::{self, AppState};
use frontrow_adapters::memory::bus::InProcessBus;
use frontrow_adapters::sql::SqlStore;
use frontrow_domain::room::LatencyBudget;
use poem::listener::{Acceptor, Listener, TcpListener};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A running server, for `serve` and for tests. Only `stop` stops it.
pub struct Running {
    /// Where it listens (the port is the OS's choice with `:0`).
    pub addr: SocketAddr,
    /// The wired use cases.
    pub state: Arc<AppState>,
    /// The system of record.
    pub store: SqlStore,
    /// The in-process subscribers, when events do not go to Kafka.
    pub bus: Option<Arc<InProcessBus>>,
    /// The listener's handle: stop accepting, then wait for open
    /// connections to close (see `serve`).
    pub listening: Listening,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    tasks: Supervisor,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish (within the grace),
    /// then stops the background tasks and waits for all of them.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(error = &error as &dyn std::error::Error, "server failed")
            }
            Err(error) => tracing::error!(
                error = &error as &dyn std::error::Error,
                "server task failed"
            ),
        }
        self.tasks.stop().await;
    }
}

/// Wires the service and starts it on `--listen`.
pub async fn start(config: &Config) -> anyhow::Result<Running> {
    let Wiring {
        state,
        store,
        relay,
        bus,
        tasks,
        description,
    } = wire(config).await?;
    let acceptor = TcpListener::bind(config.listen)
        .into_acceptor()
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let acceptor = http::connections::Capped::new(
        acceptor,
        config.max_connections,
        Duration::from_secs(config.idle_timeout_seconds.max(1)),
        Duration::from_secs(config.request_head_timeout_seconds.max(1)),
    );
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("listener has no socket address")?;
    tracing::info!(%addr, "frontrow listening; {description}");
    let listening = acceptor.listening();
    let tasks = Supervisor::spawn(
        service_tasks(
            state.clone(),
            relay,
            config.outbox_retention_hours,
            LatencyBudget {
                hold_ms: config.hold_budget_ms,
                pay_ms: config.pay_budget_ms,
            },
        ),
        tasks,
    );
    let (shutdown, mut stopped) = tokio::sync::watch::channel(false);
    let app = http::app_on(state.clone(), listening.clone());
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    // Cleartext HTTP/2 (prior knowledge) stays on, bounded: at most
    // `--http2-max-streams` streams open per connection (one more is
    // refused with REFUSED_STREAM), header lists no larger than HTTP/1's
    // limit, and at most 20 streams reset before they are served (a rapid
    // reset closes the connection). The last two are poem's defaults,
    // stated here so that an upgrade cannot widen them unseen.
    let server = poem::Server::new_with_acceptor(acceptor)
        .http2_max_concurrent_streams(config.http2_max_streams.max(1))
        .http2_max_header_list_size(u32::try_from(http::MAX_HEADER_BYTES).unwrap_or(u32::MAX))
        .http2_max_pending_accept_reset_streams(20);
    let server = tokio::spawn(async move {
        server
            .run_with_graceful_shutdown(
                app,
                async move {
                    // Never resolves if `Running` is dropped without `stop`,
                    // so a dropped handle cannot stop a server by accident.
                    if stopped.wait_for(|stop| *stop).await.is_err() {
                        std::future::pending::<()>().await;
                    }
                },
                Some(grace),
            )
            .await
    });
    Ok(Running {
        addr,
        state,
        store,
        bus,
        listening,
        shutdown,
        server,
        tasks,
    })
}

/// `frontrow serve`: runs until SIGTERM or Ctrl-C, then drains and stops.
pub async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let running = start(&config).await?;
    if demo {
        seed_demo(&running.state).await?;
    }
    if config.database_url.is_none() && config.admin_key.is_none() {
        tracing::info!("admin key: {}", config.data_dir.join("admin-key").display());
    }
    shutdown_signal().await;
    tracing::info!(drain_ms = config.drain_ms, "draining, then shutting down");
    running
        .state
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(config.drain_ms)).await;
    // Stop accepting (after taking what the kernel already queued), let
    // every open connection finish its request and close (each answer
    // says `Connection: close`), then stop the server and the tasks.
    let grace = Duration::from_secs(config.shutdown_grace_seconds);
    running.listening.stop();
    if !running.listening.closed(grace).await {
        tracing::warn!(
            open = running.listening.open(),
            "connections still open after the grace"
        );
    }
    running.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
