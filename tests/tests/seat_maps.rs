//! The seat map on the wire, on every backend: an ETag that a repeated read
//! answers with 304 until the map changes, and gzip and brotli bodies that
//! decode to the very JSON sent uncompressed.

use frontrow_tests::{Buyer, Reply, TestApp, contract};
use reqwest::{Method, StatusCode};
use std::io::Read;

fn header(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The seat map's raw answer with `Accept-Encoding: offer` (none: `None`).
async fn seat_map_bytes(
    app: &TestApp,
    buyer: &Buyer,
    token: &str,
    schedule: i64,
    offer: Option<&str>,
) -> (Option<String>, Vec<u8>) {
    let path = format!("/api/v1/schedules/{schedule}/seats");
    let mut request = app
        .api
        .request(Method::GET, &path)
        .bearer_auth(&buyer.access_token)
        .header("X-Queue-Token", token);
    if let Some(offer) = offer {
        request = request.header("Accept-Encoding", offer);
    }
    let response = request.send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(response.headers(), "vary").as_deref(),
        Some("Accept-Encoding")
    );
    let coding = header(response.headers(), "content-encoding");
    let body = response.bytes().await.expect("a body").to_vec();
    (coding, body)
}

async fn read_if_none_match(
    app: &TestApp,
    buyer: &Buyer,
    token: &str,
    schedule: i64,
    etag: &str,
) -> Reply {
    let path = format!("/api/v1/schedules/{schedule}/seats");
    let headers = [("X-Queue-Token", token), ("If-None-Match", etag)];
    app.call(
        Method::GET,
        &path,
        Some(&buyer.access_token),
        &headers,
        None,
    )
    .await
}

contract!(
    a_seat_map_read_again_unchanged_is_a_304_until_a_seat_changes,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(50, 10).await;
        let (buyer, token) = app.admitted("etag", 100, concert).await;
        let first = app.seats(&buyer, &token, schedule).await;
        assert_eq!(first.status, StatusCode::OK);
        let etag = header(&first.headers, "etag").expect("an ETag");
        let unchanged = read_if_none_match(&app, &buyer, &token, schedule, &etag).await;
        assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
        assert_eq!(header(&unchanged.headers, "etag"), Some(etag.clone()));
        assert!(unchanged.body.is_null(), "a 304 has no body");

        let held = app.hold(&buyer, &token, schedule, 3).await;
        assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
        let changed = read_if_none_match(&app, &buyer, &token, schedule, &etag).await;
        assert_eq!(changed.status, StatusCode::OK, "the map changed");
        assert_ne!(header(&changed.headers, "etag"), Some(etag));
        assert_eq!(changed.body["seats"][2]["status"], "HELD");
    }
);

contract!(
    gzip_and_brotli_bodies_decode_to_the_json_sent_as_it_is,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(400, 10).await;
        let (buyer, token) = app.admitted("zip", 100, concert).await;
        let (coding, plain) = seat_map_bytes(&app, &buyer, &token, schedule, None).await;
        assert_eq!(coding, None);
        let json: serde_json::Value = serde_json::from_slice(&plain).expect("JSON");
        assert_eq!(json["seats"].as_array().map(Vec::len), Some(400));
        for (offer, expected) in [
            ("gzip", Some("gzip")),
            ("br", Some("br")),
            ("gzip, deflate, br", Some("br")),
            ("br;q=0, gzip", Some("gzip")),
            ("identity", None),
        ] {
            let (coding, body) = seat_map_bytes(&app, &buyer, &token, schedule, Some(offer)).await;
            assert_eq!(coding.as_deref(), expected, "offered {offer}");
            let mut decoded = Vec::new();
            match coding.as_deref() {
                Some("gzip") => {
                    flate2::read::GzDecoder::new(&body[..])
                        .read_to_end(&mut decoded)
                        .expect("gzip");
                }
                Some("br") => {
                    brotli::Decompressor::new(&body[..], 4096)
                        .read_to_end(&mut decoded)
                        .expect("brotli");
                }
                _ => decoded = body.clone(),
            }
            assert_eq!(decoded, plain, "offered {offer}: the same JSON");
            if coding.is_some() {
                assert!(
                    body.len() * 5 < plain.len(),
                    "{offer}: {} bytes",
                    body.len()
                );
            }
        }
    }
);
