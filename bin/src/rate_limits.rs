//! The rate limits' settings: one flag (and environment variable) per
//! limit, written `<requests>/<seconds>` (`20/3600`: 20 at once, refilled
//! evenly over an hour), and one scale for all of them. The arithmetic
//! behind each default is in docs/operations.md, "Rate limits".

use clap::Args;
use frontrow_application::limits::{Limit, LimitRules, RateRule};
use std::fmt;
use std::str::FromStr;

/// `requests` at once, refilled evenly over `seconds`; `0/...` turns the
/// limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub requests: u32,
    pub seconds: u32,
}

impl Rate {
    const fn new(requests: u32, seconds: u32) -> Self {
        Self { requests, seconds }
    }

    fn rule(self) -> Option<RateRule> {
        RateRule::new(self.requests, i64::from(self.seconds) * 1000)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.requests, self.seconds)
    }
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let wrong = || format!("{text:?} is not <requests>/<seconds>, e.g. 20/3600");
        let (requests, seconds) = text.split_once('/').ok_or_else(wrong)?;
        let requests = requests.trim().parse().map_err(|_| wrong())?;
        let seconds: u32 = seconds.trim().parse().map_err(|_| wrong())?;
        if seconds == 0 {
            return Err(wrong());
        }
        Ok(Self { requests, seconds })
    }
}

const SIGN_UP_PER_ADDRESS: Rate = Rate::new(20, 3_600);
const SIGN_UP_PER_NETWORK: Rate = Rate::new(200, 86_400);
const SIGN_IN_PER_ADDRESS: Rate = Rate::new(60, 600);
const JOIN_PER_ADDRESS: Rate = Rate::new(120, 60);
const JOIN_PER_ACCOUNT: Rate = Rate::new(20, 60);
const STATUS_PER_ADDRESS: Rate = Rate::new(600, 60);
const STATUS_PER_ACCOUNT: Rate = Rate::new(90, 60);
const HOLD_PER_ADDRESS: Rate = Rate::new(200, 60);
const HOLD_PER_ACCOUNT: Rate = Rate::new(30, 60);
const PAYMENT_PER_ADDRESS: Rate = Rate::new(100, 60);
const PAYMENT_PER_ACCOUNT: Rate = Rate::new(20, 60);
const ADMIN_KEY_FAILURES: Rate = Rate::new(10, 600);
const TOKEN_FAILURES: Rate = Rate::new(60, 600);

/// Every rate limit (see docs/operations.md, "Rate limits").
#[derive(Args, Clone, Debug)]
pub struct RateLimitSettings {
    /// Multiplies every limit's requests (2: twice as many); 0 turns every
    /// limit off. For test harnesses and load tests from few addresses.
    #[arg(
        long,
        env = "FRONTROW_RATE_LIMITS_SCALE",
        default_value_t = 1.0,
        global = true
    )]
    pub rate_limits_scale: f64,
    /// Sign-ups (new accounts) per client address.
    #[arg(long, env = "FRONTROW_LIMIT_SIGN_UP_PER_ADDRESS", default_value_t = SIGN_UP_PER_ADDRESS, global = true)]
    pub limit_sign_up_per_address: Rate,
    /// Sign-ups per IPv4 /24 or IPv6 /64.
    #[arg(long, env = "FRONTROW_LIMIT_SIGN_UP_PER_NETWORK", default_value_t = SIGN_UP_PER_NETWORK, global = true)]
    pub limit_sign_up_per_network: Rate,
    /// Sign-in attempts per client address.
    #[arg(long, env = "FRONTROW_LIMIT_SIGN_IN_PER_ADDRESS", default_value_t = SIGN_IN_PER_ADDRESS, global = true)]
    pub limit_sign_in_per_address: Rate,
    /// Joins per client address.
    #[arg(long, env = "FRONTROW_LIMIT_JOIN_PER_ADDRESS", default_value_t = JOIN_PER_ADDRESS, global = true)]
    pub limit_join_per_address: Rate,
    /// Joins per account.
    #[arg(long, env = "FRONTROW_LIMIT_JOIN_PER_ACCOUNT", default_value_t = JOIN_PER_ACCOUNT, global = true)]
    pub limit_join_per_account: Rate,
    /// Status polls and stream opens per client address.
    #[arg(long, env = "FRONTROW_LIMIT_STATUS_PER_ADDRESS", default_value_t = STATUS_PER_ADDRESS, global = true)]
    pub limit_status_per_address: Rate,
    /// Status polls and stream opens per account.
    #[arg(long, env = "FRONTROW_LIMIT_STATUS_PER_ACCOUNT", default_value_t = STATUS_PER_ACCOUNT, global = true)]
    pub limit_status_per_account: Rate,
    /// Seat holds per client address.
    #[arg(long, env = "FRONTROW_LIMIT_HOLD_PER_ADDRESS", default_value_t = HOLD_PER_ADDRESS, global = true)]
    pub limit_hold_per_address: Rate,
    /// Seat holds per account.
    #[arg(long, env = "FRONTROW_LIMIT_HOLD_PER_ACCOUNT", default_value_t = HOLD_PER_ACCOUNT, global = true)]
    pub limit_hold_per_account: Rate,
    /// Payments per client address.
    #[arg(long, env = "FRONTROW_LIMIT_PAYMENT_PER_ADDRESS", default_value_t = PAYMENT_PER_ADDRESS, global = true)]
    pub limit_payment_per_address: Rate,
    /// Payments per account.
    #[arg(long, env = "FRONTROW_LIMIT_PAYMENT_PER_ACCOUNT", default_value_t = PAYMENT_PER_ACCOUNT, global = true)]
    pub limit_payment_per_account: Rate,
    /// Wrong admin keys per client address (then 429 before the key is compared).
    #[arg(long, env = "FRONTROW_LIMIT_ADMIN_KEY_FAILURES", default_value_t = ADMIN_KEY_FAILURES, global = true)]
    pub limit_admin_key_failures: Rate,
    /// Forged, expired or signed-out access tokens per client address.
    #[arg(long, env = "FRONTROW_LIMIT_TOKEN_FAILURES", default_value_t = TOKEN_FAILURES, global = true)]
    pub limit_token_failures: Rate,
}

