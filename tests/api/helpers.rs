//! Starting the real application for tests: in-process on a random port with a fresh data
//! directory (`spawn_app`), or as the real binary in a child process (`spawn_process`) for
//! restarts, signals and crashes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::{Duration, Instant};

use reqwest::redirect::Policy;
use serde_json::{json, Value};
use shindan::config::{Config, RateLimits};
use shindan::startup::Application;
use shindan::store::Store;
use tempfile::TempDir;

/// The folder of the shipped questionnaires.
pub fn shipped_questionnaires() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires")
}

/// A folder with a small three-domain questionnaire.
pub fn small_questionnaires() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small")
}

/// A folder with a small questionnaire whose profile has application-form items: `certs`
/// (ungrouped), `revenue` and `past_claims` (in the `application` group).
pub fn application_questionnaires() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/application")
}

/// How long a test waits for something that must happen (a server to start or stop, a
/// command to exit, a round of load to be acknowledged) before calling it hung. Generous on
/// purpose: only a hang meets it, never a slow machine or a slow disk, so no test depends
/// on the speed it runs at.
pub const PATIENCE: Duration = Duration::from_secs(120);

static TRACING: Once = Once::new();

fn init_tracing() {
    TRACING.call_once(|| {
        if std::env::var("TEST_LOG").is_ok() {
            tracing_subscriber::fmt()
                .with_env_filter("info")
                .with_test_writer()
                .init();
        }
    });
}

/// A running in-process application.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Arc<Store>,
    /// The `--metrics-bind` listener (`http://127.0.0.1:PORT`), when the test asked for one.
    pub metrics_address: Option<String>,
    /// Removed when the test ends.
    _data_dir: TempDir,
}

/// Starts the application on the shipped questionnaires.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&shipped_questionnaires()).await
}

/// Starts the application on a questionnaires folder.
pub async fn spawn_app_with(questionnaires: &Path) -> TestApp {
    spawn_app_configured(questionnaires, |_| {}).await
}

/// Starts the application with a configuration adjusted by `adjust`.
pub async fn spawn_app_configured(
    questionnaires: &Path,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    init_tracing();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        bind: "127.0.0.1:0".into(),
        data_dir: data_dir.path().to_path_buf(),
        questionnaires: questionnaires.to_path_buf(),
        workers: Some(2),
        public_url: None,
        admin_token: None,
        // Generous, so that only the tests of rate limiting meet them.
        rate_limits: RateLimits {
            login_per_minute: 10_000,
            login_burst: 10_000,
            token_per_second: 10_000,
            token_burst: 10_000,
            create_per_minute: 10_000,
            create_burst: 10_000,
        },
        body_timeout: shindan::config::DEFAULT_BODY_TIMEOUT,
        draft_ttl: shindan::config::days(shindan::config::DEFAULT_DRAFT_DAYS),
        sweep_every: shindan::config::DEFAULT_SWEEP_EVERY,
        trusted_proxies: Vec::new(),
        peer_snapshot_interval: Config::default().peer_snapshot_interval,
        reserve_mb: shindan::config::DEFAULT_RESERVE_MB,
        metrics: true,
        metrics_bind: None,
    };
    adjust(&mut config);
    let app = Application::build(&config).expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let store = app.store();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: client(),
        store,
        metrics_address,
        _data_dir: data_dir,
    }
}

/// How long the test client keeps an idle connection for reuse: well below the server's
/// keep-alive (actix-web's default, 5 s), so that a request never goes out on a connection
/// the server is closing at that moment (hyper then fails with `IncompleteMessage`).
const CLIENT_IDLE: std::time::Duration = std::time::Duration::from_secs(2);

