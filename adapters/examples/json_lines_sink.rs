//! A port of your own beside the shipped adapters: an `EventSink` that
//! writes every event as one JSON line, for a log shipper or a pipe into
//! `jq`, plugged in next to the in-process bus.
//!
//! The outbox (in SQLite, through the shipped `SqlStore`) is published by
//! the application's `EventRelay` to a `Tee` of two sinks: the shipped
//! `InProcessBus` and `JsonLines` on stdout. Both are held to the same
//! contract (see `EventSink` in frontrow-application): a batch succeeds only
//! when every event is written, and a failed batch is sent again, so a
//! reader of the lines drops repeats by `eventId`.
//!
//! Run it with `cargo run -p frontrow-adapters --example json_lines_sink`;
//! `cargo test` runs it too and checks every line.

use async_trait::async_trait;
use frontrow_adapters::auth::Hs256Tokens;
use frontrow_adapters::memory::bus::InProcessBus;
use frontrow_adapters::sql::SqlStore;
use frontrow_application::StoreError;
use frontrow_application::clock::SystemClock;
use frontrow_application::events::{EventRelay, EventSink, OutboxRecord};
use frontrow_application::points::PointsService;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Each event as one line of JSON on `W`.
struct JsonLines<W>(Mutex<W>);

#[async_trait]
impl<W: Write + Send> EventSink for JsonLines<W> {
    async fn publish(&self, batch: &[OutboxRecord]) -> Result<(), StoreError> {
        // The payload already is the versioned one-line envelope of
        // docs/events.md: eventId, type, version, occurredAt, data.
        let mut lines = String::new();
        for record in batch {
            lines.push_str(&record.payload);
            lines.push('\n');
        }
        let mut out = self
            .0
            .lock()
            .map_err(|_| StoreError::new("output lock poisoned"))?;
        // Written and flushed, or the whole batch fails and comes again.
        out.write_all(lines.as_bytes())
            .and_then(|()| out.flush())
            .map_err(StoreError::caused_by)
    }
}

/// Every batch to each sink in turn; it fails if any of them fails, and the
/// relay then sends it to all of them again (at least once, everywhere).
struct Tee(Vec<Arc<dyn EventSink>>);

#[async_trait]
impl EventSink for Tee {
    async fn publish(&self, batch: &[OutboxRecord]) -> Result<(), StoreError> {
        for sink in &self.0 {
            sink.publish(batch).await?;
        }
        Ok(())
    }
}

/// Three users top up; their `points.charged` events go to `out` and to the
/// bus. Returns how many events the bus saw.
async fn run(out: impl Write + Send + 'static) -> Result<usize, Error> {
    let dir = std::env::temp_dir().join(format!("frontrow-json-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("events.db").display());
    let store =
        Arc::new(SqlStore::connect(&url, 4, Duration::from_secs(2), Arc::new(SystemClock)).await?);
    store.migrate().await?;

    let users = store.users(
        Arc::new(Hs256Tokens::new(
            b"access-token key of this example",
            3600,
            Arc::new(SystemClock),
        )),
        Arc::new(SystemClock),
    );
    let points = PointsService::new(store.clone());
    let bus = Arc::new(InProcessBus::default());
    let mut on_the_bus = bus.subscribe();
    let sink = Tee(vec![bus, Arc::new(JsonLines(Mutex::new(out)))]);
    let relay = EventRelay::new(
        store,
        Arc::new(sink),
        Arc::new(SystemClock),
        "json-lines".into(),
    );

    for (name, amount) in [("Ada", 500), ("Bob", 120), ("Cy", 90)] {
        let user = users.register(name, None, None).await?.user;
        points.charge(user, amount, None).await?;
    }
    while relay.relay_once().await? > 0 {}

    let mut seen = 0;
    while on_the_bus.try_recv().is_ok() {
        seen += 1;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(seen)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let seen = run(std::io::stdout()).await?;
    eprintln!("{seen} events also reached the in-process bus");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `Write` the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let mut bytes = self
                .0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?;
            bytes.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn every_event_is_one_json_line_and_also_reaches_the_bus() -> Result<(), Error> {
        let captured = Captured::default();
        let seen = run(captured.clone()).await?;
        let text = String::from_utf8(captured.0.lock().map_err(|_| "poisoned")?.clone())?;
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<_, _>>()?;
        assert_eq!(lines.len(), 3);
        assert_eq!(seen, 3);
        for line in &lines {
            assert_eq!(line["type"], "points.charged");
            assert_eq!(line["eventId"].as_str().map(str::len), Some(32));
        }
        Ok(())
    }
}
