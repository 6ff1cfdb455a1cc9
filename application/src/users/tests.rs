use super::*;
use crate::fixtures::clock_at;

const PASSWORD: &str = "correct horse";

fn hash() -> PasswordHash {
    PasswordHash("$argon2id$test".into())
}

/// Tokens that spell `user.session` (or `user` alone, a token from before
/// sessions).
fn plain_tokens() -> MockAccessTokens {
    let mut tokens = MockAccessTokens::new();
    tokens
        .expect_issue()
        .returning(|user, session| format!("{user}.{}", session.get()));
    tokens.expect_verify().returning(|token| {
        let (user, session) = match token.split_once('.') {
            Some((user, session)) => (user, Some(session)),
            None => (token, None),
        };
        Some(AccessClaims {
            user: UserId::parse(user.parse().ok()?)?,
            session: match session {
                Some(s) => Some(SessionId::from_store(s.parse().ok()?)),
                None => None,
            },
        })
    });
    tokens
}

fn sessions_from_9(accounts: &mut MockAccountStore) {
    accounts
        .expect_open_session()
        .returning(|_, _| Ok(SessionId::from_store(9)));
}

/// An unlimited throttle that expects nothing else to be asked.
fn open_throttle() -> MockSignInThrottle {
    let mut throttle = MockSignInThrottle::new();
    throttle.expect_check().returning(|_| Ok(()));
    throttle.expect_failed().returning(|_| Ok(()));
    throttle
}

struct Ports {
    users: MockUserStore,
    accounts: MockAccountStore,
    passwords: MockPasswordHasher,
    throttle: MockSignInThrottle,
}

impl Ports {
    fn new() -> Self {
        Self {
            users: MockUserStore::new(),
            accounts: MockAccountStore::new(),
            passwords: MockPasswordHasher::new(),
            throttle: open_throttle(),
        }
    }

    fn users(self) -> Users {
        self.users_on(clock_at(1_000))
    }

    fn users_on(self, clock: crate::clock::MockClock) -> Users {
        Users::new(UserPorts {
            users: Arc::new(self.users),
            accounts: Arc::new(self.accounts),
            tokens: Arc::new(plain_tokens()),
            passwords: Arc::new(self.passwords),
            throttle: Arc::new(self.throttle),
            clock: Arc::new(clock),
        })
    }
}

#[tokio::test]
async fn a_blank_name_or_a_short_password_writes_nothing() {
    let users = Ports::new().users(); // no store expectations: any write fails the test
    assert!(matches!(
        users.register("  ", None, None).await,
        Err(UserError::Invalid(Rule::InvalidName))
    ));
    assert!(matches!(
        users.register("ada", Some("short"), None).await,
        Err(UserError::Invalid(Rule::InvalidPassword))
    ));
}

#[tokio::test]
async fn a_user_without_a_password_gets_a_token_of_a_new_session() {
    let mut ports = Ports::new();
    ports
        .users
        .expect_create_user()
        .times(1)
        .returning(|_, _| Ok(UserId::from_store(7)));
    sessions_from_9(&mut ports.accounts);
    let created = ports.users().register("ada", None, None).await.unwrap();
    assert_eq!(
        (created.user.get(), created.access_token.as_str()),
        (7, "7.9")
    );
}

#[tokio::test]
async fn a_sign_up_from_a_network_joins_the_household_of_its_network_and_hour() {
    let mut ports = Ports::new();
    ports
        .users
        .expect_create_user()
        .withf(|_, household| {
            household
                == &Some(&Household {
                    network: "198.51.100.7/32".into(),
                    window_start: Timestamp(3_600_000),
                })
        })
        .times(1)
        .returning(|_, _| Ok(UserId::from_store(7)));
    sessions_from_9(&mut ports.accounts);
    let users = ports.users_on(clock_at(3_600_000 + 59 * 60_000));
    let created = users.register("ada", None, Some("198.51.100.7/32")).await;
    assert_eq!(created.unwrap().user.get(), 7);
}

#[tokio::test]
async fn an_account_stores_the_hash_never_the_password_and_a_taken_name_is_refused() {
    let mut ports = Ports::new();
    ports
        .passwords
        .expect_hash()
        .withf(|p| p.expose() == PASSWORD)
        .returning(|_| Ok(hash()));
    let mut taken = false;
    ports
        .accounts
        .expect_create_account()
        .withf(|name, h, household| name.as_str() == "Ada" && *h == hash() && household.is_none())
        .returning(move |_, _, _| {
            let first = !taken;
            taken = true;
            Ok(first.then_some(UserId::from_store(7)))
        });
    sessions_from_9(&mut ports.accounts);
    let users = ports.users();
    let created = users.register("Ada", Some(PASSWORD), None).await.unwrap();
    assert_eq!(created.user.get(), 7);
    assert!(matches!(
        users.register("Ada", Some(PASSWORD), None).await,
        Err(UserError::NameTaken)
    ));
}

#[tokio::test]
async fn the_right_password_signs_in_with_a_new_session() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_credentials()
        .returning(|_| Ok(Some((UserId::from_store(7), hash()))));
    ports
        .passwords
        .expect_verify()
        .withf(|p, h| p.expose() == PASSWORD && h == &Some(hash()))
        .returning(|_, _| Ok(true));
    sessions_from_9(&mut ports.accounts);
    let signed_in = ports.users().sign_in("ada", PASSWORD).await.unwrap();
    assert_eq!(signed_in.access_token, "7.9");
}

