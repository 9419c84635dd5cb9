//! PostgreSQL: any number of relay instances on one database, which keeps every rule for all
//! of them (the locks are in [`rules`](super::rules)).
//!
//! - Migrations run at start-up on a connection of their own under sqlx's migration lock (a
//!   session advisory lock), so instances starting together apply each migration once; a lock
//!   left by a failed start dies with that connection.
//! - Every request-path connection carries `statement_timeout` and `lock_timeout` (the busy
//!   timeout) and `idle_in_transaction_session_timeout`, and the pool gives up acquiring after
//!   the busy timeout: a database that is down, locked or unreachable is an error within a
//!   bounded time (and the agent gets 503), never a wait. The pool reconnects by itself.
//! - TLS (rustls): to anything but a loopback address or a Unix socket the server's
//!   certificate must be verified (`sslmode=verify-full`, the default there, or `verify-ca`).

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection};

use super::StoreError;
use super::sql::{DatabaseOptions, Db, db_error};

/// How long a start-up waits for the migrations (another instance's included).
const MIGRATION_LIMIT: Duration = Duration::from_secs(300);

/// Rolls back a transaction left open by a relay that stopped answering, releasing its locks.
const IDLE_IN_TRANSACTION_MS: &str = "15000";

/// Whether `url` names a PostgreSQL database.
pub(super) fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

pub(super) async fn open(url: &str, options: &DatabaseOptions) -> Result<Db, StoreError> {
    let connect = connect_options(url)?;
    if options.create {
        migrate(&connect).await?;
    }
    let timeout = options.busy_timeout.as_millis().to_string();
    let pool = PgPoolOptions::new()
        .max_connections(options.max_connections.max(1))
        .min_connections(0)
        .acquire_timeout(options.busy_timeout)
        .idle_timeout(Some(Duration::from_secs(300)))
        .connect_with(connect.options([
            ("statement_timeout", timeout.as_str()),
            ("lock_timeout", timeout.as_str()),
            (
                "idle_in_transaction_session_timeout",
                IDLE_IN_TRANSACTION_MS,
            ),
        ]))
        .await
        .map_err(db_error)?;
    if !options.create {
        // Tools that only read must not create the schema: say plainly when there is none.
        if let Err(e) = sqlx::query("SELECT seq FROM audit_head")
            .execute(&pool)
            .await
        {
            pool.close().await;
            return Err(match e {
                sqlx::Error::Database(d) if d.code().as_deref() == Some("42P01") => {
                    StoreError::new("this database holds no relay schema (no audit_head table)")
                }
                e => db_error(e),
            });
        }
    }
    Ok(Db::Postgres(pool))
}

/// The URL's settings, with the relay's defaults and its TLS rule applied.
fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    let mut connect = PgConnectOptions::from_str(url).map_err(|e| {
        StoreError::new(format!(
            "invalid database URL {}: {e}",
            crate::settings::redact_url(url)
        ))
    })?;
    let local = connect.get_socket().is_some() || is_loopback(connect.get_host());
    let mode_given = url::Url::parse(url).is_ok_and(|u| {
        u.query_pairs()
            .any(|(k, _)| k == "sslmode" || k == "ssl-mode")
    }) || std::env::var_os("PGSSLMODE").is_some();
    match connect.get_ssl_mode() {
        PgSslMode::VerifyFull | PgSslMode::VerifyCa => {}
        _ if local => {}
        // Remote and nothing said: verify, as HTTPS would.
        _ if !mode_given => connect = connect.ssl_mode(PgSslMode::VerifyFull),
        mode => {
            return Err(StoreError::new(format!(
                "sslmode={} does not verify the database server's certificate, which a remote database needs: \
                 use sslmode=verify-full (add sslrootcert=FILE for a private CA)",
                mode_name(mode)
            )));
        }
    }
    if connect.get_application_name().is_none() {
        connect = connect.application_name("safeconv-relay");
    }
    Ok(connect)
}

/// Applies the migrations in `migrations/postgres` under the migration lock, on a connection
/// of their own without the request timeouts (waiting for another instance is expected).
async fn migrate(connect: &PgConnectOptions) -> Result<(), StoreError> {
    let mut conn = connect.connect().await.map_err(db_error)?;
    let applied = tokio::time::timeout(
        MIGRATION_LIMIT,
        sqlx::migrate!("migrations/postgres").run(&mut conn),
    )
    .await;
    let _ = conn.close().await;
    match applied {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(StoreError::new(format!("migrations failed: {e}"))),
        Err(_) => Err(StoreError::new(format!(
            "migrations did not finish within {} s (is another instance stuck holding the migration lock?)",
            MIGRATION_LIMIT.as_secs()
        ))),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn mode_name(mode: PgSslMode) -> &'static str {
    match mode {
        PgSslMode::Disable => "disable",
        PgSslMode::Allow => "allow",
        PgSslMode::Prefer => "prefer",
        PgSslMode::Require => "require",
        PgSslMode::VerifyCa => "verify-ca",
        PgSslMode::VerifyFull => "verify-full",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_database_needs_a_verified_certificate() {
        let remote = connect_options("postgres://relay@db.example:5432/relay").unwrap();
        assert!(matches!(remote.get_ssl_mode(), PgSslMode::VerifyFull));
        for weak in ["disable", "prefer", "require"] {
            let url = format!("postgres://relay:pw@db.example/relay?sslmode={weak}");
            let error = connect_options(&url).unwrap_err().to_string();
            assert!(error.contains(&format!("sslmode={weak}")), "{error}");
            assert!(!error.contains("pw"), "{error}");
        }
        connect_options("postgres://relay@db.example/relay?sslmode=verify-ca").unwrap();
        // Loopback and Unix sockets as given.
        let local =
            connect_options("postgres://relay@127.0.0.1:5432/relay?sslmode=disable").unwrap();
        assert!(matches!(local.get_ssl_mode(), PgSslMode::Disable));
        connect_options("postgres://relay@[::1]/relay?sslmode=prefer").unwrap();
        connect_options("postgres:///relay?host=/var/run/postgresql").unwrap();
    }
}
