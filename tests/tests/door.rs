//! Proof-of-work at the door, on every backend: a join (and a sign-up
//! beyond the free ones) that must pay brings a solved challenge, bound to
//! its account and concert (or name), in time, hard enough, and used once,
//! however many requests race with it.

use frontrow_adapters::challenges::solve;
use frontrow_client::Buyer;
use frontrow_tests::{TestApp, contract, unique};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A challenge for `buyer` to join `concert`, solved: the proof to send.
async fn solved(app: &TestApp, buyer: &Buyer, concert: i64) -> String {
    let asked = app.api.join_challenge(buyer, concert).await.unwrap();
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert_eq!(asked.body["required"], true, "{}", asked.body);
    proof_of(&asked.body)
}

fn proof_of(answer: &Value) -> String {
    solve(&answer["challenge"].to_string()).expect("a challenge that solves")
}

fn code(reply: &frontrow_client::Reply) -> &str {
    reply.body["code"].as_str().unwrap_or_default()
}

/// A concert whose every join pays `level`.
async fn concert_at(app: &TestApp, level: i64) -> i64 {
    let (concert, _) = app.concert(10, 100).await;
    let set = app.api.set_door_level(concert, level).await.unwrap();
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    concert
}

contract!(
    a_fresh_solution_is_accepted_once_and_a_join_without_one_is_refused,
    |app: TestApp| async move {
        let concert = concert_at(&app, 1).await;
        let buyer = app.buyer(&format!("door {}", unique())).await;
        let missing = app.join(&buyer, concert).await;
        assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);
        assert_eq!(code(&missing), "CHALLENGE_REQUIRED");

        let proof = solved(&app, &buyer, concert).await;
        let joined = app
            .api
            .join_with_proof(&buyer, concert, &proof)
            .await
            .unwrap();
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
        let replayed = app
            .api
            .join_with_proof(&buyer, concert, &proof)
            .await
            .unwrap();
        assert_eq!(replayed.status, StatusCode::FORBIDDEN);
        assert_eq!(code(&replayed), "CHALLENGE_REPLAYED");

        let metrics = app.http.get(format!("{}/metrics", app.base)).send().await;
        let metrics = metrics.unwrap().text().await.unwrap();
        assert!(
            metrics.contains("frontrow_door_challenges_solved_total 1"),
            "{metrics}"
        );
        assert!(
            metrics.contains("frontrow_door_challenges_refused_total{reason=\"replayed\"} 1"),
            "{metrics}"
        );
    }
);

contract!(
    forged_wrong_concert_other_accounts_and_too_easy_solutions_are_refused,
    |app: TestApp| async move {
        let concert = concert_at(&app, 1).await;
        let other_concert = concert_at(&app, 1).await;
        let buyer = app.buyer(&format!("door {}", unique())).await;
        let someone = app.buyer(&format!("door {}", unique())).await;

        let for_another_concert = solved(&app, &buyer, other_concert).await;
        let wrong = app
            .api
            .join_with_proof(&buyer, concert, &for_another_concert)
            .await
            .unwrap();
        assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.body);
        assert_eq!(code(&wrong), "CHALLENGE_INVALID");

        let someone_elses = solved(&app, &someone, concert).await;
        let wrong = app
            .api
            .join_with_proof(&buyer, concert, &someone_elses)
            .await
            .unwrap();
        assert_eq!(code(&wrong), "CHALLENGE_INVALID");

        // The binding is signed: moving a proof to this concert breaks it.
        let moved = {
            use base64::Engine;
            let engine = base64::engine::general_purpose::STANDARD;
            let mut payload: Value =
                serde_json::from_slice(&engine.decode(&for_another_concert).unwrap()).unwrap();
            payload["challenge"]["parameters"]["data"]["concert"] = json!(concert);
            engine.encode(payload.to_string())
        };
        let forged = app
            .api
            .join_with_proof(&buyer, concert, &moved)
            .await
            .unwrap();
        assert_eq!(code(&forged), "CHALLENGE_INVALID");
        let garbage = app
            .api
            .join_with_proof(&buyer, concert, "bm90IGEgcHJvb2Y=")
            .await
            .unwrap();
        assert_eq!(code(&garbage), "CHALLENGE_INVALID");

        // Solved at level 1, but the concert now asks for 2.
        let easy = solved(&app, &buyer, concert).await;
        app.api.set_door_level(concert, 2).await.unwrap();
        let too_easy = app
            .api
            .join_with_proof(&buyer, concert, &easy)
            .await
            .unwrap();
        assert_eq!(too_easy.status, StatusCode::PRECONDITION_REQUIRED);
        assert_eq!(code(&too_easy), "CHALLENGE_REQUIRED");

        // None of these spent anything: a right proof still joins.
        let right = solved(&app, &buyer, concert).await;
        let joined = app
            .api
            .join_with_proof(&buyer, concert, &right)
            .await
            .unwrap();
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    }
);

