//! Store faults answered, not suffered: while a store does not answer, a
//! request that needs it gets a 503 problem with `Retry-After` within the
//! store timeout, and the instance recovers by itself when the store comes
//! back. The test runs a private Redis of its own, so freezing it disturbs
//! nothing else on the machine.

use frontrow_tests::{Stores, TestApp};
use reqwest::StatusCode;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` on a free port, killed when dropped.
struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .ok()?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        Some(Self { child, port })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGSTOP / SIGCONT: a Redis that holds its connections open but
    /// answers nothing, the worst kind of outage for a client.
    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_for_redis(redis: &PrivateRedis) {
    for _ in 0..100 {
        if frontrow_adapters::redis::connect(&redis.url(), Duration::from_millis(200))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the private Redis never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_redis_is_a_quick_503_and_the_instance_recovers_by_itself() {
    let Some(redis) = PrivateRedis::start() else {
        if std::env::var_os("CI").is_some() {
            panic!("CI needs redis-server");
        }
        eprintln!("SKIPPED: redis-server is not installed");
        return;
    };
    wait_for_redis(&redis).await;
    let url = redis.url();
    let Some(app) = TestApp::spawn_with(Stores::MySqlRedis, |c| {
        c.redis_url = Some(url);
        c.store_timeout_ms = 500;
    })
    .await
    else {
        return;
    };
    let (concert, _) = app.concert(5, 0).await;
    let (buyer, token) = app.admitted("patient", 0, concert).await;
    let status = || app.api.queue_status(&buyer, &token);
    assert_eq!(status().await.expect("status").status, StatusCode::OK);

    redis.signal("-STOP");
    let asked = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(10), status())
        .await
        .expect("an answer within 10 s, not a hang")
        .expect("an answer");
    let waited = asked.elapsed();
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(answer.headers.contains_key("retry-after"));
    assert!(
        waited < Duration::from_secs(3),
        "the 503 took {waited:?} with a 500 ms store timeout"
    );

    redis.signal("-CONT");
    let mut recovered = false;
    for _ in 0..50 {
        if status().await.expect("status").status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the instance did not recover within 5 s");
}

/// Three free TCP ports (for a private Redis Cluster; its bus uses +10000).
fn free_ports() -> Option<Vec<u16>> {
    let mut ports = Vec::new();
    while ports.len() < 3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .ok()?;
        if port < 55_000 && !ports.contains(&port) {
            ports.push(port);
        }
    }
    Some(ports)
}

/// A private 3-master cluster, stopped when dropped.
struct PrivateCluster(frontrow_tests::cluster::Cluster);

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.0.stop();
        let _ = std::fs::remove_dir_all(&self.0.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cluster_master_killed_is_a_503_not_a_500_and_the_room_recovers_when_it_returns() {
    let dir = std::env::temp_dir().join(format!("frontrow-cluster-fault-{}", std::process::id()));
    let cluster = free_ports()
        .ok_or_else(|| "no free ports".to_owned())
        .and_then(|ports| frontrow_tests::cluster::Cluster::running_or_started(&dir, &ports));
    let cluster = match cluster {
        Ok(cluster) => PrivateCluster(cluster),
        Err(missing) if std::env::var_os("CI").is_some() => panic!("CI needs {missing}"),
        Err(missing) => {
            eprintln!("SKIPPED: {missing}");
            return;
        }
    };
    let seeds = cluster.0.seeds();
    let Some(app) = TestApp::spawn_with(Stores::MySqlRedisCluster, |c| {
        c.redis_url = Some(seeds);
        c.store_timeout_ms = 500;
    })
    .await
    else {
        return;
    };
    let (concert, _) = app.concert(5, 0).await;
    let (buyer, token) = app.admitted("patient", 0, concert).await;
    let status = || app.api.queue_status(&buyer, &token);
    assert_eq!(status().await.expect("status").status, StatusCode::OK);

    // The master that holds this sale's slot: the one with its keys.
    let tag = format!("*{{c{concert}}}*");
    let holder = cluster
        .0
        .ports
        .iter()
        .copied()
        .find(|port| {
            let out = Command::new("redis-cli")
                .args(["-p", &port.to_string(), "--scan", "--pattern", &tag])
                .output()
                .expect("redis-cli runs");
            !out.stdout.is_empty()
        })
        .expect("a node holds the sale");
    let pid = cluster.0.pid(holder).expect("the node's pid");
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());

    // While the slot has no master: quick 503 problems, never a 500.
    let started = Instant::now();
    let mut unavailable = 0;
    while started.elapsed() < Duration::from_secs(4) {
        let asked = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(10), status())
            .await
            .expect("an answer within 10 s, not a hang")
            .expect("an answer");
        assert_ne!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
        if answer.status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(answer.headers.contains_key("retry-after"));
            assert!(
                asked.elapsed() < Duration::from_secs(3),
                "{:?}",
                asked.elapsed()
            );
            unavailable += 1;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(unavailable > 0, "the room answered without its master");

    // The master returns (its data is gone: no persistence here); the room
    // answers again by itself, and a buyer can join.
    cluster.0.start_node(holder).expect("the node restarts");
    cluster
        .0
        .wait_ok(Duration::from_secs(30))
        .expect("the cluster recovers");
    let mut recovered = false;
    for _ in 0..100 {
        if status().await.expect("status").status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the instance did not recover within 10 s");
    let again = app.buyer("back").await;
    assert_eq!(app.join(&again, concert).await.status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concert_whose_room_could_not_be_told_its_opening_is_not_listed_until_a_retry_with_its_key()
 {
    let Some(redis) = PrivateRedis::start() else {
        if std::env::var_os("CI").is_some() {
            panic!("CI needs redis-server");
        }
        eprintln!("SKIPPED: redis-server is not installed");
        return;
    };
    wait_for_redis(&redis).await;
    let url = redis.url();
    let Some(app) = TestApp::spawn_with(Stores::MySqlRedis, |c| {
        c.redis_url = Some(url);
        c.store_timeout_ms = 500;
    })
    .await
    else {
        return;
    };
    let title = format!("Half made {}", frontrow_tests::unique());
    let key = format!("create-{}", frontrow_tests::unique());
    let opens_at = (chrono::Utc::now() + Duration::from_secs(7200)).to_rfc3339();
    let schedule = frontrow_client::NewSchedule::new("2030-01-01T19:00:00Z", 5, 10);
    let concert =
        frontrow_client::NewConcert::new(title.clone(), vec![schedule]).opening(opens_at, 30);
    // How many concerts of that title are on sale, once the list answers
    // (the instance may take a moment to reach a Redis that came back).
    let listed = || async {
        for _ in 0..50 {
            let all = app.api.concerts().await.expect("answered");
            if all.status == StatusCode::OK {
                return all.body["concerts"].as_array().map_or(0, |all| {
                    all.iter().filter(|c| c["title"] == title.as_str()).count()
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the concert list did not recover within 5 s");
    };

    // The room's store does not answer: the concert is written, its room
    // is not told the opening, and the operator hears a 503.
    redis.signal("-STOP");
    let failed = app
        .api
        .create_concert_with_key(&concert, &key)
        .await
        .expect("answered");
    assert_eq!(
        failed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        failed.body
    );
    redis.signal("-CONT");
    wait_for_redis(&redis).await;
    assert_eq!(
        listed().await,
        0,
        "a concert whose room has no opening is not on sale"
    );

    // The retry with the same key finishes that concert: one concert, on
    // sale, whose room keeps buyers out until the pre-queue.
    let retried = app
        .api
        .create_concert_with_key(&concert, &key)
        .await
        .expect("answered");
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
    assert_eq!(listed().await, 1);
    let buyer = app.buyer("early").await;
    let joined = app.join(&buyer, retried.i64("concertId")).await;
    assert_eq!(joined.code(), "SALE_NOT_OPEN", "{}", joined.body);
}

/// The rate limiter fails open: while Redis does not answer, a sign-up (the
/// database's alone) is served past its address's limit, and `/metrics`
/// counts each check the limiter could not answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_redis_lets_buyers_through_the_rate_limits_and_is_counted() {
    let Some(redis) = PrivateRedis::start() else {
        if std::env::var_os("CI").is_some() {
            panic!("CI needs redis-server");
        }
        eprintln!("SKIPPED: redis-server is not installed");
        return;
    };
    wait_for_redis(&redis).await;
    let url = redis.url();
    let Some(app) = TestApp::spawn_with(Stores::MySqlRedis, |c| {
        c.redis_url = Some(url);
        c.store_timeout_ms = 300;
        c.rate_limits = frontrow::RateLimitSettings {
            limit_sign_up_per_address: frontrow::Rate {
                requests: 1,
                seconds: 3_600,
            },
            ..Default::default()
        };
    })
    .await
    else {
        return;
    };
    let sign_up = || app.api.register("open");
    assert_eq!(
        sign_up().await.expect("an answer").status,
        StatusCode::CREATED
    );
    assert_eq!(
        sign_up().await.expect("an answer").status,
        StatusCode::TOO_MANY_REQUESTS
    );

    redis.signal("-STOP");
    for _ in 0..2 {
        let reply = sign_up().await.expect("an answer");
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let (_, metrics) = app.api.metrics().await.expect("metrics");
    let failures: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("frontrow_rate_limiter_failures_total "))
        .and_then(|n| n.trim().parse().ok())
        .expect("the limiter's failures in /metrics");
    assert!(failures >= 2, "{failures} failures counted");
    redis.signal("-CONT");
}
