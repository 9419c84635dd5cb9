//! The audit log: an append-only hash chain of what agents did and what the relay answered.
//!
//! Each record carries the previous record's hash and its own, an HMAC-SHA-256 under the relay's
//! audit key over every field. Editing or deleting a record breaks the chain at that record, and
//! someone with write access to the database but not the key cannot forge a consistent chain.
//! NINs appear only as a keyed hash (so one person's sessions can be correlated without storing
//! the number, and the small NIN space cannot be brute-forced without the key) and masked.

use std::fmt;
use std::io;
use std::path::Path;

use ring::hmac;
use safeconv::{Nin, Timestamp};
use serde::Serialize;

use crate::keys;

/// The `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The shortest audit key accepted, in bytes.
pub const MIN_AUDIT_KEY_BYTES: usize = 32;

/// The relay's audit key: hashes NINs and seals audit records. All instances of one deployment
/// share it (the same key file). `Debug` shows only its id.
///
/// ```
/// let key = safeconv_relay::AuditKey::from_bytes(&[7; 32]).unwrap();
/// let nin = safeconv::Nin::parse("01018010018").unwrap();
/// let tag = key.nin_tag(&nin);
/// assert_eq!(tag.masked, "010180*****");
/// assert_eq!(tag.hash.len(), 64);
/// ```
#[derive(Clone)]
pub struct AuditKey {
    key: hmac::Key,
    id: String,
}

/// A NIN as the relay keeps it: its keyed hash and its masked form, never the number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NinTag {
    /// HMAC-SHA-256 of the number under the audit key, hex.
    pub hash: String,
    /// `DDMMYY*****`.
    pub masked: String,
}

impl AuditKey {
    /// A key from raw bytes (at least 32).
    pub fn from_bytes(bytes: &[u8]) -> Result<AuditKey, String> {
        if bytes.len() < MIN_AUDIT_KEY_BYTES {
            return Err(format!(
                "the audit key must be at least {MIN_AUDIT_KEY_BYTES} bytes, it has {}",
                bytes.len()
            ));
        }
        Ok(AuditKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, bytes),
            // Names the key in each record without revealing it.
            id: keys::sha256_hex(&[b"safeconv-relay audit key id:", bytes].concat())[..16]
                .to_owned(),
        })
    }

    /// Reads the key file (its content, surrounding whitespace trimmed, is the key).
    pub fn read(path: &Path) -> io::Result<AuditKey> {
        let content = std::fs::read(path)?;
        let trimmed = content.trim_ascii();
        AuditKey::from_bytes(trimmed).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        })
    }

    /// Reads the key file, or creates it (as [`AuditKey::create`]) if it is missing.
    pub fn read_or_create(path: &Path) -> io::Result<AuditKey> {
        match std::fs::metadata(path) {
            Ok(_) => AuditKey::read(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let key = AuditKey::create(path)?;
                tracing::warn!(path = %path.display(), "created a new audit key file; back it up: without it the audit log cannot be verified");
                Ok(key)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes a new key file (mode 0600, 32 random bytes as hex); fails if `path` exists.
    pub fn create(path: &Path) -> io::Result<AuditKey> {
        let key = keys::random_hex(32);
        write_private(path, key.as_bytes())?;
        AuditKey::from_bytes(key.as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// A short public id of the key, stored in each record (`key_id`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The keyed hash and masked form of a NIN.
    pub fn nin_tag(&self, nin: &Nin) -> NinTag {
        NinTag {
            hash: keys::hmac_hex(&self.key, format!("nin:{}", nin.expose()).as_bytes()),
            masked: nin.masked(),
        }
    }

    /// The hash that seals `record` (every field but `hash` itself).
    pub(crate) fn seal(&self, record: &AuditRecord) -> String {
        keys::hmac_hex(&self.key, &record.canonical())
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditKey").field("id", &self.id).finish()
    }
}

/// Writes a new file only its owner can read; fails if it exists.
fn write_private(path: &Path, content: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(content)?;
    file.sync_all()
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A create is about to be sent to Signicat (written before it is sent).
    Create,
    /// Signicat created the session.
    Created,
    /// The create failed; `reason` says how, and whether Signicat may have acted on it.
    CreateFailed,
    /// A session was cancelled: by its agent, or (reason `replaced`) for a new one for the NIN.
    Cancel,
    /// The relay saw a session's final status.
    Outcome,
    /// The relay refused a request; `reason` says why.
    Refused,
    /// A create that was under way when the relay stopped; whether Signicat acted is unknown.
    Interrupted,
}

impl Action {
    /// The stored name, e.g. `create_failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Created => "created",
            Action::CreateFailed => "create_failed",
            Action::Cancel => "cancel",
            Action::Outcome => "outcome",
            Action::Refused => "refused",
            Action::Interrupted => "interrupted",
        }
    }
}

/// An event to append; the store adds the sequence number and the chain.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    /// When, in Unix milliseconds (UTC).
    pub at_ms: i64,
    /// What happened.
    pub action: Action,
    /// Who asked.
    pub agent_id: Option<String>,
    /// From where.
    pub client_addr: Option<String>,
    /// Signicat's session id, once known.
    pub session_id: Option<String>,
    /// Whose NIN.
    pub nin: Option<NinTag>,
    /// The session's status, or the HTTP status of a refusal.
    pub status: Option<String>,
    /// Why (a refusal's reason, an error's code).
    pub reason: Option<String>,
}

impl AuditEvent {
    /// An event of `action` now, with nothing else filled in.
    pub fn new(action: Action) -> Self {
        AuditEvent {
            at_ms: now_ms(),
            action,
            agent_id: None,
            client_addr: None,
            session_id: None,
            nin: None,
            status: None,
            reason: None,
        }
    }
}

/// One stored record, as `audit export` prints it (one JSON object per line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// 1, 2, 3, … with no gaps.
    pub seq: i64,
    /// RFC 3339, UTC, milliseconds.
    pub at: String,
    /// Unix milliseconds (what `at` shows).
    #[serde(skip)]
    pub at_ms: i64,
    /// The relay instance that wrote it.
    pub instance: String,
    /// `create`, `created`, `create_failed`, `cancel`, `outcome`, `refused`, `interrupted`.
    pub action: String,
    /// The agent.
    pub agent_id: Option<String>,
    /// The agent's address.
    pub client_addr: Option<String>,
    /// Signicat's session id.
    pub session_id: Option<String>,
    /// HMAC-SHA-256 of the NIN under the audit key.
    pub nin_hash: Option<String>,
    /// The NIN masked, `DDMMYY*****`.
    pub nin_masked: Option<String>,
    /// Session status, or the HTTP status of a refusal.
    pub status: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Which audit key sealed it.
    pub key_id: String,
    /// The previous record's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// This record's hash.
    pub hash: String,
}

