//! [`SqlStore`]: the store on SQLite or PostgreSQL. The rules are written once, as SQL that
//! both databases run ([`rules`](super::rules)); what differs is how each is opened and how a
//! writing transaction excludes the others (see [`sqlite`](super::sqlite) and
//! [`postgres`](super::postgres)).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{
    Database, Decode, Encode, PgConnection, PgPool, Postgres, Row as _, Sqlite, SqliteConnection,
    SqlitePool, Transaction, Type,
};

use super::{
    CreateIntent, CreateResult, Replaced, Reservation, SessionRecord, Store, StoreError,
    StoreFuture, postgres, rules, sqlite,
};
use crate::audit::{AuditEvent, AuditKey, AuditRecord};

/// How the store uses its database.
#[derive(Clone, Debug)]
pub struct DatabaseOptions {
    /// How long a request waits for the database (a lock, a connection, a statement) before it
    /// fails and the agent gets 503. Default 2 s.
    pub busy_timeout: Duration,
    /// PostgreSQL: the most connections this instance opens. Default 10.
    pub max_connections: u32,
    /// Create what is missing: the SQLite file and the schema (migrations). Off for tools that
    /// only read, such as `audit verify`.
    pub create: bool,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        DatabaseOptions {
            busy_timeout: Duration::from_secs(2),
            max_connections: 10,
            create: true,
        }
    }
}

/// The relay's store on SQLite (`sqlite://…`, one instance per file) or PostgreSQL
/// (`postgres://…`, any number of instances). Cheap to clone.
///
/// ```no_run
/// # async fn open() -> Result<(), safeconv_relay::store::StoreError> {
/// use safeconv_relay::store::{DatabaseOptions, SqlStore};
/// let key = safeconv_relay::AuditKey::from_bytes(&[7; 32]).unwrap();
/// let store = SqlStore::open("sqlite://relay.db", key, "relay-1", &DatabaseOptions::default())
///     .await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqlStore {
    pub(super) db: Db,
    pub(super) inner: Arc<Inner>,
}

/// The pools. SQLite writes through one connection (`BEGIN IMMEDIATE`) and reads through a
/// few more; PostgreSQL uses one pool for both.
#[derive(Clone)]
pub(super) enum Db {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

pub(super) struct Inner {
    pub(super) key: AuditKey,
    pub(super) instance: String,
    /// The bound on every store call (a database that does not answer is an error, not a wait).
    timeout: Duration,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field(
                "database",
                &match self.db {
                    Db::Sqlite { .. } => "sqlite",
                    Db::Postgres(_) => "postgres",
                },
            )
            .field("instance", &self.inner.instance)
            .finish_non_exhaustive()
    }
}

pub(super) fn db_error(e: sqlx::Error) -> StoreError {
    StoreError::new(e.to_string())
}

impl SqlStore {
    /// Opens the database at `url` and, with `options.create`, runs the migrations:
    /// `sqlite:///abs/path.db` or `sqlite://relative.db` (the file is created if missing), or
    /// `postgres://user@host/db?sslmode=verify-full` (migrations under PostgreSQL's migration
    /// lock, so instances starting together are safe).
    pub async fn open(
        url: &str,
        key: AuditKey,
        instance: &str,
        options: &DatabaseOptions,
    ) -> Result<SqlStore, StoreError> {
        let db = if url.starts_with("sqlite:") {
            sqlite::open(url, options).await?
        } else if postgres::is_postgres_url(url) {
            postgres::open(url, options).await?
        } else {
            return Err(StoreError::new(
                "the database URL must start with sqlite:// (one instance) or postgres:// (several)",
            ));
        };
        Ok(SqlStore {
            db,
            inner: Arc::new(Inner {
                key,
                instance: instance.to_owned(),
                // A writer may wait `busy_timeout` for the lock, then needs a moment to write.
                timeout: options.busy_timeout + Duration::from_millis(500),
            }),
        })
    }