impl Default for RateLimitSettings {
    /// The shipped defaults, as the flags have them.
    fn default() -> Self {
        Self {
            rate_limits_scale: 1.0,
            limit_sign_up_per_address: SIGN_UP_PER_ADDRESS,
            limit_sign_up_per_network: SIGN_UP_PER_NETWORK,
            limit_sign_in_per_address: SIGN_IN_PER_ADDRESS,
            limit_join_per_address: JOIN_PER_ADDRESS,
            limit_join_per_account: JOIN_PER_ACCOUNT,
            limit_status_per_address: STATUS_PER_ADDRESS,
            limit_status_per_account: STATUS_PER_ACCOUNT,
            limit_hold_per_address: HOLD_PER_ADDRESS,
            limit_hold_per_account: HOLD_PER_ACCOUNT,
            limit_payment_per_address: PAYMENT_PER_ADDRESS,
            limit_payment_per_account: PAYMENT_PER_ACCOUNT,
            limit_admin_key_failures: ADMIN_KEY_FAILURES,
            limit_token_failures: TOKEN_FAILURES,
        }
    }
}

impl RateLimitSettings {
    /// The defaults with every limit off (`--rate-limits-scale 0`).
    pub fn off() -> Self {
        Self {
            rate_limits_scale: 0.0,
            ..Self::default()
        }
    }

    /// The rule of every limit, scaled.
    pub fn rules(&self) -> LimitRules {
        [
            (Limit::SignUpPerAddress, self.limit_sign_up_per_address),
            (Limit::SignUpPerNetwork, self.limit_sign_up_per_network),
            (Limit::SignInPerAddress, self.limit_sign_in_per_address),
            (Limit::JoinPerAddress, self.limit_join_per_address),
            (Limit::JoinPerAccount, self.limit_join_per_account),
            (Limit::StatusPerAddress, self.limit_status_per_address),
            (Limit::StatusPerAccount, self.limit_status_per_account),
            (Limit::HoldPerAddress, self.limit_hold_per_address),
            (Limit::HoldPerAccount, self.limit_hold_per_account),
            (Limit::PaymentPerAddress, self.limit_payment_per_address),
            (Limit::PaymentPerAccount, self.limit_payment_per_account),
            (Limit::AdminKeyFailures, self.limit_admin_key_failures),
            (Limit::TokenFailures, self.limit_token_failures),
        ]
        .into_iter()
        .fold(LimitRules::off(), |rules, (limit, rate)| {
            let rule = rate
                .rule()
                .and_then(|rule| rule.scaled(self.rate_limits_scale));
            rules.with(limit, rule)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;
    use clap::Parser;

    #[test]
    fn the_flags_default_to_the_shipped_limits_and_scale_them() {
        let cli = Cli::try_parse_from(["frontrow"]).expect("no flags parse");
        assert_eq!(
            cli.config.rate_limits.rules(),
            RateLimitSettings::default().rules()
        );
        let cli = Cli::try_parse_from([
            "frontrow",
            "--rate-limits-scale",
            "10",
            "--limit-join-per-address",
            "5/30",
        ])
        .expect("the flags parse");
        let rules = cli.config.rate_limits.rules();
        assert_eq!(rules.rule(Limit::JoinPerAddress), RateRule::new(50, 30_000));
        assert_eq!(
            rules.rule(Limit::SignUpPerAddress),
            RateRule::new(200, 3_600_000)
        );
        assert_eq!(RateLimitSettings::off().rules(), LimitRules::off());
        assert!(Cli::try_parse_from(["frontrow", "--limit-join-per-address", "5"]).is_err());
    }
}