impl AuditRecord {
    /// Builds and seals the record that follows `(prev_seq, prev_hash)`.
    pub(crate) fn seal(
        key: &AuditKey,
        instance: &str,
        prev_seq: i64,
        prev_hash: &str,
        event: &AuditEvent,
    ) -> AuditRecord {
        let mut record = AuditRecord {
            seq: prev_seq + 1,
            at: format_ms(event.at_ms),
            at_ms: event.at_ms,
            instance: instance.to_owned(),
            action: event.action.as_str().to_owned(),
            agent_id: event.agent_id.clone(),
            client_addr: event.client_addr.clone(),
            session_id: event.session_id.clone(),
            nin_hash: event.nin.as_ref().map(|n| n.hash.clone()),
            nin_masked: event.nin.as_ref().map(|n| n.masked.clone()),
            status: event.status.clone(),
            reason: event.reason.clone(),
            key_id: key.id().to_owned(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        record.hash = key.seal(&record);
        record
    }

    /// The bytes the hash covers: every field but `hash`, in a fixed order, as a JSON array.
    fn canonical(&self) -> Vec<u8> {
        serde_json::to_vec(&(
            self.seq,
            self.at_ms,
            &self.instance,
            &self.action,
            &self.agent_id,
            &self.client_addr,
            &self.session_id,
            &self.nin_hash,
            &self.nin_masked,
            &self.status,
            &self.reason,
            &self.key_id,
            &self.prev_hash,
        ))
        .unwrap_or_default()
    }
}

/// The first record that does not verify, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainBreak {
    /// The sequence number of the first bad (or missing) record.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "record {}: {}", self.seq, self.reason)
    }
}

/// Checks records in order, page by page; [`ChainVerifier::finish`] compares the end of the
/// chain with the head the store keeps (so that deleting the newest records is seen too).
pub struct ChainVerifier<'a> {
    keys: &'a [AuditKey],
    next_seq: i64,
    prev_hash: String,
    checked: u64,
}

