//! The audit log: an append-only hash chain of what agents did and what the relay answered.
//!
//! Each record carries the previous record's hash and its own, an HMAC-SHA-256 under the relay's
//! audit key over every field. Editing or deleting a record breaks the chain at that record, and
//! someone with write access to the database but not the key cannot forge a consistent chain.
//! NINs appear only as a keyed hash (so one person's sessions can be correlated without storing
//! the number, and the small NIN space cannot be brute-forced without the key) and masked.
//!
//! Retention: `audit prune` removes the oldest records (a prefix of the chain) and appends a
//! `pruned` record, sealed like any other, that names the first record kept and the hash it
//! links to ([`PruneAnchor`]). [`ChainVerifier`] starts from the newest such anchor, so a chain
//! shortened by a prune verifies, while records removed any other way (a prefix no anchor
//! vouches for, or any record after the anchor's start) are still named.

use std::fmt;
use std::io;
use std::path::Path;

use ring::hmac;
use safeconv::{Nin, Timestamp};
use serde::{Deserialize, Serialize};

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
    /// `audit prune` removed the oldest records; `reason` holds the [`PruneAnchor`].
    Pruned,
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
            Action::Pruned => "pruned",
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// `create`, `created`, `create_failed`, `cancel`, `outcome`, `refused`, `interrupted`,
    /// `pruned`.
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

    /// A record as `audit export` printed it (one line); `at` gives back `at_ms`.
    ///
    /// ```
    /// let line = r#"{"seq":1,"at":"2026-06-29T11:08:34.9490000Z","instance":"relay-1","action":"refused","agentId":"alice","clientAddr":null,"sessionId":null,"ninHash":null,"ninMasked":null,"status":"404","reason":"not_owner","keyId":"k","prevHash":"00","hash":"ff"}"#;
    /// let record = safeconv_relay::AuditRecord::from_export_line(line).unwrap();
    /// assert_eq!(record.at_ms, 1_782_731_314_949);
    /// ```
    pub fn from_export_line(line: &str) -> Result<AuditRecord, String> {
        let mut record: AuditRecord =
            serde_json::from_str(line).map_err(|e| format!("not an audit record: {e}"))?;
        record.at_ms = record
            .at
            .parse::<Timestamp>()
            .map_err(|e| format!("`at`: {e}"))?
            .unix_millis();
        Ok(record)
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

/// What a `pruned` record says, as JSON in its `reason`: which records `audit prune` removed
/// and where the chain that remains starts. Sealed with the record, so it cannot be forged or
/// edited without the audit key.
///
/// ```
/// use safeconv_relay::audit::PruneAnchor;
/// let anchor = PruneAnchor {
///     before: "2021-07-01T00:00:00.0000000Z".into(),
///     first_seq: 151,
///     first_prev_hash: "ab".repeat(32),
///     records: 150,
///     sessions: 42,
///     by: Some("ops".into()),
/// };
/// assert_eq!(PruneAnchor::parse(&anchor.to_reason()), Ok(anchor));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PruneAnchor {
    /// The cut-off (RFC 3339): records older than this were removed, up to the first younger.
    pub before: String,
    /// The first record kept: the chain now starts here.
    pub first_seq: i64,
    /// The hash `first_seq` links to: that of the last record removed ([`GENESIS_HASH`] if
    /// none ever was).
    pub first_prev_hash: String,
    /// How many audit records this prune removed.
    pub records: u64,
    /// How many sessions rows (ended before the cut-off) it removed.
    pub sessions: u64,
    /// Who ran it, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl PruneAnchor {
    /// The `reason` of the `pruned` record.
    pub fn to_reason(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a `pruned` record's `reason`.
    pub fn parse(reason: &str) -> Result<PruneAnchor, String> {
        serde_json::from_str(reason).map_err(|e| format!("not a prune anchor: {e}"))
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

/// The newest prune, as [`ChainReport`] tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastPrune {
    /// The `pruned` record's sequence number.
    pub seq: i64,
    /// When it ran (RFC 3339).
    pub at: String,
    /// What it says.
    pub anchor: PruneAnchor,
}

/// What an intact chain holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    /// How many records were checked.
    pub records: u64,
    /// The first record's sequence number (0 if none).
    pub first_seq: i64,
    /// The last record's sequence number (0 if none).
    pub last_seq: i64,
    /// The hash the first record links to ([`GENESIS_HASH`] for an unpruned log).
    pub first_prev_hash: String,
    /// The last record's hash.
    pub last_hash: String,
    /// The newest prune the chain starts from, if records were ever pruned.
    pub last_prune: Option<LastPrune>,
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} records", self.records)?;
        if self.records > 0 {
            write!(f, " ({}\u{2013}{})", self.first_seq, self.last_seq)?;
        }
        if let Some(prune) = &self.last_prune {
            write!(
                f,
                "; {} earlier records pruned: the last prune (record {}, {}{}) removed {} records \
                 older than {} and {} ended sessions",
                prune.anchor.first_seq - 1,
                prune.seq,
                prune.at,
                prune
                    .anchor
                    .by
                    .as_deref()
                    .map_or_else(String::new, |by| format!(", by {by}")),
                prune.anchor.records,
                prune.anchor.before,
                prune.anchor.sessions,
            )?;
        }
        Ok(())
    }
}

