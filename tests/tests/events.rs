//! Events: written to the outbox with their change, published to Kafka (a
//! real Kafka-protocol broker) or to in-process subscribers, never lost.

use frontrow_tests::{Stores, TestApp};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn brokers() -> String {
    std::env::var("FRONTROW_TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

/// The shared broker, or None (skip) outside CI when it is not running.
fn broker_available(address: &str) -> bool {
    let up = address
        .parse()
        .ok()
        .and_then(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(1)).ok())
        .is_some();
    if !up && std::env::var_os("CI").is_some() {
        panic!("CI needs a Kafka-protocol broker at {address}");
    }
    if !up {
        eprintln!("SKIPPED: no Kafka-protocol broker at {address} (CI fails here instead)");
    }
    up
}

async fn with_kafka(brokers: &str) -> Option<TestApp> {
    let brokers = brokers.to_owned();
    TestApp::spawn_isolated(Stores::MySqlRedis, move |c| c.kafka_brokers = Some(brokers)).await
}

/// Every distinct event on the topic until none arrives for `idle`.
async fn consume(brokers: &str, topic: &str, idle: Duration) -> Vec<Value> {
    let group = format!(
        "test-{}",
        frontrow_adapters::random::hex32().expect("the OS random source")
    );
    let mut events = Vec::new();
    frontrow_adapters::kafka::tail(brokers, topic, &group, Some(idle), |event| {
        events.push(event);
        true
    })
    .await
    .expect("consumer runs");
    events
}

async fn wait_until_published(app: &TestApp, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while app
        .count(
            "SELECT COUNT(*) FROM outbox WHERE published_at_ms IS NULL AND id > ?",
            0,
        )
        .await
        > 0
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox never drained"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn types(events: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in events {
        *counts
            .entry(event["type"].as_str().unwrap_or("?").to_owned())
            .or_insert(0) += 1;
    }
    counts
}