impl<'a> ChainVerifier<'a> {
    /// Verifies with these keys (the current one, and earlier ones after a rotation).
    pub fn new(keys: &'a [AuditKey]) -> Self {
        ChainVerifier {
            keys,
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            checked: 0,
        }
    }

    /// Checks the next record.
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        let fail = |seq, reason: String| Err(ChainBreak { seq, reason });
        if record.seq != self.next_seq {
            return fail(
                self.next_seq,
                format!(
                    "missing (the next record found is {}): records were deleted",
                    record.seq
                ),
            );
        }
        if record.prev_hash != self.prev_hash {
            return fail(
                record.seq,
                "does not link to the record before it (a record was changed, removed or inserted)"
                    .to_owned(),
            );
        }
        let Some(key) = self.keys.iter().find(|k| k.id() == record.key_id) else {
            return fail(
                record.seq,
                format!(
                    "sealed with audit key {} which was not given",
                    record.key_id
                ),
            );
        };
        if !keys::constant_time_eq(&key.seal(record), &record.hash) {
            return fail(
                record.seq,
                "its content does not match its hash (the record was edited)".to_owned(),
            );
        }
        self.next_seq += 1;
        self.prev_hash = record.hash.clone();
        self.checked += 1;
        Ok(())
    }

    /// Compares the last record checked with the store's head `(seq, hash)`; returns how many
    /// records were checked.
    pub fn finish(self, head: Option<(i64, String)>) -> Result<u64, ChainBreak> {
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS_HASH.to_owned()));
        if head_seq != self.next_seq - 1 || head_hash != self.prev_hash {
            return Err(ChainBreak {
                seq: self.next_seq,
                reason: format!(
                    "missing: the log ends at record {} but its head says {}",
                    self.next_seq - 1,
                    head_seq
                ),
            });
        }
        Ok(self.checked)
    }
}

/// Now, in Unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// RFC 3339 in UTC.
pub(crate) fn format_ms(ms: i64) -> String {
    Timestamp::from_unix_millis(ms).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(key: &AuditKey, n: i64) -> Vec<AuditRecord> {
        let mut records: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let (seq, hash) = records
                .last()
                .map(|r| (r.seq, r.hash.clone()))
                .unwrap_or((0, GENESIS_HASH.to_owned()));
            let mut event = AuditEvent::new(Action::Refused);
            event.at_ms = 1_700_000_000_000 + i;
            event.reason = Some(format!("r{i}"));
            records.push(AuditRecord::seal(key, "test", seq, &hash, &event));
        }
        records
    }

    fn verify(keys: &[AuditKey], records: &[AuditRecord]) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::new(keys);
        for r in records {
            v.check(r)?;
        }
        let head = records.last().map(|r| (r.seq, r.hash.clone()));
        v.finish(head)
    }

    #[test]
    fn an_intact_chain_verifies_and_any_edit_is_named() {
        let key = AuditKey::from_bytes(&[1; 32]).unwrap();
        let records = chain(&key, 5);
        assert_eq!(verify(std::slice::from_ref(&key), &records), Ok(5));

        let mut edited = records.clone();
        edited[2].reason = Some("other".into());
        assert_eq!(
            verify(std::slice::from_ref(&key), &edited).unwrap_err().seq,
            3
        );

        let mut removed = records.clone();
        removed.remove(1);
        assert_eq!(
            verify(std::slice::from_ref(&key), &removed)
                .unwrap_err()
                .seq,
            2
        );

        let other = AuditKey::from_bytes(&[2; 32]).unwrap();
        assert!(verify(&[other], &records).is_err());
    }

    #[test]
    fn a_truncated_tail_is_seen_through_the_head() {
        let key = AuditKey::from_bytes(&[1; 32]).unwrap();
        let records = chain(&key, 3);
        let mut v = ChainVerifier::new(std::slice::from_ref(&key));
        v.check(&records[0]).unwrap();
        v.check(&records[1]).unwrap();
        let err = v.finish(Some((3, records[2].hash.clone()))).unwrap_err();
        assert_eq!(err.seq, 3);
    }

    #[test]
    fn short_keys_are_refused_and_debug_hides_the_key() {
        assert!(AuditKey::from_bytes(&[1; 31]).is_err());
        let key = AuditKey::from_bytes(&[1; 32]).unwrap();
        assert_eq!(
            format!("{key:?}"),
            format!("AuditKey {{ id: {:?} }}", key.id())
        );
    }
}
