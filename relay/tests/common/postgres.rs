//! A throwaway PostgreSQL cluster for a test: `initdb` into a temporary directory (owned by the
//! `postgres` user when the tests run as root, since `initdb` refuses root), started with
//! `pg_ctl` on a free loopback port with its socket in that directory, and stopped through its
//! pid file (`pg_ctl stop`) when dropped. Never reaches beyond loopback.
//!
//! The binaries: `SAFECONV_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin` (Debian's
//! `postgresql` package). Without them a test is skipped with a message, unless
//! `SAFECONV_REQUIRE_POSTGRES=1` (scripts/test-relay.sh sets it) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sqlx::{ConnectOptions, Connection, PgConnection};

use super::TempDir;

pub struct PgCluster {
    bin: PathBuf,
    /// Holds `data/` (the cluster), the socket and `server.log`.
    dir: TempDir,
    pub port: u16,
    as_postgres: bool,
    /// `-c name=value` settings given at every start.
    settings: Vec<String>,
}

impl PgCluster {
    /// A new cluster, started; `None` (after saying why) if PostgreSQL is not installed and
    /// not required.
    pub fn start() -> Option<PgCluster> {
        PgCluster::start_with(&[])
    }

    /// With extra server settings, e.g. `ssl=on`; files they name can be put in
    /// [`PgCluster::dir`] by `prepare` before the server starts.
    pub fn start_with_files(settings: &[&str], prepare: impl FnOnce(&Path)) -> Option<PgCluster> {
        let Some(bin) = binaries() else {
            assert!(
                std::env::var_os("SAFECONV_REQUIRE_POSTGRES").is_none(),
                "PostgreSQL is required (SAFECONV_REQUIRE_POSTGRES) but initdb was not found: \
                 install Debian's postgresql package or set SAFECONV_PG_BIN"
            );
            eprintln!("skipped: PostgreSQL is not installed (set SAFECONV_PG_BIN)");
            return None;
        };
        let as_postgres = is_root();
        let dir = TempDir::new();
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(&dir.0));
        }
        let mut cluster = PgCluster {
            bin,
            dir,
            port: 0,
            as_postgres,
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
        };
        let data = cluster.data();
        run(cluster
            .command("initdb")
            .args(["--no-sync", "-A", "trust", "-U", "postgres", "-D"])
            .arg(&data));
        prepare(&cluster.dir.0);
        if as_postgres {
            run(Command::new("chown")
                .arg("-R")
                .arg("postgres")
                .arg(&cluster.dir.0));
        }
        // A free port can be taken by someone else before the server binds it: try again.
        for attempt in 0.. {
            cluster.port = free_port();
            if cluster.try_start() {
                break;
            }
            assert!(attempt < 4, "PostgreSQL did not start:\n{}", cluster.log());
        }
        Some(cluster)
    }

    pub fn start_with(settings: &[&str]) -> Option<PgCluster> {
        PgCluster::start_with_files(settings, |_| {})
    }

    /// The directory that holds the cluster.
    pub fn dir(&self) -> &Path {
        &self.dir.0
    }

    fn data(&self) -> PathBuf {
        self.dir.0.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn try_start(&self) -> bool {
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.0.display()
        );
        for setting in &self.settings {
            options.push_str(" -c ");
            options.push_str(setting);
        }
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-o", &options, "-l"])
            .arg(self.dir.0.join("server.log"))
            .args(["-w", "-t", "30", "start"])
            .output()
            .expect("pg_ctl runs")
            .status
            .success()
    }

    /// Starts the server again (same port) after [`PgCluster::stop`].
    pub fn start_again(&self) {
        assert!(
            self.try_start(),
            "PostgreSQL did not start again:\n{}",
            self.log()
        );
    }

    /// Stops the server (`pg_ctl stop -m fast`: sessions are disconnected, as in a failover).
    pub fn stop(&self) {
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "stop"]));
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("server.log")).unwrap_or_default()
    }

    /// `postgres://postgres@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A connection as the superuser, for the test's own looks into the database.
    pub async fn connect(&self, database: &str) -> PgConnection {
        self.url(database)
            .parse::<sqlx::postgres::PgConnectOptions>()
            .unwrap()
            .connect()
            .await
            .expect("PostgreSQL answers")
    }

    /// A new database on this cluster; its URL.
    pub async fn new_database(&self) -> String {
        new_database(&format!("postgres://postgres@127.0.0.1:{}", self.port)).await
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // Through its pid file, whatever state the test left it in.
        if self.data().join("postmaster.pid").exists() {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}

fn binaries() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SAFECONV_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(command: &mut Command) {
    let out = command.output().expect("command runs");
    assert!(
        out.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `SAFECONV_RELAY_TEST_POSTGRES`: a PostgreSQL server (`postgres://user@127.0.0.1:PORT`, a
/// throwaway cluster scripts/test-relay.sh starts) to run the in-process tests on instead of
/// SQLite, each harness in a database of its own.
pub fn shared_server() -> Option<String> {
    std::env::var("SAFECONV_RELAY_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A new, empty database on `server`; its URL.
pub async fn new_database(server: &str) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!(
        "relay_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut admin = format!("{server}/postgres")
        .parse::<sqlx::postgres::PgConnectOptions>()
        .unwrap()
        .connect()
        .await
        .expect("the test PostgreSQL answers");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    format!("{server}/{name}")
}

/// Waits until `check` holds, polling every 100 ms for at most `limit`.
pub async fn until(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
