//! The state shared by the server's connections and the `Emulator` handle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::behaviour::Behaviour;
use crate::clock::Clock;
use crate::config::{EmulatorConfig, Settings};
use crate::counters::CounterSet;
use crate::faults::FaultPlan;
use crate::personas::persona_behaviour;
use crate::rng::SplitMix64;
use crate::sessions::SessionStore;
use crate::tokens::TokenStore;

#[derive(Debug)]
pub(crate) struct Shared {
    /// The configuration as started, with the port actually bound.
    pub(crate) config: EmulatorConfig,
    pub(crate) clock: Clock,
    pub(crate) settings: Mutex<Settings>,
    pub(crate) tokens: Mutex<TokenStore>,
    pub(crate) sessions: Mutex<SessionStore>,
    pub(crate) overrides: Mutex<HashMap<String, Behaviour>>,
    pub(crate) faults: Mutex<FaultPlan>,
    pub(crate) counters: CounterSet,
    /// Random ids, tokens and trace ids. Never reset, so ids stay unique across resets.
    pub(crate) ids: Mutex<SplitMix64>,
    /// Sessions created since start or reset; picks the binding message.
    pub(crate) session_counter: AtomicU64,
}

/// Lock a mutex, ignoring poisoning (no invariant spans a panic here).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(crate) fn new(config: EmulatorConfig) -> Self {
        Shared {
            clock: Clock::new(),
            settings: Mutex::new(Settings::from_config(&config)),
            tokens: Mutex::new(TokenStore::default()),
            sessions: Mutex::new(SessionStore::default()),
            overrides: Mutex::new(HashMap::new()),
            faults: Mutex::new(FaultPlan::new(config.seed)),
            counters: CounterSet::default(),
            ids: Mutex::new(SplitMix64::new(config.seed)),
            session_counter: AtomicU64::new(0),
            config,
        }
    }

    pub(crate) fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Per-NIN override, else built-in persona, else the default behaviour.
    pub(crate) fn behaviour_for(&self, nin: &str) -> Behaviour {
        if let Some(b) = lock(&self.overrides).get(nin) {
            return b.clone();
        }
        persona_behaviour(nin).unwrap_or_else(|| lock(&self.settings).default_behaviour.clone())
    }

    /// 32 hex digits for an error body's `traceId`.
    pub(crate) fn trace_id(&self) -> String {
        lock(&self.ids).hex(32)
    }

    pub(crate) fn next_session_number(&self) -> u64 {
        self.session_counter.fetch_add(1, Ordering::Relaxed)
    }

    /// Forget sessions, counters, faults and behaviour overrides. Tokens and settings stay.
    pub(crate) fn reset(&self) {
        lock(&self.sessions).clear();
        lock(&self.overrides).clear();
        lock(&self.faults).clear();
        self.counters.reset();
        self.session_counter.store(0, Ordering::Relaxed);
    }
}
