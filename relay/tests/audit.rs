//! The audit log: what it records, and `safeconv-relay audit verify` naming the first bad
//! record after an edit, a deletion, an insertion or a cut tail. Export as JSON lines.

mod common;

use std::str::FromStr;

use common::{Harness, nin};
use serde_json::Value;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

/// A harness with a few records: two creates, a cancel, a refusal.
async fn with_records() -> Harness {
    let h = Harness::start().await;
    let id = h.created("alice", &nin(60)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    h.cancel("alice", &id).await;
    h.get("bob", &id).await; // refused: not bob's
    h.created("bob", &nin(61)).await;
    h
}

/// A connection of the kind an intruder with file access has (the append-only triggers
/// dropped first: they stop mistakes, not someone who owns the file).
async fn intruder(h: &Harness) -> SqliteConnection {
    let mut conn = SqliteConnectOptions::from_str(&h.database_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

/// Runs `sql` as the intruder, then `audit verify`, which must fail (exit 1); its stderr.
async fn tampered(h: &Harness, sql: &'static str) -> String {
    let mut conn = intruder(h).await;
    sqlx::query(sql).execute(&mut conn).await.unwrap();
    let (code, _, stderr) = h.verify();
    assert_eq!(code, 1, "{stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_say_who_did_what_and_never_hold_a_nin() {
    let h = with_records().await;
    let audit = h.audit();
    let actions: Vec<&str> = audit
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create", "created", "cancel", "refused", "create", "created"
        ]
    );
    for (i, record) in audit.iter().enumerate() {
        assert_eq!(record["seq"], i as i64 + 1);
        assert_eq!(record["instance"], "test-relay");
        assert_eq!(record["clientAddr"], "127.0.0.1");
        assert!(record["at"].as_str().unwrap().ends_with('Z'));
        let text = record.to_string();
        assert!(
            !text.contains(&nin(60)) && !text.contains(&nin(61)),
            "{text}"
        );
    }
    let created = &audit[1];
    assert_eq!(created["agentId"], "alice");
    assert_eq!(created["ninMasked"], format!("{}*****", &nin(60)[..6]));
    assert_eq!(created["ninHash"].as_str().unwrap().len(), 64);
    assert_eq!(audit[0]["ninHash"], created["ninHash"]);
    assert_ne!(audit[4]["ninHash"], created["ninHash"]);
    assert_eq!(audit[3]["reason"], "not_owner");
    assert_eq!(audit[3]["agentId"], "bob");
    assert_eq!(audit[3]["status"], "404");
    h.assert_chain_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_refuses_updates_and_deletes_of_audit_records() {
    let h = with_records().await;
    let mut conn = SqliteConnectOptions::from_str(&h.database_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let update = sqlx::query("UPDATE audit_log SET reason = 'x' WHERE seq = 1")
        .execute(&mut conn)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_log WHERE seq = 1")
        .execute(&mut conn)
        .await;
    assert!(delete.is_err());
    conn.close().await.unwrap();
    h.assert_chain_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_record_is_named() {
    let h = with_records().await;
    let stderr = tampered(&h, "UPDATE audit_log SET agent_id = 'nobody' WHERE seq = 3").await;
    assert!(
        stderr.contains("record 3") && stderr.contains("edited"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_record_is_named() {
    let h = with_records().await;
    let stderr = tampered(&h, "DELETE FROM audit_log WHERE seq = 2").await;
    assert!(
        stderr.contains("record 2") && stderr.contains("missing"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehashed_record_does_not_link() {
    // An intruder who edits a record and recomputes a plain SHA-256 for it still cannot seal
    // it (the hash is keyed), and the next record no longer links to it either.
    let h = with_records().await;
    let stderr = tampered(
        &h,
        "UPDATE audit_log SET reason = 'edited', hash = '00ff' WHERE seq = 4",
    )
    .await;
    assert!(stderr.contains("record 4"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_tail_is_seen_through_the_head() {
    let h = with_records().await;
    let stderr = tampered(&h, "DELETE FROM audit_log WHERE seq >= 5").await;
    assert!(
        stderr.contains("record 5") && stderr.contains("missing"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_needs_the_key_that_sealed_the_log() {
    let h = with_records().await;
    let other = h.dir.0.join("other.key");
    std::fs::write(&other, "b".repeat(64)).unwrap();
    let out = h.run(&[
        "audit",
        "verify",
        "--database-url",
        &h.database_url(),
        "--audit-key-file",
        other.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("record 1"));
    // No database there: a clear error, not an empty log.
    let missing = h.run(&[
        "audit",
        "verify",
        "--database-url",
        "sqlite:///nonexistent/relay.db",
    ]);
    assert_eq!(missing.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_since_prints_the_later_records() {
    let h = with_records().await;
    let all = h.audit();
    let since = all[4]["at"].as_str().unwrap().to_owned();
    let out = h.run(&[
        "audit",
        "export",
        "--database-url",
        &h.database_url(),
        "--since",
        &since,
    ]);
    assert!(out.status.success());
    let later: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!later.is_empty() && later.len() < all.len());
    assert!(
        later
            .iter()
            .all(|r| r["at"].as_str().unwrap() >= since.as_str())
    );
    let bad = h.run(&[
        "audit",
        "export",
        "--database-url",
        &h.database_url(),
        "--since",
        "yesterday",
    ]);
    assert_eq!(bad.status.code(), Some(2));
}
