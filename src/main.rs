//! The `shindan` command: serve (the default), validate questionnaires, back up and
//! restore the data directory, manage broker accounts, take a peer snapshot.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shindan::accounts;
use shindan::config::{
    AdminToken, Config, RateLimits, SnapshotInterval, DEFAULT_BIND, DEFAULT_BODY_TIMEOUT,
    DEFAULT_DATA_DIR, DEFAULT_DRAFT_DAYS, DEFAULT_QUESTIONNAIRES, DEFAULT_RESERVE_MB,
};
use shindan::questionnaire::load_dir;
use shindan::restore;
use shindan::startup::Application;
use shindan::store::Store;
use tracing_subscriber::EnvFilter;

/// The shortest admin token accepted: about 192 bits in base64.
const MIN_ADMIN_TOKEN_CHARS: usize = 32;

#[derive(Parser)]
#[command(
    name = "shindan",
    version,
    about = "IT liability insurance risk self-assessment service"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (the default).
    Serve(ServeArgs),
    /// Check a questionnaires folder and print every problem.
    Validate {
        /// The folder to check.
        #[arg(default_value = DEFAULT_QUESTIONNAIRES)]
        dir: PathBuf,
    },
    /// Write every assessment to a portable JSON-lines file.
    Backup {
        /// The file to write.
        file: PathBuf,
        #[arg(long, env = "SHINDAN_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Load a backup file into an empty data directory.
    Restore {
        /// The backup file to read.
        file: PathBuf,
        #[arg(long, env = "SHINDAN_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Manage broker accounts (with the server stopped; while it runs, use the admin API).
    Broker {
        #[command(subcommand)]
        action: BrokerAction,
        #[arg(long, env = "SHINDAN_DATA_DIR", default_value = DEFAULT_DATA_DIR, global = true)]
        data_dir: PathBuf,
    },
    /// Peer statistics (with the server stopped; while it runs, use the admin API).
    Peers {
        #[command(subcommand)]
        action: PeersAction,
        #[arg(long, env = "SHINDAN_DATA_DIR", default_value = DEFAULT_DATA_DIR, global = true)]
        data_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum PeersAction {
    /// Publish a new peer snapshot, when at least 5 companies changed since the last one.
    Snapshot,
}

#[derive(Subcommand)]
enum BrokerAction {
    /// Create a broker; prints its id, then its secret token alone on the last line.
    Add {
        /// The broker's name as shown on its pages.
        #[arg(long)]
        name: String,
    },
    /// One line per broker: id, name, creation date, status. Never a token.
    List,
    /// Disable a broker at once.
    Revoke {
        /// The broker's id.
        id: String,
    },
    /// Give a broker a new token (printed alone on the last line); the old one stops working.
    Rotate {
        /// The broker's id.
        id: String,
    },
}

#[derive(Parser)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SHINDAN_BIND", default_value = DEFAULT_BIND)]
    bind: String,
    /// Where the database lives.
    #[arg(long, env = "SHINDAN_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// The folder of questionnaire files.
    #[arg(long, env = "SHINDAN_QUESTIONNAIRES", default_value = DEFAULT_QUESTIONNAIRES)]
    questionnaires: PathBuf,
    /// Worker threads (default: one per core).
    #[arg(long, env = "SHINDAN_WORKERS", value_parser = clap::value_parser!(u16).range(1..))]
    workers: Option<u16>,
    /// The address users reach the site at, for the private links shown on pages
    /// (default: taken from each request's Host).
    #[arg(long, env = "SHINDAN_PUBLIC_URL")]
    public_url: Option<String>,
    /// Turns on the admin API (`/api/v1/admin`) with this bearer token; off when unset.
    /// Prefer the environment variable: a command-line argument is visible to `ps`.
    #[arg(long, env = "SHINDAN_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Failed authentications (broker sign-ins, wrong broker or admin tokens) allowed per
    /// minute and client address (after a burst of 10). A valid token is never refused by it.
    #[arg(long, env = "SHINDAN_LOGIN_RATE", default_value_t = RateLimits::default().login_per_minute,
          value_parser = clap::value_parser!(u32).range(1..))]
    login_rate: u32,
    /// Requests per second of each broker (token or session) and of the admin token (after a
    /// burst of 100, or of the rate when higher).
    #[arg(long, env = "SHINDAN_TOKEN_RATE", default_value_t = RateLimits::default().token_per_second,
          value_parser = clap::value_parser!(u32).range(1..))]
    token_rate: u32,
    /// New assessments (drafts and one-request submissions, API and forms) allowed per
    /// minute and client address (after a burst of 60, or of the rate when higher).
    #[arg(long, env = "SHINDAN_CREATE_RATE", default_value_t = RateLimits::default().create_per_minute,
          value_parser = clap::value_parser!(u32).range(1..))]
    create_rate: u32,
    /// Seconds a request's body may take to arrive after its head; later, 408 and the
    /// connection is closed.
    #[arg(long, env = "SHINDAN_BODY_TIMEOUT", default_value_t = DEFAULT_BODY_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    body_timeout: u64,
    /// Days after which a draft that no broker invited and nobody touched is deleted.
    #[arg(long, env = "SHINDAN_DRAFT_DAYS", default_value_t = DEFAULT_DRAFT_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=36500))]
    draft_days: u32,
    /// A reverse proxy (IP address) whose X-Forwarded-For names the client for rate limits;
    /// repeat the flag or separate addresses with commas. Without it, limits are per
    /// connection address, which behind a proxy is the proxy's for everyone.
    #[arg(
        long = "trusted-proxy",
        env = "SHINDAN_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// How often to try to publish a peer snapshot (it is taken only when at least 5
    /// companies changed): e.g. 24h, 30m, 1h30m, or off.
    #[arg(long, env = "SHINDAN_PEER_SNAPSHOT_INTERVAL", default_value = "24h")]
    peer_snapshot_interval: SnapshotInterval,
    /// Free space (MiB) to keep on the data directory's disk: below it, writes are refused
    /// with 503 storage_unavailable and reads go on; writes resume once there is room.
    /// 0 keeps none (the disk can then fill up, and some reads fail until a restart).
    #[arg(long, env = "SHINDAN_RESERVE_MB", default_value_t = DEFAULT_RESERVE_MB)]
    reserve_mb: u64,
    /// Prometheus metrics: on (served at /metrics with the admin token, and on
    /// --metrics-bind) or off (nothing collected, to measure what they cost).
    #[arg(long, env = "SHINDAN_METRICS", value_enum, default_value_t = Switch::On)]
    metrics: Switch,
    /// A second address that serves only /metrics, without authentication: bind it where
    /// only the monitoring network reaches (e.g. 10.0.0.5:9090). Off when unset.
    #[arg(long, env = "SHINDAN_METRICS_BIND")]
    metrics_bind: Option<String>,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Switch {
    On,
    Off,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("SHINDAN_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::parse_from(["shindan"])));
    match run(command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The umask of every command that writes data: what this process creates (the data
/// directory, sled's files, backups) is its owner's only, since it holds every profile and
/// the report links.
const OWNER_ONLY_UMASK: u32 = 0o077;

fn owner_only_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(OWNER_ONLY_UMASK));
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => {
            owner_only_umask();
            if let Some(t) = args.admin_token.as_deref().filter(|t| !t.trim().is_empty()) {
                anyhow::ensure!(
                    t.trim().len() >= MIN_ADMIN_TOKEN_CHARS,
                    "SHINDAN_ADMIN_TOKEN must have at least {MIN_ADMIN_TOKEN_CHARS} characters (try: openssl rand -base64 32)"
                );
            }
            let config = Config {
                bind: args.bind,
                data_dir: args.data_dir,
                questionnaires: args.questionnaires,
                workers: args.workers.map(usize::from),
                public_url: args.public_url,
                admin_token: args
                    .admin_token
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .map(AdminToken),
                rate_limits: RateLimits {
                    login_per_minute: args.login_rate,
                    token_per_second: args.token_rate,
                    token_burst: RateLimits::default().token_burst.max(args.token_rate),
                    create_per_minute: args.create_rate,
                    create_burst: RateLimits::default().create_burst.max(args.create_rate),
                    ..RateLimits::default()
                },
                trusted_proxies: args.trusted_proxies,
                body_timeout: std::time::Duration::from_secs(args.body_timeout),
                draft_ttl: shindan::config::days(args.draft_days),
                sweep_every: shindan::config::DEFAULT_SWEEP_EVERY,
                peer_snapshot_interval: args.peer_snapshot_interval.0,
                reserve_mb: args.reserve_mb,
                metrics: args.metrics == Switch::On,
                metrics_bind: args.metrics_bind.filter(|b| !b.trim().is_empty()),
            };
            let app = Application::build(&config)?;
            actix_web::rt::System::new()
                .block_on(app.run_until_stopped())
                .context("the server stopped with an error")?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { dir } => match load_dir(&dir) {
            Ok(catalog) => {
                for q in catalog.latest_all() {
                    println!(
                        "ok: {} {} ({} domains, {} questions, {} findings)",
                        q.id,
                        q.version,
                        q.domains.len(),
                        q.questions.len(),
                        q.findings.len()
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(problems) => {
                for p in &problems {
                    eprintln!("{p}");
                }
                eprintln!("{} problem(s) found", problems.len());
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Backup { file, data_dir } => {
            owner_only_umask();
            let store = Store::open(&data_dir)?;
            // The backup holds report links and company data: a new owner-only file,
            // renamed over the old one only once complete.
            let n = store
                .backup_to(&file)
                .with_context(|| format!("backing up to {}", file.display()))?;
            println!("backed up {n} assessment(s) to {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, data_dir } => {
            owner_only_umask();
            let input =
                File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
            let restored = restore::restore(BufReader::new(input), &data_dir)
                .with_context(|| format!("restoring {}", file.display()))?;
            for note in &restored.corrected {
                eprintln!("note: {note}");
            }
            println!(
                "restored {} assessment(s) into {}",
                restored.records,
                data_dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Broker { action, data_dir } => broker(action, &data_dir),
        Command::Peers {
            action: PeersAction::Snapshot,
            data_dir,
        } => {
            owner_only_umask();
            let store = Store::open(&data_dir)?;
            match store.take_peer_snapshot(chrono::Utc::now())? {
                Ok(p) => {
                    println!(
                        "peer snapshot {} taken at {}: {} companies",
                        p.id,
                        p.created_at.to_rfc3339(),
                        p.companies
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(few) => {
                    eprintln!("error: too_few_changes: {few}; nothing was stored");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// Runs a broker command on a stopped server's data directory; a running server holds the
/// directory's lock, and the store then refuses to open with a message saying so.
fn broker(action: BrokerAction, data_dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    owner_only_umask();
    let store = Store::open(data_dir)?;
    match action {
        BrokerAction::Add { name } => {
            let (broker, token) = block_on(accounts::add(&store, &name))?;
            println!("broker {} created: {}", broker.id, broker.name);
            println!("Its token follows, shown this once. Give it to the broker privately.");
            println!("{}", token.expose());
        }
        BrokerAction::List => {
            for b in store.brokers()? {
                println!(
                    "{}\t{}\t{}\t{}",
                    b.id,
                    b.name,
                    b.created_at.format("%Y-%m-%d"),
                    b.status().as_str()
                );
            }
        }
        BrokerAction::Revoke { id } => {
            let id = accounts::parse_id(&id)?;
            let broker = block_on(accounts::revoke(&store, id))?;
            println!("broker {} ({}) revoked", broker.id, broker.name);
        }
        BrokerAction::Rotate { id } => {
            let id = accounts::parse_id(&id)?;
            let (broker, token) = block_on(accounts::rotate(&store, id))?;
            println!(
                "broker {} ({}): new token; the old one no longer works",
                broker.id, broker.name
            );
            println!("{}", token.expose());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one store operation to completion on this thread.
fn block_on<F: std::future::Future>(operation: F) -> F::Output {
    actix_web::rt::System::new().block_on(operation)
}