/// Where a [`ChainVerifier`] expects the chain to start.
enum Start {
    /// Record 1, linking to [`GENESIS_HASH`].
    Genesis,
    /// Where the newest prune says.
    Anchor(LastPrune),
    /// Wherever the first record is (an export, which may begin anywhere).
    FirstRecord,
}

/// Checks records in order, page by page; [`ChainVerifier::finish`] compares the end of the
/// chain with the head the store keeps (so that deleting the newest records is seen too).
pub struct ChainVerifier<'a> {
    keys: &'a [AuditKey],
    start: Start,
    next_seq: i64,
    prev_hash: String,
    first: Option<(i64, String)>,
    checked: u64,
}

impl<'a> ChainVerifier<'a> {
    /// Verifies a whole log, from record 1, with these keys (the current one, and earlier ones
    /// after a rotation).
    pub fn new(keys: &'a [AuditKey]) -> Self {
        ChainVerifier {
            keys,
            start: Start::Genesis,
            next_seq: 1,
            prev_hash: GENESIS_HASH.to_owned(),
            first: None,
            checked: 0,
        }
    }

    /// Verifies a log whose newest `pruned` record is `latest_prune` (none: the whole log):
    /// it must start where that record says. The record itself is checked first (seal and
    /// content), since it decides where the chain may start.
    pub fn starting_from(
        keys: &'a [AuditKey],
        latest_prune: Option<&AuditRecord>,
    ) -> Result<Self, ChainBreak> {
        let mut verifier = ChainVerifier::new(keys);
        let Some(record) = latest_prune else {
            return Ok(verifier);
        };
        let fail = |reason: String| ChainBreak {
            seq: record.seq,
            reason,
        };
        verifier.check_seal(record)?;
        let anchor = record
            .reason
            .as_deref()
            .ok_or_else(|| "a prune record without its anchor".to_owned())
            .and_then(PruneAnchor::parse)
            .map_err(fail)?;
        if record.action != Action::Pruned.as_str()
            || anchor.first_seq < 1
            || anchor.first_seq > record.seq
        {
            return Err(fail(format!(
                "a prune record that names record {} as the first kept",
                anchor.first_seq
            )));
        }
        verifier.next_seq = anchor.first_seq;
        verifier.prev_hash = anchor.first_prev_hash.clone();
        verifier.start = Start::Anchor(LastPrune {
            seq: record.seq,
            at: record.at.clone(),
            anchor,
        });
        Ok(verifier)
    }

    /// Verifies an export, which may start at any record: the first one's place (its `seq`
    /// and `prevHash`) is taken as given and reported, everything after it is checked.
    pub fn for_export(keys: &'a [AuditKey]) -> Self {
        ChainVerifier {
            start: Start::FirstRecord,
            ..ChainVerifier::new(keys)
        }
    }

