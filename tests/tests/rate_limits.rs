//! Rate limits per client address and per account (issue 25): a client over
//! a limit gets 429 `RATE_LIMITED` with `Retry-After`, `RateLimit-Policy`
//! and `RateLimit`, nothing is written for it, and a client at another
//! address is served in the same moment. `X-Forwarded-For` counts only from
//! a trusted proxy. Wrong admin keys and forged tokens are counted per
//! address. Every test runs on both backends (the in-process limiter, and
//! the Redis one every instance shares). The test servers of every other
//! suite run with the limits off (`RateLimitSettings::off`).

use frontrow::{Config, Rate, RateLimitSettings};
use frontrow_client::{Buyer, Client, Reply};
use frontrow_tests::{TestApp, contract, unique};
use reqwest::StatusCode;

/// The shipped limits, on, with `adjust` applied.
fn limits_on(config: &mut Config, adjust: impl FnOnce(&mut RateLimitSettings)) {
    let mut limits = RateLimitSettings::default();
    adjust(&mut limits);
    config.rate_limits = limits;
}

fn rate(requests: u32, seconds: u32) -> Rate {
    Rate { requests, seconds }
}

/// A 429 as the limits answer it: the problem, its code, and the headers
/// naming `limit` with `requests` per `window` seconds.
fn assert_limited(reply: &Reply, limit: &str, requests: u32, window: u32) {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.body
    );
    assert_eq!(reply.content_type, "application/problem+json");
    assert_eq!(reply.body["code"], "RATE_LIMITED");
    let header = |name: &str| {
        reply
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("a {name} header"))
            .to_str()
            .expect("ASCII")
            .to_owned()
    };
    let retry: u64 = header("retry-after").parse().expect("whole seconds");
    assert!(retry >= 1);
    assert_eq!(
        header("ratelimit-policy"),
        format!("\"{limit}\";q={requests};w={window}")
    );
    assert_eq!(header("ratelimit"), format!("\"{limit}\";r=0;t={retry}"));
}

async fn sign_up(client: &Client) -> Reply {
    client
        .register(&format!("n{}", unique()))
        .await
        .expect("an answer")
}

contract!(
    sign_ups_over_the_limit_of_one_address_get_429_while_another_address_signs_up,
    |c: &mut Config| limits_on(c, |l| l.limit_sign_up_per_address = rate(5, 3_600)),
    |app: TestApp| async move {
        let farm = app.client_from("127.0.1.1");
        let person = app.client_from("127.0.2.1");
        // Twenty at once from one address, and a person elsewhere meanwhile.
        let mut attempts = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let farm = farm.clone();
            attempts.spawn(async move { sign_up(&farm).await });
        }
        let honest = sign_up(&person).await;
        let replies = attempts.join_all().await;
        let created = replies
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count();
        assert_eq!(created, 5, "exactly the burst is served");
        for reply in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
            assert_limited(reply, "sign-up-per-address", 5, 3_600);
        }
        assert_eq!(honest.status, StatusCode::CREATED, "{}", honest.body);
        assert_eq!(sign_up(&person).await.status, StatusCode::CREATED);
        let refused = sign_up(&farm).await;
        assert_limited(&refused, "sign-up-per-address", 5, 3_600);
        // One refill is 12 minutes away.
        let retry: u64 = refused.headers["retry-after"]
            .to_str()
            .expect("ASCII")
            .parse()
            .expect("seconds");
        assert!((700..=720).contains(&retry), "{retry}");
    }
);

contract!(
    a_block_of_addresses_shares_its_sign_up_budget,
    |c: &mut Config| limits_on(c, |l| l.limit_sign_up_per_network = rate(3, 86_400)),
    |app: TestApp| async move {
        for n in 1..=3 {
            let neighbour = app.client_from(&format!("127.0.3.{n}"));
            assert_eq!(sign_up(&neighbour).await.status, StatusCode::CREATED);
        }
        let same_block = app.client_from("127.0.3.4");
        assert_limited(
            &sign_up(&same_block).await,
            "sign-up-per-network",
            3,
            86_400,
        );
        let other_block = app.client_from("127.0.4.1");
        assert_eq!(sign_up(&other_block).await.status, StatusCode::CREATED);
    }
);