#[tokio::test]
async fn an_unknown_name_costs_a_decoy_check_and_answers_as_a_wrong_password_does() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_credentials()
        .returning(|name| Ok((name.as_str() == "ada").then(|| (UserId::from_store(7), hash()))));
    // The unknown name is checked against no hash (the decoy), the known
    // one against its own; neither matches.
    ports
        .passwords
        .expect_verify()
        .times(2)
        .returning(|_, _| Ok(false));
    let users = ports.users();
    assert!(matches!(
        users.sign_in("nobody", PASSWORD).await,
        Err(UserError::InvalidCredentials)
    ));
    assert!(matches!(
        users.sign_in("ada", "wrong password").await,
        Err(UserError::InvalidCredentials)
    ));
    // Malformed credentials are wrong credentials, not a 400 that tells
    // which part was wrong.
    assert!(matches!(
        users.sign_in("ada", "short").await,
        Err(UserError::InvalidCredentials)
    ));
}

#[tokio::test]
async fn a_locked_name_is_refused_without_checking_any_password() {
    let mut ports = Ports::new();
    ports.throttle = MockSignInThrottle::new();
    ports
        .throttle
        .expect_check()
        .withf(|key| key == "ada")
        .returning(|_| Err(30));
    // No credentials read, no hash checked: the mocks expect no call.
    let refused = ports.users().sign_in("ADA", PASSWORD).await;
    assert!(matches!(
        refused,
        Err(UserError::TooManyAttempts {
            retry_after_seconds: 30
        })
    ));
}

#[tokio::test]
async fn the_failure_one_too_many_locks_the_name() {
    let mut ports = Ports::new();
    ports.throttle = MockSignInThrottle::new();
    ports.throttle.expect_check().returning(|_| Ok(()));
    ports.throttle.expect_failed().returning(|_| Err(12));
    ports.accounts.expect_credentials().returning(|_| Ok(None));
    ports.passwords.expect_verify().returning(|_, _| Ok(false));
    assert!(matches!(
        ports.users().sign_in("ada", PASSWORD).await,
        Err(UserError::TooManyAttempts {
            retry_after_seconds: 12
        })
    ));
}

#[tokio::test]
async fn a_signed_out_token_is_refused_and_one_from_before_sessions_still_passes() {
    let mut ports = Ports::new();
    let ended = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = ended.clone();
    ports
        .accounts
        .expect_session_live()
        .returning(move |_, _| Ok(!seen.load(std::sync::atomic::Ordering::SeqCst)));
    ports
        .accounts
        .expect_end_session()
        .withf(|session, user, _| session.get() == 9 && user.get() == 7)
        .times(1)
        .returning(move |_, _, _| {
            ended.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
    let users = ports.users();
    assert_eq!(
        users.authenticate("7.9").await.unwrap(),
        Some(UserId::from_store(7))
    );
    assert!(users.sign_out("7.9").await.unwrap());
    assert_eq!(users.authenticate("7.9").await.unwrap(), None);
    // No session to end: the token from before sessions passes until it expires.
    assert!(!users.sign_out("7").await.unwrap());
    assert_eq!(
        users.authenticate("7").await.unwrap(),
        Some(UserId::from_store(7))
    );
}

#[tokio::test]
async fn an_open_session_is_asked_about_once_per_recheck_not_per_request() {
    let mut ports = Ports::new();
    ports
        .accounts
        .expect_session_live()
        .times(1)
        .returning(|_, _| Ok(true));
    let users = ports.users();
    for _ in 0..5 {
        assert_eq!(
            users.authenticate("7.9").await.unwrap(),
            Some(UserId::from_store(7))
        );
    }
}

#[tokio::test]
async fn a_session_opened_here_is_not_asked_about_before_its_recheck() {
    let mut ports = Ports::new();
    ports
        .users
        .expect_create_user()
        .returning(|_, _| Ok(UserId::from_store(7)));
    sessions_from_9(&mut ports.accounts);
    ports.accounts.expect_session_live().times(0);
    ports.users.expect_exists().times(0);
    let users = ports.users();
    let created = users.register("ada", None, None).await.unwrap();
    assert_eq!(
        users.authenticate(&created.access_token).await.unwrap(),
        Some(UserId::from_store(7))
    );
    assert!(users.is_registered(UserId::from_store(7)).await.unwrap());
}

#[tokio::test]
async fn an_outage_is_a_store_failure_except_for_a_session_confirmed_here_before() {
    let mut ports = Ports::new();
    let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let outage = down.clone();
    ports.accounts.expect_session_live().returning(move |_, _| {
        if outage.load(std::sync::atomic::Ordering::SeqCst) {
            Err(StoreError::new("database down"))
        } else {
            Ok(true)
        }
    });
    let now = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let mut clock = crate::clock::MockClock::new();
    let read = now.clone();
    clock
        .expect_now()
        .returning(move || Timestamp(read.load(std::sync::atomic::Ordering::SeqCst)));
    let users = ports.users_on(clock);
    assert!(users.authenticate("7.9").await.unwrap().is_some());
    down.store(true, std::sync::atomic::Ordering::SeqCst);
    now.store(
        crate::live_sessions::SESSION_RECHECK_MS * 3,
        std::sync::atomic::Ordering::SeqCst,
    );
    // Seen open here before: a buyer keeps polling through the blip.
    assert_eq!(
        users.authenticate("7.9").await.unwrap(),
        Some(UserId::from_store(7))
    );
    // Never seen here: the store cannot vouch for it, so a 503, not a 401.
    assert!(users.authenticate("7.10").await.is_err());
}
