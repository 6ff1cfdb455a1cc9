//! Accounts that outlive the browser: sign up with a password, sign in
//! anywhere, sign out; on every backend.

use frontrow_tests::{TestApp, contract, unique};
use reqwest::StatusCode;

const PASSWORD: &str = "correct horse battery";

/// A name no other test of this database uses.
fn fresh(prefix: &str) -> String {
    format!("{prefix} {}", unique())
}

contract!(
    a_buyer_signs_in_with_name_and_password_and_owns_the_same_account,
    |app: TestApp| async move {
        let name = fresh("Ada");
        let signed_up = app.api.sign_up(&name, PASSWORD).await.unwrap();
        assert_eq!(signed_up.status, StatusCode::CREATED, "{}", signed_up.body);
        let first = signed_up.buyer().unwrap();
        assert_eq!(app.charge(&first, 500, None).await.status, StatusCode::OK);

        // Another device: only the name (in any case) and the password.
        let signed_in = app
            .api
            .sign_in(&name.to_uppercase(), PASSWORD)
            .await
            .unwrap();
        assert_eq!(signed_in.status, StatusCode::CREATED, "{}", signed_in.body);
        let second = signed_in.buyer().unwrap();
        assert_eq!(second.user_id, first.user_id);
        assert_ne!(second.access_token, first.access_token);
        assert_eq!(app.balance(&second).await, 500);

        // The name is the account's: nobody signs up with it again.
        let taken = app
            .api
            .sign_up(&name.to_lowercase(), "another password")
            .await
            .unwrap();
        assert_eq!(taken.status, StatusCode::CONFLICT);
        assert_eq!(taken.body["code"], "NAME_TAKEN");
    }
);

contract!(
    a_wrong_password_and_an_unknown_name_get_the_same_401,
    |app: TestApp| async move {
        let name = fresh("Grace");
        let _ = app.api.sign_up(&name, PASSWORD).await.unwrap();
        let wrong = app.api.sign_in(&name, "not the password").await.unwrap();
        let unknown = app
            .api
            .sign_in(&format!("{name} junior"), PASSWORD)
            .await
            .unwrap();
        for refused in [&wrong, &unknown] {
            assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
            assert_eq!(refused.content_type, "application/problem+json");
            assert_eq!(refused.body["code"], "INVALID_CREDENTIALS");
        }
        assert_eq!(wrong.body["detail"], unknown.body["detail"]);
        let short = app.api.sign_up(&fresh("Short"), "1234567").await.unwrap();
        assert_eq!(short.status, StatusCode::BAD_REQUEST);
        assert_eq!(short.body["code"], "INVALID_PASSWORD");
    }
);

contract!(
    a_signed_out_token_is_refused_and_other_sessions_keep_working,
    |app: TestApp| async move {
        let name = fresh("Hedy");
        let phone = app
            .api
            .sign_up(&name, PASSWORD)
            .await
            .unwrap()
            .buyer()
            .unwrap();
        let laptop = app
            .api
            .sign_in(&name, PASSWORD)
            .await
            .unwrap()
            .buyer()
            .unwrap();
        assert_eq!(
            app.api.balance(&phone).await.unwrap().status,
            StatusCode::OK
        );

        let out = app.api.sign_out(&phone).await.unwrap();
        assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.body);
        let refused = app.api.balance(&phone).await.unwrap();
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refused.content_type, "application/problem+json");
        assert_eq!(refused.body["code"], "UNAUTHORIZED");
        assert_eq!(
            app.api.sign_out(&phone).await.unwrap().status,
            StatusCode::UNAUTHORIZED
        );

        assert_eq!(
            app.api.balance(&laptop).await.unwrap().status,
            StatusCode::OK
        );
    }
);

contract!(
    a_buyer_without_a_password_still_signs_up_and_buys_by_token,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(5, 100).await;
        let (buyer, token) = app.admitted("nameless", 300, concert).await;
        let (_, paid) = app.buy(&buyer, &token, schedule, 1).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        // Many password-less buyers may share a name, as before.
        assert_eq!(
            app.api.register("nameless").await.unwrap().status,
            StatusCode::CREATED
        );
        // They cannot sign in by it: only accounts with a password can.
        let refused = app.api.sign_in("nameless", PASSWORD).await.unwrap();
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    }
);

contract!(
    repeated_failures_for_a_name_are_slowed_down_with_retry_after,
    |app: TestApp| async move {
        let name = fresh("Joan");
        let _ = app.api.sign_up(&name, PASSWORD).await.unwrap();
        for attempt in 1..=5 {
            let wrong = app.api.sign_in(&name, "a wrong guess").await.unwrap();
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        }
        let sixth = app.api.sign_in(&name, "a wrong guess").await.unwrap();
        assert_eq!(
            sixth.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            sixth.body
        );
        assert_eq!(sixth.content_type, "application/problem+json");
        assert_eq!(sixth.body["code"], "TOO_MANY_ATTEMPTS");
        let wait: u64 = sixth.headers["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
        // While locked, even the right password waits: guessing gains nothing.
        let locked = app.api.sign_in(&name, PASSWORD).await.unwrap();
        assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
        // Another name is not slowed down.
        let other = name_with_password(&app).await;
        assert_eq!(
            app.api.sign_in(&other, PASSWORD).await.unwrap().status,
            StatusCode::CREATED
        );
    }
);

async fn name_with_password(app: &TestApp) -> String {
    let other = fresh("Other");
    let _ = app.api.sign_up(&other, PASSWORD).await.unwrap();
    other
}

/// Two instances on one MariaDB: a token signed out through one is refused
/// by the other at once if it never vouched for it (opened or confirmed it),
/// and within `SESSION_RECHECK_MS` (10 s) if it did.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_signed_out_on_one_instance_is_refused_by_another() {
    let Some(first) = TestApp::spawn(frontrow_tests::Stores::MySqlRedis).await else {
        return;
    };
    let second = first.sibling().await;
    let name = fresh("Katherine");
    let _ = first.api.sign_up(&name, PASSWORD).await.unwrap();
    // Opened through the first instance and never shown to the second (an
    // instance vouches for the sessions it opened itself, as for those it
    // confirmed).
    let unseen = first
        .api
        .sign_in(&name, PASSWORD)
        .await
        .unwrap()
        .buyer()
        .unwrap();
    let seen = first
        .api
        .sign_in(&name, PASSWORD)
        .await
        .unwrap()
        .buyer()
        .unwrap();
    assert_eq!(
        second.api.balance(&seen).await.unwrap().status,
        StatusCode::OK
    );

    assert_eq!(
        first.api.sign_out(&unseen).await.unwrap().status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        first.api.sign_out(&seen).await.unwrap().status,
        StatusCode::NO_CONTENT
    );
    let at_once = second.api.balance(&unseen).await.unwrap();
    assert_eq!(at_once.status, StatusCode::UNAUTHORIZED);

    let signed_out = std::time::Instant::now();
    loop {
        let answer = second.api.balance(&seen).await.unwrap();
        if answer.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(answer.status, StatusCode::OK);
        assert!(
            signed_out.elapsed() < std::time::Duration::from_millis(11_000),
            "still accepted {:?} after signing out elsewhere",
            signed_out.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
