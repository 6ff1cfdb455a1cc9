//! The production topology as real processes: Debian's nginx with
//! `deploy/nginx.conf.template` in front of three `frontrow` processes (the
//! debug binary), on a private `mariadbd` (its own data directory, made by
//! `mariadb-install-db`) and a private `redis-server` with AOF. Everything
//! listens on free ports and lives in one temporary directory, so a test may
//! kill or restart any of it without disturbing the shared stores on 3306
//! and 6379. Dropping a `Topology` stops every process it started; after a
//! failed test its directory (the logs) is kept and named.
//!
//! `Rush` is the buyers' side: a few hundred buyers through nginx, each
//! retrying what failed on the wire the way a careful client does (charges
//! by `Idempotency-Key`, payments by reservation, a lost hold found again in
//! the buyer's list), every answer recorded so a test can count the 503s a
//! fault caused and when. `Sale::invariants` checks the outcome exactly in
//! the database.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const ADMIN_KEY: &str = "topology-admin-key";

/// The tools the topology runs, with the Debian package that has each.
const TOOLS: [(&str, &str); 4] = [
    ("mariadbd", "mariadb-server"),
    ("mariadb-install-db", "mariadb-server"),
    ("redis-server", "redis-server"),
    ("nginx", "nginx"),
];

/// Where a tool is: on `PATH` or in `/usr/sbin` (Debian puts the daemons
/// there, outside a non-root `PATH`).
fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn signal(child: &Child, name: &str) {
    let _ = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status();
}

/// Waits for `child` to exit, at most `within`: whether it did.
fn exited(child: &mut Child, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if child.try_wait().ok().flatten().is_some() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("a log file")
}

/// A child process this harness owns: SIGKILLed and reaped when asked,
/// and when dropped, so a failed test leaves nothing running.
#[derive(Default)]
struct Process(Option<Child>);

impl Process {
    fn run(&mut self, child: Child) {
        self.kill();
        self.0 = Some(child);
    }

    fn is_running(&self) -> bool {
        self.0.is_some()
    }

    /// The child, to stop some other way (or `None` if none runs).
    fn take(&mut self) -> Option<Child> {
        self.0.take()
    }

    /// SIGKILL: no chance to write anything more.
    fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `ready` every `every` until it says yes; fails the test with
/// `never` after `within`.
async fn wait_until<F, Fut>(
    within: Duration,
    every: Duration,
    never: impl Fn() -> String,
    mut ready: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !ready().await {
        assert!(Instant::now() < deadline, "{}", never());
        tokio::time::sleep(every).await;
    }
}

/// The `frontrow` binary: `FRONTROW_BIN`, or the debug (or release) binary
/// beside this test, built once per test process by `cargo build -p
/// frontrow` (an integration test of another package does not get it built
/// by Cargo; the call is a no-op when it is fresh).
pub fn frontrow_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(given) = std::env::var_os("FRONTROW_BIN") {
                return PathBuf::from(given);
            }
            // target/<profile>/deps/<test> -> target/<profile>, target
            let exe = std::env::current_exe().expect("the test's path");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("target/<profile>");
            let target = profile_dir.parent().expect("the target directory");
            let release = profile_dir.file_name().is_some_and(|n| n == "release");
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut build = Command::new(cargo);
            build
                .args(["build", "--quiet", "-p", "frontrow", "--bin", "frontrow"])
                .arg("--manifest-path")
                .arg(&workspace)
                .env("CARGO_TARGET_DIR", target);
            if release {
                build.arg("--release");
            }
            let out = build.output().expect("cargo runs");
            assert!(
                out.status.success(),
                "cargo build -p frontrow failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            profile_dir.join("frontrow")
        })
        .clone()
}

/// A private MariaDB: its own data directory and port, root without a
/// password over TCP.
pub struct MariaDb {
    dir: PathBuf,
    pub port: u16,
    process: Process,
}

impl MariaDb {
    fn install(dir: &Path) -> MariaDb {
        let data = dir.join("mariadb");
        let mut install = Command::new(tool("mariadb-install-db").expect("checked"));
        install
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if running_as_root() {
            install.arg("--user=root");
        }
        let status = install
            .stdout(log_file(&dir.join("mariadb-install.log")))
            .stderr(log_file(&dir.join("mariadb-install.log")))
            .status()
            .expect("mariadb-install-db runs");
        assert!(status.success(), "mariadb-install-db failed");
        MariaDb {
            dir: dir.to_owned(),
            port: free_port(),
            process: Process::default(),
        }
    }

