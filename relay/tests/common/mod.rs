//! The test harness: the relay in-process (through the same settings code as the binary) in
//! front of the in-process emulator, with agent keys, an optional test JWKS server, and helpers
//! to call it, read its audit log and run the binary. Loopback only.
#![allow(dead_code)]

pub mod history;
pub mod postgres;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Client, Response, StatusCode};
use safeconv_emulator::{Behaviour, Emulator, EmulatorConfig};
use safeconv_relay::settings::{FileConfig, Settings};
use safeconv_relay::{Relay, Server};
use serde_json::{Value, json};

pub const AGENTS: [&str; 4] = ["alice", "bob", "carol", "dave"];
pub const ISSUER: &str = "https://idp.test/realms/call-centre";
pub const AUDIENCE: &str = "safeconv-relay";

/// A reqwest client that never uses a proxy (and has a TLS provider, see the emulator's tests).
pub fn http() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "safeconv-relay-test-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Valid fødselsnummer, all different: born 1 Jan 1980 + `n` days' worth of individual numbers.
pub fn nin(n: usize) -> String {
    let mut found = 0;
    for day in 1..=28u32 {
        for individual in 0..1000u32 {
            let candidate = format!("{day:02}0180{individual:03}");
            for k in 0..100u32 {
                let full = format!("{candidate}{k:02}");
                if safeconv::Nin::parse(&full).is_ok() {
                    if found == n {
                        return full;
                    }
                    found += 1;
                    break;
                }
            }
        }
    }
    panic!("not enough test numbers");
}

/// How to set the relay up.
#[derive(Clone)]
pub struct Options {
    pub per_nin: (u32, u64),
    pub per_agent: (u32, u64),
    pub on_active_session: Option<&'static str>,
    pub min_poll_interval_ms: u64,
    pub allowed_origins: Vec<String>,
    pub jwt: bool,
    pub max_body_bytes: Option<usize>,
    pub busy_timeout_ms: u64,
    pub request_timeout_secs: Option<u64>,
    /// The Signicat secret the relay uses (default: the emulator's).
    pub upstream_secret: Option<String>,
    pub emulator: EmulatorConfig,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            per_nin: (3, 900),
            per_agent: (30, 3600),
            on_active_session: None,
            min_poll_interval_ms: 300,
            allowed_origins: Vec::new(),
            jwt: false,
            max_body_bytes: None,
            busy_timeout_ms: 2000,
            request_timeout_secs: None,
            upstream_secret: None,
            emulator: EmulatorConfig {
                seed: 7,
                min_session_lifetime: Duration::from_secs(1),
                default_behaviour: Behaviour::NeverAnswer,
                ..Default::default()
            },
        }
    }
}

/// The relay and everything around it.
pub struct Harness {
    pub emulator: Emulator,
    pub relay: Relay,
    server: Option<Server>,
    pub url: String,
    pub keys: HashMap<&'static str, String>,
    pub jwks: Option<JwksServer>,
    pub http: Client,
    pub settings: Settings,
    pub dir: TempDir,
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Harness {
        Harness::configured(options, |_, _| {}).await
    }

    /// With the settings changed by `configure` before the relay starts.
    pub async fn configured(
        options: Options,
        configure: impl FnOnce(&Emulator, &mut Settings),
    ) -> Harness {
        let emulator = Emulator::start(options.emulator.clone())
            .await
            .expect("emulator");
        let dir = TempDir::new();
        let keys = write_agent_keys(&dir.0);
        let jwks = if options.jwt {
            Some(JwksServer::start().await)
        } else {
            None
        };
        let mut settings = settings_for(&dir.0, &emulator, &options, jwks.as_ref());
        if let Some(server) = postgres::shared_server() {
            // The same tests on PostgreSQL (scripts/test-relay.sh runs them so too).
            settings.file.database_url = Some(postgres::new_database(&server).await);
            let key = dir.0.join("audit.key");
            safeconv_relay::AuditKey::create(&key).unwrap();
            settings.file.audit_key_file = Some(key);
        }
        configure(&emulator, &mut settings);
        let relay = Relay::start(settings.relay_config().await.expect("relay config"))
            .await
            .expect("relay starts");
        let server = Server::bind(relay.clone(), "127.0.0.1:0".parse().unwrap(), None)
            .await
            .expect("relay listens");
        Harness {
            emulator,
            relay,
            url: server.url().to_owned(),
            server: Some(server),
            keys,
            jwks,
            http: http(),
            settings,
            dir,
        }
    }

