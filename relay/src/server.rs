//! Serving a relay: bind, serve with the client's address known, stop gracefully.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::service::Relay;

/// How long a graceful shutdown waits for requests under way.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A relay being served. [`Server::shutdown`] stops it gracefully.
///
/// ```no_run
/// # async fn run(relay: safeconv_relay::Relay) -> std::io::Result<()> {
/// let server = safeconv_relay::Server::bind(relay, "127.0.0.1:0".parse().unwrap(), None).await?;
/// println!("SAFECONV_RELAY_URL={}", server.url());
/// server.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Server {
    url: String,
    internal_url: Option<String>,
    stops: Vec<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<io::Result<()>>>,
}

impl Server {
    /// Serves `relay` on `listen`. With `internal`, `/healthz`, `/readyz` and `/metrics` are
    /// served there only; without, on `listen` beside the session API.
    pub async fn bind(
        relay: Relay,
        listen: SocketAddr,
        internal: Option<SocketAddr>,
    ) -> io::Result<Server> {
        let mut server = Server {
            url: String::new(),
            internal_url: None,
            stops: Vec::new(),
            tasks: Vec::new(),
        };
        let public = match internal {
            Some(_) => relay.sessions_router(),
            None => relay.router(),
        };
        server.url = server.spawn(listen, public).await?;
        if let Some(internal) = internal {
            server.internal_url = Some(server.spawn(internal, relay.operations_router()).await?);
        }
        Ok(server)
    }

    async fn spawn(&mut self, address: SocketAddr, router: axum::Router) -> io::Result<String> {
        let listener = TcpListener::bind(address).await?;
        let local = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
        });
        self.stops.push(stop);
        self.tasks.push(task);
        Ok(url_for(local))
    }

    /// `http://HOST:PORT` of the session API.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `http://HOST:PORT` of the operations endpoints, when served apart.
    pub fn internal_url(&self) -> Option<&str> {
        self.internal_url.as_deref()
    }

    /// Stops accepting connections and waits (at most [`SHUTDOWN_GRACE`]) for requests under way.
    pub async fn shutdown(self) {
        for stop in self.stops {
            let _ = stop.send(());
        }
        for task in self.tasks {
            match tokio::time::timeout(SHUTDOWN_GRACE, task).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => tracing::error!(error = %e, "server error"),
                Ok(Err(e)) => tracing::error!(error = %e, "server task failed"),
                Err(_) => {
                    tracing::warn!("requests still under way after the shutdown grace period")
                }
            }
        }
    }
}

fn url_for(address: SocketAddr) -> String {
    match address {
        SocketAddr::V4(a) => format!("http://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("http://[{}]:{}", a.ip(), a.port()),
    }
}
