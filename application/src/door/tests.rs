//! The door's verdicts, with the ports mocked: a proof opens the door once,
//! for what it was issued, in time, at least as hard as the caller must pay.

use super::*;
use crate::fixtures::clock_at;

const NOW: i64 = 1_700_000_000_000;

fn level(n: u8) -> Level {
    Level::new(n).unwrap()
}

fn join(user: i64, concert: i64) -> Purpose {
    Purpose::Join {
        user: UserId::from_store(user),
        concert: ConcertId::from_store(concert),
    }
}

/// A signer that reads a proof "id:user:concert:level:expires" (the real
/// one is ALTCHA's, tested in the adapters); anything else is forged.
fn signer() -> MockChallengeSigner {
    let mut signer = MockChallengeSigner::new();
    signer.expect_check().returning(|proof| {
        let parts: Vec<i64> = proof
            .split(':')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let [id, user, concert, n, expires] = parts[..] else {
            return None;
        };
        Some(Solved {
            id: id.to_string(),
            purpose: join(user, concert),
            level: Level::new(u8::try_from(n).ok()?).ok()?,
            expires_at: Timestamp(expires),
        })
    });
    signer
}

/// Every concert at `base`; nothing else is asked.
fn door(base: u8, spent: MockSpentChallenges) -> DoorService {
    let mut levels = MockDoorLevels::new();
    levels
        .expect_level()
        .returning(move |_| Ok(Some(level(base))));
    DoorService::new(
        DoorPorts {
            signer: Arc::new(signer()),
            spent: Arc::new(spent),
            sign_ups: Arc::new(MockSignUpCounter::new()),
            ages: Arc::new(MockAccountAges::new()),
            levels: Arc::new(levels),
        },
        DoorSettings::default(),
        Arc::new(clock_at(NOW)),
    )
}

fn first_use_only() -> MockSpentChallenges {
    let seen = parking_lot::Mutex::new(std::collections::HashSet::new());
    let mut spent = MockSpentChallenges::new();
    spent
        .expect_spend()
        .returning(move |id, _, _| Ok(seen.lock().insert(id.to_owned())));
    spent
}

async fn pass(door: &DoorService, proof: Option<&str>) -> Result<(), DoorError> {
    let (user, concert) = (UserId::from_store(7), ConcertId::from_store(3));
    door.pass_join(user, concert, "10.0.0.1", proof).await
}

fn refused(verdict: Result<(), DoorError>) -> Option<Refusal> {
    match verdict {
        Err(DoorError::ChallengeRefused { why }) => Some(why),
        Err(DoorError::ChallengeRequired { .. }) => Some(Refusal::TooEasy),
        _ => None,
    }
}

#[tokio::test]
async fn a_fresh_solution_opens_the_door_once_and_a_replay_is_refused() {
    let door = door(2, first_use_only());
    let proof = format!("1:7:3:2:{}", NOW + 60_000);
    assert!(pass(&door, Some(&proof)).await.is_ok());
    assert_eq!(
        refused(pass(&door, Some(&proof)).await),
        Some(Refusal::Replayed)
    );
    assert_eq!(door.stats().solved(), 1);
    assert_eq!(door.stats().refused(Refusal::Replayed), 1);
}

#[tokio::test]
async fn forged_expired_wrong_concert_and_too_easy_solutions_are_refused_and_nothing_is_spent() {
    let mut spent = MockSpentChallenges::new();
    spent.expect_spend().never();
    let door = door(2, spent);
    let later = NOW + 60_000;
    assert_eq!(
        refused(pass(&door, Some("not a proof")).await),
        Some(Refusal::Forged)
    );
    let expired = format!("1:7:3:2:{NOW}");
    assert_eq!(
        refused(pass(&door, Some(&expired)).await),
        Some(Refusal::Expired)
    );
    let other_concert = format!("1:7:4:2:{later}");
    assert_eq!(
        refused(pass(&door, Some(&other_concert)).await),
        Some(Refusal::WrongPurpose)
    );
    let other_user = format!("1:8:3:2:{later}");
    assert_eq!(
        refused(pass(&door, Some(&other_user)).await),
        Some(Refusal::WrongPurpose)
    );
    let too_easy = format!("1:7:3:1:{later}");
    assert!(matches!(
        pass(&door, Some(&too_easy)).await,
        Err(DoorError::ChallengeRequired { level: l }) if l == level(2)
    ));
    assert!(matches!(
        pass(&door, None).await,
        Err(DoorError::ChallengeRequired { .. })
    ));
    assert_eq!(door.stats().refused(Refusal::Missing), 1);
    assert_eq!(door.stats().refused(Refusal::TooEasy), 1);
}