    pub fn key(&self, agent: &str) -> &str {
        &self.keys[agent]
    }

    pub fn database_url(&self) -> String {
        self.settings.database_url()
    }

    pub fn database_path(&self) -> PathBuf {
        self.dir.0.join("relay.db")
    }

    /// `POST /auth/rest/sessions` with `body`, as `credential` (a bearer token).
    pub async fn create_as(&self, credential: &str, body: &Value) -> Response {
        self.http
            .post(format!(
                "{}/auth/rest/sessions?signicat-accountId=whatever",
                self.url
            ))
            .bearer_auth(credential)
            .json(body)
            .send()
            .await
            .expect("create answered")
    }

    /// A Safe Conversation create for `nin` by `agent`, as the SDK sends it.
    pub async fn create(&self, agent: &str, nin: &str) -> Response {
        self.create_as(self.key(agent), &sdk_body(nin)).await
    }

    /// A create that must succeed; returns the session JSON.
    pub async fn created(&self, agent: &str, nin: &str) -> Value {
        let response = self.create(agent, nin).await;
        assert_eq!(response.status(), StatusCode::OK, "create for {agent}");
        response.json().await.unwrap()
    }

    pub async fn get_as(&self, credential: &str, id: &str) -> Response {
        self.http
            .get(format!("{}/auth/rest/sessions/{id}", self.url))
            .bearer_auth(credential)
            .send()
            .await
            .expect("get answered")
    }

    pub async fn get(&self, agent: &str, id: &str) -> Response {
        self.get_as(self.key(agent), id).await
    }

    pub async fn cancel(&self, agent: &str, id: &str) -> Response {
        self.http
            .post(format!("{}/auth/rest/sessions/{id}/cancel", self.url))
            .bearer_auth(self.key(agent))
            .send()
            .await
            .expect("cancel answered")
    }