    /// Checks the next record.
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        let fail = |seq, reason: String| Err(ChainBreak { seq, reason });
        if self.first.is_none() && matches!(self.start, Start::FirstRecord) {
            self.next_seq = record.seq;
            self.prev_hash = record.prev_hash.clone();
        }
        if record.seq != self.next_seq {
            if self.first.is_some() {
                return fail(
                    self.next_seq,
                    format!(
                        "missing (the next record found is {}): records were deleted",
                        record.seq
                    ),
                );
            }
            return Err(self.bad_start(record));
        }
        if record.prev_hash != self.prev_hash {
            return fail(
                record.seq,
                if self.first.is_none() && !matches!(self.start, Start::Genesis) {
                    "does not link to the record the last prune removed before it (records were \
                     removed or replaced since)"
                        .to_owned()
                } else {
                    "does not link to the record before it (a record was changed, removed or \
                     inserted)"
                        .to_owned()
                },
            );
        }
        self.check_seal(record)?;
        if self.first.is_none() {
            self.first = Some((record.seq, record.prev_hash.clone()));
        }
        self.next_seq += 1;
        self.prev_hash = record.hash.clone();
        self.checked += 1;
        Ok(())
    }

    fn check_seal(&self, record: &AuditRecord) -> Result<(), ChainBreak> {
        let fail = |reason: String| {
            Err(ChainBreak {
                seq: record.seq,
                reason,
            })
        };
        let Some(key) = self.keys.iter().find(|k| k.id() == record.key_id) else {
            return fail(format!(
                "sealed with audit key {} which was not given",
                record.key_id
            ));
        };
        if !keys::constant_time_eq(&key.seal(record), &record.hash) {
            return fail("its content does not match its hash (the record was edited)".to_owned());
        }
        Ok(())
    }

    /// The first record is not where the chain must start.
    fn bad_start(&self, record: &AuditRecord) -> ChainBreak {
        let expected = self.next_seq;
        match &self.start {
            Start::Anchor(prune) if record.seq < expected => ChainBreak {
                seq: record.seq,
                reason: format!(
                    "present, although the prune recorded in record {} removed every record \
                     before {expected}",
                    prune.seq
                ),
            },
            Start::Anchor(prune) => ChainBreak {
                seq: expected,
                reason: format!(
                    "missing (the log starts at record {}): the last prune (record {}) kept the \
                     log from record {expected}, so {} removed since, not by `audit prune`",
                    record.seq,
                    prune.seq,
                    records_were(expected, record.seq - 1)
                ),
            },
            _ => ChainBreak {
                seq: expected,
                reason: format!(
                    "missing (the log starts at record {}): {} removed without `audit prune` (no \
                     prune record vouches for them)",
                    record.seq,
                    records_were(expected, record.seq - 1)
                ),
            },
        }
    }

    /// Compares the last record checked with the store's head `(seq, hash)`; reports what
    /// the chain holds.
    pub fn finish(self, head: Option<(i64, String)>) -> Result<ChainReport, ChainBreak> {
        let (head_seq, head_hash) = head.unwrap_or((0, GENESIS_HASH.to_owned()));
        // An empty log after a prune cannot be: the prune's own record stays.
        if head_seq != self.next_seq - 1
            || head_hash != self.prev_hash
            || (self.first.is_none() && !matches!(self.start, Start::Genesis))
        {
            return Err(ChainBreak {
                seq: self.next_seq,
                reason: format!(
                    "missing: the log ends at record {} but its head says {}",
                    self.next_seq - 1,
                    head_seq
                ),
            });
        }
        Ok(self.report())
    }

    /// What was checked, without a head to compare with (an export).
    pub fn report(self) -> ChainReport {
        let (first_seq, first_prev_hash) =
            self.first.unwrap_or_else(|| (0, GENESIS_HASH.to_owned()));
        ChainReport {
            records: self.checked,
            first_seq,
            last_seq: if self.checked > 0 {
                self.next_seq - 1
            } else {
                0
            },
            first_prev_hash,
            last_hash: self.prev_hash,
            last_prune: match self.start {
                Start::Anchor(prune) => Some(prune),
                _ => None,
            },
        }
    }
}

