//! Builds the whole application from a [`Config`] and a listener. `main.rs` and every
//! integration test go through [`Application::build`], so tests exercise the real wiring.

use std::net::TcpListener;
use std::sync::Arc;

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
    /// The writes of a start (the questionnaires' archive, then a flush) failed, on a
    /// full disk say: the server stops with this message rather than panic or serve.
    #[error("cannot write to the data directory {dir} at start: {reason}")]
    FirstWrite { dir: String, reason: StoreError },
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

/// A built application: the server (not yet awaited), its port and its store.
pub struct Application {
    server: Server,
    port: u16,
    store: Arc<Store>,
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
        tracing::info!(%addr, "listening");
        Ok(Application {
            server: server.run(),
            port: addr.port(),
            store,
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

    /// Runs until SIGTERM or Ctrl-C, lets running requests finish, then flushes the store.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await?;
        self.store
            .flush_now()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        tracing::info!("stopped; data flushed");
        Ok(())
    }
}
