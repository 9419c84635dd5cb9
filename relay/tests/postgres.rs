//! Several relays on one PostgreSQL (a real server, a throwaway cluster per test): two
//! `safeconv-relay` processes on the same database in front of the emulator. The database keeps
//! one session per NIN, the limits, ownership and one linear audit chain across them; losing it
//! gives 503 within 5 s and nothing unrecorded, and they recover without a restart; one of them
//! killed leaves the other serving and nothing missing from the audit. TLS to the database is
//! verified.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::history::{History, MINUTE, Y2020};
use common::postgres::{PgCluster, until};
use common::{AGENTS, RelayProcess, TempDir, nin, relay_binary, sdk_body, write_agent_keys};
use reqwest::{Client, Response, StatusCode};
use safeconv_emulator::{Behaviour, Emulator, EmulatorConfig, Endpoint, Fault};
use serde_json::Value;

/// Two relays (or more) on one database, with their shared files.
struct Deployment {
    emulator: Emulator,
    dir: TempDir,
    keys: HashMap<&'static str, String>,
    relays: Vec<Option<RelayProcess>>,
    http: Client,
    database_url: String,
    // Last: the relays stop before the database does.
    pg: PgCluster,
}

impl Deployment {
    /// `instances` relays started at the same moment on a new database (so their migrations
    /// race), with `config` added to their shared configuration file.
    async fn start(pg: PgCluster, instances: usize, config: &str) -> Deployment {
        let database_url = pg.new_database().await;
        let emulator = Emulator::start(EmulatorConfig {
            seed: 12,
            min_session_lifetime: Duration::from_secs(1),
            default_behaviour: Behaviour::NeverAnswer,
            ..Default::default()
        })
        .await
        .unwrap();
        let dir = TempDir::new();
        let keys = write_agent_keys(&dir.0);
        // One audit key for the deployment, made as an operator would.
        let made = std::process::Command::new(relay_binary())
            .arg("new-audit-key")
            .arg(dir.0.join("audit.key"))
            .output()
            .unwrap();
        assert!(made.status.success(), "{made:?}");
        std::fs::write(
            dir.0.join("relay.toml"),
            format!(
                "[upstream]\nrequest_timeout_ms = 2000\ncreate_deadline_secs = 3\n\
                 [policy]\nmin_poll_interval_ms = 300\n{config}"
            ),
        )
        .unwrap();
        let mut deployment = Deployment {
            emulator,
            dir,
            keys,
            relays: Vec::new(),
            http: common::http(),
            database_url,
            pg,
        };
        let started: Vec<RelayProcess> = std::thread::scope(|scope| {
            let spawned: Vec<_> = (1..=instances)
                .map(|n| {
                    let d = &deployment;
                    scope.spawn(move || d.spawn(n))
                })
                .collect();
            spawned
                .into_iter()
                .map(|t| t.join().unwrap().expect("relay starts"))
                .collect()
        });
        deployment.relays = started.into_iter().map(Some).collect();
        deployment
    }

    /// Relay number `n` (1-based) as a new process on the deployment's database.
    fn spawn(&self, n: usize) -> Result<RelayProcess, String> {
        let instance = format!("relay-{n}");
        let config = self.dir.0.join("relay.toml");
        let key = self.dir.0.join("audit.key");
        RelayProcess::spawn(
            &self.dir.0,
            &self.emulator,
            &[
                "--config",
                config.to_str().unwrap(),
                "--database-url",
                &self.database_url,
                "--audit-key-file",
                key.to_str().unwrap(),
                "--instance",
                &instance,
            ],
            &[],
        )
    }

    /// The URL of relay `i` (0-based).
    fn url(&self, i: usize) -> &str {
        &self.relays[i].as_ref().expect("relay running").url
    }

    async fn create(&self, i: usize, agent: &str, nin: &str) -> Response {
        self.http
            .post(format!("{}/auth/rest/sessions", self.url(i)))
            .bearer_auth(&self.keys[agent])
            .json(&sdk_body(nin))
            .send()
            .await
            .unwrap()
    }

    async fn created(&self, i: usize, agent: &str, nin: &str) -> String {
        let response = self.create(i, agent, nin).await;
        assert_eq!(response.status(), StatusCode::OK);
        let session: Value = response.json().await.unwrap();
        session["id"].as_str().unwrap().to_owned()
    }