/// "record 4 was", "records 4–9 were".
fn records_were(first: i64, last: i64) -> String {
    if first == last {
        format!("record {first} was")
    } else {
        format!("records {first}\u{2013}{last} were")
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
            let mut event = AuditEvent::new(Action::Refused);
            event.at_ms = 1_700_000_000_000 + i;
            event.reason = Some(format!("r{i}"));
            append(key, &mut records, &event);
        }
        records
    }

    fn append(key: &AuditKey, records: &mut Vec<AuditRecord>, event: &AuditEvent) {
        let (seq, hash) = records
            .last()
            .map(|r| (r.seq, r.hash.clone()))
            .unwrap_or((0, GENESIS_HASH.to_owned()));
        records.push(AuditRecord::seal(key, "test", seq, &hash, event));
    }

    /// As `audit prune` leaves it: records up to `through` removed, a `pruned` record appended.
    fn prune(key: &AuditKey, records: &mut Vec<AuditRecord>, through: i64) {
        let position = records.iter().position(|r| r.seq > through).unwrap();
        let removed: Vec<AuditRecord> = records.drain(..position).collect();
        let anchor = PruneAnchor {
            before: "2023-11-14T22:13:20.0000000Z".into(),
            first_seq: through + 1,
            first_prev_hash: removed.last().unwrap().hash.clone(),
            records: removed.len() as u64,
            sessions: 0,
            by: None,
        };
        let mut event = AuditEvent::new(Action::Pruned);
        event.reason = Some(anchor.to_reason());
        append(key, records, &event);
    }

    fn verify(keys: &[AuditKey], records: &[AuditRecord]) -> Result<u64, ChainBreak> {
        let latest_prune = records.iter().rev().find(|r| r.action == "pruned");
        let mut v = ChainVerifier::starting_from(keys, latest_prune)?;
        for r in records {
            v.check(r)?;
        }
        let head = records.last().map(|r| (r.seq, r.hash.clone()));
        v.finish(head).map(|report| report.records)
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
    fn a_pruned_chain_verifies_from_its_anchor() {
        let key = AuditKey::from_bytes(&[1; 32]).unwrap();
        let keys = std::slice::from_ref(&key);
        let mut records = chain(&key, 5);
        prune(&key, &mut records, 3);
        assert_eq!(records.first().unwrap().seq, 4);
        assert_eq!(verify(keys, &records), Ok(3));

        let latest = records.last().cloned();
        let mut v = ChainVerifier::starting_from(keys, latest.as_ref()).unwrap();
        for r in &records {
            v.check(r).unwrap();
        }
        let report = v.finish(latest.map(|r| (r.seq, r.hash))).unwrap();
        assert_eq!((report.first_seq, report.last_seq), (4, 6));
        let prune_seen = report.last_prune.as_ref().unwrap();
        assert_eq!((prune_seen.seq, prune_seen.anchor.records), (6, 3));
        assert!(report.to_string().contains("3 earlier records pruned"));

        // A second prune removes the first one's record too; the newest anchor is the start.
        let more = chain(&key, 3);
        for r in &more {
            let mut event = AuditEvent::new(Action::Refused);
            event.reason = r.reason.clone();
            append(&key, &mut records, &event);
        }
        prune(&key, &mut records, 7);
        assert_eq!(records.first().unwrap().seq, 8);
        assert_eq!(verify(keys, &records), Ok(3));
    }

    #[test]
    fn records_removed_other_than_by_a_prune_are_named() {
        let key = AuditKey::from_bytes(&[1; 32]).unwrap();
        let keys = std::slice::from_ref(&key);
        // A prefix cut without a prune record.
        let records = chain(&key, 5);
        let err = verify(keys, &records[2..]).unwrap_err();
        assert_eq!(err.seq, 1);
        assert!(err.reason.contains("without `audit prune`"), "{err}");

        // More cut than the prune says.
        let mut pruned = chain(&key, 6);
        prune(&key, &mut pruned, 2);
        let err = verify(keys, &pruned[2..]).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("records 3\u{2013}4"), "{err}");

        // A record removed from the middle of what remains.
        let mut middle = pruned.clone();
        middle.remove(1);
        assert_eq!(verify(keys, &middle).unwrap_err().seq, 4);

        // Records the prune removed, put back (a restore mixed with the live log).
        let mut restored = chain(&key, 6);
        let old = restored[1].clone();
        prune(&key, &mut restored, 2);
        restored.insert(0, old);
        let err = verify(keys, &restored).unwrap_err();
        assert_eq!(err.seq, 2);
        assert!(err.reason.contains("present"), "{err}");

        // A forged anchor (not sealed with the key) is refused before anything else.
        let mut forged = chain(&key, 4);
        prune(&key, &mut forged, 2);
        let last = forged.last_mut().unwrap();
        last.reason = Some(
            last.reason
                .as_ref()
                .unwrap()
                .replace("\"firstSeq\":3", "\"firstSeq\":4"),
        );
        let err = verify(keys, &forged).unwrap_err();
        assert_eq!(err.seq, forged.last().unwrap().seq);
        assert!(err.reason.contains("edited"), "{err}");
    }

    #[test]
    fn an_export_verifies_from_wherever_it_starts() {
        let key = AuditKey::from_bytes(&[1; 32]).unwrap();
        let records = chain(&key, 6);
        let mut v = ChainVerifier::for_export(std::slice::from_ref(&key));
        for r in &records[2..] {
            let line = serde_json::to_string(r).unwrap();
            v.check(&AuditRecord::from_export_line(&line).unwrap())
                .unwrap();
        }
        let report = v.report();
        assert_eq!(
            (report.first_seq, report.last_seq, report.records),
            (3, 6, 4)
        );
        assert_eq!(report.first_prev_hash, records[1].hash);
        assert_eq!(report.last_hash, records[5].hash);
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