/// A buyer who charges, holds and cancels, holds and pays; and one who cannot pay.
async fn activity(app: &TestApp) -> (i64, i64) {
    let (concert, schedule) = app.concert(5, 120).await;
    let (buyer, token) = app.admitted("payer", 500, concert).await;
    let first = app
        .hold(&buyer, &token, schedule, 1)
        .await
        .i64("reservationId");
    app.cancel(&buyer, first).await;
    let (second, paid) = app.buy(&buyer, &token, schedule, 2).await;
    assert_eq!(paid.status, StatusCode::CREATED);
    let (poor, poor_token) = app.admitted("poor", 0, concert).await;
    let (_, refused) = app.buy(&poor, &poor_token, schedule, 3).await;
    assert_eq!(refused.code(), "INSUFFICIENT_POINTS");
    (buyer.user_id, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_state_change_produces_exactly_its_event_and_a_refused_payment_none() {
    let brokers = brokers();
    if !broker_available(&brokers) {
        return;
    }
    let Some(app) = with_kafka(&brokers).await else {
        return;
    };
    let (user, paid) = activity(&app).await;
    wait_until_published(&app, Duration::from_secs(30)).await;
    let events = consume(&brokers, &app.config.kafka_topic, Duration::from_secs(5)).await;
    let expected: BTreeMap<String, usize> = [
        ("points.charged", 1),
        ("reservation.held", 3),
        ("reservation.cancelled", 1),
        ("payment.completed", 1),
    ]
    .into_iter()
    .map(|(t, n)| (t.to_owned(), n))
    .collect();
    assert_eq!(types(&events), expected);
    let payment = events
        .iter()
        .find(|e| e["type"] == "payment.completed")
        .expect("payment event");
    assert_eq!(payment["data"]["reservationId"], paid);
    assert_eq!(payment["data"]["userId"], user);
    assert_eq!(payment["data"]["amount"], 120);
    assert_eq!(payment["data"]["seatNumber"], 2);
    assert_eq!(payment["version"], 1);
    let ids: HashSet<&str> = events
        .iter()
        .filter_map(|e| e["eventId"].as_str())
        .collect();
    assert_eq!(ids.len(), events.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_relays_publish_every_event_once_after_dedupe() {
    let brokers = brokers();
    if !broker_available(&brokers) {
        return;
    }
    let Some(app) = with_kafka(&brokers).await else {
        return;
    };
    let other = app.sibling().await;
    activity(&app).await;
    activity(&other).await;
    wait_until_published(&app, Duration::from_secs(30)).await;
    let events = consume(&brokers, &app.config.kafka_topic, Duration::from_secs(5)).await;
    assert_eq!(events.len(), 12, "{:?}", types(&events));
}

struct Broker(Child);

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_broker(port: u16) -> Option<Broker> {
    let url = format!("tcp://127.0.0.1:{port}");
    let child = Command::new("tansu")
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Broker(child));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broker_outage_delays_events_but_loses_none() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let Some(broker) = start_broker(port) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs the tansu binary on PATH"
        );
        eprintln!("SKIPPED: tansu is not installed");
        return;
    };
    let brokers = format!("127.0.0.1:{port}");
    let Some(app) = with_kafka(&brokers).await else {
        return;
    };
    let (concert, schedule) = app.concert(20, 10).await;
    let mut buyers = Vec::new();
    for i in 0..10 {
        buyers.push(app.admitted(&format!("fan{i}"), 100, concert).await);
    }
    let mut broker = Some(broker);
    for (i, (buyer, token)) in buyers.iter().enumerate() {
        if i == 5 {
            broker.take(); // the broker stops in the middle of the burst
        }
        let (_, paid) = app.buy(buyer, token, schedule, i as i64 + 1).await;
        assert_eq!(
            paid.status,
            StatusCode::CREATED,
            "payments go on without the broker"
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_outage: HashSet<String> = outbox_ids(&app, true).await;
    let all: HashSet<String> = outbox_ids(&app, false)
        .await
        .union(&before_outage)
        .cloned()
        .collect();
    assert!(
        before_outage.len() < all.len(),
        "some events were waiting for the broker"
    );
    let _restarted = start_broker(port).expect("broker restarts");
    wait_until_published(&app, Duration::from_secs(60)).await;
    let after: HashSet<String> = consume(&brokers, &app.config.kafka_topic, Duration::from_secs(5))
        .await
        .iter()
        .filter_map(|e| e["eventId"].as_str().map(str::to_owned))
        .collect();
    let delivered: HashSet<String> = before_outage.union(&after).cloned().collect();
    assert_eq!(delivered, all, "every event reached a broker");
}

/// Event ids of outbox rows: published already (`true`) or not yet.
async fn outbox_ids(app: &TestApp, published: bool) -> HashSet<String> {
    use sqlx::Row;
    let sql = if published {
        "SELECT event_id FROM outbox WHERE published_at_ms IS NOT NULL"
    } else {
        "SELECT event_id FROM outbox WHERE published_at_ms IS NULL"
    };
    sqlx::query(sql)
        .fetch_all(app.running.store.reader())
        .await
        .expect("outbox")
        .iter()
        .map(|r| r.try_get::<String, _>("event_id").expect("event id"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_subscribers_receive_every_event() {
    let Some(app) = TestApp::spawn(Stores::Embedded).await else {
        return;
    };
    let bus = app
        .running
        .bus
        .clone()
        .expect("embedded mode has in-process subscribers");
    let mut events = bus.subscribe();
    let (concert, schedule) = app.concert(3, 40).await;
    let (buyer, token) = app.admitted("ada", 100, concert).await;
    app.buy(&buyer, &token, schedule, 1).await;
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event")
            .expect("open");
        seen.push(event.event_type.clone());
    }
    assert_eq!(
        seen,
        ["points.charged", "reservation.held", "payment.completed"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lapsed_hold_is_written_down_as_expired_with_its_event() {
    let Some(app) = TestApp::spawn_with(Stores::Embedded, |c| c.hold_seconds = 1).await else {
        return;
    };
    let bus = app
        .running
        .bus
        .clone()
        .expect("embedded mode has in-process subscribers");
    let mut events = bus.subscribe();
    let (concert, schedule) = app.concert(3, 40).await;
    let (buyer, token) = app.admitted("ada", 0, concert).await;
    let id = app
        .hold(&buyer, &token, schedule, 1)
        .await
        .i64("reservationId");
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("reservation.expired") {
        let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("an event")
            .expect("open");
        seen.push(event.event_type.clone());
    }
    assert_eq!(seen, ["reservation.held", "reservation.expired"]);
    let stored = app
        .count(
            "SELECT COUNT(*) FROM reservations WHERE id = ? AND status = 'EXPIRED'",
            id,
        )
        .await;
    assert_eq!(stored, 1);
}
