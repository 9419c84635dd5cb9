//! `safeconv-emulator`: run the Signicat API emulator as a standalone process.
//!
//! When it is ready it prints `SAFECONV_EMULATOR_URL=http://127.0.0.1:PORT` to stdout as its
//! last line (the only one without options; with `--tls` a `SAFECONV_EMULATOR_CA=PATH` line, and
//! with `--proxy` a `SAFECONV_PROXY_URL=http://127.0.0.1:PORT` line, come first), then serves
//! until SIGINT/SIGTERM (or until stdin closes, with `--exit-on-stdin-close`).

use std::io::Write;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use safeconv_emulator::{
    Behaviour, Emulator, EmulatorConfig, ServerCertificate, TestProxy, TestProxyConfig,
};

const USAGE: &str = "\
safeconv-emulator: a local emulator of Signicat's headless Authentication REST API
(Norwegian BankID Safe Conversation), for tests.

Usage: safeconv-emulator [OPTIONS]

Options:
  --port N                       TCP port on 127.0.0.1 (default 0: a free port)
  --token-lifetime SECS          access token lifetime (default 600)
  --min-session-lifetime SECS    smaller sessionLifetime values are raised to this (default 300)
  --default-session-lifetime SECS  sessionLifetime when none is given (default 1200)
  --approve-after-ms MS          default user behaviour: approve after MS (default 3000)
  --fault-rate R                 fault a share R (0..1) of API requests with random faults
  --seed N                       seed for random faults, ids and binding messages
  --client-id ID                 API client id (default safeconv-demo-client)
  --client-secret SECRET         API client secret (default safeconv-demo-secret)
  --account-id ID                account id (default a-spge-emulator)
  --tls                          serve HTTPS with a certificate from a test CA made at start-up
  --tls-certificate KIND         the certificate (implies --tls): loopback (valid for 127.0.0.1,
                                 ::1, localhost; the default), other-host (valid only for
                                 safeconv-emulator.invalid) or expired
  --ca-file PATH                 where to write the test CA (PEM); default: a temp file that is
                                 removed at exit
  --proxy                        also run a loopback HTTP proxy (CONNECT tunnels and forwarding,
                                 to loopback targets only)
  --proxy-port N                 its TCP port on 127.0.0.1 (default 0: a free port)
  --proxy-credentials USER:PASS  the proxy requires these (Basic), else answers 407
  --proxy-refuse-with STATUS     the proxy refuses every request with STATUS (e.g. 403, 502)
  --verbose                      log each request to stderr (NINs masked)
  --exit-on-stdin-close          exit when standard input is closed
  -h, --help                     show this help

When ready it prints to stdout, the URL line last:
  SAFECONV_EMULATOR_CA=PATH                   (only with --tls)
  SAFECONV_PROXY_URL=http://127.0.0.1:PORT    (only with --proxy; never with credentials)
  SAFECONV_EMULATOR_URL=http://127.0.0.1:PORT (https:// with --tls)
The proxy answers GET /proxy/counters and POST /proxy/reset itself.
Admin API (no auth): GET /emulator/health, GET /emulator/counters, POST /emulator/reset,
PUT /emulator/users/{nin}, POST|DELETE /emulator/faults, PUT /emulator/fault-rate,
GET /emulator/sessions/{id}, GET|PUT /emulator/config.
";

struct Options {
    config: EmulatorConfig,
    fault_rate: Option<f64>,
    exit_on_stdin_close: bool,
    /// `Some` with `--proxy` (or any `--proxy-…` flag).
    proxy: Option<TestProxyConfig>,
}

fn parse_value<T: FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: invalid value '{value}'"))
}