    /// Whether this is a PostgreSQL database (shared by several instances).
    pub fn is_shared(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// Closes the pools (waits for queries under way).
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { writer, reader } => {
                writer.close().await;
                reader.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }

    pub(super) async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match &self.db {
            // Takes SQLite's write lock before the first read: every transaction that checks a
            // rule and then writes is serialised by the database.
            Db::Sqlite { writer, .. } => Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A read-only transaction that sees one snapshot of the database however long it runs
    /// and whatever is written meanwhile (SQLite: a WAL read transaction; PostgreSQL:
    /// `REPEATABLE READ`), and holds no lock a writer waits for.
    pub(super) async fn snapshot(&self) -> sqlx::Result<Tx> {
        Ok(match &self.db {
            Db::Sqlite { reader, .. } => Tx::Sqlite(reader.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(
                pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }

    async fn reader(&self) -> Result<ReadConn, StoreError> {
        Ok(match &self.db {
            Db::Sqlite { reader, .. } => {
                ReadConn::Sqlite(reader.acquire().await.map_err(db_error)?)
            }
            Db::Postgres(pool) => ReadConn::Postgres(pool.acquire().await.map_err(db_error)?),
        })
    }

    /// Runs `work` in one writing transaction: committed if it succeeds, rolled back if not.
    async fn write<T>(
        &self,
        work: impl AsyncFnOnce(&mut Conn<'_>, &Inner) -> sqlx::Result<T>,
    ) -> Result<T, StoreError> {
        self.write_raw(work).await.map_err(db_error)
    }

    async fn write_raw<T>(
        &self,
        work: impl AsyncFnOnce(&mut Conn<'_>, &Inner) -> sqlx::Result<T>,
    ) -> sqlx::Result<T> {
        let mut tx = self.begin().await?;
        let value = work(&mut tx.conn(), &self.inner).await?;
        tx.commit().await?;
        Ok(value)
    }

    async fn read<T>(
        &self,
        work: impl AsyncFnOnce(&mut Conn<'_>) -> sqlx::Result<T>,
    ) -> Result<T, StoreError> {
        let mut conn = self.reader().await?;
        work(&mut conn.conn()).await.map_err(db_error)
    }

    /// Bounds a store call: a database that stopped answering is an error within the timeout.
    fn bounded<'a, T: Send + 'a>(
        &'a self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'a,
    ) -> StoreFuture<'a, T> {
        let limit = self.inner.timeout;
        Box::pin(async move {
            tokio::time::timeout(limit, work).await.unwrap_or_else(|_| {
                Err(StoreError::new(format!(
                    "no answer within {} ms",
                    limit.as_millis()
                )))
            })
        })
    }

    async fn reserve(&self, intent: &CreateIntent) -> Result<Reservation, StoreError> {
        match self
            .write_raw(async |conn, inner| rules::reserve(conn, inner, intent).await)
            .await
        {
            // The one-active-session index refused a second row for the NIN: another create
            // was granted at the same moment (the locks make this rare; the index makes it safe).
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let refusal = super::Refusal::InProgress;
                let event = rules::refusal_event(intent, &refusal);
                self.write(async |conn, inner| rules::append(conn, inner, &event).await)
                    .await?;
                Ok(Reservation::Refused(refusal))
            }
            other => other.map_err(db_error),
        }
    }
}

impl Store for SqlStore {
    fn reserve_create<'a>(&'a self, intent: &'a CreateIntent) -> StoreFuture<'a, Reservation> {
        self.bounded(self.reserve(intent))
    }

    fn abandon_create<'a>(
        &'a self,
        key: i64,
        restore: Option<&'a Replaced>,
        audit: AuditEvent,
    ) -> StoreFuture<'a, ()> {
        self.bounded(async move {
            self.write(async |conn, inner| rules::abandon(conn, inner, key, restore, &audit).await)
                .await
        })
    }

    fn complete_create<'a>(
        &'a self,
        key: i64,
        result: &'a CreateResult,
        replaced: Option<(&'a Replaced, String)>,
        audit: Vec<AuditEvent>,
    ) -> StoreFuture<'a, ()> {
        self.bounded(async move {
            self.write(async |conn, inner| {
                rules::complete(conn, inner, key, result, replaced.as_ref(), &audit).await
            })
            .await
        })
    }

    fn session<'a>(&'a self, session_id: &'a str) -> StoreFuture<'a, Option<SessionRecord>> {
        self.bounded(self.read(async |conn| rules::find(conn, session_id).await))
    }

    fn record_outcome<'a>(
        &'a self,
        session_id: &'a str,
        status: &'a str,
        audit: AuditEvent,
    ) -> StoreFuture<'a, bool> {
        self.bounded(async move {
            self.write(async |conn, inner| {
                rules::outcome(conn, inner, session_id, status, &audit).await
            })
            .await
        })
    }

    fn record_cancel<'a>(
        &'a self,
        session_id: &'a str,
        status: &'a str,
        is_final: bool,
        audit: AuditEvent,
    ) -> StoreFuture<'a, ()> {
        self.bounded(async move {
            self.write(async |conn, inner| {
                rules::cancel(conn, inner, session_id, status, is_final, &audit).await
            })
            .await
        })
    }

