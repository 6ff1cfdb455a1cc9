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

contract!(
    holds_and_payments_charge_the_tiers_price_and_a_cart_pays_the_sum,
    |app: TestApp| async move {
        let (concert, schedule) = arena_concert(&app).await;
        let (buyer, token) = app.admitted("ada", 1_000, concert).await;
        let floor = app.hold(&buyer, &token, schedule, 3).await;
        assert_eq!(floor.status, StatusCode::CREATED, "{}", floor.body);
        assert_eq!(floor.i64("price"), 180, "the floor tier's price");
        let balcony = app.hold(&buyer, &token, schedule, 25).await;
        assert_eq!(balcony.status, StatusCode::CREATED, "{}", balcony.body);
        assert_eq!(balcony.i64("price"), 60, "the balcony tier's price");

        let cart = [floor.i64("reservationId"), balcony.i64("reservationId")];
        let paid = app.pay_cart(&buyer, &token, &cart).await;
        assert!(paid.status.is_success(), "{}", paid.body);
        assert_eq!(app.balance(&buyer).await, 1_000 - 180 - 60, "the sum");
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM reservations WHERE schedule_id = ? AND status = 'CONFIRMED'",
                schedule
            )
            .await,
            2
        );
    }
);

/// The seats of a best-available cart, after checking it is one.
fn cart_seats(reply: &frontrow_tests::Reply) -> Vec<i64> {
    let reservations = reply.body["reservations"].as_array().expect("a cart");
    let seats: Vec<i64> = reservations
        .iter()
        .map(|r| r["seatNumber"].as_i64().unwrap())
        .collect();
    let prices: i64 = reservations
        .iter()
        .map(|r| r["price"].as_i64().unwrap())
        .sum();
    assert_eq!(reply.i64("totalPrice"), prices, "{}", reply.body);
    seats
}

/// Whether `seats` sit side by side in one row of the arena's floor
/// (rows of 10, an aisle after seat 5) or balcony (rows of 6).
fn together_in_arena(seats: &[i64]) -> bool {
    let row_of = |n: i64| {
        if n <= 20 {
            (n - 1) / 10
        } else {
            2 + (n - 21) / 6
        }
    };
    let consecutive = seats.windows(2).all(|w| w[1] == w[0] + 1);
    let one_row = seats.iter().all(|&n| row_of(n) == row_of(seats[0]));
    let across_aisle = seats.windows(2).any(|w| w[0] <= 20 && (w[0] - 1) % 10 == 4);
    consecutive && one_row && !across_aisle
}

contract!(
    best_available_holds_the_best_seats_together_in_the_tier_asked,
    |app: TestApp| async move {
        let (concert, schedule) = arena_concert(&app).await;
        let (buyer, token) = app.admitted("ada", 1_000, concert).await;
        let best = app
            .api
            .best_available(&buyer, &token, schedule, 2, Some("balcony"), None)
            .await
            .unwrap();
        assert_eq!(best.status, StatusCode::CREATED, "{}", best.body);
        // The balcony's front row (21..=26) is nearest; its middle pair
        // is nearest the stage's centre line.
        assert_eq!(cart_seats(&best), [23, 24]);
        assert_eq!(best.i64("totalPrice"), 120);
        assert_eq!(best.body["reservations"][0]["status"], "HELD");
        assert_eq!(best.body["reservations"][0]["covered"], true);

        let floor = app
            .api
            .best_available(&buyer, &token, schedule, 2, None, Some("A"))
            .await
            .unwrap();
        assert_eq!(floor.status, StatusCode::CREATED, "{}", floor.body);
        let seats = cart_seats(&floor);
        assert!(seats.iter().all(|&n| n <= 10), "the front row: {seats:?}");
        assert!(together_in_arena(&seats), "{seats:?}");

        for (quantity, tier, section, status, code) in [
            (0, None, None, StatusCode::BAD_REQUEST, "INVALID_QUANTITY"),
            (5, None, None, StatusCode::BAD_REQUEST, "INVALID_QUANTITY"),
            (
                1,
                Some("vip"),
                None,
                StatusCode::NOT_FOUND,
                "TIER_NOT_FOUND",
            ),
            (
                1,
                None,
                Some("Z"),
                StatusCode::NOT_FOUND,
                "SECTION_NOT_FOUND",
            ),
        ] {
            let refused = app
                .api
                .best_available(&buyer, &token, schedule, quantity, tier, section)
                .await
                .unwrap();
            assert_eq!(refused.status, status, "{}", refused.body);
            assert_eq!(refused.code(), code);
        }
        // Behind the same gate as a hold.
        let stranger = app.buyer_with_points("bob", 1_000).await;
        let refused = app
            .api
            .best_available(&stranger, &token, schedule, 2, None, None)
            .await
            .unwrap();
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(
            app.count(
                "SELECT COUNT(*) FROM reservations WHERE schedule_id = ?",
                schedule
            )
            .await,
            4,
            "only the two carts were written"
        );
    }
);

contract!(
    with_no_seats_together_best_available_offers_the_best_split,
    |app: TestApp| async move {
        let (concert, schedule) = arena_concert(&app).await;
        // Every other balcony seat taken: none are together.
        let (ada, ada_token) = app.admitted("ada", 1_000, concert).await;
        let (bob, bob_token) = app.admitted("bob", 1_000, concert).await;
        for (i, seat) in [22, 24, 26, 28, 30, 32].into_iter().enumerate() {
            let (buyer, token) = if i < 3 {
                (&ada, &ada_token)
            } else {
                (&bob, &bob_token)
            };
            let held = app.hold(buyer, token, schedule, seat).await;
            assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
        }
        let (cy, cy_token) = app.admitted("cy", 1_000, concert).await;
        let refused = app
            .api
            .best_available(&cy, &cy_token, schedule, 2, Some("balcony"), None)
            .await
            .unwrap();
        assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
        assert_eq!(refused.code(), "NO_ADJACENT_SEATS");
        let split: Vec<i64> = serde_json::from_value(refused.body["split"].clone()).unwrap();
        assert_eq!(split.len(), 2, "{}", refused.body);
        assert!(split.iter().all(|n| [21, 23, 25, 27, 29, 31].contains(n)));
        // Singles are still together enough for one.
        let one = app
            .api
            .best_available(&cy, &cy_token, schedule, 1, Some("balcony"), None)
            .await
            .unwrap();
        assert_eq!(one.status, StatusCode::CREATED, "{}", one.body);
    }
);