/// `Ok(None)` means `--help`.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        config: EmulatorConfig::default(),
        fault_rate: None,
        exit_on_stdin_close: false,
        proxy: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, mut inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = || inline.take().or_else(|| args.next());
        let config = &mut options.config;
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => config.port = parse_value(&flag, value())?,
            "--token-lifetime" => {
                config.token_lifetime = Duration::from_secs(parse_value(&flag, value())?)
            }
            "--min-session-lifetime" => {
                config.min_session_lifetime = Duration::from_secs(parse_value(&flag, value())?)
            }
            "--default-session-lifetime" => {
                config.default_session_lifetime = Duration::from_secs(parse_value(&flag, value())?)
            }
            "--approve-after-ms" => {
                config.default_behaviour = Behaviour::Approve {
                    after: Duration::from_millis(parse_value(&flag, value())?),
                }
            }
            "--fault-rate" => {
                let rate: f64 = parse_value(&flag, value())?;
                if !(0.0..=1.0).contains(&rate) {
                    return Err("--fault-rate must be between 0 and 1".to_owned());
                }
                options.fault_rate = Some(rate);
            }
            "--seed" => config.seed = parse_value(&flag, value())?,
            "--client-id" => config.client_id = parse_value(&flag, value())?,
            "--client-secret" => config.client_secret = parse_value(&flag, value())?,
            "--account-id" => config.account_id = parse_value(&flag, value())?,
            "--tls" => {
                config.tls.get_or_insert(ServerCertificate::Loopback);
            }
            "--tls-certificate" => {
                let value = value().ok_or_else(|| format!("{flag} needs a value"))?;
                config.tls = Some(value.parse().map_err(|e| format!("{flag}: {e}"))?);
            }
            "--ca-file" => config.ca_file = Some(parse_value(&flag, value())?),
            "--proxy" => {
                options.proxy.get_or_insert_with(Default::default);
            }
            "--proxy-port" => {
                options.proxy.get_or_insert_with(Default::default).port =
                    parse_value(&flag, value())?
            }
            "--proxy-credentials" => {
                let pair: String = parse_value(&flag, value())?;
                let (user, password) = pair
                    .split_once(':')
                    .filter(|(user, _)| !user.is_empty())
                    .ok_or_else(|| format!("{flag} takes USER:PASSWORD"))?;
                options
                    .proxy
                    .get_or_insert_with(Default::default)
                    .credentials = Some((user.to_owned(), password.to_owned()));
            }
            "--proxy-refuse-with" => {
                let status: u16 = parse_value(&flag, value())?;
                if !(400..=599).contains(&status) {
                    return Err(format!("{flag} takes an error status, 400 to 599"));
                }
                options
                    .proxy
                    .get_or_insert_with(Default::default)
                    .refuse_with = Some(status);
            }
            "--verbose" => config.log_requests = true,
            "--exit-on-stdin-close" => options.exit_on_stdin_close = true,
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
        if inline.is_some() {
            return Err(format!("{flag} takes no value"));
        }
    }
    if options.config.ca_file.is_some() && options.config.tls.is_none() {
        return Err("--ca-file needs --tls".to_owned());
    }
    let verbose = options.config.log_requests;
    if let Some(proxy) = &mut options.proxy {
        proxy.log_requests = verbose;
    }
    Ok(Some(options))
}