    fn append_audit(&self, event: AuditEvent) -> StoreFuture<'_, ()> {
        self.bounded(async move {
            self.write(async |conn, inner| rules::append(conn, inner, &event).await)
                .await
        })
    }

    fn recover_interrupted(&self, now_ms: i64, stale_after_ms: i64) -> StoreFuture<'_, u64> {
        // One relay per SQLite file: whatever is pending was left by a relay that stopped. A
        // shared database only knows a create was abandoned once it is older than any could be.
        let stale_after_ms = if self.is_shared() { stale_after_ms } else { 0 };
        self.expire_stale(now_ms, stale_after_ms)
    }

    fn expire_stale(&self, now_ms: i64, stale_after_ms: i64) -> StoreFuture<'_, u64> {
        self.bounded(async move {
            self.write(async |conn, inner| {
                rules::expire_stale(conn, inner, now_ms, now_ms - stale_after_ms).await
            })
            .await
        })
    }

    fn active_sessions(&self, now_ms: i64) -> StoreFuture<'_, u64> {
        self.bounded(self.read(async move |conn| rules::count_active(conn, now_ms).await))
    }

    fn audit_page(
        &self,
        after_seq: i64,
        since_ms: Option<i64>,
        limit: u32,
    ) -> StoreFuture<'_, Vec<AuditRecord>> {
        self.bounded(
            self.read(async move |conn| rules::page(conn, after_seq, since_ms, limit).await),
        )
    }

    fn audit_head(&self) -> StoreFuture<'_, Option<(i64, String)>> {
        self.bounded(self.read(async |conn| rules::head(conn).await))
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        self.bounded(self.read(async |conn| conn.execute("SELECT 1", &[]).await.map(drop)))
    }
}

/// A transaction (rolled back if dropped uncommitted).
pub(super) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub(super) fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    pub(super) async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
    }
}

/// A pooled connection for reads.
enum ReadConn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl ReadConn {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            ReadConn::Sqlite(c) => Conn::Sqlite(c),
            ReadConn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// A connection (or transaction) of either database, for the rules. The schema holds only
/// integers and text, so that is all a query binds and reads.
pub(super) enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// A value bound to a query (`$1`, `$2`, … in both databases).
#[derive(Clone, Copy, Debug)]
pub(super) enum Arg<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'a str),
    OptText(Option<&'a str>),
}

/// A row read by the rules.
pub(super) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Conn<'_> {
    pub(super) fn is_postgres(&self) -> bool {
        matches!(self, Conn::Postgres(_))
    }

    /// Runs a statement; returns how many rows it changed.
    pub(super) async fn execute(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> sqlx::Result<u64> {
        Ok(match self {
            Conn::Sqlite(c) => bind(sqlx::query(sql), args)
                .execute(&mut **c)
                .await?
                .rows_affected(),
            Conn::Postgres(c) => bind(sqlx::query(sql), args)
                .execute(&mut **c)
                .await?
                .rows_affected(),
        })
    }

    pub(super) async fn rows(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> sqlx::Result<Vec<Row>> {
        Ok(match self {
            Conn::Sqlite(c) => bind(sqlx::query(sql), args)
                .fetch_all(&mut **c)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect(),
            Conn::Postgres(c) => bind(sqlx::query(sql), args)
                .fetch_all(&mut **c)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect(),
        })
    }

    pub(super) async fn optional_row(
        &mut self,
        sql: &'static str,
        args: &[Arg<'_>],
    ) -> sqlx::Result<Option<Row>> {
        Ok(self.rows(sql, args).await?.into_iter().next())
    }

    pub(super) async fn row(&mut self, sql: &'static str, args: &[Arg<'_>]) -> sqlx::Result<Row> {
        self.optional_row(sql, args)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}

fn bind<DB: Database>(
    mut query: sqlx::query::Query<'static, DB, DB::Arguments>,
    args: &[Arg<'_>],
) -> sqlx::query::Query<'static, DB, DB::Arguments>
where
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    for<'t> &'t str: Encode<'t, DB> + Type<DB>,
    for<'t> Option<&'t str>: Encode<'t, DB> + Type<DB>,
{
    for arg in args {
        query = match *arg {
            Arg::Int(v) => query.bind(v),
            Arg::OptInt(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
            Arg::OptText(v) => query.bind(v),
        };
    }
    query
}

impl Row {
    fn get<T>(&self, i: usize) -> sqlx::Result<T>
    where
        T: for<'r> Decode<'r, Sqlite>
            + Type<Sqlite>
            + for<'r> Decode<'r, Postgres>
            + Type<Postgres>,
    {
        match self {
            Row::Sqlite(row) => row.try_get(i),
            Row::Postgres(row) => row.try_get(i),
        }
    }

    pub(super) fn int(&self, i: usize) -> sqlx::Result<i64> {
        self.get(i)
    }

    pub(super) fn opt_int(&self, i: usize) -> sqlx::Result<Option<i64>> {
        self.get(i)
    }

    pub(super) fn text(&self, i: usize) -> sqlx::Result<String> {
        self.get(i)
    }

    pub(super) fn opt_text(&self, i: usize) -> sqlx::Result<Option<String>> {
        self.get(i)
    }
}