contract!(
    an_expired_solution_is_refused,
    |config: &mut frontrow::Config| config.door.challenge_seconds = 1,
    |app: TestApp| async move {
        let concert = concert_at(&app, 1).await;
        let buyer = app.buyer(&format!("door {}", unique())).await;
        let proof = solved(&app, &buyer, concert).await;
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let late = app
            .api
            .join_with_proof(&buyer, concert, &proof)
            .await
            .unwrap();
        assert_eq!(late.status, StatusCode::FORBIDDEN, "{}", late.body);
        assert_eq!(code(&late), "CHALLENGE_EXPIRED");
    }
);

contract!(
    one_solution_sent_by_many_requests_at_once_opens_the_door_exactly_once,
    |app: TestApp| async move {
        let concert = concert_at(&app, 1).await;
        // With Redis, half the requests go to a second instance: the spent
        // list is shared, so it refuses them too.
        let sibling = match app.config.redis_url {
            Some(_) => Some(app.sibling().await),
            None => None,
        };
        let buyer = app.buyer(&format!("door {}", unique())).await;
        let proof = solved(&app, &buyer, concert).await;
        let attempts = (0..40).map(|i| {
            let api = match (&sibling, i % 2) {
                (Some(other), 1) => other.api.clone(),
                _ => app.api.clone(),
            };
            let (buyer, proof) = (buyer.clone(), proof.clone());
            tokio::spawn(async move { api.join_with_proof(&buyer, concert, &proof).await })
        });
        let mut statuses = Vec::new();
        for attempt in attempts {
            let reply = attempt.await.unwrap().unwrap();
            statuses.push((reply.status, code(&reply).to_owned()));
        }
        let joined = statuses.iter().filter(|(s, _)| s.is_success()).count();
        let replayed = statuses
            .iter()
            .filter(|(_, code)| code == "CHALLENGE_REPLAYED")
            .count();
        assert_eq!((joined, replayed), (1, 39), "{statuses:?}");
    }
);

contract!(
    sign_ups_beyond_the_free_ones_pay_a_challenge_bound_to_the_name,
    |config: &mut frontrow::Config| {
        config.door.challenge_free_sign_ups = 2;
        config.door.challenge_sign_up_level = 1;
    },
    |app: TestApp| async move {
        for _ in 0..2 {
            let asked = app
                .api
                .sign_up_challenge(&format!("free {}", unique()))
                .await
                .unwrap();
            assert_eq!(asked.body["required"], false, "{}", asked.body);
            app.buyer(&format!("free {}", unique())).await;
        }
        let name = format!("paying {}", unique());
        let refused = app.api.register(&name).await.unwrap();
        assert_eq!(
            refused.status,
            StatusCode::PRECONDITION_REQUIRED,
            "{}",
            refused.body
        );

        let asked = app.api.sign_up_challenge(&name).await.unwrap();
        assert_eq!(asked.body["required"], true, "{}", asked.body);
        let proof = proof_of(&asked.body);
        let other_name = app
            .api
            .register_with_proof(&format!("other {}", unique()), &proof)
            .await
            .unwrap();
        assert_eq!(
            code(&other_name),
            "CHALLENGE_INVALID",
            "{}",
            other_name.body
        );
        // The name is bound case aside: the sign-in key is what is signed.
        let made = app
            .api
            .register_with_proof(&name.to_uppercase(), &proof)
            .await
            .unwrap();
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }
);

contract!(
    a_young_account_pays_to_join_where_everyone_else_walks_in,
    |config: &mut frontrow::Config| {
        config.door.challenge_young_account_minutes = 60;
        config.door.challenge_young_level = 1;
    },
    |app: TestApp| async move {
        let (concert, _) = app.concert(10, 100).await;
        let young = app.buyer(&format!("young {}", unique())).await;
        let asked = app.api.join_challenge(&young, concert).await.unwrap();
        assert_eq!(asked.body["level"], 1, "{}", asked.body);
        let refused = app.join(&young, concert).await;
        assert_eq!(code(&refused), "CHALLENGE_REQUIRED");
        let proof = proof_of(&asked.body);
        let joined = app
            .api
            .join_with_proof(&young, concert, &proof)
            .await
            .unwrap();
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    }
);

contract!(by_default_nobody_pays_anything, |app: TestApp| async move {
    let (concert, _) = app.concert(10, 100).await;
    let buyer = app.buyer(&format!("door {}", unique())).await;
    let asked = app.api.join_challenge(&buyer, concert).await.unwrap();
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert_eq!(asked.body["required"], false);
    assert!(asked.body["challenge"].is_null());
    assert_eq!(app.join(&buyer, concert).await.status, StatusCode::CREATED);
});