/// Resolves when SIGINT or SIGTERM arrives.
async fn termination_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Resolves when standard input reaches end of file (read on a plain thread, so that
/// shutting down never waits for a blocked read).
async fn stdin_closed() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("stdin-watch".to_owned())
        .spawn(move || {
            let mut buf = [0u8; 1024];
            let mut stdin = std::io::stdin().lock();
            loop {
                match std::io::Read::read(&mut stdin, &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            let _ = tx.send(());
        });
    if spawned.is_ok() {
        let _ = rx.await;
    } else {
        std::future::pending::<()>().await;
    }
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("safeconv-emulator: {message}");
            return ExitCode::from(2);
        }
    };
    let emulator = match Emulator::start_blocking(options.config) {
        Ok(emulator) => emulator,
        Err(e) => {
            eprintln!("safeconv-emulator: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(rate) = options.fault_rate {
        emulator.set_fault_rate(rate, Vec::new(), Vec::new());
    }
    let proxy = match options.proxy.map(TestProxy::start_blocking).transpose() {
        Ok(proxy) => proxy,
        Err(e) => {
            eprintln!("safeconv-emulator: cannot start the proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        // The URL line comes last: a harness that waits for it has every other line already.
        let mut stdout = std::io::stdout().lock();
        if let Some(ca_file) = emulator.ca_file() {
            let _ = writeln!(stdout, "SAFECONV_EMULATOR_CA={}", ca_file.display());
        }
        if let Some(proxy) = &proxy {
            let _ = writeln!(stdout, "SAFECONV_PROXY_URL={}", proxy.url());
        }
        let _ = writeln!(stdout, "SAFECONV_EMULATOR_URL={}", emulator.url());
        let _ = stdout.flush();
    }
    if emulator.config().log_requests {
        eprintln!("safeconv-emulator: listening on {}", emulator.url());
    }

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("safeconv-emulator: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let exit_on_stdin_close = options.exit_on_stdin_close;
    runtime.block_on(async move {
        tokio::select! {
            _ = termination_signal() => {}
            _ = stdin_closed(), if exit_on_stdin_close => {}
        }
        if let Some(proxy) = proxy {
            proxy.shutdown().await;
        }
        emulator.shutdown().await;
    });
    // Do not wait for the stdin thread: it may be blocked in read().
    std::process::exit(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_flags() {
        let options = parse_args(args(&[
            "--port",
            "8080",
            "--token-lifetime=5",
            "--approve-after-ms",
            "250",
            "--fault-rate",
            "0.5",
            "--seed",
            "9",
            "--verbose",
            "--exit-on-stdin-close",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(options.config.port, 8080);
        assert_eq!(options.config.token_lifetime, Duration::from_secs(5));
        assert_eq!(
            options.config.default_behaviour,
            Behaviour::Approve {
                after: Duration::from_millis(250)
            }
        );
        assert_eq!(options.fault_rate, Some(0.5));
        assert_eq!(options.config.seed, 9);
        assert!(options.config.log_requests && options.exit_on_stdin_close);
        assert!(parse_args(args(&["--help"])).unwrap().is_none());
        assert!(parse_args(args(&["--bogus"])).is_err());
        assert!(parse_args(args(&["--port"])).is_err());
        assert!(parse_args(args(&["--fault-rate", "2"])).is_err());
        assert!(parse_args(args(&["--verbose=1"])).is_err());
    }

    #[test]
    fn parses_tls_flags() {
        let options = parse_args(args(&["--tls"])).unwrap().unwrap();
        assert_eq!(options.config.tls, Some(ServerCertificate::Loopback));
        let options = parse_args(args(&[
            "--tls-certificate=expired",
            "--tls",
            "--ca-file",
            "/tmp/x.pem",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(options.config.tls, Some(ServerCertificate::Expired));
        assert_eq!(
            options.config.ca_file.as_deref(),
            Some(std::path::Path::new("/tmp/x.pem"))
        );
        assert!(parse_args(args(&["--tls-certificate", "valid"])).is_err());
        assert!(parse_args(args(&["--ca-file", "/tmp/x.pem"])).is_err());
        assert!(parse_args(args(&["--tls=1"])).is_err());
    }

    #[test]
    fn parses_proxy_flags() {
        assert!(parse_args(args(&[])).unwrap().unwrap().proxy.is_none());
        let proxy = parse_args(args(&["--proxy"])).unwrap().unwrap().proxy;
        assert_eq!(proxy, Some(TestProxyConfig::default()));
        let options = parse_args(args(&[
            "--proxy-credentials",
            "agent:pa:ss",
            "--proxy-port=3128",
            "--proxy-refuse-with",
            "502",
            "--verbose",
        ]))
        .unwrap()
        .unwrap();
        let proxy = options.proxy.unwrap();
        assert_eq!(
            proxy.credentials,
            Some(("agent".to_owned(), "pa:ss".to_owned()))
        );
        assert_eq!((proxy.port, proxy.refuse_with), (3128, Some(502)));
        assert!(proxy.log_requests);
        assert!(parse_args(args(&["--proxy-credentials", "nocolon"])).is_err());
        assert!(parse_args(args(&["--proxy-credentials", ":pass"])).is_err());
        assert!(parse_args(args(&["--proxy-refuse-with", "200"])).is_err());
    }
}
