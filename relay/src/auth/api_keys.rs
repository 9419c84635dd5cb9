//! Static per-agent API keys, from a file that holds only their SHA-256 hashes.
//!
//! The file has one agent key per line, `AGENT_ID sha256:HEX`; `#` starts a comment. An agent
//! may have several lines (to rotate without downtime: add the new key, hand it out, remove the
//! old line). Keys are random (`safeconv-relay new-agent-key`), so a plain SHA-256 is the right
//! hash: there is nothing to brute-force. The file is read again when it changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

use base64::Engine;

use crate::keys;

/// The prefix of keys made by `safeconv-relay new-agent-key`.
pub const KEY_PREFIX: &str = "scr_";
/// The shortest key accepted (hashing a short password would make it guessable).
pub const MIN_KEY_LEN: usize = 24;

/// A fresh agent key: `scr_` and 32 random bytes, base64url.
///
/// ```
/// let key = safeconv_relay::auth::new_agent_key();
/// assert!(key.starts_with("scr_"));
/// assert!(safeconv_relay::auth::hash_agent_key(&key).unwrap().starts_with("sha256:"));
/// ```
pub fn new_agent_key() -> String {
    let random = keys::random_bytes(32);
    format!(
        "{KEY_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    )
}

/// The line's hash for `key`: `sha256:HEX`. Refuses keys too short to be safe.
pub fn hash_agent_key(key: &str) -> Result<String, String> {
    let key = key.trim();
    if key.len() < MIN_KEY_LEN {
        return Err(format!(
            "an agent key must be at least {MIN_KEY_LEN} characters (use `safeconv-relay new-agent-key`)"
        ));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("an agent key cannot contain spaces or control characters".to_owned());
    }
    Ok(format!("sha256:{}", keys::sha256_hex(key.as_bytes())))
}

/// Whether `id` is a usable agent id: 1–128 of `A-Z a-z 0-9 . _ @ : -`.
pub fn valid_agent_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | ':' | '-'))
}

/// Parses the key file's text into `hash → agent id`.
pub(crate) fn parse(text: &str) -> Result<HashMap<String, String>, String> {
    let mut by_hash = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(agent), Some(hash), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(format!("line {}: expected `AGENT_ID sha256:HEX`", n + 1));
        };
        if !valid_agent_id(agent) {
            return Err(format!(
                "line {}: the agent id must be 1-128 of A-Z a-z 0-9 . _ @ : -",
                n + 1
            ));
        }
        let Some(hex) = hash.strip_prefix("sha256:") else {
            return Err(format!(
                "line {}: the hash must be `sha256:` and 64 hex digits (never the key itself)",
                n + 1
            ));
        };
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("line {}: the hash must be 64 hex digits", n + 1));
        }
        if let Some(other) = by_hash.insert(hex.to_ascii_lowercase(), agent.to_owned())
            && other != agent
        {
            return Err(format!(
                "line {}: this key is also given to agent {other}",
                n + 1
            ));
        }
    }
    Ok(by_hash)
}

/// The agent keys, re-read when the file's modification time changes.
#[derive(Debug)]
pub struct AgentKeys {
    path: PathBuf,
    state: RwLock<Loaded>,
}

#[derive(Debug)]
struct Loaded {
    by_hash: HashMap<String, String>,
    modified: Option<SystemTime>,
}

impl AgentKeys {
    /// Reads the key file.
    pub fn load(path: &Path) -> Result<AgentKeys, String> {
        let (by_hash, modified) = read(path)?;
        Ok(AgentKeys {
            path: path.to_owned(),
            state: RwLock::new(Loaded { by_hash, modified }),
        })
    }

    /// How many keys are loaded.
    pub fn len(&self) -> usize {
        self.read_state().by_hash.len()
    }

    /// Whether no key is loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The agent whose key this is.
    pub fn agent_for(&self, key: &str) -> Option<String> {
        let hash = keys::sha256_hex(key.as_bytes());
        self.read_state().by_hash.get(&hash).cloned()
    }

    /// Whether some agent's key hashes like `value` (used to refuse a Signicat secret as a key).
    pub fn contains_key(&self, value: &str) -> bool {
        self.agent_for(value).is_some()
    }

    /// Reads the file again if it changed; keeps the old keys if the new file is bad.
    pub fn reload_if_changed(&self) {
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        if modified == self.read_state().modified {
            return;
        }
        match read(&self.path) {
            Ok((by_hash, modified)) => {
                let count = by_hash.len();
                *self.state.write().unwrap_or_else(|p| p.into_inner()) =
                    Loaded { by_hash, modified };
                tracing::info!(path = %self.path.display(), keys = count, "agent keys reloaded");
            }
            Err(e) => {
                tracing::error!(path = %self.path.display(), error = %e, "agent key file not reloaded; keeping the previous keys");
            }
        }
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, Loaded> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }
}

fn read(path: &Path) -> Result<(HashMap<String, String>, Option<SystemTime>), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the agent key file {}: {e}", path.display()))?;
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let by_hash = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((by_hash, modified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_comments_and_rotation() {
        let a = new_agent_key();
        let b = new_agent_key();
        let text = format!(
            "# agents\nalice {}\nalice {} # new key\n\nbob@example {}\n",
            hash_agent_key(&a).unwrap(),
            hash_agent_key(&b).unwrap(),
            hash_agent_key("a-much-longer-key-for-bob-0001").unwrap()
        );
        let parsed = parse(&text).unwrap();
        assert_eq!(parsed.len(), 3);
        assert_eq!(parsed[&keys::sha256_hex(a.as_bytes())], "alice".to_owned());
    }

    #[test]
    fn bad_lines_are_named() {
        assert!(parse("alice").unwrap_err().starts_with("line 1"));
        assert!(
            parse("alice scr_plaintextkeyinthefile")
                .unwrap_err()
                .contains("never the key")
        );
        assert!(parse("al ice sha256:00").unwrap_err().starts_with("line 1"));
        let hash = hash_agent_key("a-much-longer-key-for-bob-0001").unwrap();
        assert!(
            parse(&format!("a {hash}\nb {hash}"))
                .unwrap_err()
                .contains("agent a")
        );
    }

    #[test]
    fn short_keys_cannot_be_hashed() {
        assert!(hash_agent_key("password").is_err());
    }
}