#[tokio::test]
async fn a_concert_at_level_zero_asks_nothing_and_issues_nothing() {
    let door = door(0, MockSpentChallenges::new());
    assert!(pass(&door, None).await.is_ok());
    let challenge = door
        .join_challenge(UserId::from_store(7), ConcertId::from_store(3), "10.0.0.1")
        .await
        .unwrap();
    assert!(challenge.is_none());
    assert_eq!(door.stats().issued(), 0);
}

#[tokio::test]
async fn a_young_account_pays_the_young_level_and_an_old_one_does_not() {
    let mut ages = MockAccountAges::new();
    ages.expect_created_at().returning(|user| {
        Ok(Some(Timestamp(if user.get() == 1 {
            NOW - 1_000
        } else {
            NOW - 3_600_000
        })))
    });
    let mut levels = MockDoorLevels::new();
    levels.expect_level().returning(|_| Ok(None));
    let mut signer = MockChallengeSigner::new();
    signer.expect_issue().returning(|_, level, expires_at| {
        Ok(Challenge {
            level,
            expires_at,
            json: "{}".to_owned(),
        })
    });
    let settings = DoorSettings {
        policy: DoorPolicy {
            young_account_ms: 600_000,
            young: level(3),
            ..DoorPolicy::default()
        },
        ..DoorSettings::default()
    };
    let door = DoorService::new(
        DoorPorts {
            signer: Arc::new(signer),
            spent: Arc::new(MockSpentChallenges::new()),
            sign_ups: Arc::new(MockSignUpCounter::new()),
            ages: Arc::new(ages),
            levels: Arc::new(levels),
        },
        settings,
        Arc::new(clock_at(NOW)),
    );
    let concert = ConcertId::from_store(3);
    let young = door
        .join_challenge(UserId::from_store(1), concert, "a")
        .await
        .unwrap();
    let old = door
        .join_challenge(UserId::from_store(2), concert, "a")
        .await
        .unwrap();
    assert_eq!(young.map(|c| c.level), Some(level(3)));
    assert_eq!(old, None);
}

#[tokio::test]
async fn sign_ups_are_counted_only_when_a_rule_uses_the_count_and_a_failed_count_lets_them_through()
{
    let door_with = |policy: DoorPolicy, sign_ups: MockSignUpCounter| {
        let mut levels = MockDoorLevels::new();
        levels.expect_level().returning(|_| Ok(None));
        DoorService::new(
            DoorPorts {
                signer: Arc::new(signer()),
                spent: Arc::new(MockSpentChallenges::new()),
                sign_ups: Arc::new(sign_ups),
                ages: Arc::new(MockAccountAges::new()),
                levels: Arc::new(levels),
            },
            DoorSettings {
                policy,
                ..DoorSettings::default()
            },
            Arc::new(clock_at(NOW)),
        )
    };
    // Every level off: nothing asks the counter, so an outage costs nothing.
    let mut untouched = MockSignUpCounter::new();
    untouched.expect_add().times(0);
    untouched.expect_count().times(0);
    let off = door_with(DoorPolicy::default(), untouched);
    assert!(off.pass_sign_up("ada", "10.0.0.1", None).await.is_ok());

    // Sign-ups beyond the free ones pay, but the counter is down: the
    // sign-up passes as the address's first.
    let mut down = MockSignUpCounter::new();
    down.expect_add()
        .returning(|_| Err(StoreError::new("redis down")));
    let paying = door_with(
        DoorPolicy {
            free_sign_ups: 1,
            sign_up: level(5),
            ..DoorPolicy::default()
        },
        down,
    );
    assert!(paying.pass_sign_up("ada", "10.0.0.1", None).await.is_ok());
}
