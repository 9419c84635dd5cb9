//! The embedded database: one SQLite file, migrations run at start-up.
//!
//! Writes go through one connection and start with `BEGIN IMMEDIATE`, which takes SQLite's
//! write lock before the first read: every transaction that checks a rule and then writes is
//! serialised by the database itself, for this process and any other that opens the file.
//! Reads use a small pool of their own (WAL mode lets them run beside the writer).

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::StoreError;
use super::sql::{DatabaseOptions, Db, db_error};

/// Opens (creating if missing, with `options.create`) the database at `url`
/// (`sqlite:///abs/path.db`, `sqlite://relative.db`) and runs the migrations. `busy_timeout`
/// bounds how long a write waits for a lock held elsewhere before it fails (and the request
/// gets 503).
pub(super) async fn open(url: &str, options: &DatabaseOptions) -> Result<Db, StoreError> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(StoreError::new(
            "an in-memory database would forget ownership, limits and the audit log at every restart; use a file",
        ));
    }
    let connect = SqliteConnectOptions::from_str(url)
        .map_err(|e| StoreError::new(format!("invalid database URL: {e}")))?
        .create_if_missing(options.create)
        .journal_mode(SqliteJournalMode::Wal)
        // The audit log is worth an fsync per commit.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(options.busy_timeout)
        .foreign_keys(true);
    let acquire_timeout = options.busy_timeout + Duration::from_secs(1);
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(acquire_timeout)
        .connect_with(connect.clone())
        .await
        .map_err(db_error)?;
    if options.create {
        sqlx::migrate!("migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::new(format!("migrations failed: {e}")))?;
    }
    let reader = SqlitePoolOptions::new()
        .max_connections(4)
        .acquire_timeout(acquire_timeout)
        .connect_with(connect)
        .await
        .map_err(db_error)?;
    Ok(Db::Sqlite { writer, reader })
}
