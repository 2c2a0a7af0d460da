//! Builds the whole application from a [`Config`] and a listener. `main.rs` and every
//! integration test go through [`Application::build`], so tests exercise the real wiring.

use std::net::TcpListener;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web as aw, App, HttpServer};
use thiserror::Error;

use crate::config::Config;
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
    #[error("cannot read or create the session key in {path}: {source}")]
    SessionKey {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A built application: the server (not yet awaited), its port, its store and the
/// automatic peer snapshots.
pub struct Application {
    server: Server,
    port: u16,
    store: Arc<Store>,
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
        let store = Arc::new(Store::open(&config.data_dir)?);
        for q in catalog.all() {
            store.archive_questionnaire(&q.hash, &q.source)?;
        }
        store.flush_now()?;
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
        let session_key = web::session::load_or_create_key(&config.data_dir).map_err(|source| {
            StartupError::SessionKey {
                path: config.data_dir.display().to_string(),
                source,
            }
        })?;
        let state = aw::Data::new(web::AppState {
            catalog,
            store: store.clone(),
            renders: web::report::RenderCache::default(),
            archived: Default::default(),
            public_url: config
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string()),
            session_key,
            admin_digest: config
                .admin_token
                .as_ref()
                .map(|t| web::auth::admin_digest(t.0.trim())),
            limiters: web::limits::Limiters::new(&config.rate_limits, &config.trusted_proxies),
        });
        let mut server =
            HttpServer::new(move || App::new().app_data(state.clone()).configure(web::configure))
                .shutdown_timeout(10)
                .listen(listener)
                .map_err(|source| StartupError::Bind {
                    addr: addr.to_string(),
                    source,
                })?;
        if let Some(workers) = config.workers {
            server = server.workers(workers);
        }
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
            store,
            snapshots,
        })
    }

    /// The port the server listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The store the application writes to (for tests and tools).
    pub fn store(&self) -> Arc<Store> {
        self.store.clone()
    }

    /// Runs until SIGTERM or Ctrl-C, lets running requests finish, stops the automatic
    /// snapshots, then flushes the store.
    pub async fn run_until_stopped(mut self) -> std::io::Result<()> {
        (&mut self.server).await?;
        if let Some(s) = self.snapshots.take() {
            s.stop();
        }
        self.store
            .flush_now()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        tracing::info!("stopped; data flushed");
        Ok(())
    }
}
