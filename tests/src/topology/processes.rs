//! The processes of the topology: a private MariaDB and Redis, the
//! `frontrow` instances and nginx, each owned by a `Process` that kills and
//! reaps it when asked and when dropped.

use reqwest::StatusCode;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The tools the topology runs, with the Debian package that has each.
pub(super) const TOOLS: [(&str, &str); 4] = [
    ("mariadbd", "mariadb-server"),
    ("mariadb-install-db", "mariadb-server"),
    ("redis-server", "redis-server"),
    ("nginx", "nginx"),
];

/// Where a tool is: on `PATH` or in `/usr/sbin` (Debian puts the daemons
/// there, outside a non-root `PATH`).
pub(super) fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

pub(super) fn free_port() -> u16 {
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
pub(super) struct Process(Option<Child>);

impl Process {
    fn run(&mut self, child: Child) {
        self.kill();
        self.0 = Some(child);
    }

    pub(super) fn is_running(&self) -> bool {
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
    pub(super) fn install(dir: &Path) -> MariaDb {
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
    pub(super) dir: PathBuf,
    pub port: u16,
    pub(super) process: Process,
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
    pub(super) process: Process,
    pub(super) environment: Vec<(String, String)>,
    pub(super) log: PathBuf,
}

impl Instance {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(super) fn spawn(&mut self) {
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
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .expect("client");
        let api = frontrow_client::Client::new(http, &self.base());
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
                let ready = api.health_ready().await;
                ready.is_ok_and(|r| r.status == StatusCode::OK)
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

    /// Sets one of the instance's environment variables (a setting) for
    /// its next start.
    pub fn set(&mut self, name: &str, value: &str) {
        self.environment.retain(|(k, _)| k != name);
        self.environment.push((name.to_owned(), value.to_owned()));
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

    pub(super) fn start(dir: &Path, upstreams: &[u16]) -> Nginx {
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
    pub(super) fn stop(&mut self) {
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
