//! Venues: a concert created from a layout reads it back, a malformed
//! layout is refused naming its fault with nothing written, free seats are
//! counted by section and tier, and a seat map's status comes as a letter
//! per seat. On every backend.

use frontrow_client::{NewConcert, NewSchedule};
use frontrow_tests::{TestApp, contract, unique};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Two tiers: a floor of 2 rows × 10 at 180 with a gap after seat 5, and a
/// balcony of 2 rows × 6 at 60 (seats 21 to 32).
fn arena() -> Value {
    json!({
        "tiers": [
            {"id": "floor", "name": "Floor", "price": 180},
            {"id": "balcony", "name": "Balcony", "price": 60}
        ],
        "sections": [
            {"id": "A", "name": "Floor A", "tier": "floor", "x": 0, "y": 2,
             "rows": [{"label": "1", "seats": 10, "gaps": [5]}, {"label": "2", "seats": 10}]},
            {"id": "B", "name": "Balcony", "tier": "balcony", "x": 2, "y": 6,
             "rowCount": 2, "seatsPerRow": 6}
        ]
    })
}

/// A concert titled `title` with one schedule of `layout`: the answer to
/// the create.
async fn create_titled(app: &TestApp, title: &str, layout: Value) -> frontrow_tests::Reply {
    let schedule = NewSchedule::with_layout("2030-01-01T19:00:00Z", layout);
    app.api
        .create_concert(&NewConcert::new(title, vec![schedule]))
        .await
        .expect("answered")
}

async fn arena_concert(app: &TestApp) -> (i64, i64) {
    let created = create_titled(app, &format!("Arena {}", unique()), arena()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let schedule = created.body["schedules"][0]["scheduleId"].as_i64().unwrap();
    (created.i64("concertId"), schedule)
}

contract!(a_layout_round_trips, |app: TestApp| async move {
    let (_, schedule) = arena_concert(&app).await;
    let layout = app.api.layout(schedule, None).await.unwrap();
    assert_eq!(layout.status, StatusCode::OK, "{}", layout.body);
    assert_eq!(layout.i64("seatCount"), 32);
    assert_eq!(layout.body["numberedHall"], false);
    let sections = &layout.body["sections"];
    assert_eq!(sections[0]["sectionId"], "A");
    assert_eq!(sections[0]["rows"][0]["gaps"], json!([5]));
    assert_eq!(sections[1]["firstSeat"], 21);
    assert_eq!(sections[1]["rows"][1]["label"], "2");
    assert_eq!(sections[1]["rows"][1]["tierId"], "balcony");
    assert_eq!(layout.body["tiers"][1]["price"], 60);

    // Immutable: the same ETag, and a 304 for a client that has it.
    let etag = layout.headers["etag"].to_str().unwrap().to_owned();
    assert!(
        layout.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let again = app.api.layout(schedule, Some(&etag)).await.unwrap();
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers["etag"].to_str().unwrap(), etag);
});

contract!(
    a_schedule_without_a_layout_is_a_numbered_hall,
    |app: TestApp| async move {
        let (_, schedule) = app.concert(45, 30).await;
        let layout = app.api.layout(schedule, None).await.unwrap();
        assert_eq!(layout.status, StatusCode::OK, "{}", layout.body);
        assert_eq!(layout.body["numberedHall"], true);
        assert_eq!(layout.i64("seatCount"), 45);
        let rows: Vec<i64> = layout.body["sections"][0]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["seats"].as_i64().unwrap())
            .collect();
        assert_eq!(rows, [20, 20, 5]);
        assert_eq!(layout.body["tiers"][0]["price"], 30);
        let missing = app.api.layout(999_999, None).await.unwrap();
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.code(), "SCHEDULE_NOT_FOUND");
    }
);

