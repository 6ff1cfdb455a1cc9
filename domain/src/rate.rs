//! Rate limits: the generic cell rate algorithm (GCRA), the one home of the
//! arithmetic every limiter runs. A rule allows `burst` requests at once
//! and refills them evenly over `period` (one every `period / burst`). The
//! whole state of one subject under one rule is a single number, its
//! *theoretical arrival time* (TAT): the moment the subject's budget would
//! be full again. The Redis limiter runs a checked copy of [`decide`] in
//! Lua (`adapters/src/redis/rate.lua`, compared step by step by the spec
//! suite); the in-process one calls it directly.

use crate::Timestamp;

/// `burst` requests at once, refilled evenly over `period_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateRule {
    burst: u32,
    period_ms: i64,
}

impl RateRule {
    /// A rule of `burst` requests per `period_ms`; `None` when either is
    /// zero (a limit that allows nothing is no limit to configure).
    pub fn new(burst: u32, period_ms: i64) -> Option<Self> {
        (burst > 0 && period_ms > 0).then_some(Self { burst, period_ms })
    }

    /// Requests allowed at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The window the burst refills over, in milliseconds.
    pub fn period_ms(&self) -> i64 {
        self.period_ms
    }

    /// The time one request's share of the budget takes to refill (at
    /// least 1 ms, so a rule never divides by zero in any copy).
    pub fn interval_ms(&self) -> i64 {
        (self.period_ms / i64::from(self.burst)).max(1)
    }

    /// The same rule with `factor` times the burst over the same period
    /// (test harnesses and rushes raise limits this way); `None` when the
    /// factor turns the limit off (zero or less).
    pub fn scaled(&self, factor: f64) -> Option<Self> {
        if factor.is_nan() || factor <= 0.0 {
            return None;
        }
        let burst = (f64::from(self.burst) * factor)
            .round()
            .clamp(1.0, f64::from(u32::MAX));
        Self::new(burst as u32, self.period_ms)
    }
}

/// What a limiter answers for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Served; `remaining` more would be served right now, and the budget is
    /// full again after `reset_ms`.
    Allowed {
        /// Requests still allowed at once after this one.
        remaining: u32,
        /// Milliseconds until the whole burst is available again.
        reset_ms: i64,
    },
    /// Refused: the next request is allowed after `retry_after_ms`.
    Refused {
        /// Milliseconds until one more request would be allowed.
        retry_after_ms: i64,
    },
}

impl Verdict {
    /// Whether the request is served.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allowed { .. })
    }
}

/// Whether a request spends from the budget or only asks whether it could.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// A request: spends one unit when allowed.
    Take,
    /// A look before an expensive check (is this address still allowed to
    /// fail?): the verdict a `Take` would get, with nothing spent.
    Peek,
}

/// A decision and the subject's TAT afterwards (`None`: unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The answer to the request.
    pub verdict: Verdict,
    /// The TAT to store, when it changed (a `Take` that was allowed).
    pub new_tat: Option<Timestamp>,
}

/// GCRA: a request at `now` from a subject whose TAT is `tat` (`None`: never
/// seen, or forgotten, which is the same as a full budget). Allowed when,
/// after it, the budget still reaches no further than one period ahead of
/// now; refused requests change nothing, so a client hammering while
/// refused does not push its own retry further away.
pub fn decide(rule: &RateRule, tat: Option<Timestamp>, now: Timestamp, spend: Spend) -> Decision {
    let interval = rule.interval_ms();
    let tat = tat.map_or(now.millis(), |t| t.millis().max(now.millis()));
    let after = tat + interval;
    let ahead = after - now.millis();
    if ahead > rule.period_ms {
        return Decision {
            verdict: Verdict::Refused {
                retry_after_ms: ahead - rule.period_ms,
            },
            new_tat: None,
        };
    }
    let remaining = ((rule.period_ms - ahead) / interval).clamp(0, i64::from(u32::MAX)) as u32;
    Decision {
        verdict: Verdict::Allowed {
            remaining,
            reset_ms: ahead,
        },
        new_tat: (spend == Spend::Take).then_some(Timestamp(after)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(burst: u32, period_ms: i64) -> RateRule {
        RateRule::new(burst, period_ms).expect("a valid rule")
    }

    /// Takes `n` requests at `now`, returning the last verdict and the TAT.
    fn take(rule: &RateRule, tat: &mut Option<Timestamp>, now: i64, n: u32) -> Verdict {
        let mut verdict = None;
        for _ in 0..n {
            let decision = decide(rule, *tat, Timestamp(now), Spend::Take);
            if let Some(new) = decision.new_tat {
                *tat = Some(new);
            }
            verdict = Some(decision.verdict);
        }
        verdict.expect("at least one request")
    }

    #[test]
    fn a_burst_is_served_at_once_and_the_next_waits_one_interval() {
        let rule = rule(10, 60_000);
        let mut tat = None;
        assert_eq!(
            take(&rule, &mut tat, 0, 1),
            Verdict::Allowed {
                remaining: 9,
                reset_ms: 6_000
            }
        );
        assert_eq!(
            take(&rule, &mut tat, 0, 9),
            Verdict::Allowed {
                remaining: 0,
                reset_ms: 60_000
            }
        );
        assert_eq!(
            take(&rule, &mut tat, 0, 1),
            Verdict::Refused {
                retry_after_ms: 6_000
            }
        );
        assert_eq!(
            take(&rule, &mut tat, 5_999, 1),
            Verdict::Refused { retry_after_ms: 1 },
            "refusals spend nothing"
        );
        assert!(take(&rule, &mut tat, 6_000, 1).is_allowed());
        assert!(!take(&rule, &mut tat, 6_000, 1).is_allowed());
    }

    #[test]
    fn an_idle_subject_refills_to_its_burst_and_no_further() {
        let rule = rule(3, 3_000);
        let mut tat = None;
        take(&rule, &mut tat, 0, 3);
        assert_eq!(
            take(&rule, &mut tat, 1_000_000, 1),
            Verdict::Allowed {
                remaining: 2,
                reset_ms: 1_000
            }
        );
        assert!(take(&rule, &mut tat, 1_000_000, 2).is_allowed());
        assert!(!take(&rule, &mut tat, 1_000_000, 1).is_allowed());
    }

    #[test]
    fn a_peek_answers_what_a_take_would_and_spends_nothing() {
        let rule = rule(2, 1_000);
        let mut tat = None;
        let peek = decide(&rule, tat, Timestamp(0), Spend::Peek);
        assert!(peek.verdict.is_allowed());
        assert_eq!(peek.new_tat, None);
        take(&rule, &mut tat, 0, 2);
        let peek = decide(&rule, tat, Timestamp(0), Spend::Peek);
        assert_eq!(
            peek.verdict,
            Verdict::Refused {
                retry_after_ms: 500
            }
        );
    }

    #[test]
    fn scaling_multiplies_the_burst_and_zero_turns_the_limit_off() {
        let rule = rule(10, 60_000);
        assert_eq!(rule.scaled(100.0), RateRule::new(1_000, 60_000));
        assert_eq!(rule.scaled(0.01), RateRule::new(1, 60_000));
        assert_eq!(rule.scaled(0.0), None);
        assert_eq!(RateRule::new(0, 1), None);
    }
}
