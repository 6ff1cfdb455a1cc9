//! The rate limiter's Lua (`adapters/src/redis/rate.lua`) against its one
//! home, `frontrow_domain::rate::decide`: random rules, then random steps
//! (a take or a peek by one of a few subjects, or the clock moving), and
//! after every step the script's verdict must equal the domain's, and the
//! TAT it stored must be the one the domain computes. The in-process
//! limiter calls `decide` itself, so it needs no copy checked.

use super::{MAX_STEPS, check, runtime, same};
use frontrow_adapters::redis::Connection;
use frontrow_adapters::redis::rate::RedisRateLimiter;
use frontrow_domain::Timestamp;
use frontrow_domain::rate::{RateRule, Spend, Verdict, decide};
use proptest::prelude::*;
use std::collections::HashMap;

/// Cases: each step is one script call and one read.
const CASES: u32 = 128;
/// Subjects that share the rule, each with a budget of its own.
const SUBJECTS: usize = 3;
/// When each case starts (2027).
const START: i64 = 1_800_000_000_000;

#[derive(Debug, Clone)]
enum Step {
    Take(usize),
    Peek(usize),
    /// The clock moves on this many milliseconds.
    Wait(i64),
    /// The clock moves on exactly the last refusal's `retry_after_ms`, or
    /// one millisecond less: the boundary where a copy's `>` or `>=` shows.
    WaitForRetry {
        early: bool,
    },
}

/// Rules whose one-request interval is at least a third of a second: the
/// script's key expires by Redis's own clock after the time it computed
/// (`PX`), so an interval shorter than a case's real run could expire a key
/// the model, on its simulated clock, still holds.
fn rule() -> impl Strategy<Value = RateRule> {
    (
        1u32..=6,
        prop_oneof![Just(2_000i64), Just(3_000), Just(60_000), 2_000i64..=10_000],
    )
        .prop_map(|(burst, period)| RateRule::new(burst, period).expect("positive"))
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        5 => (0..SUBJECTS).prop_map(Step::Take),
        1 => (0..SUBJECTS).prop_map(Step::Peek),
        2 => prop_oneof![0i64..=50, 0i64..=5_000, Just(60_000)].prop_map(Step::Wait),
        1 => any::<bool>().prop_map(|early| Step::WaitForRetry { early }),
    ];
    proptest::collection::vec(step, 1..=MAX_STEPS)
}

#[test]
fn the_redis_limiter_decides_every_request_as_the_domain_rule_does() {
    let runtime = runtime();
    let Some(conn) = super::redis(&runtime) else {
        return;
    };
    check(CASES, (rule(), steps()), |(rule, steps)| {
        runtime.block_on(run(&conn, &rule, &steps))
    });
}

async fn run(conn: &Connection, rule: &RateRule, steps: &[Step]) -> Result<(), String> {
    let prefix = format!("frontrow-spec:{}:", frontrow_tests::unique());
    let limiter = RedisRateLimiter::new(conn.clone(), &prefix);
    let key = |subject: usize| format!("{prefix}rate:spec:{subject}");
    let mut tats: HashMap<usize, Timestamp> = HashMap::new();
    let mut now = START;
    let mut retry_after = 0;
    for (n, step) in steps.iter().enumerate() {
        let (subject, spend) = match *step {
            Step::Wait(ms) => {
                now += ms;
                continue;
            }
            Step::WaitForRetry { early } => {
                now += (retry_after - i64::from(early)).max(0);
                continue;
            }
            Step::Take(subject) => (subject, Spend::Take),
            Step::Peek(subject) => (subject, Spend::Peek),
        };
        // The key expires when its budget is full again, the same as no
        // TAT: the model forgets it then too.
        let known = tats.get(&subject).copied().filter(|tat| tat.millis() > now);
        let model = decide(rule, known, Timestamp(now), spend);
        let verdict = limiter
            .run(&key(subject), rule, Timestamp(now), spend)
            .await
            .map_err(|e| format!("step {n}: {e}"))?;
        same(
            &format!("step {n} ({step:?}) verdict"),
            verdict,
            model.verdict,
        )?;
        if let Verdict::Refused { retry_after_ms } = model.verdict {
            retry_after = retry_after_ms;
        }
        if let Some(tat) = model.new_tat {
            tats.insert(subject, tat);
        }
        let stored: Option<i64> = redis::cmd("GET")
            .arg(key(subject))
            .query_async(&mut conn.clone())
            .await
            .map_err(|e| format!("step {n}: {e}"))?;
        let expected = tats.get(&subject).map(|tat| tat.millis());
        if let Some(stored) = stored {
            same(&format!("step {n} TAT"), Some(stored), expected)?;
        }
    }
    Ok(())
}