/// `buyers` buyers at once ask for 2 floor seats of a floor of `rows`
/// rows × 20 (an aisle after seat 10): every cart is 2 seats side by side
/// in one floor row, no seat is in two carts, and a refusal is honest (no
/// two floor seats are free together at the end). Returns how long the
/// requests took, all together.
async fn race_for_pairs(app: TestApp, rows: i64, buyers: usize) -> std::time::Duration {
    let app = std::sync::Arc::new(app);
    let layout = json!({
        "tiers": [
            {"id": "floor", "name": "Floor", "price": 100},
            {"id": "balcony", "name": "Balcony", "price": 40}
        ],
        "sections": [
            {"id": "F", "name": "Floor", "tier": "floor", "y": 2, "rows":
                (1..=rows).map(|r| json!({"label": r.to_string(), "seats": 20, "gaps": [10]}))
                    .collect::<Vec<_>>()},
            {"id": "B", "name": "Balcony", "tier": "balcony", "y": 4 + rows,
             "rowCount": 2, "seatsPerRow": 20}
        ]
    });
    let created = create_titled(&app, &format!("Rush {}", unique()), layout).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let schedule = created.body["schedules"][0]["scheduleId"].as_i64().unwrap();
    let concert = created.i64("concertId");
    let mut admitted = Vec::with_capacity(buyers);
    for i in 0..buyers {
        admitted.push(app.admitted(&format!("pair{i}"), 1_000, concert).await);
    }
    let started = std::time::Instant::now();
    let tasks: Vec<_> = admitted
        .into_iter()
        .map(|(buyer, token)| {
            let app = app.clone();
            tokio::spawn(async move {
                app.api
                    .best_available(&buyer, &token, schedule, 2, Some("floor"), None)
                    .await
                    .expect("answered")
            })
        })
        .collect();
    let mut replies = Vec::with_capacity(buyers);
    for task in tasks {
        replies.push(task.await.expect("task"));
    }
    let took = started.elapsed();

    let floor_seats = rows * 20;
    let mut taken = std::collections::HashSet::new();
    let mut carts = 0;
    for reply in &replies {
        match reply.status {
            StatusCode::CREATED => {
                let seats = cart_seats(reply);
                assert_eq!(seats.len(), 2);
                assert_eq!(seats[1], seats[0] + 1, "side by side: {seats:?}");
                assert!(seats[1] <= floor_seats, "in the floor tier: {seats:?}");
                assert_eq!((seats[0] - 1) / 20, (seats[1] - 1) / 20, "one row");
                assert_ne!(seats[0] % 20, 10, "not across the aisle: {seats:?}");
                for seat in seats {
                    assert!(taken.insert(seat), "seat {seat} is in two carts");
                }
                carts += 1;
            }
            StatusCode::CONFLICT => {
                let code = reply.code();
                assert!(
                    code == "NO_ADJACENT_SEATS" || code == "SEAT_UNAVAILABLE",
                    "{}",
                    reply.body
                );
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    let held = app
        .count(
            "SELECT COUNT(*) FROM reservations WHERE schedule_id = ? AND status = 'HELD'",
            schedule,
        )
        .await;
    assert_eq!(held, 2 * carts, "every cart and nothing else is held");
    if carts < buyers as i64 {
        // Refusals are honest: no two floor seats are free together.
        let free_pairs = (1..floor_seats)
            .filter(|&n| n % 10 != 0 && !taken.contains(&n) && !taken.contains(&(n + 1)))
            .count();
        let refused_for_nothing = replies
            .iter()
            .filter(|r| r.status == StatusCode::CONFLICT && r.code() == "SEAT_UNAVAILABLE")
            .count();
        assert!(
            free_pairs == 0 || refused_for_nothing > 0,
            "{free_pairs} pairs were free, yet NO_ADJACENT_SEATS was answered"
        );
    }
    println!(
        "{buyers} concurrent best-available requests for 2 of {floor_seats} seats: {carts} carts in {took:?}"
    );
    took
}

contract!(
    concurrent_best_available_carts_are_disjoint_adjacent_and_in_the_tier,
    |app: TestApp| async move {
        // 60 buyers for 40 seats: a sell-out with refusals.
        race_for_pairs(app, 2, 60).await;
    }
);

/// The target, full size: 500 buyers at once for 2 seats of a
/// 1,000-seat floor (50 rows × 20), in under 2 s all together. Run with
/// `cargo test -p frontrow-tests --test venues -- --ignored
/// five_hundred`; the result is in `docs/benchmarks.md`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the full-size target, run by hand"]
async fn five_hundred_buyers_take_pairs_of_a_thousand_seat_section_in_under_two_seconds() {
    for stores in [
        frontrow_tests::Stores::Embedded,
        frontrow_tests::Stores::MySqlRedis,
    ] {
        if let Some(app) = TestApp::spawn(stores).await {
            let took = race_for_pairs(app, 50, 500).await;
            assert!(took < std::time::Duration::from_secs(2), "took {took:?}");
        }
    }
}