    /// The audit log as `audit export` prints it (through the binary).
    pub fn audit(&self) -> Vec<Value> {
        let out = self.run_on_database(&["audit", "export"]);
        assert!(
            out.status.success(),
            "audit export: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `safeconv-relay audit verify`: (exit code, stdout, stderr).
    pub fn verify(&self) -> (i32, String, String) {
        let out = self.run_on_database(&["audit", "verify"]);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn assert_chain_intact(&self) {
        let (code, stdout, stderr) = self.verify();
        assert_eq!(code, 0, "audit verify: {stdout} {stderr}");
        assert!(stdout.starts_with("audit log intact"), "{stdout}");
    }

    /// `safeconv-relay ARGS --database-url … --audit-key-file …` for this relay's database.
    pub fn run_on_database(&self, args: &[&str]) -> Output {
        let key = self.settings.audit_key_path().unwrap();
        let mut all = args.to_vec();
        let url = self.database_url();
        all.extend([
            "--database-url",
            &url,
            "--audit-key-file",
            key.to_str().unwrap(),
        ]);
        self.run(&all)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        std::process::Command::new(relay_binary())
            .args(args)
            .current_dir(&self.dir.0)
            .env_remove("SAFECONV_RELAY_CONFIG")
            .output()
            .expect("safeconv-relay runs")
    }

    /// Signs a JWT with the test identity provider.
    pub fn jwt(&self, kid: &str, claims: Value) -> String {
        self.jwks.as_ref().expect("jwt option").sign(kid, claims)
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// A key for each of [`AGENTS`], their hashes in `dir/agents.keys`.
pub fn write_agent_keys(dir: &Path) -> HashMap<&'static str, String> {
    let mut keys = HashMap::new();
    let mut key_file = String::from("# test agents\n");
    for agent in AGENTS {
        let key = safeconv_relay::auth::new_agent_key();
        key_file.push_str(&format!(
            "{agent} {}\n",
            safeconv_relay::auth::hash_agent_key(&key).unwrap()
        ));
        keys.insert(agent, key);
    }
    std::fs::write(dir.join("agents.keys"), key_file).unwrap();
    keys
}

/// Whether the emulator's session `id` is still running (created, or waiting for the caller:
/// the emulator moves it on by itself after a while).
pub fn running_at(emulator: &Emulator, id: &str) -> bool {
    let status = emulator.session(id).expect("the emulator has it").status;
    !safeconv::Status::from(status.as_str()).is_final()
}

/// Sends `creates` all at once (the race of a push-bombing attempt) and returns the ids of the
/// sessions made; every other answer must be the limit's `429` or the NIN's `409`.
pub async fn race_creates(creates: Vec<reqwest::RequestBuilder>) -> Vec<String> {
    let tasks: Vec<_> = creates
        .into_iter()
        .map(|request| {
            tokio::spawn(async move {
                let response = request.send().await.unwrap();
                let status = response.status();
                (status, response.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut created = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::OK => created.push(body["id"].as_str().unwrap().to_owned()),
            StatusCode::TOO_MANY_REQUESTS => assert_eq!(body["code"], "too_many_requests"),
            StatusCode::CONFLICT => assert_eq!(body["code"], "session_in_progress"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    created
}

/// Asserts that Signicat got no more creates than the per-NIN limit (3), one per session made,
/// and that exactly one of them is still running.
pub fn assert_one_running_of(emulator: &Emulator, created: &[String]) {
    let counters = emulator.counters();
    assert!(counters.create_requests <= 3, "{counters:?}");
    assert_eq!(counters.create_requests as usize, created.len());
    let running = created.iter().filter(|id| running_at(emulator, id)).count();
    assert_eq!(running, 1, "exactly one active session at Signicat");
}

/// The create body the SDK sends for a Safe Conversation.
pub fn sdk_body(nin: &str) -> Value {
    json!({
        "flow": "headless",
        "allowedProviders": ["nbid"],
        "requestedAttributes": ["name", "firstName", "lastName", "nin", "dateOfBirth"],
        "prefilledInput": {"nin": nin},
        "additionalParameters": {"nbid_auth_type": "PHONE"}
    })
}

pub fn relay_binary() -> &'static str {
    env!("CARGO_BIN_EXE_safeconv-relay")
}

pub fn settings_for(
    dir: &Path,
    emulator: &Emulator,
    options: &Options,
    jwks: Option<&JwksServer>,
) -> Settings {
    let mut file = FileConfig {
        database_url: Some(format!("sqlite://{}", dir.join("relay.db").display())),
        agent_keys: Some(dir.join("agents.keys")),
        allowed_origins: options.allowed_origins.clone(),
        instance: Some("test-relay".to_owned()),
        ..Default::default()
    };
    let config = emulator.config();
    file.upstream.base_url = Some(emulator.url());
    file.upstream.account_id = Some(config.account_id.clone());
    file.upstream.client_id = Some(config.client_id.clone());
    file.upstream.request_timeout_ms = Some(2_000);
    file.limits.per_nin = Some(options.per_nin.0);
    file.limits.per_nin_window_secs = Some(options.per_nin.1);
    file.limits.per_agent = Some(options.per_agent.0);
    file.limits.per_agent_window_secs = Some(options.per_agent.1);
    file.policy.min_poll_interval_ms = Some(options.min_poll_interval_ms);
    file.policy.on_active_session = options.on_active_session.map(|m| match m {
        "refuse" => safeconv_relay::store::OnActiveSession::Refuse,
        _ => safeconv_relay::store::OnActiveSession::Replace,
    });
    file.http.max_body_bytes = options.max_body_bytes;
    file.http.request_timeout_secs = options.request_timeout_secs;
    file.database.busy_timeout_ms = Some(options.busy_timeout_ms);
    if let Some(jwks) = jwks {
        file.jwt.jwks_url = Some(jwks.url());
        file.jwt.issuer = Some(ISSUER.to_owned());
        file.jwt.audience = Some(AUDIENCE.to_owned());
    }
    Settings {
        file,
        client_secret_env: Some(
            options
                .upstream_secret
                .clone()
                .unwrap_or_else(|| config.client_secret.clone())
                .into(),
        ),
    }
}

/// A test identity provider: RSA, P-256 and Ed25519 signing keys and a JWKS endpoint on
/// loopback that counts its fetches.
pub struct JwksServer {
    url: String,
    pub keys: Arc<Mutex<Vec<Value>>>,
    pub fetches: Arc<AtomicU64>,
    signers: HashMap<String, (Algorithm, EncodingKey)>,
    /// The RSA public key, DER (for the HMAC-with-the-public-key forgery).
    pub rsa_public_der: Vec<u8>,
    _server: tokio::task::JoinHandle<()>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl JwksServer {
    pub async fn start() -> JwksServer {
        use ring::rand::SystemRandom;
        use ring::signature::{self, KeyPair};
        use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
        use rsa::traits::PublicKeyParts;

        let rng = SystemRandom::new();
        let mut signers = HashMap::new();
        let mut jwks = Vec::new();

        let rsa_key = test_rsa_key();
        let public = rsa_key.to_public_key();
        jwks.push(json!({
            "kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
            "n": b64(&public.n().to_be_bytes()), "e": b64(&public.e().to_be_bytes()),
        }));
        let rsa_public_der = public.to_pkcs1_der().unwrap().as_bytes().to_vec();
        signers.insert(
            "rsa-1".to_owned(),
            (
                Algorithm::RS256,
                EncodingKey::from_rsa_der(rsa_key.to_pkcs1_der().unwrap().as_bytes()),
            ),
        );

        let ec = signature::EcdsaKeyPair::generate_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .unwrap();
        let ec_pair = signature::EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            ec.as_ref(),
            &rng,
        )
        .unwrap();
        let point = ec_pair.public_key().as_ref();
        jwks.push(json!({
            "kty": "EC", "kid": "ec-1", "crv": "P-256", "use": "sig",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        }));
        signers.insert(
            "ec-1".to_owned(),
            (Algorithm::ES256, EncodingKey::from_ec_der(ec.as_ref())),
        );

        let ed = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let ed_pair = signature::Ed25519KeyPair::from_pkcs8(ed.as_ref()).unwrap();
        jwks.push(json!({
            "kty": "OKP", "kid": "ed-1", "crv": "Ed25519", "use": "sig",
            "x": b64(ed_pair.public_key().as_ref()),
        }));
        signers.insert(
            "ed-1".to_owned(),
            (Algorithm::EdDSA, EncodingKey::from_ed_der(ed.as_ref())),
        );

        // A key the relay never learns: "wrong key" and "unknown kid" tokens use it.
        let stranger = signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        signers.insert(
            "stranger".to_owned(),
            (
                Algorithm::EdDSA,
                EncodingKey::from_ed_der(stranger.as_ref()),
            ),
        );

        let keys = Arc::new(Mutex::new(jwks));
        let fetches = Arc::new(AtomicU64::new(0));
        let app = {
            let keys = keys.clone();
            let fetches = fetches.clone();
            Router::new().route(
                "/jwks",
                get(move || {
                    let keys = keys.clone();
                    let fetches = fetches.clone();
                    async move {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        let keys = keys.lock().unwrap().clone();
                        axum::Json(json!({ "keys": keys }))
                    }
                }),
            )
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        JwksServer {
            url,
            keys,
            fetches,
            signers,
            rsa_public_der,
            _server: server,
        }
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Signs `claims` with the key `signer`, naming `kid` in the header (usually the same).
    pub fn sign_as(&self, signer: &str, kid: &str, claims: Value) -> String {
        let (alg, key) = &self.signers[signer];
        let mut header = Header::new(*alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &claims, key).unwrap()
    }

    /// Signs with `signer` and no `kid` in the header.
    pub fn sign_without_kid(&self, signer: &str, claims: Value) -> String {
        let (alg, key) = &self.signers[signer];
        jsonwebtoken::encode(&Header::new(*alg), &claims, key).unwrap()
    }

    pub fn sign(&self, kid: &str, claims: Value) -> String {
        self.sign_as(kid, kid, claims)
    }
}

/// Claims of a valid agent token for `agent`.
pub fn claims(agent: &str) -> Value {
    let now = now_secs();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": agent, "iat": now, "nbf": now - 5, "exp": now + 300})
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// One RSA key per test process (generating one takes a while in a debug build).
fn test_rsa_key() -> rsa::PrivateKey {
    use rsa::Generate;
    static KEY: std::sync::OnceLock<rsa::PrivateKey> = std::sync::OnceLock::new();
    KEY.get_or_init(rsa::PrivateKey::generate).clone()
}

/// Waits until `check` holds (polling every 50 ms, at most `limit`).
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

/// The relay binary, started on a random port; reads its one stdout line, and collects
/// anything else it writes to stdout (there must be nothing) and its log lines (stderr).
pub struct RelayProcess {
    child: Child,
    pub url: String,
    rest: Option<std::thread::JoinHandle<String>>,
    logs: Arc<Mutex<Vec<String>>>,
}

impl RelayProcess {
    /// On the SQLite file `relay.db` in `dir`.
    pub fn start(dir: &Path, emulator: &Emulator) -> RelayProcess {
        let database_url = format!("sqlite://{}", dir.join("relay.db").display());
        RelayProcess::start_on(dir, emulator, &database_url)
    }

    pub fn start_on(dir: &Path, emulator: &Emulator, database_url: &str) -> RelayProcess {
        RelayProcess::spawn(dir, emulator, &["--database-url", database_url], &[])
            .unwrap_or_else(|e| panic!("safeconv-relay did not start: {e}"))
    }

    /// With `args` after `--listen 127.0.0.1:0 --agent-keys DIR/agents.keys`, the emulator's
    /// Signicat settings in the environment, and `env` on top; the exit code and log if it
    /// stops before it listens.
    pub fn spawn(
        dir: &Path,
        emulator: &Emulator,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<RelayProcess, String> {
        let config = emulator.config();
        let mut command = Command::new(relay_binary());
        command
            .args(["--listen", "127.0.0.1:0", "--agent-keys"])
            .arg(dir.join("agents.keys"))
            .args(args)
            .current_dir(dir)
            .env("SAFECONV_BASE_URL", emulator.url())
            .env("SAFECONV_ACCOUNT_ID", &config.account_id)
            .env("SAFECONV_CLIENT_ID", &config.client_id)
            .env("SAFECONV_CLIENT_SECRET", &config.client_secret)
            .env_remove("SAFECONV_RELAY_CONFIG")
            .env_remove("SAFECONV_RELAY_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("safeconv-relay runs");
        // Drain stderr (the JSON logs) so the relay never blocks on a full pipe.
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).expect("stdout readable");
        let Some(url) = first.trim_end().strip_prefix("SAFECONV_RELAY_URL=") else {
            let status = child.wait().unwrap();
            std::thread::sleep(Duration::from_millis(100));
            let logs = logs.lock().unwrap().join("\n");
            return Err(format!("{status}, first line {first:?}, stderr:\n{logs}"));
        };
        let url = url.to_owned();
        assert!(url.starts_with("http://127.0.0.1:"));
        let rest = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = std::io::Read::read_to_string(&mut reader, &mut rest);
            rest
        });
        Ok(RelayProcess {
            child,
            url,
            rest: Some(rest),
            logs,
        })
    }

    /// Its log lines (stderr) so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// SIGTERM; the exit code once it stopped.
    pub fn terminate(mut self) -> Option<i32> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let code = self.child.wait().unwrap().code();
        assert_eq!(self.stdout_rest(), "");
        code
    }

    /// SIGKILL; returns what it wrote to stdout after the first line.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.stdout_rest()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stdout_rest(&mut self) -> String {
        self.rest
            .take()
            .map(|t| t.join().unwrap())
            .unwrap_or_default()
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        // A test that failed midway must not leave its relays running.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
