//! The last upstream answer for each session, in memory.
//!
//! A poll faster than the minimum interval is answered from here, and a session's final answer
//! is kept, so repeated reads cost Signicat nothing. Bodies hold the binding message and, on
//! success, the verified identity: they are personal data, so they live only in memory (never
//! in the database) and are forgotten a while after the session ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// At most this many sessions are cached; past it, the oldest answers are dropped first.
const MAX_ENTRIES: usize = 200_000;

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) owner: Arc<str>,
    pub(crate) body: Bytes,
    pub(crate) status: String,
    pub(crate) is_final: bool,
    pub(crate) fetched_at: Instant,
    pub(crate) expires_at_ms: Option<i64>,
}

#[derive(Debug, Default)]
pub(crate) struct PollCache {
    entries: Mutex<HashMap<Arc<str>, Entry>>,
}

impl PollCache {
    pub(crate) fn get(&self, session_id: &str) -> Option<Entry> {
        self.lock().get(session_id).cloned()
    }

    pub(crate) fn put(&self, session_id: &str, entry: Entry) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(session_id) {
            evict_oldest(&mut entries, MAX_ENTRIES / 10);
        }
        entries.insert(Arc::from(session_id), entry);
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Forgets final answers older than `keep_final`, and running sessions well past their
    /// expiry (a later read goes upstream again).
    pub(crate) fn sweep(&self, keep_final: Duration, now_ms: i64) {
        self.lock().retain(|_, e| {
            if e.is_final {
                e.fetched_at.elapsed() < keep_final
            } else {
                e.expires_at_ms.is_none_or(|at| at + 60_000 > now_ms)
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn evict_oldest(entries: &mut HashMap<Arc<str>, Entry>, n: usize) {
    let mut by_age: Vec<(Instant, Arc<str>)> = entries
        .iter()
        .map(|(k, e)| (e.fetched_at, k.clone()))
        .collect();
    by_age.sort_unstable_by_key(|(at, _)| *at);
    for (_, key) in by_age.into_iter().take(n) {
        entries.remove(&key);
    }
}