/// A client that does not follow redirects and keeps cookies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .cookie_store(true)
        .pool_idle_timeout(CLIENT_IDLE)
        .build()
        .expect("client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn create_assessment(&self, body: &Value) -> reqwest::Response {
        self.post_json("/api/v1/assessments", body).await
    }

    /// Creates an assessment that must be accepted (201); its JSON.
    pub async fn created(&self, body: &Value) -> Value {
        let res = self.create_assessment(body).await;
        assert_eq!(res.status(), 201, "create {body}");
        res.json().await.expect("JSON")
    }

    pub async fn patch_assessment(&self, id: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .patch(self.url(&format!("/api/v1/assessments/{id}")))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("PATCH")
    }

    pub async fn submit(&self, id: &str, token: &str) -> reqwest::Response {
        self.client
            .post(self.url(&format!("/api/v1/assessments/{id}/submit")))
            .bearer_auth(token)
            .send()
            .await
            .expect("POST submit")
    }

    pub async fn get_report(&self, report_token: &str) -> reqwest::Response {
        self.get(&format!("/api/v1/reports/{report_token}")).await
    }

    pub async fn questionnaire(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/questionnaires/{id}"))
            .await
            .json()
            .await
            .expect("questionnaire JSON")
    }

    /// One version of the shipped `it-liability` questionnaire.
    pub async fn questionnaire_version(&self, version: &str) -> Value {
        self.get(&format!(
            "/api/v1/questionnaires/it-liability?version={version}"
        ))
        .await
        .json()
        .await
        .expect("questionnaire JSON")
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("POST form")
    }

    /// Creates a broker straight in the store; its id and token.
    pub fn add_broker(&self, name: &str) -> (String, String) {
        let (broker, token) = self.store.add_broker(name).expect("broker");
        (broker.id.to_string(), token.expose().to_string())
    }

    /// A GET with a bearer token.
    pub async fn get_as(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
    }

    /// A JSON POST with a bearer token.
    pub async fn post_as(&self, token: &str, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// Invites a client of the shipped questionnaire as the broker with `token`; the
    /// 201 response's JSON.
    pub async fn invite(&self, token: &str, client_name: &str) -> Value {
        let res = self
            .post_as(
                token,
                "/api/v1/broker/invitations",
                &json!({"questionnaire": "it-liability", "client_name": client_name}),
            )
            .await;
        assert_eq!(res.status(), 201, "invite {client_name}");
        res.json().await.expect("JSON")
    }

    /// How many assessments the store holds.
    pub fn stored(&self) -> usize {
        self.store.count()
    }
}

/// A valid profile and every question answered with its first option.
pub fn complete_answers(q: &Value) -> (Value, Value) {
    (valid_profile(q), answers_with(q, |_| 0))
}

/// A valid value for every profile field.
pub fn valid_profile(q: &Value) -> Value {
    let mut profile = serde_json::Map::new();
    for field in q["profile"].as_array().expect("profile") {
        let id = field["id"].as_str().unwrap().to_string();
        let first = field["options"][0]["id"].clone();
        let value = match field["kind"].as_str().unwrap() {
            "text" => json!("株式会社テスト"),
            "number" => json!(30),
            "date" => json!("2027-04-01"),
            "select" => first,
            "multiselect" => json!([first]),
            other => panic!("unknown kind {other}"),
        };
        profile.insert(id, value);
    }
    Value::Object(profile)
}

/// Every question answered with the option `pick` chooses (by index, clamped).
pub fn answers_with(q: &Value, pick: impl Fn(&Value) -> usize) -> Value {
    let mut answers = serde_json::Map::new();
    for question in q["questions"].as_array().expect("questions") {
        let options = question["options"].as_array().unwrap();
        let i = pick(question).min(options.len() - 1);
        answers.insert(
            question["id"].as_str().unwrap().to_string(),
            options[i]["id"].clone(),
        );
    }
    Value::Object(answers)
}

/// The path of the binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_shindan")
}

/// Runs a command-line tool of the binary to completion: `shindan TOOL PATH --data-dir DIR`
/// (backup, restore) or, without a data directory, `shindan TOOL PATH` (validate).
pub fn cli(tool: &str, path: &Path, data_dir: Option<&Path>) -> std::process::Output {
    let mut command = Command::new(binary());
    command.arg(tool).arg(path);
    if let Some(dir) = data_dir {
        command.arg("--data-dir").arg(dir);
    }
    command.output().expect("the binary runs")
}

/// Runs `shindan broker ARGS --data-dir DIR` to completion.
pub fn broker_cli(args: &[&str], data_dir: &Path) -> std::process::Output {
    broker_command(args, data_dir)
        .output()
        .expect("the binary runs")
}

/// The command `shindan broker ARGS --data-dir DIR`, not started.
pub fn broker_command(args: &[&str], data_dir: &Path) -> Command {
    let mut command = Command::new(binary());
    command
        .arg("broker")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir);
    command
}

/// Runs `command` to completion, its output captured; a command still running after
/// `PATIENCE` is killed and the test fails: it hung (waiting on a lock, say) instead of
/// finishing, however slow the machine.
pub fn output_within_patience(command: &mut Command) -> std::process::Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(PATIENCE) {
        Ok(output) => output.expect("the command's output"),
        Err(_) => {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
            panic!("{command:?} hung: still running after {PATIENCE:?}");
        }
    }
}