contract!(
    x_forwarded_for_counts_only_from_a_trusted_proxy,
    |c: &mut Config| {
        limits_on(c, |l| l.limit_sign_up_per_address = rate(2, 3_600));
        c.trusted_proxies = "127.0.0.1".parse().expect("a CIDR list");
    },
    |app: TestApp| async move {
        // From an untrusted peer a forged header changes nothing: the peer
        // is the client, and its third sign-up is refused.
        let untrusted = app.client_from("127.0.5.1");
        let forged = |n: u32| {
            untrusted
                .request(reqwest::Method::POST, "/api/v1/users")
                .header("x-forwarded-for", format!("203.0.113.{n}"))
                .json(&serde_json::json!({ "name": format!("f{}", unique()) }))
        };
        for n in 0..2 {
            let reply = app.raw(forged(n)).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        }
        assert_limited(&app.raw(forged(9)).await, "sign-up-per-address", 2, 3_600);
        // From the trusted proxy (127.0.0.1), the header names the client:
        // five different clients, each served.
        let proxy = app.client_from("127.0.0.1");
        for n in 0..5 {
            let request = proxy
                .request(reqwest::Method::POST, "/api/v1/users")
                .header("x-forwarded-for", format!("6.6.6.6, 198.51.100.{n}"))
                .json(&serde_json::json!({ "name": format!("p{}", unique()) }));
            let reply = app.raw(request).await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        }
    }
);

contract!(
    wrong_admin_keys_lock_their_address_out_even_with_the_right_key,
    |c: &mut Config| limits_on(c, |l| l.limit_admin_key_failures = rate(3, 600)),
    |app: TestApp| async move {
        let guesser = app.client_from("127.0.6.1").with_admin_key("wrong-key");
        for _ in 0..3 {
            let reply = guesser.queue_state(1).await.expect("an answer");
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        }
        let reply = guesser.queue_state(1).await.expect("an answer");
        assert_limited(&reply, "admin-key-failures", 3, 600);
        // The right key from that address is refused before it is compared.
        let same_address = app.client_from("127.0.6.1");
        let reply = same_address.queue_state(1).await.expect("an answer");
        assert_limited(&reply, "admin-key-failures", 3, 600);
        // The operator elsewhere is served.
        let operator = app.client_from("127.0.7.1");
        let reply = operator.queue_state(1).await.expect("an answer");
        assert_ne!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        assert_ne!(reply.status, StatusCode::UNAUTHORIZED);
    }
);

contract!(
    forged_tokens_from_one_address_get_429_but_a_real_token_there_is_served,
    |c: &mut Config| limits_on(c, |l| l.limit_token_failures = rate(3, 600)),
    |app: TestApp| async move {
        let client = app.client_from("127.0.8.1");
        let real = client
            .register(&format!("r{}", unique()))
            .await
            .expect("an answer")
            .buyer()
            .expect("a buyer");
        let forged = Buyer {
            user_id: real.user_id,
            access_token: format!("{}x", real.access_token),
        };
        for _ in 0..3 {
            let reply = client.balance(&forged).await.expect("an answer");
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        }
        let reply = client.balance(&forged).await.expect("an answer");
        assert_limited(&reply, "token-failures", 3, 600);
        let reply = client.balance(&real).await.expect("an answer");
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
);

contract!(
    an_account_polling_faster_than_its_limit_gets_429_with_nothing_changed,
    |c: &mut Config| limits_on(c, |l| l.limit_status_per_account = rate(4, 60)),
    |app: TestApp| async move {
        let (concert, _) = app.concert(5, 0).await;
        let buyer = app.buyer(&format!("b{}", unique())).await;
        let joined = app.join(&buyer, concert).await;
        let token = joined.body["token"].as_str().expect("a token").to_owned();
        for _ in 0..4 {
            assert_eq!(app.status(&buyer, &token).await.status, StatusCode::OK);
        }
        assert_limited(
            &app.status(&buyer, &token).await,
            "status-per-account",
            4,
            60,
        );
        // Another account at the same address polls on.
        let other = app.buyer(&format!("o{}", unique())).await;
        let joined = app.join(&other, concert).await;
        let other_token = joined.body["token"].as_str().expect("a token").to_owned();
        assert_eq!(
            app.status(&other, &other_token).await.status,
            StatusCode::OK
        );
    }
);

contract!(
    refusals_are_counted_by_limit_in_metrics,
    |c: &mut Config| limits_on(c, |l| l.limit_sign_up_per_address = rate(1, 3_600)),
    |app: TestApp| async move {
        let client = app.client_from("127.0.9.1");
        assert_eq!(sign_up(&client).await.status, StatusCode::CREATED);
        for _ in 0..3 {
            assert_eq!(sign_up(&client).await.status, StatusCode::TOO_MANY_REQUESTS);
        }
        let (_, text) = app.api.metrics().await.expect("metrics");
        assert!(
            text.contains("frontrow_rate_limited_total{limit=\"sign-up-per-address\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("frontrow_rate_limiter_failures_total 0"),
            "{text}"
        );
    }
);
