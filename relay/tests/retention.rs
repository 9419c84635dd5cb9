//! Retention: `safeconv-relay audit prune` removes audit records and ended sessions older than
//! a cut-off, and `audit verify` accepts the chain that remains (from the `pruned` record) and
//! still names records removed any other way. Archives written by a prune verify on their own
//! and join the database's chain. Bad input removes nothing. On SQLite, and on PostgreSQL when
//! `SAFECONV_RELAY_TEST_POSTGRES` names a server (scripts/test-relay.sh runs them so too).

mod common;

use std::path::PathBuf;
use std::process::Output;
use std::str::FromStr;
use std::time::Duration;

use common::history::{Ending, History, MINUTE, Y2020, Y2021, Y2022};
use common::{Harness, TempDir, nin, postgres, relay_binary};
use reqwest::StatusCode;
use safeconv_relay::AuditKey;
use safeconv_relay::store::{DatabaseOptions, SqlStore, Store};
use serde_json::Value;
use sqlx::{ConnectOptions, PgConnection, SqliteConnection};

/// A relay database with no relay on it: the store writes history, the binary prunes.
struct Database {
    dir: TempDir,
    url: String,
    key_file: PathBuf,
    key: AuditKey,
    store: SqlStore,
}

impl Database {
    async fn new() -> Database {
        let dir = TempDir::new();
        let key_file = dir.0.join("audit.key");
        let key = AuditKey::create(&key_file).unwrap();
        let url = match postgres::shared_server() {
            Some(server) => postgres::new_database(&server).await,
            None => format!("sqlite://{}", dir.0.join("relay.db").display()),
        };
        let store = SqlStore::open(&url, key.clone(), "history", &DatabaseOptions::default())
            .await
            .unwrap();
        Database {
            dir,
            url,
            key_file,
            key,
            store,
        }
    }

    fn history(&self) -> History<'_> {
        History {
            store: &self.store,
            key: &self.key,
        }
    }

    fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres")
    }

    /// The binary with `args`, nothing from the environment.
    fn run(&self, args: &[&str]) -> Output {
        std::process::Command::new(relay_binary())
            .args(args)
            .current_dir(&self.dir.0)
            .env_remove("SAFECONV_RELAY_CONFIG")
            .env_remove("SAFECONV_RELAY_DATABASE_URL")
            .env_remove("SAFECONV_RELAY_AUDIT_KEY_FILE")
            .output()
            .expect("safeconv-relay runs")
    }

    /// `audit COMMAND ARGS` on this database with its key: (exit code, stdout, stderr).
    fn audit(&self, command: &str, args: &[&str]) -> (i32, String, String) {
        let key = self.key_file.to_str().unwrap();
        let mut all = vec!["audit", command, "--database-url", &self.url];
        all.extend(["--audit-key-file", key]);
        all.extend(args);
        outcome(&self.run(&all))
    }

    fn prune(&self, args: &[&str]) -> (i32, String, String) {
        self.audit("prune", args)
    }

    fn verify(&self) -> (i32, String, String) {
        self.audit("verify", &[])
    }

    fn export(&self) -> Vec<Value> {
        let (code, stdout, stderr) = self.audit("export", &[]);
        assert_eq!(code, 0, "{stderr}");
        stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// A connection of its own, as an operator's `psql` or `sqlite3` would have.
    async fn connect(&self) -> Raw {
        if self.is_postgres() {
            Raw::Postgres(
                self.url
                    .parse::<sqlx::postgres::PgConnectOptions>()
                    .unwrap()
                    .connect()
                    .await
                    .unwrap(),
            )
        } else {
            Raw::Sqlite(
                sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)
                    .unwrap()
                    .connect()
                    .await
                    .unwrap(),
            )
        }
    }

    async fn count(&self, sql: &'static str) -> i64 {
        self.connect().await.scalar(sql).await
    }

    /// (audit records, sessions rows).
    async fn sizes(&self) -> (i64, i64) {
        (
            self.count("SELECT COUNT(*) FROM audit_log").await,
            self.count("SELECT COUNT(*) FROM sessions").await,
        )
    }
}