    async fn get(&self, i: usize, agent: &str, id: &str) -> Response {
        self.http
            .get(format!("{}/auth/rest/sessions/{id}", self.url(i)))
            .bearer_auth(&self.keys[agent])
            .send()
            .await
            .unwrap()
    }

    async fn cancel(&self, i: usize, agent: &str, id: &str) -> Response {
        self.http
            .post(format!("{}/auth/rest/sessions/{id}/cancel", self.url(i)))
            .bearer_auth(&self.keys[agent])
            .send()
            .await
            .unwrap()
    }

    async fn ready(&self, i: usize) -> StatusCode {
        self.http
            .get(format!("{}/readyz", self.url(i)))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// A superuser connection to the deployment's database.
    async fn admin(&self) -> sqlx::PgConnection {
        use sqlx::ConnectOptions;
        self.database_url
            .parse::<sqlx::postgres::PgConnectOptions>()
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    fn audit_command(&self, command: &str) -> std::process::Output {
        std::process::Command::new(relay_binary())
            .args(["audit", command, "--database-url", &self.database_url])
            .arg("--audit-key-file")
            .arg(self.dir.0.join("audit.key"))
            .env_remove("SAFECONV_RELAY_CONFIG")
            .output()
            .unwrap()
    }

    /// The audit log, as `audit export` prints it.
    fn audit(&self) -> Vec<Value> {
        let out = self.audit_command("export");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `audit verify` passes, and the log is one linear history: 1, 2, 3, … each linked to
    /// the record before it, written by the instances in between each other.
    fn assert_one_linear_chain(&self) -> Vec<Value> {
        self.assert_linear_chain_from(1, &"0".repeat(64))
    }

    /// As [`Deployment::assert_one_linear_chain`], for a log that starts at record `first`
    /// (the records before it pruned), linked to `prev_hash`.
    fn assert_linear_chain_from(&self, first: u64, prev_hash: &str) -> Vec<Value> {
        let out = self.audit_command("verify");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.starts_with("audit log intact"),
            "{stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let records = self.audit();
        let mut previous = prev_hash.to_owned();
        for (i, record) in records.iter().enumerate() {
            assert_eq!(record["seq"], first + i as u64);
            assert_eq!(record["prevHash"], previous.as_str());
            previous = record["hash"].as_str().unwrap().to_owned();
        }
        records
    }
}

fn count(records: &[Value], action: &str) -> usize {
    records.iter().filter(|r| r["action"] == action).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_creates_for_one_nin_over_two_instances_leave_exactly_one_active() {
    let Some(pg) = PgCluster::start() else { return };
    let d = Deployment::start(pg, 2, "").await;
    // The two started together; the migration ran once.
    let mut admin = d.admin().await;
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    assert_eq!(applied as usize, migrations);

    let n = nin(300);
    let creates = (0..50)
        .map(|i| {
            d.http
                .post(format!("{}/auth/rest/sessions", d.url(i % 2)))
                .bearer_auth(&d.keys[AGENTS[i % AGENTS.len()]])
                .json(&sdk_body(&n))
        })
        .collect();
    let created = common::race_creates(creates).await;
    common::assert_one_running_of(&d.emulator, &created);
    let still_active: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE state IN ('pending', 'active', 'replacing')",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(still_active, 1);
    for i in 0..2 {
        let metrics = d
            .http
            .get(format!("{}/metrics", d.url(i)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("safeconv_relay_active_sessions 1"),
            "{metrics}"
        );
    }

    let records = d.assert_one_linear_chain();
    assert_eq!(
        count(&records, "create") + count(&records, "refused"),
        50,
        "every attempt is in the audit log"
    );
    assert_eq!(count(&records, "created"), created.len());
    let writers: HashSet<&str> = records
        .iter()
        .map(|r| r["instance"].as_str().unwrap())
        .collect();
    assert_eq!(writers, HashSet::from(["relay-1", "relay-2"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_when_an_agents_requests_alternate_between_instances() {
    let Some(pg) = PgCluster::start() else { return };
    let d = Deployment::start(pg, 2, "[limits]\nper_agent = 4\n").await;
    for i in 0..4 {
        d.created(i % 2, "dave", &nin(310 + i)).await;
    }
    for i in 0..2 {
        let over = d.create(i, "dave", &nin(320 + i)).await;
        assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS, "relay {i}");
        let problem: Value = over.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains("per agent"));
    }

    // Three creates for one person through alternating instances and agents, each replacing
    // the one before; the fourth is refused wherever it arrives.
    let m = nin(330);
    for (i, agent) in ["alice", "bob", "carol"].iter().enumerate() {
        d.created(i % 2, agent, &m).await;
    }
    for i in 0..2 {
        let over = d.create(i, "alice", &m).await;
        assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(over.headers().contains_key("retry-after"));
        let problem: Value = over.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains("per person"));
    }
    let counters = d.emulator.counters();
    assert_eq!(
        counters.create_requests, 7,
        "only the creates within the limits"
    );
    assert_eq!(
        counters.cancel_requests, 2,
        "each replaced session cancelled first"
    );

    let records = d.assert_one_linear_chain();
    let reasons: Vec<&str> = records
        .iter()
        .filter(|r| r["action"] == "refused")
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "agent_rate_limit",
            "agent_rate_limit",
            "nin_rate_limit",
            "nin_rate_limit"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_is_its_owners_through_either_instance() {
    let Some(pg) = PgCluster::start() else { return };
    let d = Deployment::start(pg, 2, "").await;
    let id = d.created(0, "alice", &nin(340)).await;
    let read = d.get(1, "alice", &id).await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.json::<Value>().await.unwrap()["id"], id.as_str());

    let before = d.emulator.counters();
    for i in 0..2 {
        assert_eq!(d.get(i, "bob", &id).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            d.cancel(i, "bob", &id).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    let after = d.emulator.counters();
    assert_eq!(
        (after.get_requests, after.cancel_requests),
        (before.get_requests, before.cancel_requests),
        "nothing forwarded for bob"
    );

    let cancelled = d.cancel(1, "alice", &id).await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(
        cancelled.json::<Value>().await.unwrap()["status"],
        "CANCELLED"
    );
    // Instance 1 answers from Signicat again once its minimum interval has passed.
    assert!(
        until(Duration::from_secs(5), async || {
            let read = d.get(0, "alice", &id).await;
            read.json::<Value>().await.unwrap()["status"] == "CANCELLED"
        })
        .await
    );

    let records = d.assert_one_linear_chain();
    let not_owner: Vec<&Value> = records
        .iter()
        .filter(|r| r["reason"] == "not_owner")
        .collect();
    assert_eq!(not_owner.len(), 4);
    assert!(not_owner.iter().all(|r| r["agentId"] == "bob"));
    assert_eq!(count(&records, "cancel"), 1);

    // The database refuses edits of the audit log; one made anyway, by the tables' owner
    // switching the trigger off, is named by `audit verify`.
    let mut admin = d.admin().await;
    for edit in [
        "UPDATE audit_log SET reason = 'edited' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 2",
        "TRUNCATE audit_log",
        "DELETE FROM audit_head",
    ] {
        let error = sqlx::query(edit).execute(&mut admin).await.unwrap_err();
        assert!(error.to_string().contains("append-only"), "{edit}: {error}");
    }
    for edit in [
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
        "UPDATE audit_log SET reason = 'edited' WHERE seq = 2",
    ] {
        sqlx::query(edit).execute(&mut admin).await.unwrap();
    }
    let verify = d.audit_command("verify");
    assert_eq!(verify.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&verify.stderr);
    assert!(stderr.contains("record 2"), "{stderr}");
}

/// Creates sent one after another, alternating between the running relays, until stopped:
/// `(status, how long it took, session id)` of each.
fn create_load(
    d: &Arc<Deployment>,
    relays: Vec<usize>,
    first_nin: usize,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<(StatusCode, Duration, Option<String>)>> {
    let d = d.clone();
    tokio::spawn(async move {
        let mut answers: Vec<(StatusCode, Duration, Option<String>)> = Vec::new();
        let mut k = 0;
        // Once told to stop, goes on to the first create that succeeds (a few at most), so the
        // last answer says whether the relays serve again, whatever was under way at `stop`.
        let mut after_stop = 0;
        while !stop.load(Ordering::SeqCst)
            || (answers.last().is_some_and(|(s, ..)| *s != StatusCode::OK) && after_stop < 20)
        {
            if stop.load(Ordering::SeqCst) {
                after_stop += 1;
            }
            let started = Instant::now();
            let response = d
                .create(
                    relays[k % relays.len()],
                    AGENTS[k % AGENTS.len()],
                    &nin(first_nin + k),
                )
                .await;
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            answers.push((
                status,
                started.elapsed(),
                body["id"].as_str().map(str::to_owned),
            ));
            k += 1;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        answers
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prune_while_two_instances_create_leaves_one_linear_chain() {
    let Some(pg) = PgCluster::start() else { return };
    let d = Arc::new(Deployment::start(pg, 2, "[limits]\nper_agent = 1000\n").await);
    // Five years of use, as far as the prune can tell: twenty sessions from 2020.
    let key = safeconv_relay::AuditKey::read(&d.dir.0.join("audit.key")).unwrap();
    let options = safeconv_relay::store::DatabaseOptions {
        create: false,
        ..Default::default()
    };
    let store =
        safeconv_relay::store::SqlStore::open(&d.database_url, key.clone(), "history", &options)
            .await
            .unwrap();
    let history = History {
        store: &store,
        key: &key,
    };
    for i in 0..20 {
        history
            .ended(
                AGENTS[i % 4],
                700 + i,
                Y2020 + i as i64 * MINUTE,
                &format!("old-{i}"),
            )
            .await;
    }
    history.refusal("bob", Y2020 + 30 * MINUTE).await;
    store.close().await;

    let stop = Arc::new(AtomicBool::new(false));
    let load = create_load(&d, vec![0, 1], 600, stop.clone());
    // Sessions the relays (not the history) created.
    let created = async |n| {
        until(Duration::from_secs(30), async || {
            let records = d.audit();
            let by_relays = records
                .iter()
                .filter(|r| r["action"] == "created" && r["instance"] != "history");
            by_relays.count() >= n
        })
        .await
    };
    assert!(created(2).await, "the relays create");
    // Two operators (or two timers) at once, while both instances append.
    let prunes: Vec<_> = (0..2)
        .map(|_| {
            let d = d.clone();
            std::thread::spawn(move || {
                std::process::Command::new(relay_binary())
                    .args(["audit", "prune", "--before", "2021-01-01T00:00:00Z"])
                    .args(["--database-url", &d.database_url, "--audit-key-file"])
                    .arg(d.dir.0.join("audit.key"))
                    .env_remove("SAFECONV_RELAY_CONFIG")
                    .output()
                    .unwrap()
            })
        })
        .collect();
    let mut said: Vec<String> = prunes
        .into_iter()
        .map(|t| {
            let out = t.join().unwrap();
            assert!(out.status.success(), "{out:?}");
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    // And the relays go on creating after them.
    assert!(created(8).await, "the relays go on creating");
    stop.store(true, Ordering::SeqCst);
    let answers = load.await.unwrap();
    said.sort();
    assert!(
        said[0].starts_with("nothing older than")
            && said[1].starts_with("removed 41 audit records (1\u{2013}41) and 20 sessions rows"),
        "{said:?}"
    );
    assert!(
        answers.iter().all(|(s, ..)| *s == StatusCode::OK),
        "{answers:?}"
    );

    let out = d.audit_command("verify");
    assert!(String::from_utf8_lossy(&out.stdout).contains("41 earlier records pruned"));
    let records = d.audit();
    let pruned: Vec<&Value> = records.iter().filter(|r| r["action"] == "pruned").collect();
    assert_eq!(pruned.len(), 1);
    let anchor: Value = serde_json::from_str(pruned[0]["reason"].as_str().unwrap()).unwrap();
    let records = d.assert_linear_chain_from(42, anchor["firstPrevHash"].as_str().unwrap());
    assert_eq!(
        count(&records, "create"),
        d.emulator.counters().create_requests as usize,
        "every create the relays sent is still in the audit"
    );
    assert_eq!(count(&records, "created"), answers.len());
    let writers: HashSet<&str> = records
        .iter()
        .map(|r| r["instance"].as_str().unwrap())
        .collect();
    assert!(writers.contains("relay-1") && writers.contains("relay-2"));
    let mut admin = d.admin().await;
    let old: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE session_id LIKE 'old-%'")
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert_eq!(old, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_postgres_gives_503_within_5_s_and_the_relays_recover_by_themselves() {
    let Some(pg) = PgCluster::start() else { return };
    let d = Arc::new(Deployment::start(pg, 2, "[limits]\nper_agent = 1000\n").await);
    // A session each instance has seen, and one only the second has.
    let seen_by_first = d.created(0, "alice", &nin(350)).await;
    let only_second = d.created(1, "alice", &nin(351)).await;

    let stop = Arc::new(AtomicBool::new(false));
    let load = create_load(&d, vec![0, 1], 400, stop.clone());
    tokio::time::sleep(Duration::from_secs(1)).await;
    d.pg.stop();
    tokio::time::sleep(Duration::from_millis(300)).await;

    for i in 0..2 {
        let started = Instant::now();
        assert_eq!(d.ready(i).await, StatusCode::SERVICE_UNAVAILABLE);
        assert!(started.elapsed() < Duration::from_secs(5));

        let started = Instant::now();
        let refused = d.create(i, "bob", &nin(360 + i)).await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(refused.headers().contains_key("retry-after"));
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["code"], "service_unavailable");
    }
    // Degraded reads: a session the instance has seen is answered (ownership from memory),
    // one it has not cannot be checked.
    assert_eq!(
        d.get(0, "alice", &seen_by_first).await.status(),
        StatusCode::OK
    );
    let started = Instant::now();
    assert_eq!(
        d.get(0, "alice", &only_second).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // A cancel is never held back: done at Signicat now, recorded once the database is back.
    let cancelled = d.cancel(0, "alice", &seen_by_first).await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(
        d.emulator.session(&seen_by_first).unwrap().status,
        "CANCELLED"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;

    d.pg.start_again();
    for i in 0..2 {
        assert!(
            until(Duration::from_secs(20), async || d.ready(i).await
                == StatusCode::OK)
            .await,
            "relay {i} recovers without a restart"
        );
    }
    assert_eq!(
        d.get(0, "alice", &only_second).await.status(),
        StatusCode::OK
    );
    assert!(
        until(Duration::from_secs(10), async || d.audit().iter().any(
            |r| r["action"] == "cancel" && r["sessionId"] == seen_by_first.as_str()
        ))
        .await,
        "the cancel made during the outage is recorded"
    );
    stop.store(true, Ordering::SeqCst);
    let answers = load.await.unwrap();

    assert!(
        answers.iter().all(|(status, took, _)| matches!(
            *status,
            StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE
        ) && *took < Duration::from_secs(5)),
        "{answers:?}"
    );
    assert!(
        answers
            .iter()
            .any(|(s, ..)| *s == StatusCode::SERVICE_UNAVAILABLE)
    );
    assert_eq!(answers.last().unwrap().0, StatusCode::OK, "{answers:?}");

    // Every create Signicat saw was recorded before it was sent; every session an agent was
    // given is recorded as created; any other was cancelled at Signicat.
    let records = d.assert_one_linear_chain();
    assert_eq!(
        count(&records, "create"),
        d.emulator.counters().create_requests as usize
    );
    let recorded: HashSet<&str> = records
        .iter()
        .filter(|r| r["action"] == "created")
        .map(|r| r["sessionId"].as_str().unwrap())
        .collect();
    for (_, _, id) in answers.iter().filter(|(s, ..)| *s == StatusCode::OK) {
        assert!(recorded.contains(id.as_deref().unwrap()));
    }
    for id in d.emulator.session_ids() {
        if !recorded.contains(id.as_str()) {
            assert_eq!(d.emulator.session(&id).unwrap().status, "CANCELLED", "{id}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_mid_run_leaves_the_other_serving_and_the_audit_whole() {
    let Some(pg) = PgCluster::start() else { return };
    let mut d = Deployment::start(pg, 2, "[limits]\nper_agent = 1000\n").await;
    let id = d.created(0, "alice", &nin(370)).await;

    // The first relay dies while Signicat takes its time with a create.
    d.emulator.inject(
        Some(Endpoint::CreateSession),
        Fault::Slow {
            delay: Duration::from_secs(2),
        },
        1,
    );
    let in_flight = d
        .http
        .post(format!("{}/auth/rest/sessions", d.url(0)))
        .bearer_auth(&d.keys["carol"])
        .json(&sdk_body(&nin(371)))
        .send();
    let in_flight = tokio::spawn(in_flight);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(d.relays[0].take().unwrap().kill(), "");
    assert!(in_flight.await.unwrap().is_err());

    let d = Arc::new(d);
    let stop = Arc::new(AtomicBool::new(false));
    let load = create_load(&d, vec![1], 500, stop.clone());
    // The session from the dead instance is served by the other.
    assert_eq!(d.get(1, "alice", &id).await.status(), StatusCode::OK);
    // The other finds the create the dead one left under way, once no create could take
    // that long (deadline 3 s + 10 s), and audits it as interrupted.
    assert!(
        until(Duration::from_secs(30), async || count(
            &d.audit(),
            "interrupted"
        ) == 1)
        .await,
        "the interrupted create is audited"
    );
    stop.store(true, Ordering::SeqCst);
    let answers = load.await.unwrap();
    assert!(answers.len() > 5);
    assert!(
        answers.iter().all(|(s, ..)| *s == StatusCode::OK),
        "{answers:?}"
    );

    let records = d.assert_one_linear_chain();
    assert_eq!(
        count(&records, "create"),
        d.emulator.counters().create_requests as usize,
        "every create sent is in the audit, the one cut short too"
    );
    let interrupted = records
        .iter()
        .find(|r| r["action"] == "interrupted")
        .unwrap();
    assert_eq!(interrupted["agentId"], "carol");
    assert_eq!(interrupted["instance"], "relay-2");
    assert_eq!(count(&records, "created"), answers.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_to_postgres_is_verified() {
    let pki = TestPki::new();
    let Some(pg) = PgCluster::start_with_files(
        &[
            "ssl=on",
            "ssl_cert_file=server.crt",
            "ssl_key_file=server.key",
        ],
        |dir| pki.write(&dir.join("data")),
    ) else {
        return;
    };
    let database = pg.new_database().await;
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = TempDir::new();
    let keys = write_agent_keys(&dir.0);
    std::fs::write(dir.0.join("ca.crt"), &pki.ca_pem).unwrap();
    let key_file = dir.0.join("audit.key");
    safeconv_relay::AuditKey::create(&key_file).unwrap();
    let start = |url: String| {
        RelayProcess::spawn(
            &dir.0,
            &emulator,
            &[
                "--database-url",
                &url,
                "--audit-key-file",
                key_file.to_str().unwrap(),
            ],
            &[],
        )
    };

    let base = database;
    // A certificate the relay has no CA for is refused.
    let refused = start(format!("{base}?sslmode=verify-full"))
        .err()
        .expect("refused");
    assert!(refused.contains("exit status: 2"), "{refused}");
    assert!(refused.to_lowercase().contains("certificate"), "{refused}");

    let relay = start(format!(
        "{base}?sslmode=verify-full&sslrootcert={}",
        dir.0.join("ca.crt").display()
    ))
    .unwrap();
    let created = common::http()
        .post(format!("{}/auth/rest/sessions", relay.url))
        .bearer_auth(&keys["alice"])
        .json(&sdk_body(&nin(380)))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    let mut admin = pg.connect(base.rsplit('/').next().unwrap()).await;
    let encrypted: Vec<bool> = sqlx::query_scalar(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = 'safeconv-relay'",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(
        !encrypted.is_empty() && encrypted.iter().all(|ssl| *ssl),
        "{encrypted:?}"
    );
    assert_eq!(relay.terminate(), Some(0));
}

/// A CA and a server certificate for 127.0.0.1 it signs, for the test cluster.
struct TestPki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

impl TestPki {
    fn new() -> TestPki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "safeconv-relay test database CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        server
            .distinguished_name
            .push(DnType::CommonName, "safeconv-relay test database");
        let cert = server.signed_by(&key, &issuer).unwrap();
        TestPki {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// The server's files, as PostgreSQL wants them (the key readable by its owner only).
    fn write(&self, data: &std::path::Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(data.join("server.crt"), &self.cert_pem).unwrap();
        let key = data.join("server.key");
        std::fs::write(&key, &self.key_pem).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}