    pub fn url(&self, database: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{database}", self.port)
    }

    /// Starts `mariadbd` and waits until it takes connections.
    pub async fn start(&mut self) {
        let mut server = Command::new(tool("mariadbd").expect("checked"));
        server
            .arg("--no-defaults")
            .arg(format!("--datadir={}", self.dir.join("mariadb").display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!(
                "--socket={}",
                self.dir.join("mariadb.sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                self.dir.join("mariadb.pid").display()
            ))
            .arg(format!(
                "--log-error={}",
                self.dir.join("mariadb.err").display()
            ))
            .args([
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=64M",
                "--max-connections=300",
            ]);
        if running_as_root() {
            server.arg("--user=root");
        }
        self.process.run(
            server
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("mariadbd starts"),
        );
        sqlx::any::install_default_drivers();
        let url = self.url("mysql");
        wait_until(
            Duration::from_secs(30),
            Duration::from_millis(50),
            || "mariadbd never took connections".to_owned(),
            || async {
                <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
                    .await
                    .is_ok()
            },
        )
        .await;
    }

    /// SIGKILL: the database dies as in a crash; committed work survives.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// A private Redis with AOF (`appendfsync always`): every acknowledged
/// write is on disk before the answer, so a kill loses nothing.
pub struct Redis {
    dir: PathBuf,
    pub port: u16,
    process: Process,
}

impl Redis {
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub async fn start(&mut self) {
        let data = self.dir.join("redis");
        std::fs::create_dir_all(&data).expect("redis dir");
        self.process.run(
            Command::new(tool("redis-server").expect("checked"))
                .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
                .args(["--appendonly", "yes", "--appendfsync", "always"])
                .args(["--save", ""])
                .arg("--dir")
                .arg(&data)
                .arg("--logfile")
                .arg(self.dir.join("redis.log"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server starts"),
        );
        let url = self.url();
        wait_until(
            Duration::from_secs(20),
            Duration::from_millis(20),
            || "redis-server never answered".to_owned(),
            || async {
                frontrow_adapters::redis::connect(&url, Duration::from_millis(200))
                    .await
                    .is_ok()
            },
        )
        .await;
    }

    /// SIGKILL: no chance to write anything more.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// One `frontrow serve` process on its own port.
pub struct Instance {
    pub port: u16,
    process: Process,
    environment: Vec<(String, String)>,
    log: PathBuf,
}

impl Instance {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn spawn(&mut self) {
        let mut command = Command::new(frontrow_binary());
        command
            .arg("serve")
            .env_clear()
            .envs(self.environment.iter().map(|(k, v)| (k, v)))
            .stdout(log_file(&self.log))
            .stderr(log_file(&self.log));
        self.process.run(command.spawn().expect("frontrow starts"));
    }

    /// Waits until `/health/ready` answers 200 (at most 30 s).
    pub async fn wait_ready(&self) {
        let http = reqwest::Client::new();
        let url = format!("{}/health/ready", self.base());
        wait_until(
            Duration::from_secs(30),
            Duration::from_millis(25),
            || {
                format!(
                    "instance on {} never became ready; see {}",
                    self.port,
                    self.log.display()
                )
            },
            || async {
                let ready = http.get(&url).timeout(Duration::from_secs(2)).send().await;
                ready.is_ok_and(|r| r.status() == StatusCode::OK)
            },
        )
        .await;
    }

    /// SIGKILL, as the OOM killer or a failed host does it.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// SIGTERM, as systemd stops it, then waits for the exit: how long the
    /// instance took to drain and stop.
    pub async fn terminate(&mut self) -> Duration {
        let mut child = self.process.take().expect("a running instance");
        let asked = Instant::now();
        signal(&child, "-TERM");
        let gone = tokio::task::spawn_blocking(move || {
            let done = exited(&mut child, Duration::from_secs(30));
            (done, child)
        })
        .await
        .expect("the waiter");
        assert!(gone.0, "instance on {} ignored SIGTERM", self.port);
        asked.elapsed()
    }

    /// A fresh process on the same port, ready.
    pub async fn restart(&mut self) {
        self.spawn();
        self.wait_ready().await;
    }
}

/// nginx, a private process (not a daemon) on the rendered template.
pub struct Nginx {
    pub port: u16,
    run: PathBuf,
    upstreams: Vec<u16>,
    process: Process,
}

impl Nginx {
    /// Writes `nginx.conf` from the template for `upstreams`.
    fn render(&self) {
        let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nginx.conf.template");
        let template = std::fs::read_to_string(template).expect("deploy/nginx.conf.template");
        // The same upstream lines deploy/local.sh writes.
        let servers: String = self
            .upstreams
            .iter()
            .map(|p| format!("        server 127.0.0.1:{p} max_fails=2 fail_timeout=2s;\n"))
            .collect();
        let conf = template
            .replace("@LISTEN@", &format!("127.0.0.1:{}", self.port))
            .replace("@RUN@", &self.run.display().to_string())
            .replace("@UPSTREAMS@", &servers);
        std::fs::write(self.run.join("nginx.conf"), conf).expect("nginx.conf");
    }

    fn start(dir: &Path, upstreams: &[u16]) -> Nginx {
        let run = dir.join("nginx");
        std::fs::create_dir_all(&run).expect("nginx dir");
        let mut nginx = Nginx {
            port: free_port(),
            run: run.clone(),
            upstreams: upstreams.to_vec(),
            process: Process::default(),
        };
        nginx.render();
        let child = Command::new(tool("nginx").expect("checked"))
            .arg("-p")
            .arg(&run)
            .arg("-c")
            .arg(run.join("nginx.conf"))
            .arg("-e")
            .arg(run.join("nginx-error.log"))
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(log_file(&run.join("nginx-stderr.log")))
            .spawn()
            .expect("nginx starts");
        nginx.process.run(child);
        nginx
    }
}

impl Nginx {
    /// SIGTERM, then waits for the master to exit.
    fn stop(&mut self) {
        if let Some(mut child) = self.process.take() {
            // SIGTERM: the master stops its workers (a SIGKILLed master
            // would leave them running).
            signal(&child, "-TERM");
            if !exited(&mut child, Duration::from_secs(5)) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The whole topology; dropping it stops nginx, the instances and the
/// stores, in that order.
pub struct Topology {
    pub nginx: Nginx,
    pub instances: Vec<Instance>,
    pub redis: Redis,
    pub mariadb: MariaDb,
    pub dir: PathBuf,
    pub base: String,
}

/// One topology at a time in a test process: two cores cannot run two
/// rushes of three instances each and still say anything about timing.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Topology {
    /// Starts everything, or `None` (after saying why) when a tool is
    /// missing outside CI; under CI a missing tool fails the test.
    pub async fn start(name: &str) -> Option<(Topology, tokio::sync::MutexGuard<'static, ()>)> {
        if let Some((missing, package)) = TOOLS.iter().find(|(name, _)| tool(name).is_none()) {
            let why = format!("{missing} (apt-get install {package})");
            if std::env::var_os("CI").is_some() {
                panic!("CI needs {why}");
            }
            eprintln!("SKIPPED: {why} is not installed (CI fails here instead)");
            return None;
        }
        let turn = ONE_AT_A_TIME.lock().await;
        let binary = tokio::task::spawn_blocking(frontrow_binary)
            .await
            .expect("the build");
        let dir =
            std::env::temp_dir().join(format!("frontrow-topology-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("topology dir");

        let mut mariadb = {
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || MariaDb::install(&dir))
                .await
                .expect("install")
        };
        let mut redis = Redis {
            dir: dir.clone(),
            port: free_port(),
            process: Process::default(),
        };
        tokio::join!(mariadb.start(), redis.start());
        let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&mariadb.url("mysql"))
            .await
            .expect("root on the private MariaDB");
        sqlx::query("CREATE DATABASE frontrow")
            .execute(&mut admin)
            .await
            .expect("a database");

        let mut instances = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let environment = [
                ("FRONTROW_LISTEN", format!("127.0.0.1:{port}")),
                ("DATABASE_URL", mariadb.url("frontrow")),
                ("REDIS_URL", redis.url()),
                ("FRONTROW_REDIS_PREFIX", "topology:".to_owned()),
                ("FRONTROW_ADMIN_KEY", ADMIN_KEY.to_owned()),
                ("FRONTROW_JWT_SECRET", "topology-jwt-secret".to_owned()),
                (
                    "FRONTROW_DATA_DIR",
                    dir.join(format!("data-{port}")).display().to_string(),
                ),
                ("FRONTROW_STORE_TIMEOUT_MS", "1000".to_owned()),
                ("FRONTROW_DRAIN_MS", "1000".to_owned()),
                ("FRONTROW_SHUTDOWN_GRACE_SECONDS", "5".to_owned()),
                ("FRONTROW_DB_CONNECTIONS", "8".to_owned()),
                ("FRONTROW_ACTIVE_IDLE_SECONDS", "0".to_owned()),
                ("FRONTROW_WAITING_IDLE_SECONDS", "0".to_owned()),
                ("RUST_LOG", "warn".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            let mut instance = Instance {
                port,
                process: Process::default(),
                environment,
                log: dir.join(format!("frontrow-{port}.log")),
            };
            assert!(binary.is_file(), "{} is missing", binary.display());
            instance.spawn();
            instances.push(instance);
        }
        for instance in &instances {
            instance.wait_ready().await;
        }
        let ports: Vec<u16> = instances.iter().map(|i| i.port).collect();
        let nginx = Nginx::start(&dir, &ports);
        let base = format!("http://127.0.0.1:{}", nginx.port);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !http
            .get(format!("{base}/health/live"))
            .send()
            .await
            .is_ok_and(|r| r.status() == StatusCode::OK)
        {
            assert!(Instant::now() < deadline, "nginx never answered");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Some((
            Topology {
                nginx,
                instances,
                redis,
                mariadb,
                dir,
                base,
            },
            turn,
        ))
    }

    /// Waits until every instance's `/health/ready` answers 200 again:
    /// how long that took.
    pub async fn all_ready(&self) -> Duration {
        let started = Instant::now();
        for instance in &self.instances {
            if instance.process.is_running() {
                instance.wait_ready().await;
            }
        }
        started.elapsed()
    }

    /// A database connection for checks.
    pub async fn database(&self) -> sqlx::AnyPool {
        sqlx::any::AnyPoolOptions::new()
            .max_connections(2)
            .connect(&self.mariadb.url("frontrow"))
            .await
            .expect("the private database")
    }

    /// One instance's `/metrics` text.
    pub async fn metrics(&self, instance: usize) -> String {
        reqwest::get(format!("{}/metrics", self.instances[instance].base()))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        self.nginx.stop();
        self.instances.iter_mut().for_each(Instance::kill);
        self.redis.kill();
        self.mariadb.kill();
        if std::thread::panicking() {
            eprintln!("the topology's logs are kept in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// What one answer was, as a client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Status(u16),
    /// No HTTP answer: the connection failed or timed out.
    Wire,
}

/// One request of the rush: when it was sent (since the rush started), how
/// long it took, and what came back.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Duration,
    pub took: Duration,
    pub what: &'static str,
    pub seen: Seen,
    /// A 503 said `Retry-After`.
    pub retry_after: bool,
}

/// An HTTP answer with its JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<u64>,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Worth asking again: the service or the proxy could not answer now.
    fn transient(&self) -> bool {
        matches!(self.status, 502..=504)
    }
}

/// The buyers' HTTP client, through nginx, recording every call.
pub struct Client {
    http: reqwest::Client,
    base: String,
    pub started: Instant,
    calls: Mutex<Vec<Call>>,
}

impl Client {
    pub fn new(base: &str) -> Arc<Client> {
        Arc::new(Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
            base: base.to_owned(),
            started: Instant::now(),
            calls: Mutex::new(Vec::new()),
        })
    }

    /// Sends once: the answer, or `None` when nothing came back.
    pub async fn send(
        &self,
        what: &'static str,
        method: Method,
        path: &str,
        access: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Option<Answer> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = access {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let sent = Instant::now();
        let at = sent - self.started;
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok()?.parse().ok());
                match response.bytes().await {
                    Ok(bytes) => Some(Answer {
                        status,
                        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                        retry_after,
                    }),
                    Err(_) => None,
                }
            }
            Err(_) => None,
        };
        let call = Call {
            at,
            took: sent.elapsed(),
            what,
            seen: answer
                .as_ref()
                .map_or(Seen::Wire, |a| Seen::Status(a.status)),
            retry_after: answer.as_ref().is_some_and(|a| a.retry_after.is_some()),
        };
        self.calls.lock().expect("calls").push(call);
        answer
    }

    /// Sends until the answer is not a transient failure (a 502/503/504 or
    /// nothing at all), waiting as `Retry-After` says (at most 2 s) or
    /// 100 ms. For requests that are safe to repeat.
    pub async fn until_answered(
        &self,
        what: &'static str,
        method: Method,
        path: &str,
        access: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let answer = self
                .send(what, method.clone(), path, access, headers, body.clone())
                .await;
            match answer {
                Some(answer) if !answer.transient() => return answer,
                other => {
                    assert!(Instant::now() < deadline, "{what} never answered");
                    let wait = other
                        .and_then(|a| a.retry_after)
                        .map_or(Duration::from_millis(100), |s| {
                            Duration::from_secs(s.min(2))
                        });
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("calls").clone()
    }
}

/// What the calls of a rush saw.
#[derive(Debug, Default)]
pub struct Tally {
    pub calls: usize,
    pub unavailable: usize,
    pub unavailable_without_retry_after: usize,
    /// From the first 503 sent to the last one answered.
    pub unavailable_span: Option<(Duration, Duration)>,
    pub slowest_unavailable: Duration,
    pub server_errors: usize,
    pub bad_gateway: usize,
    pub gateway_timeouts: usize,
    pub wire: usize,
}

impl Tally {
    pub fn of(calls: &[Call]) -> Tally {
        let mut tally = Tally {
            calls: calls.len(),
            ..Tally::default()
        };
        for call in calls {
            match call.seen {
                Seen::Status(503) => {
                    tally.unavailable += 1;
                    if !call.retry_after {
                        tally.unavailable_without_retry_after += 1;
                    }
                    tally.slowest_unavailable = tally.slowest_unavailable.max(call.took);
                    let (first, last) = tally
                        .unavailable_span
                        .unwrap_or((call.at, call.at + call.took));
                    tally.unavailable_span =
                        Some((first.min(call.at), last.max(call.at + call.took)));
                }
                Seen::Status(500) | Seen::Status(501) | Seen::Status(505..=599) => {
                    tally.server_errors += 1
                }
                Seen::Status(502) => tally.bad_gateway += 1,
                Seen::Status(504) => tally.gateway_timeouts += 1,
                Seen::Wire => tally.wire += 1,
                Seen::Status(_) => {}
            }
        }
        tally
    }

    /// Every call that did not get a real answer from the service: 5xx
    /// (503 included) or nothing.
    pub fn failures(&self) -> usize {
        self.unavailable + self.server_errors + self.bad_gateway + self.gateway_timeouts + self.wire
    }
}

/// A sale: one concert with one schedule.
#[derive(Debug, Clone, Copy)]
pub struct Sale {
    pub concert: i64,
    pub schedule: i64,
    pub seats: i64,
    pub price: i64,
}

/// How a buyer's attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Paid for this seat (reservation id, seat).
    Paid { reservation: i64, seat: i64 },
    /// Every seat went to others.
    SoldOut,
}

/// A registered buyer with enough points for one seat.
#[derive(Debug, Clone)]
pub struct Buyer {
    pub user: i64,
    pub access: String,
    pub name: String,
}

impl Sale {
    pub async fn create(client: &Client, seats: i64, price: i64) -> Sale {
        let created = client
            .until_answered(
                "create concert",
                Method::POST,
                "/api/v1/admin/concerts",
                None,
                &[("X-Admin-Key", ADMIN_KEY)],
                Some(json!({
                    "title": "Topology night",
                    "schedules": [{ "startsAt": "2031-06-01T19:00:00Z", "seatCount": seats, "price": price }],
                })),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        Sale {
            concert: created.body["concertId"].as_i64().expect("concert"),
            schedule: created.body["schedules"][0]["scheduleId"]
                .as_i64()
                .expect("schedule"),
            seats,
            price,
        }
    }

    pub async fn set_queue(&self, client: &Client, capacity: i64, rate: i64, paused: bool) {
        let set = client
            .until_answered(
                "set queue",
                Method::PUT,
                &format!("/api/v1/admin/concerts/{}/queue", self.concert),
                None,
                &[("X-Admin-Key", ADMIN_KEY)],
                Some(json!({ "capacity": capacity, "admitPerSecond": rate, "paused": paused })),
            )
            .await;
        assert_eq!(set.status, 200, "{}", set.body);
    }

    /// Registers a buyer (before the fault: a sign-up is not repeatable).
    pub async fn buyer(client: &Client, name: String) -> Buyer {
        let made = client
            .until_answered(
                "sign up",
                Method::POST,
                "/api/v1/users",
                None,
                &[],
                Some(json!({ "name": name })),
            )
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        Buyer {
            user: made.body["userId"].as_i64().expect("user"),
            access: made.body["accessToken"]
                .as_str()
                .expect("access token")
                .to_owned(),
            name,
        }
    }

    /// Joins the room (one place per user, so a retry is safe): the token.
    pub async fn join(&self, client: &Client, buyer: &Buyer) -> Option<String> {
        let joined = client
            .until_answered(
                "join",
                Method::POST,
                "/api/v1/queue/tokens",
                Some(&buyer.access),
                &[],
                Some(json!({ "concertId": self.concert })),
            )
            .await;
        match (joined.status, joined.code()) {
            (200 | 201, _) => Some(joined.body["token"].as_str().expect("token").to_owned()),
            (409, "SOLD_OUT") => None,
            _ => panic!("join: {} {}", joined.status, joined.body),
        }
    }

    /// The buyer's place: (status, position).
    pub async fn place(&self, client: &Client, buyer: &Buyer, token: &str) -> (String, i64) {
        let status = client
            .until_answered(
                "status",
                Method::GET,
                "/api/v1/queue/status",
                Some(&buyer.access),
                &[("X-Queue-Token", token)],
                None,
            )
            .await;
        assert_eq!(status.status, 200, "{}", status.body);
        (
            status.body["status"].as_str().expect("status").to_owned(),
            status.body["position"].as_i64().expect("position"),
        )
    }

    /// One buyer's whole attempt: charge, join, wait for ACTIVE, hold a free
    /// seat, pay. Whatever fails on the wire is retried the way a careful
    /// client retries it.
    pub async fn buy(&self, client: &Client, buyer: &Buyer) -> Outcome {
        let charge_key = format!("charge-{}", buyer.user);
        let charged = client
            .until_answered(
                "charge",
                Method::POST,
                "/api/v1/points/charge",
                Some(&buyer.access),
                &[("Idempotency-Key", &charge_key)],
                Some(json!({ "amount": self.price })),
            )
            .await;
        assert_eq!(charged.status, 200, "charge: {}", charged.body);
        let Some(token) = self.join(client, buyer).await else {
            return Outcome::SoldOut;
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(
                Instant::now() < deadline,
                "{} never got an outcome",
                buyer.name
            );
            match self.place(client, buyer, &token).await.0.as_str() {
                "ACTIVE" => break,
                "SOLD_OUT" => return Outcome::SoldOut,
                "WAITING" | "PRE_QUEUE" => tokio::time::sleep(Duration::from_millis(100)).await,
                other => panic!("{}: unexpected place {other}", buyer.name),
            }
        }
        let outcome = self.hold_and_pay(client, buyer, &token, deadline).await;
        if outcome == Outcome::SoldOut {
            // Give the slot back so the line moves.
            let _ = client
                .send(
                    "leave",
                    Method::DELETE,
                    "/api/v1/queue/tokens",
                    Some(&buyer.access),
                    &[("X-Queue-Token", &token)],
                    None,
                )
                .await;
        }
        outcome
    }

    async fn hold_and_pay(
        &self,
        client: &Client,
        buyer: &Buyer,
        token: &str,
        deadline: Instant,
    ) -> Outcome {
        let mut attempt = 0usize;
        // A hold whose answer was lost may still have been made.
        let mut uncertain = false;
        let (reservation, seat) = loop {
            assert!(
                Instant::now() < deadline,
                "{} never got an outcome",
                buyer.name
            );
            attempt += 1;
            if uncertain && let Some(held) = self.my_hold(client, buyer).await {
                break held;
            }
            let map = client
                .until_answered(
                    "seat map",
                    Method::GET,
                    &format!("/api/v1/schedules/{}/seats", self.schedule),
                    Some(&buyer.access),
                    &[("X-Queue-Token", token)],
                    None,
                )
                .await;
            if map.status == 403 {
                // The room closed (every seat sold) or the place ended.
                return Outcome::SoldOut;
            }
            assert_eq!(map.status, 200, "seat map: {}", map.body);
            let seats = map.body["seats"].as_array().expect("seats");
            let free: Vec<i64> = seats
                .iter()
                .filter(|s| s["status"] == "AVAILABLE")
                .map(|s| s["seatNumber"].as_i64().expect("seat number"))
                .collect();
            if free.is_empty() {
                if seats.iter().all(|s| s["status"] == "SOLD") {
                    return Outcome::SoldOut;
                }
                // Held by others who are paying now.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            let seat = free[(buyer.user as usize * 7 + attempt) % free.len()];
            let held = client
                .send(
                    "hold",
                    Method::POST,
                    "/api/v1/reservations",
                    Some(&buyer.access),
                    &[("X-Queue-Token", token)],
                    Some(json!({ "scheduleId": self.schedule, "seatNumber": seat })),
                )
                .await;
            match held {
                Some(a) if a.status == 201 => {
                    break (a.body["reservationId"].as_i64().expect("reservation"), seat);
                }
                Some(a) if a.status == 409 && a.code() == "SEAT_UNAVAILABLE" => {}
                Some(a) if a.status == 403 => return Outcome::SoldOut,
                Some(a) if a.transient() => {
                    uncertain = true;
                    let wait = a.retry_after.map_or(100, |s| s.min(2) * 1000);
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                None => uncertain = true,
                Some(a) => panic!("hold: {} {}", a.status, a.body),
            }
        };
        let paid = client
            .until_answered(
                "pay",
                Method::POST,
                "/api/v1/payments",
                Some(&buyer.access),
                &[("X-Queue-Token", token)],
                Some(json!({ "reservationId": reservation })),
            )
            .await;
        assert!(
            paid.status == 201 || paid.status == 200,
            "{} pay: {} {}",
            buyer.name,
            paid.status,
            paid.body
        );
        if uncertain {
            // A lost hold found no answer in time but was made after all:
            // give its seat back.
            while let Some((extra, _)) = self.my_hold(client, buyer).await {
                let cancelled = client
                    .until_answered(
                        "cancel",
                        Method::DELETE,
                        &format!("/api/v1/reservations/{extra}"),
                        Some(&buyer.access),
                        &[],
                        None,
                    )
                    .await;
                assert_eq!(cancelled.status, 200, "{}", cancelled.body);
            }
        }
        Outcome::Paid { reservation, seat }
    }

    /// The buyer's live hold on this schedule, if they have one:
    /// (reservation, seat).
    async fn my_hold(&self, client: &Client, buyer: &Buyer) -> Option<(i64, i64)> {
        let list = client
            .until_answered(
                "my reservations",
                Method::GET,
                "/api/v1/reservations",
                Some(&buyer.access),
                &[],
                None,
            )
            .await;
        assert_eq!(list.status, 200, "{}", list.body);
        list.body["reservations"]
            .as_array()
            .expect("reservations")
            .iter()
            .find(|r| r["scheduleId"] == self.schedule && r["status"] == "HELD")
            .and_then(|r| Some((r["reservationId"].as_i64()?, r["seatNumber"].as_i64()?)))
    }

    /// The sale's invariants, exactly, from the system of record:
    /// - no seat sold twice, and every seat sold;
    /// - no point lost or created: every buyer charged `price` once, and the
    ///   charges equal the balances plus what was spent;
    /// - every buyer has an outcome, and the database agrees with it.
    pub async fn invariants(
        &self,
        database: &sqlx::AnyPool,
        buyers: &[Buyer],
        outcomes: &[Outcome],
    ) {
        use sqlx::Row;
        let one = |sql: &'static str| async move {
            sqlx::query(sql)
                .fetch_one(database)
                .await
                .expect(sql)
                .try_get::<i64, _>(0)
                .expect("a number")
        };
        let n = buyers.len() as i64;
        assert_eq!(outcomes.len(), buyers.len(), "every buyer has an outcome");
        let paid: Vec<(i64, i64)> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Paid { reservation, seat } => Some((*reservation, *seat)),
                Outcome::SoldOut => None,
            })
            .collect();
        assert_eq!(paid.len() as i64, self.seats, "every seat sold, once each");
        let mut seats: Vec<i64> = paid.iter().map(|p| p.1).collect();
        seats.sort_unstable();
        seats.dedup();
        assert_eq!(seats.len() as i64, self.seats, "no seat paid by two buyers");

        assert_eq!(
            one("SELECT COUNT(*) FROM seats WHERE sold = 1").await,
            self.seats
        );
        assert_eq!(
            one(
                "SELECT COUNT(*) FROM (SELECT schedule_id, seat_number FROM reservations \
                 WHERE status = 'CONFIRMED' GROUP BY schedule_id, seat_number \
                 HAVING COUNT(*) > 1) twice"
            )
            .await,
            0,
            "a seat confirmed twice"
        );
        assert_eq!(
            one("SELECT COUNT(*) FROM reservations WHERE status = 'CONFIRMED'").await,
            self.seats
        );
        assert_eq!(one("SELECT COUNT(*) FROM payments").await, self.seats);
        assert_eq!(
            one("SELECT COUNT(*) FROM reservations WHERE status = 'HELD'").await,
            0,
            "no hold left behind"
        );
        // Points: each buyer charged once, exactly.
        assert_eq!(
            one("SELECT COUNT(*) FROM point_ledger WHERE reason = 'CHARGE'").await,
            n,
            "one charge per buyer, retries included"
        );
        let charged = one("SELECT CAST(COALESCE(SUM(delta), 0) AS SIGNED) FROM point_ledger WHERE reason = 'CHARGE'")
            .await;
        let balances = one("SELECT CAST(COALESCE(SUM(balance), 0) AS SIGNED) FROM users").await;
        let spent = one("SELECT CAST(COALESCE(SUM(amount), 0) AS SIGNED) FROM payments").await;
        assert_eq!(charged, n * self.price);
        assert_eq!(spent, self.seats * self.price);
        assert_eq!(charged, balances + spent, "no point lost or created");
        assert_eq!(
            one("SELECT CAST(COALESCE(SUM(delta), 0) AS SIGNED) FROM point_ledger").await,
            balances,
            "the ledger explains every balance"
        );
        // The database agrees with what each buyer was told.
        for (buyer, outcome) in buyers.iter().zip(outcomes) {
            let confirmed: Vec<i64> = sqlx::query(
                "SELECT id FROM reservations WHERE user_id = ? AND status = 'CONFIRMED'",
            )
            .bind(buyer.user)
            .fetch_all(database)
            .await
            .expect("reservations")
            .iter()
            .map(|r| r.try_get::<i64, _>(0).expect("id"))
            .collect();
            match outcome {
                Outcome::Paid { reservation, .. } => {
                    assert_eq!(confirmed, vec![*reservation], "{}", buyer.name)
                }
                Outcome::SoldOut => assert!(confirmed.is_empty(), "{}", buyer.name),
            }
        }
    }
}

/// A rush: `buyers` buy at once through `client`, at most `concurrency` at a
/// time. `done` counts finished buyers, so a fault can be timed for the
/// middle of the rush. Outcomes come back in the buyers' order.
pub async fn rush(
    sale: Sale,
    client: Arc<Client>,
    buyers: Arc<Vec<Buyer>>,
    concurrency: usize,
    done: Arc<AtomicUsize>,
) -> Vec<Outcome> {
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..buyers.len() {
        // Turns are taken in the buyers' order, which is also their order
        // in line: in a room smaller than the line, the buyers who may act
        // are the ones admitted first (taken in any order, the turns could
        // all go to buyers behind admitted ones who have none).
        let turn = permits.clone().acquire_owned().await.expect("permits");
        let (client, buyers, done) = (client.clone(), buyers.clone(), done.clone());
        tasks.spawn(async move {
            let _turn = turn;
            let outcome = sale.buy(&client, &buyers[index]).await;
            done.fetch_add(1, Ordering::Relaxed);
            (index, outcome)
        });
    }
    let mut outcomes = vec![Outcome::SoldOut; buyers.len()];
    while let Some(finished) = tasks.join_next().await {
        let (index, outcome) = finished.expect("a buyer's task");
        outcomes[index] = outcome;
    }
    outcomes
}

/// Signs `count` buyers up, a few at a time.
pub async fn sign_up(client: &Arc<Client>, prefix: &str, count: usize) -> Vec<Buyer> {
    let mut tasks = tokio::task::JoinSet::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(16));
    for i in 0..count {
        let (client, permits) = (client.clone(), permits.clone());
        let name = format!("{prefix} {i}");
        tasks.spawn(async move {
            let _turn = permits.acquire_owned().await.expect("permits");
            (i, Sale::buyer(&client, name).await)
        });
    }
    let mut buyers: Vec<Option<Buyer>> = vec![None; count];
    while let Some(made) = tasks.join_next().await {
        let (i, buyer) = made.expect("a sign-up");
        buyers[i] = Some(buyer);
    }
    buyers.into_iter().map(|b| b.expect("signed up")).collect()
}

/// Waits until `done` reaches `count`; a rush that fails before that
/// fails the test here.
pub async fn when_done(
    done: &AtomicUsize,
    count: usize,
    rush: &mut tokio::task::JoinHandle<Vec<Outcome>>,
) {
    let reached = async {
        while done.load(Ordering::Relaxed) < count {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        () = reached => {}
        ended = rush => match ended {
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            _ => panic!("the rush ended before {count} buyers were done"),
        },
    }
}

/// The value of a sample (a line starting with `prefix`) in Prometheus text.
pub fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}
