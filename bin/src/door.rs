//! The door's settings (proof-of-work at joins and sign-ups), flags with
//! environment equivalents, flattened into `Config`. Every level is 0 by
//! default: nobody pays until an operator turns a rule on (see
//! `docs/operations.md`, "Proof-of-work at the door").

use anyhow::Context;
use clap::Args;
use frontrow_application::door::DoorSettings;
use frontrow_domain::door::{DoorPolicy, Level};

/// Who pays what at the door.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct DoorConfig {
    /// The level every join pays (0 to 10) unless the concert's operator
    /// set its own (`PUT /api/v1/admin/concerts/{id}/door`).
    #[arg(
        long,
        env = "FRONTROW_CHALLENGE_LEVEL",
        default_value_t = 0,
        global = true
    )]
    pub challenge_level: u8,
    /// An account made less than this many minutes ago is young.
    #[arg(
        long,
        env = "FRONTROW_CHALLENGE_YOUNG_ACCOUNT_MINUTES",
        default_value_t = 60,
        global = true
    )]
    pub challenge_young_account_minutes: u64,
    /// The level a young account's join pays (0: the rule is off).
    #[arg(
        long,
        env = "FRONTROW_CHALLENGE_YOUNG_LEVEL",
        default_value_t = 0,
        global = true
    )]
    pub challenge_young_level: u8,
    /// More sign-ups than this from one address within the window make it
    /// crowded.
    #[arg(
        long,
        env = "FRONTROW_CHALLENGE_CROWDED_AFTER_SIGN_UPS",
        default_value_t = 20,
        global = true
    )]
    pub challenge_crowded_after_sign_ups: u64,
    /// The level a join (and a sign-up) from a crowded address pays (0: off).
    #[arg(
        long,
        env = "FRONTROW_CHALLENGE_CROWDED_LEVEL",
        default_value_t = 0,
        global = true
    )]
    pub challenge_crowded_level: u8,
    /// Sign-ups from one address within the window that pay nothing.
    #[arg(
        long,
        env = "FRONTROW_CHALLENGE_FREE_SIGN_UPS",
        default_value_t = 5,
        global = true
    )]
    pub challenge_free_sign_ups: u64,
    /// The level a sign-up beyond the free ones pays (0: off).
    #[arg(
        long,
        env = "FRONTROW_CHALLENGE_SIGN_UP_LEVEL",
        default_value_t = 0,
        global = true
    )]
    pub challenge_sign_up_level: u8,
    /// The window sign-ups per address are counted over.
    #[arg(
        long,
        env = "FRONTROW_CHALLENGE_SIGN_UP_WINDOW_MINUTES",
        default_value_t = 60,
        global = true
    )]
    pub challenge_sign_up_window_minutes: u64,
    /// How long a challenge is accepted after it is issued.
    #[arg(
        long,
        env = "FRONTROW_CHALLENGE_SECONDS",
        default_value_t = 600,
        global = true
    )]
    pub challenge_seconds: u64,
}

impl Default for DoorConfig {
    fn default() -> Self {
        Self {
            challenge_level: 0,
            challenge_young_account_minutes: 60,
            challenge_young_level: 0,
            challenge_crowded_after_sign_ups: 20,
            challenge_crowded_level: 0,
            challenge_free_sign_ups: 5,
            challenge_sign_up_level: 0,
            challenge_sign_up_window_minutes: 60,
            challenge_seconds: 600,
        }
    }
}

const MINUTE_MS: u64 = 60_000;

fn level(value: u8, flag: &str) -> anyhow::Result<Level> {
    Level::new(value).with_context(|| format!("invalid --{flag}"))
}

fn ms(value: u64, unit_ms: u64) -> i64 {
    i64::try_from(value.saturating_mul(unit_ms)).unwrap_or(i64::MAX)
}

impl DoorConfig {
    /// The sign-up window in ms.
    pub fn sign_up_window_ms(&self) -> u64 {
        self.challenge_sign_up_window_minutes
            .saturating_mul(MINUTE_MS)
    }

    /// The settings the door runs with; a level out of range is an error.
    pub fn settings(&self) -> anyhow::Result<DoorSettings> {
        if self.challenge_seconds == 0 {
            anyhow::bail!("--challenge-seconds must be positive");
        }
        Ok(DoorSettings {
            policy: DoorPolicy {
                young_account_ms: ms(self.challenge_young_account_minutes, MINUTE_MS),
                young: level(self.challenge_young_level, "challenge-young-level")?,
                crowded_after_sign_ups: self.challenge_crowded_after_sign_ups,
                crowded: level(self.challenge_crowded_level, "challenge-crowded-level")?,
                free_sign_ups: self.challenge_free_sign_ups,
                sign_up: level(self.challenge_sign_up_level, "challenge-sign-up-level")?,
            },
            default_level: level(self.challenge_level, "challenge-level")?,
            challenge_ms: ms(self.challenge_seconds, 1000),
        })
    }
}