contract!(
    a_malformed_layout_is_refused_naming_its_fault_and_nothing_is_written,
    |app: TestApp| async move {
        let faults = [
            ("UNKNOWN_TIER", json!({"/sections/0/tier": "vip"})),
            ("DUPLICATE_SECTION", json!({"/sections/1/id": "A"})),
            ("EMPTY_ROW", json!({"/sections/0/rows/1/seats": 0})),
            ("INVALID_GAP", json!({"/sections/0/rows/0/gaps": [10]})),
            ("DUPLICATE_TIER", json!({"/tiers/1/id": "floor"})),
            ("ROWS_OR_GRID", json!({"/sections/1/seatsPerRow": null})),
            (
                "TOO_MANY_SEATS",
                json!({"/sections/1/rowCount": 200, "/sections/1/seatsPerRow": 500}),
            ),
            ("INVALID_PRICE", json!({"/tiers/0/price": -5})),
        ];
        let refused_title = format!("Refused {}", unique());
        for (fault, changes) in faults {
            let mut layout = arena();
            for (pointer, value) in changes.as_object().unwrap() {
                *layout.pointer_mut(pointer).expect(pointer) = value.clone();
            }
            let refused = create_titled(&app, &refused_title, layout).await;
            assert_eq!(
                refused.status,
                StatusCode::BAD_REQUEST,
                "{fault}: {}",
                refused.body
            );
            assert_eq!(refused.code(), "INVALID_LAYOUT", "{fault}");
            assert_eq!(refused.body["fault"], fault, "{}", refused.body);
        }
        // A layout with a seat count beside it is ambiguous.
        let mut both = NewSchedule::with_layout("2030-01-01T19:00:00Z", arena());
        both.seat_count = Some(32);
        let refused = app
            .api
            .create_concert(&NewConcert::new(refused_title.clone(), vec![both]))
            .await
            .unwrap();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_eq!(refused.code(), "INVALID_CONCERT");

        let listed = app.api.concerts().await.unwrap();
        let titles: Vec<&str> = listed.body["concerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["title"].as_str())
            .collect();
        assert!(
            !titles.contains(&refused_title.as_str()),
            "nothing was listed: {titles:?}"
        );
        assert_eq!(
            app.text(
                "SELECT COALESCE(MAX(title), 'none') FROM concerts WHERE title = ?",
                refused_title
            )
            .await,
            "none",
            "nothing was written"
        );
    }
);

contract!(
    free_seats_are_counted_by_section_and_tier,
    |app: TestApp| async move {
        let (concert, schedule) = arena_concert(&app).await;
        let (buyer, token) = app.admitted("ada", 1_000, concert).await;
        for seat in [1, 21] {
            let held = app.hold(&buyer, &token, schedule, seat).await;
            assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
        }
        let (_, paid) = app.buy(&buyer, &token, schedule, 32).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);

        let schedules = app.schedules(&buyer, &token, concert).await;
        assert_eq!(schedules.status, StatusCode::OK, "{}", schedules.body);
        let listed = &schedules.body["schedules"][0];
        assert_eq!(listed["price"], 60, "the lowest tier's");
        assert_eq!(listed["availableSeats"], 29);
        let tiers = &listed["tiers"];
        assert_eq!(
            (
                &tiers[0]["tierId"],
                &tiers[0]["price"],
                &tiers[0]["seatCount"],
                &tiers[0]["availableSeats"]
            ),
            (&json!("floor"), &json!(180), &json!(20), &json!(19))
        );
        assert_eq!(
            (&tiers[1]["seatCount"], &tiers[1]["availableSeats"]),
            (&json!(12), &json!(10))
        );

        let overview = app.api.overview(&buyer, &token, schedule).await.unwrap();
        assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
        let b = &overview.body["sections"][1];
        assert_eq!(
            (&b["sectionId"], &b["availableSeats"]),
            (&json!("B"), &json!(10))
        );
        assert_eq!(
            (&b["lowestPrice"], &b["highestPrice"]),
            (&json!(60), &json!(60))
        );

        let status = app
            .api
            .seat_status(&buyer, &token, schedule, Some("B"))
            .await
            .unwrap();
        assert_eq!(status.status, StatusCode::OK, "{}", status.body);
        let sections = status.body["sections"].as_array().unwrap();
        assert_eq!(sections.len(), 1);
        assert_eq!(sections[0]["firstSeat"], 21);
        assert_eq!(sections[0]["status"], "HAAAAAAAAAAS");
        let all = app
            .api
            .seat_status(&buyer, &token, schedule, None)
            .await
            .unwrap();
        assert_eq!(all.body["sections"][0]["status"], "HAAAAAAAAAAAAAAAAAAA");
        let unknown = app
            .api
            .seat_status(&buyer, &token, schedule, Some("Z"))
            .await
            .unwrap();
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(unknown.code(), "SECTION_NOT_FOUND");

        // Behind the gate like the seat map.
        let stranger = app.buyer("bob").await;
        let refused = app.api.overview(&stranger, &token, schedule).await.unwrap();
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    }
);

contract!(
    a_ten_thousand_seat_hall_reads_small,
    |app: TestApp| async move {
        // 20 sections of 10 rows × 50: the big hall.
        let sections: Vec<Value> = (0..20)
            .map(|i| {
                json!({"id": format!("S{i}"), "name": format!("Block {i}"),
                   "tier": if i < 4 { "floor" } else { "balcony" },
                   "x": (i % 5) * 52, "y": 2 + (i / 5) * 12, "rowCount": 10, "seatsPerRow": 50})
            })
            .collect();
        let layout = json!({"tiers": arena()["tiers"], "sections": sections});
        let created = create_titled(&app, &format!("Big {}", unique()), layout).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        let schedule = created.body["schedules"][0]["scheduleId"].as_i64().unwrap();
        let (buyer, token) = app.admitted("ada", 0, created.i64("concertId")).await;

        let layout = app.api.layout(schedule, None).await.unwrap();
        assert_eq!(layout.i64("seatCount"), 10_000);
        let layout_bytes = serde_json::to_vec(&layout.body).unwrap().len();
        let status = app
            .api
            .seat_status(&buyer, &token, schedule, None)
            .await
            .unwrap();
        let status_bytes = serde_json::to_vec(&status.body).unwrap().len();
        let overview = app.api.overview(&buyer, &token, schedule).await.unwrap();
        let overview_bytes = serde_json::to_vec(&overview.body).unwrap().len();
        println!(
            "10,000 seats: layout {layout_bytes} B, status {status_bytes} B, overview {overview_bytes} B (uncompressed)"
        );
        assert!(
            status_bytes < 20_000,
            "a status read under 20 KB: {status_bytes}"
        );
        assert!(
            layout_bytes + status_bytes < 100_000,
            "a first paint under 100 KB"
        );
    }
);