/// Adds a broker with the command line; its token (the last line of the output).
pub fn cli_add_broker(name: &str, data_dir: &Path) -> String {
    let out = broker_cli(&["add", "--name", name], data_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("output")
        .to_string()
}

/// Closes a store opened by a test on a stopped server's data directory, and waits until
/// sled has let go of its database file: sled's IO threads may still hold it for a moment
/// after the store is dropped, and a server or command started meanwhile would find the
/// directory in use. Waits for the lock's release, bounded by [`PATIENCE`] only.
pub fn close_store(store: Store, data_dir: &Path) {
    drop(store);
    let db = data_dir.join("sled").join("db");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let file = std::fs::File::open(&db).expect("sled's database file");
        match file.try_lock() {
            Ok(()) => return,
            Err(std::fs::TryLockError::WouldBlock) => {
                assert!(Instant::now() < deadline, "sled never released {db:?}");
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(std::fs::TryLockError::Error(e)) => panic!("cannot lock {db:?}: {e}"),
        }
    }
}

/// Asserts the JSON error shape, status and code; returns the body.
pub async fn expect_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status(), status, "status for {code}");
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/json",
        "errors are JSON"
    );
    let body: Value = res.json().await.expect("JSON error body");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    body
}

/// The real binary serving in a child process.
pub struct ServerProcess {
    pub child: Child,
    pub address: String,
    /// Everything the server wrote to stderr so far (its logs).
    pub logs: Arc<Mutex<String>>,
    /// Disconnects once every line of the logs is in `logs`.
    logs_read: mpsc::Receiver<()>,
}

/// Starts `shindan serve` on a random port; waits until it listens.
pub fn spawn_process(data_dir: &Path, questionnaires: &Path) -> ServerProcess {
    spawn_process_with(data_dir, questionnaires, &[])
}

/// [`spawn_process`] with more arguments for `serve`.
pub fn spawn_process_with(data_dir: &Path, questionnaires: &Path, args: &[&str]) -> ServerProcess {
    let mut child = Command::new(binary())
        .args(["serve", "--bind", "127.0.0.1:0", "--workers", "2"])
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--questionnaires")
        .arg(questionnaires)
        .args(args)
        .env("SHINDAN_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("stderr");
    let logs = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = mpsc::channel();
    let (logs_done, logs_read) = mpsc::channel::<()>();
    let sink = logs.clone();
    std::thread::spawn(move || {
        // Dropped when the server's stderr closes, after its last line is in `logs`.
        let _logs_done = logs_done;
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("addr=").nth(1) {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_string());
                }
            }
            let mut logs = sink.lock().unwrap();
            logs.push_str(&line);
            logs.push('\n');
        }
    });
    // Ends at once when the server exits without listening: its stderr closes.
    let addr = rx
        .recv_timeout(PATIENCE)
        .unwrap_or_else(|e| panic!("the server did not start ({e}): {}", logs.lock().unwrap()));
    ServerProcess {
        child,
        address: format!("http://{addr}"),
        logs,
        logs_read,
    }
}

impl ServerProcess {
    /// A plain GET of `path` (as `/healthz`), with a fresh client.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        client()
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET")
    }

    /// Sends SIGTERM and waits for the exit; returns the exit code.
    pub fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // Its stderr is closed now; wait for the reader to take its last lines.
                let read = self.logs_read.recv_timeout(PATIENCE);
                assert!(
                    read == Err(mpsc::RecvTimeoutError::Disconnected),
                    "the server's logs were not read within {PATIENCE:?}"
                );
                let logs = self.logs.lock().unwrap().clone();
                return (status.code(), logs);
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process with SIGKILL, as a crash or power cut would.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where Japanese text breaks docs/GLOSSARY.md: a term it never uses, or 免責 and 限度額
/// outside 免責金額, 免責期間 and 支払限度額. Empty when it follows it.
pub fn glossary_breaches(ja: &str) -> Vec<String> {
    const BANNED: [&str; 9] = [
        "補償されません",
        "保険金額",
        "てん補限度額",
        "ウイルス",
        "毀損",
        "事故対応",
        "リスク簡易診断",
        "レポート",
        "あなた",
    ];
    let mut breaches: Vec<String> = BANNED
        .iter()
        .filter(|b| ja.contains(*b))
        .map(|b| format!("{b:?}"))
        .collect();
    let without = |allowed: &[&str]| allowed.iter().fold(ja.to_string(), |t, a| t.replace(a, ""));
    if without(&["免責金額", "免責期間"]).contains("免責") {
        breaches.push("免責 alone".into());
    }
    if without(&["支払限度額"]).contains("限度額") {
        breaches.push("限度額 alone".into());
    }
    breaches
}
