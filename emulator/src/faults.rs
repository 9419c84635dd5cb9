//! Fault injection: which request gets which failure, scripted (a FIFO queue) or at random.

use std::collections::VecDeque;
use std::time::Duration;

use crate::rng::SplitMix64;

/// The four API operations that faults can target and counters count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `POST /auth/open/connect/token`
    Token,
    /// `POST /auth/rest/sessions`
    CreateSession,
    /// `GET /auth/rest/sessions/{id}`
    GetSession,
    /// `POST /auth/rest/sessions/{id}/cancel`
    CancelSession,
}

impl Endpoint {
    /// The admin API's name: `token`, `create-session`, `get-session`, `cancel-session`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::CreateSession => "create-session",
            Endpoint::GetSession => "get-session",
            Endpoint::CancelSession => "cancel-session",
        }
    }

    /// The endpoint with that admin API name.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        [
            Endpoint::Token,
            Endpoint::CreateSession,
            Endpoint::GetSession,
            Endpoint::CancelSession,
        ]
        .into_iter()
        .find(|e| e.name() == name)
    }
}

/// A failure the emulator can answer a request with instead of (or on top of) the normal answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// 500 with Signicat's error body; the request has no effect.
    InternalError,
    /// 503 with an error body (and `Retry-After` in whole seconds if given); no effect.
    Unavailable {
        /// Sent as `Retry-After` (whole seconds, rounded up).
        retry_after: Option<Duration>,
    },
    /// 429 with an error body and `Retry-After` in whole seconds; no effect.
    TooManyRequests {
        /// Sent as `Retry-After` (whole seconds, rounded up).
        retry_after: Duration,
    },
    /// The TCP connection is closed without any response; the request has no effect.
    DropConnection,
    /// The request is carried out normally, and the answer is sent only after `delay`.
    Slow {
        /// How long the answer is held back.
        delay: Duration,
    },
    /// The request is carried out; the response's headers give the full `Content-Length`,
    /// the body stops half way and the connection is closed.
    TruncatedJson,
    /// The request is carried out; the answer is 200 with a complete but syntactically broken JSON body.
    MalformedJson,
    /// 401 `invalid_token` although the bearer token is valid (on the token endpoint: 401
    /// `invalid_client` although the credentials are right); no effect.
    RejectToken,
}

impl Fault {
    /// One fault of every kind, with small durations (`Retry-After` 1 s, `Slow` 300 ms).
    pub fn all_kinds() -> Vec<Fault> {
        vec![
            Fault::InternalError,
            Fault::Unavailable {
                retry_after: Some(Duration::from_secs(1)),
            },
            Fault::TooManyRequests {
                retry_after: Duration::from_secs(1),
            },
            Fault::DropConnection,
            Fault::Slow {
                delay: Duration::from_millis(300),
            },
            Fault::TruncatedJson,
            Fault::MalformedJson,
            Fault::RejectToken,
        ]
    }
}

#[derive(Debug)]
struct Scripted {
    endpoint: Option<Endpoint>,
    fault: Fault,
    remaining: u32,
}

/// The faults waiting to be served.
#[derive(Debug)]
pub(crate) struct FaultPlan {
    seed: u64,
    queue: VecDeque<Scripted>,
    rate: f64,
    rate_faults: Vec<Fault>,
    rate_endpoints: Vec<Endpoint>,
    rng: SplitMix64,
}

impl FaultPlan {
    pub(crate) fn new(seed: u64) -> Self {
        FaultPlan {
            seed,
            queue: VecDeque::new(),
            rate: 0.0,
            rate_faults: Vec::new(),
            rate_endpoints: Vec::new(),
            rng: SplitMix64::new(Self::rng_seed(seed)),
        }
    }

    fn rng_seed(seed: u64) -> u64 {
        seed ^ 0xfa01_7fa0_17fa_017f
    }

    /// Queue `fault` for the next `times` requests to `endpoint` (`None`: any endpoint).
    pub(crate) fn inject(&mut self, endpoint: Option<Endpoint>, fault: Fault, times: u32) {
        if times > 0 {
            self.queue.push_back(Scripted {
                endpoint,
                fault,
                remaining: times,
            });
        }
    }

    /// Fault a share `rate` of requests to `endpoints` (empty: all) with one of `faults`
    /// (empty: every kind). Restarts the random sequence from the seed.
    pub(crate) fn set_rate(&mut self, rate: f64, faults: Vec<Fault>, endpoints: Vec<Endpoint>) {
        self.rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self.rate_faults = if faults.is_empty() {
            Fault::all_kinds()
        } else {
            faults
        };
        self.rate_endpoints = endpoints;
        self.rng = SplitMix64::new(Self::rng_seed(self.seed));
    }

    /// Forget scripted faults and the rate.
    pub(crate) fn clear(&mut self) {
        *self = FaultPlan::new(self.seed);
    }

    /// The fault for the next request to `endpoint`, if any: the first scripted fault for it
    /// (or for any endpoint), else a draw at the configured rate.
    pub(crate) fn pick(&mut self, endpoint: Endpoint) -> Option<Fault> {
        if let Some(i) = self
            .queue
            .iter()
            .position(|s| s.endpoint.is_none_or(|e| e == endpoint))
        {
            let entry = &mut self.queue[i];
            let fault = entry.fault.clone();
            entry.remaining -= 1;
            if entry.remaining == 0 {
                self.queue.remove(i);
            }
            return Some(fault);
        }
        if self.rate <= 0.0
            || (!self.rate_endpoints.is_empty() && !self.rate_endpoints.contains(&endpoint))
        {
            return None;
        }
        if self.rng.next_f64() < self.rate {
            let i = self.rng.below(self.rate_faults.len());
            Some(self.rate_faults[i].clone())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_faults_are_fifo_and_per_endpoint() {
        let mut plan = FaultPlan::new(1);
        plan.inject(Some(Endpoint::GetSession), Fault::InternalError, 2);
        plan.inject(None, Fault::DropConnection, 1);
        assert_eq!(plan.pick(Endpoint::Token), Some(Fault::DropConnection));
        assert_eq!(plan.pick(Endpoint::Token), None);
        assert_eq!(plan.pick(Endpoint::GetSession), Some(Fault::InternalError));
        assert_eq!(plan.pick(Endpoint::GetSession), Some(Fault::InternalError));
        assert_eq!(plan.pick(Endpoint::GetSession), None);
    }

    #[test]
    fn rate_is_seeded() {
        let draw = |seed| {
            let mut plan = FaultPlan::new(seed);
            plan.set_rate(0.3, vec![], vec![Endpoint::GetSession]);
            assert_eq!(plan.pick(Endpoint::Token), None);
            (0..200)
                .map(|_| plan.pick(Endpoint::GetSession))
                .collect::<Vec<_>>()
        };
        let a = draw(42);
        assert_eq!(a, draw(42));
        let faulted = a.iter().filter(|f| f.is_some()).count();
        assert!((30..90).contains(&faulted), "{faulted}");
        let mut all = FaultPlan::new(3);
        all.set_rate(1.0, vec![Fault::MalformedJson], vec![]);
        assert!((0..50).all(|_| all.pick(Endpoint::Token) == Some(Fault::MalformedJson)));
    }
}