enum Raw {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Raw {
    async fn execute(&mut self, sql: &'static str) -> Result<u64, String> {
        match self {
            Raw::Sqlite(c) => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()),
            Raw::Postgres(c) => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()),
        }
        .map_err(|e| e.to_string())
    }

    async fn scalar(&mut self, sql: &'static str) -> i64 {
        match self {
            Raw::Sqlite(c) => sqlx::query_scalar(sql).fetch_one(c).await.unwrap(),
            Raw::Postgres(c) => sqlx::query_scalar(sql).fetch_one(c).await.unwrap(),
        }
    }

    /// Removes records the way prune does not: the append-only trigger switched off, as the
    /// tables' owner can.
    async fn disable_delete_trigger(&mut self) {
        let sql = match self {
            Raw::Sqlite(_) => "DROP TRIGGER audit_log_no_delete",
            Raw::Postgres(_) => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_delete",
        };
        self.execute(sql).await.unwrap();
    }

    /// Opens the guard prune uses, for good (not within one prune's transaction).
    async fn abuse_prune_guard(&mut self) {
        let sql = match self {
            Raw::Sqlite(_) => "INSERT INTO audit_prune_guard (id, through_seq) VALUES (1, 1000000)",
            Raw::Postgres(_) => "SET safeconv_relay.prune_through = '1000000'",
        };
        self.execute(sql).await.unwrap();
    }
}

