//! Builds the whole application from a [`Config`] and a listener. `main.rs` and every
//! integration test go through [`Application::build`], so tests exercise the real wiring.

use std::net::TcpListener;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web as aw, App, HttpServer};
use thiserror::Error;
use utoipa_actix_web::AppExt;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::questionnaire::{load_dir, Catalog, Problem};
use crate::store::{Store, StoreError};
use crate::web;

/// Why the application could not start.
#[derive(Debug, Error)]
pub enum StartupError {
    #[error("the questionnaires are invalid:\n{}", .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Questionnaires(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The writes of a start (the questionnaires' archive, then a flush) failed, on a
    /// full disk say: the server stops with this message rather than panic or serve.
    #[error("cannot write to the data directory {dir} at start: {reason}")]
    FirstWrite { dir: String, reason: StoreError },
    #[error("cannot read or create the session key in {path}: {source}")]
    SessionKey {
        path: String,
        source: std::io::Error,
    },
    #[error("the public URL {0:?} must be an http:// or https:// address with no path, query or fragment, e.g. https://shindan.example.jp")]
    PublicUrl(String),
    #[error("--metrics-bind (SHINDAN_METRICS_BIND) serves metrics, which are off (--metrics off): turn them on or drop the address")]
    MetricsOff,
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A built application: the server (not yet awaited), its port, its store, the metrics
/// listener and the automatic peer snapshots.
pub struct Application {
    server: Server,
    port: u16,
    /// The `--metrics-bind` listener's server (serving `/metrics` only) and its port.
    metrics_server: Option<(Server, u16)>,
    store: Arc<Store>,
    draft_ttl: std::time::Duration,
    sweep_every: std::time::Duration,
    snapshots: Option<SnapshotSchedule>,
}

/// The automatic peer snapshot: a thread that tries every interval (the first time one
/// interval after the last snapshot, or after start-up when there is none) and lets "too
/// few changes" pass. It signals nothing to anyone: reports simply start showing the new
/// snapshot. Asked to stop when dropped.
struct SnapshotSchedule {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SnapshotSchedule {
    fn start(store: Arc<Store>, interval: Duration) -> std::io::Result<SnapshotSchedule> {
        let (stop, stopped) = mpsc::channel::<()>();
        let first = match store.published_peers() {
            Some(p) => {
                let age = (chrono::Utc::now() - p.created_at)
                    .to_std()
                    .unwrap_or_default();
                interval.saturating_sub(age)
            }
            None => interval,
        };
        let thread = std::thread::Builder::new()
            .name("shindan-peer-snapshots".into())
            .spawn(move || {
                let mut wait = first;
                // Ends when the application asks (or is gone).
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                    match store.take_peer_snapshot(chrono::Utc::now()) {
                        Ok(Ok(p)) => tracing::info!(
                            id = %p.id,
                            companies = p.companies,
                            "peer snapshot taken"
                        ),
                        Ok(Err(few)) => tracing::info!(reason = %few, "no peer snapshot"),
                        Err(e) => tracing::error!(error = %e, "peer snapshot failed"),
                    }
                    wait = interval;
                }
            })?;
        Ok(SnapshotSchedule {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops the thread and waits for a snapshot it is taking to finish.
    fn stop(mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SnapshotSchedule {
    fn drop(&mut self) {
        drop(self.stop.take());
    }
}

impl Application {
    /// Loads the questionnaires, opens the store and binds `config.bind`.
    pub fn build(config: &Config) -> Result<Application, StartupError> {
        let catalog = load_dir(&config.questionnaires).map_err(StartupError::Questionnaires)?;
        let store = Arc::new(
            Store::open(&config.data_dir)?
                .with_reserve(config.reserve_mb.saturating_mul(1024 * 1024)),
        );
        let first_write = |reason: StoreError| StartupError::FirstWrite {
            dir: config.data_dir.display().to_string(),
            reason,
        };
        for q in catalog.all() {
            store
                .archive_questionnaire(&q.hash, &q.source)
                .map_err(first_write)?;
        }
        store.flush_now().map_err(first_write)?;
        let listener = TcpListener::bind(&config.bind).map_err(|source| StartupError::Bind {
            addr: config.bind.clone(),
            source,
        })?;
        Self::with_parts(config, catalog, store, listener)
    }

    /// Builds on already loaded parts and an already bound listener.
    pub fn with_parts(
        config: &Config,
        catalog: Catalog,
        store: Arc<Store>,
        listener: TcpListener,
    ) -> Result<Application, StartupError> {
        let addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.bind.clone(),
            source,
        })?;
        if config.metrics_bind.is_some() && !config.metrics {
            return Err(StartupError::MetricsOff);
        }
        let metrics = if config.metrics {
            Metrics::on()
        } else {
            Metrics::off()
        };
        store.set_metrics(metrics.store());
        let session_key = web::session::load_or_create_key(&config.data_dir).map_err(|source| {
            StartupError::SessionKey {
                path: config.data_dir.display().to_string(),
                source,
            }
        })?;
        let state = aw::Data::new(web::AppState {
            catalog,
            store: store.clone(),
            renders: web::report::RenderCache::with_metrics(metrics.clone()),
            archived: Default::default(),
            public_url: config
                .public_url
                .as_deref()
                .map(parse_public_url)
                .transpose()?,
            session_key,
            admin_digest: config
                .admin_token
                .as_ref()
                .map(|t| web::auth::admin_digest(t.0.trim())),
            limiters: web::limits::Limiters::new(
                &config.rate_limits,
                &config.trusted_proxies,
                metrics.clone(),
            ),
            body_timeout: config.body_timeout,
            metrics: metrics.clone(),
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .into_utoipa_app()
                .app_data(state.clone())
                .configure(web::configure)
                .into_app()
        })
        .shutdown_timeout(10)
        .client_request_timeout(crate::config::HEAD_TIMEOUT)
        .client_disconnect_timeout(crate::config::DISCONNECT_TIMEOUT)
        .max_connections(crate::config::MAX_CONNECTIONS_PER_WORKER)
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
        let metrics_server = match &config.metrics_bind {
            Some(bind) => Some(metrics_listener(bind, metrics, store.clone())?),
            None => None,
        };
        let snapshots = match config.peer_snapshot_interval {
            Some(interval) => Some(
                SnapshotSchedule::start(store.clone(), interval)
                    .map_err(|e| StartupError::Store(StoreError::Storage(e.to_string())))?,
            ),
            None => None,
        };
        tracing::info!(%addr, "listening");
        Ok(Application {
            server: server.run(),
            port: addr.port(),
            metrics_server,
            store,
            draft_ttl: config.draft_ttl,
            sweep_every: config.sweep_every,
            snapshots,
        })
    }

    /// The port the server listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `--metrics-bind` listener, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(_, port)| *port)
    }

    /// The store the application writes to (for tests and tools).
    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// Runs until SIGTERM or Ctrl-C, lets running requests finish, stops the background
    /// work (the draft sweep, the automatic snapshots), then flushes the store.
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        let sweeper = tokio::spawn(sweep_drafts(
            self.store.clone(),
            self.draft_ttl,
            self.sweep_every,
        ));
        let metrics = self.metrics_server.take().map(|(server, _)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let served = (&mut self.server).await;
        if let Some((handle, running)) = metrics {
            handle.stop(true).await;
            let _ = running.await;
        }
        sweeper.abort();
        if let Some(s) = self.snapshots.take() {
            s.stop();
        }
        served?;
        self.store
            .flush_now()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        tracing::info!("stopped; data flushed");
        Ok(())
    }
}

/// The metrics listener: `/metrics` only, without authentication, one worker, no signal
/// handling of its own (it stops with the main server).
fn metrics_listener(
    bind: &str,
    metrics: Metrics,
    store: Arc<Store>,
) -> Result<(Server, u16), StartupError> {
    let bind_err = |source| StartupError::Bind {
        addr: bind.to_string(),
        source,
    };
    let listener = TcpListener::bind(bind).map_err(bind_err)?;
    let addr = listener.local_addr().map_err(bind_err)?;
    let scrape = aw::Data::new(web::metrics::Scrape { metrics, store });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(scrape.clone())
            .configure(web::metrics::listener_routes)
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .client_request_timeout(crate::config::HEAD_TIMEOUT)
    .client_disconnect_timeout(crate::config::DISCONNECT_TIMEOUT)
    .listen(listener)
    .map_err(bind_err)?;
    tracing::info!(%addr, "metrics listening");
    Ok((server.run(), addr.port()))
}

/// Deletes abandoned drafts every `every`, for as long as the server runs: drafts no
/// broker invited that nobody touched for `ttl`. A failed sweep is logged and tried again
/// next time.
async fn sweep_drafts(store: Arc<Store>, ttl: std::time::Duration, every: std::time::Duration) {
    let Ok(ttl) = chrono::Duration::from_std(ttl) else {
        return;
    };
    // `interval` refuses a zero period.
    let mut ticks = tokio::time::interval(every.max(std::time::Duration::from_millis(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let cutoff = chrono::Utc::now() - ttl;
        match store.clone().delete_stale_drafts(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "abandoned drafts deleted"),
            Err(e) => tracing::warn!(error = %e, "the sweep of abandoned drafts failed"),
        }
    }
}

/// The configured public address as our links spell it (scheme, host, port; no trailing
/// slash), refused unless it is a plain http(s) origin: a typo would otherwise make every
/// form post that is judged by its `Origin` look foreign.
fn parse_public_url(raw: &str) -> Result<String, StartupError> {
    let bad = || StartupError::PublicUrl(raw.to_string());
    let url = url::Url::parse(raw.trim()).map_err(|_| bad())?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !plain {
        return Err(bad());
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::parse_public_url;

    #[test]
    fn a_public_url_is_an_http_origin() {
        for (raw, origin) in [
            ("https://shindan.example.jp", "https://shindan.example.jp"),
            ("https://shindan.example.jp/", "https://shindan.example.jp"),
            (
                "HTTPS://Shindan.Example.JP:443/",
                "https://shindan.example.jp",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:8080/", "http://[::1]:8080"),
        ] {
            assert_eq!(parse_public_url(raw).unwrap(), origin, "{raw}");
        }
        for raw in [
            "shindan.example.jp",
            "ftp://shindan.example.jp",
            "https://shindan.example.jp/app",
            "https://shindan.example.jp/?a=1",
            "https://user@shindan.example.jp",
            "",
        ] {
            assert!(parse_public_url(raw).is_err(), "{raw}");
        }
    }
}
