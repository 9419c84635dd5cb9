//! What the user sees: a human display (binding message, status changes, a spinner while
//! waiting, the verified identity) or one JSON object per line.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use safeconv::{Error, Outcome, Session, Status, Subject};
use serde_json::{Value, json};

/// Prints events for one command.
#[derive(Clone)]
pub struct Reporter {
    json: bool,
    spinner: Option<Arc<Mutex<String>>>,
}

impl Reporter {
    pub fn new(json: bool) -> Self {
        Reporter {
            json,
            spinner: None,
        }
    }

    pub fn created(&self, session: &Session) {
        if self.json {
            emit(json!({
                "event": "created",
                "sessionId": session.id,
                "bindingMessage": session.binding_message(),
                "expiresAt": session.expires_at.map(|t| t.to_string()),
            }));
            return;
        }
        let words = session.binding_message().unwrap_or("(none)");
        let width = words.chars().count() + 4;
        let bold = |text: &str| styled(text, "1");
        println!();
        println!("  Read this to the caller and ask them to confirm it in the BankID app:");
        println!();
        println!("    ╔{}╗", "═".repeat(width));
        println!("    ║  {}  ║", bold(words));
        println!("    ╚{}╝", "═".repeat(width));
        println!();
        println!("  session {}", session.id);
        if let Some(expires_at) = session.expires_at {
            println!("  expires {expires_at}");
        }
        println!();
    }

    pub fn status(&self, session: &Session) {
        if self.json {
            emit(json!({"event": "status", "status": session.status.as_str()}));
            return;
        }
        if let Some(text) = &self.spinner {
            *text.lock().unwrap_or_else(|p| p.into_inner()) = describe(&session.status).to_owned();
        }
        clear_spinner_line();
        println!("  · {} — {}", session.status, describe(&session.status));
    }

    pub fn outcome(&self, outcome: &Outcome) {
        let (subject, error) = match outcome {
            Outcome::Success(subject) => (Some(subject.as_ref()), None),
            Outcome::Failed { error, .. } => (None, error.as_ref()),
            _ => (None, None),
        };
        if self.json {
            emit(json!({
                "event": "final",
                "status": outcome.status().as_str(),
                "subject": subject.map(|s| serde_json::to_value(s).unwrap_or(Value::Null)),
                "error": error.map(|e| serde_json::to_value(e).unwrap_or(Value::Null)),
            }));
            return;
        }
        clear_spinner_line();
        println!();
        match outcome {
            Outcome::Success(subject) => print_identity(subject),
            Outcome::Aborted => println!(
                "  {} The caller declined in the BankID app.",
                styled("✘", "31")
            ),
            Outcome::Cancelled => println!("  {} The session was cancelled.", styled("✘", "31")),
            Outcome::Expired => {
                println!("  {} The caller did not answer in time.", styled("✘", "31"))
            }
            Outcome::Failed { status, error } => {
                let code = error
                    .as_ref()
                    .and_then(|e| e.code.as_deref())
                    .unwrap_or("no code");
                println!(
                    "  {} The authentication failed ({status}: {code}).",
                    styled("✘", "31")
                );
                if let Some(detail) = error.as_ref().and_then(|e| e.detail.as_deref()) {
                    println!("    {detail}");
                }
            }
            other => println!("  Ended as {}.", other.status()),
        }
    }

    /// A session read by `status` or `cancel`.
    pub fn session(&self, session: &Session) {
        if self.json {
            let outcome = session.outcome();
            emit(json!({
                "sessionId": session.id,
                "status": session.status.as_str(),
                "bindingMessage": session.binding_message(),
                "expiresAt": session.expires_at.map(|t| t.to_string()),
                "subject": session.subject.as_ref().map(|s| serde_json::to_value(s).unwrap_or(Value::Null)),
                "error": session.error.as_ref().map(|e| serde_json::to_value(e).unwrap_or(Value::Null)),
                "final": outcome.is_some(),
            }));
            return;
        }
        println!(
            "session {}: {} — {}",
            session.id,
            session.status,
            describe(&session.status)
        );
        if let Some(words) = session.binding_message() {
            println!("  binding message: {words}");
        }
        if let Some(expires_at) = session.expires_at {
            println!("  expires {expires_at}");
        }
        if let Some(subject) = &session.subject {
            print_identity(subject);
        }
        if let Some(code) = session.error.as_ref().and_then(|e| e.code.as_deref()) {
            println!("  error code: {code}");
        }
    }

    /// Errors go to stderr; with `--json` also to stdout as an `error` event.
    pub fn error(&self, error: &Error) {
        clear_spinner_line();
        eprintln!("safeconv: {error}");
        if self.json {
            let report = error.report();
            let mut event = json!({
                "event": "error",
                "kind": report.kind.code(),
                "message": report.message,
                "transient": report.transient,
            });
            let details = [
                ("field", report.field.map(Value::from)),
                ("code", report.code.map(Value::from)),
                ("httpStatus", report.http_status.map(Value::from)),
                ("traceId", report.trace_id.map(Value::from)),
                (
                    "retryAfterMs",
                    report
                        .retry_after
                        .map(|d| Value::from(d.as_millis() as u64)),
                ),
            ];
            for (name, value) in details {
                if let Some(value) = value {
                    event[name] = value;
                }
            }
            emit(event);
        }
    }

    /// Shows a spinner on stderr (when it is a terminal) until the returned guard is dropped.
    pub fn start_spinner(&mut self) -> Option<SpinnerGuard> {
        if self.json || !std::io::stderr().is_terminal() {
            return None;
        }
        let text = Arc::new(Mutex::new("waiting for the caller".to_owned()));
        self.spinner = Some(text.clone());
        let task = tokio::spawn(async move {
            const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
            for frame in FRAMES.iter().cycle() {
                let line = text.lock().unwrap_or_else(|p| p.into_inner()).clone();
                eprint!("\r\x1b[2K  {frame} {line}…");
                let _ = std::io::stderr().flush();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Some(SpinnerGuard(task))
    }
}

pub struct SpinnerGuard(tokio::task::JoinHandle<()>);

impl Drop for SpinnerGuard {
    fn drop(&mut self) {
        self.0.abort();
        clear_spinner_line();
    }
}

fn clear_spinner_line() {
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
}

fn print_identity(subject: &Subject) {
    let name = subject.name.clone().unwrap_or_else(|| {
        [subject.first_name.as_deref(), subject.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    });
    println!("  {} Verified: {}", styled("✔", "32"), styled(&name, "1"));
    if let Some(dob) = &subject.date_of_birth {
        println!("    date of birth  {dob}");
    }
    if let Some(nin) = &subject.nin {
        println!(
            "    national id    {} ({})",
            nin.masked(),
            nin.issuing_country.as_deref().unwrap_or("?")
        );
    }
    if let Some(idp_id) = &subject.idp_id {
        println!("    BankID PID     {idp_id}");
    }
}

fn describe(status: &Status) -> &'static str {
    match status {
        Status::Created => "BankID is sending the request to the caller's phone",
        Status::WaitingForUser => "waiting for the caller to confirm in the BankID app",
        Status::Success => "the caller is verified",
        Status::Abort => "the caller declined",
        Status::Cancelled => "cancelled",
        Status::Expired => "expired",
        Status::Error | Status::Invalid => "failed",
        Status::Unknown(_) => "a status this version does not know",
    }
}

fn emit(value: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{value}");
    let _ = out.flush();
}

fn styled(text: &str, sgr: &str) -> String {
    if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}