fn outcome(out: &Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CUT: &str = "2021-01-01T00:00:00Z";

/// Seventeen records and eight sessions rows: from 2020, three sessions that ended, one that
/// failed, one active past its expiresAt, one active without an expiry, one still pending, one
/// ended only ten minutes ago, and a refusal (15 records); then two records from now.
async fn standard_history(d: &Database) {
    let h = d.history();
    for i in 0..3 {
        h.ended(
            "alice",
            100 + i,
            Y2020 + i as i64 * MINUTE,
            &format!("old-{i}"),
        )
        .await;
    }
    let failed = h.reserve("bob", 103, Y2020 + 5 * MINUTE).await;
    h.complete(failed, "bob", 103, Y2020 + 5 * MINUTE + 500, Ending::Failed)
        .await;
    let expired = h.reserve("bob", 104, Y2020 + 6 * MINUTE).await;
    let expires = Some(Y2020 + 16 * MINUTE);
    let at = Y2020 + 6 * MINUTE + 500;
    h.complete(
        expired,
        "bob",
        104,
        at,
        Ending::Open("old-expired", expires),
    )
    .await;
    let open = h.reserve("carol", 105, Y2020 + 7 * MINUTE).await;
    let at = Y2020 + 7 * MINUTE + 500;
    h.complete(open, "carol", 105, at, Ending::Open("old-open", None))
        .await;
    h.reserve("carol", 106, Y2020 + 8 * MINUTE).await; // left pending
    let late = h.reserve("dave", 107, Y2020 + 9 * MINUTE).await;
    h.refusal("dave", Y2020 + 10 * MINUTE).await;
    let now = common::now_secs() * 1000;
    let ending = Ending::Final("old-late", "SUCCESS");
    h.complete(late, "dave", 107, now - 10 * MINUTE, ending)
        .await;
    h.refusal("alice", now).await;
    assert_eq!(d.sizes().await, (17, 8));
}

fn assert_no_nin(text: &str) {
    for n in 100..110 {
        assert!(!text.contains(&nin(n)), "a NIN in: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prune_removes_old_records_and_ended_sessions_and_the_rest_verifies() {
    let d = Database::new().await;
    standard_history(&d).await;

    let (code, stdout, stderr) = d.prune(&["--before", CUT, "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("would remove 15 audit records (1\u{2013}15) and 5 sessions rows"),
        "{stdout}"
    );
    assert_eq!(d.sizes().await, (17, 8), "a dry run removes nothing");

    let (code, stdout, stderr) = d.prune(&["--before", CUT, "--operator", "ops@bank"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with(
            "removed 15 audit records (1\u{2013}15) and 5 sessions rows older than 2021-01-01T00:00:00.0000000Z; recorded in record 18"
        ),
        "{stdout}"
    );
    assert_no_nin(&stdout);
    assert_no_nin(&stderr);

    let (code, stdout, stderr) = d.verify();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("audit log intact: 3 records (16\u{2013}18); 15 earlier records pruned"),
        "{stdout}"
    );
    assert!(stdout.contains("by ops@bank"), "{stdout}");

    let records = d.export();
    let seqs: Vec<i64> = records.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [16, 17, 18]);
    let pruned = &records[2];
    assert_eq!(pruned["action"], "pruned");
    assert_eq!(pruned["agentId"], Value::Null);
    let anchor: Value = serde_json::from_str(pruned["reason"].as_str().unwrap()).unwrap();
    assert_eq!(anchor["firstSeq"], 16);
    assert_eq!(anchor["records"], 15);
    assert_eq!(anchor["sessions"], 5);
    assert_eq!(anchor["before"], "2021-01-01T00:00:00.0000000Z");
    assert_eq!(anchor["firstPrevHash"], records[0]["prevHash"]);

    // Kept: the active session without an expiry, the pending create, the session that ended
    // ten minutes ago. Removed: the ended, failed and expired ones.
    assert_eq!(
        d.count("SELECT COUNT(*) FROM sessions WHERE state = 'pending'")
            .await,
        1
    );
    for (id, kept) in [
        ("old-0", false),
        ("old-2", false),
        ("old-expired", false),
        ("old-open", true),
        ("old-late", true),
    ] {
        assert_eq!(d.store.session(id).await.unwrap().is_some(), kept, "{id}");
    }
    assert_eq!(d.sizes().await, (3, 3));

    // Again: nothing left to remove, nothing written.
    let (code, stdout, _) = d.prune(&["--before", CUT]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("nothing older than"), "{stdout}");
    assert_eq!(d.sizes().await, (3, 3));

    // The relay's rules go on as before: the pending create still holds its NIN, and new
    // records follow the pruned one.
    d.history()
        .refusal("alice", common::now_secs() * 1000)
        .await;
    let (code, stdout, _) = d.verify();
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("audit log intact: 4 records (16\u{2013}19)"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prunes_in_turn_leave_archives_that_verify_and_join_the_log() {
    let d = Database::new().await;
    let h = d.history();
    h.ended("alice", 100, Y2020, "a-0").await;
    h.ended("bob", 101, Y2020 + MINUTE, "a-1").await;
    h.ended("alice", 102, Y2022, "b-0").await;
    h.ended("carol", 103, Y2022 + MINUTE, "b-1").await;
    h.refusal("dave", Y2022 + 2 * MINUTE).await;

    let first = d.dir.0.join("until-2021.jsonl");
    let (code, stdout, stderr) = d.prune(&["--before", CUT, "--archive", first.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("removed 4 audit records (1\u{2013}4) and 2 sessions rows"),
        "{stdout}"
    );
    assert!(stdout.contains("archived to"), "{stdout}");
    // The second prune removes the 2022 records, up to the first prune's own record.
    let second = d.dir.0.join("until-2023.jsonl");
    let (code, stdout, stderr) = d.prune(&[
        "--before",
        "2023-01-01T00:00:00Z",
        "--archive",
        second.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("removed 5 audit records (5\u{2013}9) and 2 sessions rows"),
        "{stdout}"
    );
    let (code, stdout, _) = d.verify();
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("audit log intact: 2 records (10\u{2013}11); 9 earlier records pruned"),
        "{stdout}"
    );

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let archived = std::fs::read_to_string(&first).unwrap();
    assert_eq!(archived.lines().count(), 4);
    assert_no_nin(&archived);

    // Each archive verifies on its own with the key; with the database, how they relate.
    let key = d.key_file.to_str().unwrap();
    let check = |file: &std::path::Path, with_database: bool| {
        let mut args = vec!["audit", "verify", "--export", file.to_str().unwrap()];
        args.extend(["--audit-key-file", key]);
        if with_database {
            args.extend(["--database-url", &d.url]);
        }
        outcome(&d.run(&args))
    };
    let (code, stdout, stderr) = check(&first, false);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("export intact: 4 records (1\u{2013}4); the log's first record"),
        "{stdout}"
    );
    let (code, stdout, _) = check(&first, true);
    assert_eq!(code, 0);
    assert!(stdout.contains("neither overlap nor join"), "{stdout}");
    let (code, stdout, stderr) = check(&second, true);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("record 5 links to")
            && stdout.contains(
                "the database's chain continues from this export: its first record, 10, links to record 9 here (the prune recorded in record 11)"
            ),
        "{stdout}"
    );
    // Together they are the whole history before the database's first record.
    let all = d.dir.0.join("all.jsonl");
    let second_text = std::fs::read_to_string(&second).unwrap();
    std::fs::write(&all, format!("{archived}{second_text}")).unwrap();
    let (code, stdout, _) = check(&all, true);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("9 records (1\u{2013}9); the log's first record")
            && stdout.contains("continues from this export"),
        "{stdout}"
    );

    // An edited or incomplete archive does not verify.
    let edited = d.dir.0.join("edited.jsonl");
    std::fs::write(&edited, second_text.replace("not_owner", "other")).unwrap();
    let (code, _, stderr) = check(&edited, false);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("export broken at record 9") && stderr.contains("edited"),
        "{stderr}"
    );
    let gap = d.dir.0.join("gap.jsonl");
    let lines: Vec<&str> = archived.lines().chain(second_text.lines()).collect();
    std::fs::write(
        &gap,
        format!("{}\n{}\n", lines[..5].join("\n"), lines[6..].join("\n")),
    )
    .unwrap();
    let (code, _, stderr) = check(&gap, false);
    assert_eq!(code, 1);
    assert!(stderr.contains("record 6: missing"), "{stderr}");
    // An archive a prune never overwrites.
    let (code, _, stderr) = d.prune(&["--before", CUT, "--archive", first.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("never overwrites"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&first).unwrap(), archived);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_removed_any_other_way_are_still_named() {
    // After a prune: the database still refuses edits and deletes; records removed anyway,
    // past the prune's anchor or from the middle, are named.
    let d = Database::new().await;
    standard_history(&d).await;
    assert_eq!(d.prune(&["--before", CUT]).0, 0);
    let mut conn = d.connect().await;
    for edit in [
        "DELETE FROM audit_log WHERE seq = 16",
        "DELETE FROM audit_log",
        "UPDATE audit_log SET reason = 'x' WHERE seq = 17",
        "DELETE FROM audit_head",
    ] {
        let error = conn.execute(edit).await.unwrap_err();
        assert!(error.contains("append-only"), "{edit}: {error}");
    }
    // Abusing the guard prune uses is not a prune either.
    conn.abuse_prune_guard().await;
    conn.execute("DELETE FROM audit_log WHERE seq = 16")
        .await
        .unwrap();
    let (code, _, stderr) = d.verify();
    assert_eq!(code, 1);
    assert!(
        stderr.contains("record 16: missing") && stderr.contains("not by `audit prune`"),
        "{stderr}"
    );
    // A log that does not verify is evidence: prune removes nothing from it.
    let before = d.sizes().await;
    let (code, _, stderr) = d.prune(&["--before", CUT]);
    assert_eq!(code, 1);
    assert!(stderr.contains("nothing removed"), "{stderr}");
    assert_eq!(d.sizes().await, before);

    // From the middle, by a DBA who switched the trigger off.
    let d = Database::new().await;
    standard_history(&d).await;
    assert_eq!(d.prune(&["--before", CUT]).0, 0);
    let mut conn = d.connect().await;
    conn.disable_delete_trigger().await;
    conn.execute("DELETE FROM audit_log WHERE seq = 17")
        .await
        .unwrap();
    let (code, _, stderr) = d.verify();
    assert_eq!(code, 1);
    assert!(stderr.contains("record 17: missing"), "{stderr}");

    // The oldest records, with no prune at all.
    let d = Database::new().await;
    standard_history(&d).await;
    let mut conn = d.connect().await;
    conn.disable_delete_trigger().await;
    conn.execute("DELETE FROM audit_log WHERE seq <= 3")
        .await
        .unwrap();
    let (code, _, stderr) = d.verify();
    assert_eq!(code, 1);
    assert!(
        stderr.contains("record 1: missing") && stderr.contains("without `audit prune`"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_and_nothing_is_removed() {
    let d = Database::new().await;
    standard_history(&d).await;
    let now_ms = common::now_secs() * 1000;
    let recent = safeconv::Timestamp::from_unix_millis(now_ms - 10 * MINUTE).to_string();
    let other_key = d.dir.0.join("other.key");
    AuditKey::create(&other_key).unwrap();
    let long_windows = d.dir.0.join("relay.toml");
    std::fs::write(
        &long_windows,
        "[limits]\nper_agent_window_secs = 315360000\n",
    )
    .unwrap();
    let existing = d.dir.0.join("exists.jsonl");
    std::fs::write(&existing, "keep me\n").unwrap();
    let key = d.key_file.to_str().unwrap();
    let url = d.url.as_str();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--before", "2999-01-01T00:00:00Z"], "is in the future"),
        (vec!["--before", "yesterday"], "RFC 3339"),
        (vec!["--before", &recent], "inside the rate windows"),
        (
            vec!["--before", CUT, "--config", long_windows.to_str().unwrap()],
            "the longest is 315360000 s",
        ),
        (
            vec!["--before", CUT, "--archive", existing.to_str().unwrap()],
            "never overwrites",
        ),
        (
            vec!["--before", CUT, "--keep-days", "30"],
            "cannot be used with",
        ),
        (vec![], "--before"),
    ];
    for (args, said) in cases {
        let (code, _, stderr) = d.prune(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
    // The wrong key, no key, no database: named, exit 2.
    let missing_key = d.dir.0.join("missing.key");
    let places = [
        (
            url,
            other_key.to_str().unwrap(),
            "was sealed with audit key",
        ),
        (url, missing_key.to_str().unwrap(), "missing.key"),
        ("sqlite:///nonexistent/relay.db", key, "no database at"),
    ];
    for (database, key_file, said) in places {
        let args = [
            "audit",
            "prune",
            "--before",
            CUT,
            "--database-url",
            database,
        ];
        let (code, _, stderr) =
            outcome(&d.run(&[&args[..], &["--audit-key-file", key_file]].concat()));
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(said), "{stderr}");
    }

    assert_eq!(d.sizes().await, (17, 8));
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me\n");
    let (code, stdout, _) = d.verify();
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("audit log intact: 17 records (1\u{2013}17)")
            && !stdout.contains("pruned"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prune_while_the_relay_serves_leaves_one_chain() {
    let h = Harness::start().await;
    let (store, key) = h.settings.open_store(false).await.unwrap();
    let history = History {
        store: &store,
        key: &key,
    };
    for i in 0..3 {
        history
            .ended(
                "alice",
                120 + i,
                Y2020 + i as i64 * MINUTE,
                &format!("old-{i}"),
            )
            .await;
    }
    history.refusal("bob", Y2021 - MINUTE).await;

    let url = h.url.clone();
    let keys = h.keys.clone();
    let creates = tokio::spawn(async move {
        let http = common::http();
        let mut answers = Vec::new();
        for i in 0..16 {
            let agent = common::AGENTS[i % 4];
            let response = http
                .post(format!("{url}/auth/rest/sessions"))
                .bearer_auth(&keys[agent])
                .json(&common::sdk_body(&nin(200 + i)))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            answers.push((agent, status, body["id"].as_str().map(str::to_owned)));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        answers
    });
    // Two prunes at once, once the relay is creating.
    let creating = common::eventually(Duration::from_secs(20), || {
        h.audit().iter().any(|r| {
            r["action"] == "created" && !r["sessionId"].as_str().unwrap().starts_with("old-")
        })
    });
    assert!(creating.await);
    let prunes: Vec<_> = (0..2)
        .map(|_| {
            let key = h.settings.audit_key_path().unwrap();
            let url = h.database_url();
            tokio::task::spawn_blocking(move || {
                outcome(
                    &std::process::Command::new(relay_binary())
                        .args([
                            "audit",
                            "prune",
                            "--keep-days",
                            "365",
                            "--database-url",
                            &url,
                        ])
                        .arg("--audit-key-file")
                        .arg(key)
                        .env_remove("SAFECONV_RELAY_CONFIG")
                        .output()
                        .unwrap(),
                )
            })
        })
        .collect();
    let mut said = Vec::new();
    for prune in prunes {
        let (code, stdout, stderr) = prune.await.unwrap();
        assert_eq!(code, 0, "{stderr}");
        said.push(stdout);
    }
    said.sort();
    assert!(
        said[0].starts_with("nothing older than")
            && said[1].starts_with("removed 7 audit records (1\u{2013}7) and 3 sessions rows"),
        "{said:?}"
    );
    let answers = creates.await.unwrap();
    assert!(
        answers.iter().all(|(_, s, _)| *s == StatusCode::OK),
        "{answers:?}"
    );

    let (code, stdout, stderr) = h.verify();
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("7 earlier records pruned"), "{stdout}");
    let records = h.audit();
    for (i, pair) in records.windows(2).enumerate() {
        assert_eq!(
            pair[0]["seq"],
            records[0]["seq"].as_i64().unwrap() + i as i64
        );
        assert_eq!(pair[1]["prevHash"], pair[0]["hash"]);
    }
    assert_eq!(records[0]["seq"], 8);
    assert_eq!(
        records.iter().filter(|r| r["action"] == "pruned").count(),
        1
    );
    assert_eq!(
        records.iter().filter(|r| r["action"] == "created").count(),
        answers.len()
    );
    for (agent, _, id) in &answers {
        let read = h.get(agent, id.as_deref().unwrap()).await;
        assert_eq!(read.status(), StatusCode::OK);
    }
    assert!(store.session("old-1").await.unwrap().is_none());
    store.close().await;
}
