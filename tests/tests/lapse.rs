//! Places that lapse when people leave: an absent waiter is skipped when the
//! line reaches it, an idle ACTIVE holder gives the slot back, and so does
//! an ACTIVE buyer who holds nothing past the pick window.

use frontrow_tests::{TestApp, contract, events_until};
use reqwest::StatusCode;
use std::time::Duration;

contract!(
    idle_waiters_lapse_and_present_buyers_behind_them_are_admitted_in_order,
    |c: &mut frontrow::Config| c.waiting_idle_seconds = 2,
    |app: TestApp| async move {
        let (concert, _) = app.concert(5, 0).await;
        app.set_queue(concert, 1, 1000, false).await;
        let first = app.buyer("first").await;
        let t1 = app.join(&first, concert).await.str("token").to_owned();
        assert_eq!(app.status(&first, &t1).await.str("status"), "ACTIVE");
        let mut line = Vec::new();
        for name in ["gone1", "here1", "gone2", "here2"] {
            let buyer = app.buyer(name).await;
            let token = app.join(&buyer, concert).await.str("token").to_owned();
            line.push((name, buyer, token));
        }
        // Only the "here" buyers keep asking while the first one shops.
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            for (name, buyer, token) in &line {
                if name.starts_with("here") {
                    assert_eq!(app.status(buyer, token).await.str("status"), "WAITING");
                }
            }
        }
        let left = app.leave(&first, &t1).await;
        assert_eq!(left.status, StatusCode::NO_CONTENT, "{}", left.body);
        let (_, here1, h1) = &line[1];
        assert_eq!(
            app.status(here1, h1).await.str("status"),
            "ACTIVE",
            "the absent buyer ahead was skipped"
        );
        let (_, gone1, g1) = &line[0];
        let gone = app.status(gone1, g1).await;
        assert_eq!(gone.str("status"), "EXPIRED");
        assert_eq!(gone.str("expiredReason"), "LAPSED", "the page can say why");
        let first_left = app.status(&first, &t1).await;
        assert_eq!(first_left.str("expiredReason"), "LEFT");
        let state = app.queue_state(concert).await;
        assert_eq!(state.i64("lapsed"), 1, "{}", state.body);
        // Back again, the absent buyer joins at the back of the line.
        let again = app.join(gone1, concert).await;
        assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
        assert_eq!(again.i64("position"), 3, "{}", again.body);
    }
);

contract!(
    an_idle_active_buyer_loses_the_slot_and_the_next_is_admitted,
    |c: &mut frontrow::Config| c.active_idle_seconds = 2,
    |app: TestApp| async move {
        let (concert, _) = app.concert(5, 0).await;
        app.set_queue(concert, 1, 1000, false).await;
        let idle = app.buyer("idle").await;
        let next = app.buyer("next").await;
        let t1 = app.join(&idle, concert).await.str("token").to_owned();
        let t2 = app.join(&next, concert).await.str("token").to_owned();
        assert_eq!(app.status(&next, &t2).await.str("status"), "WAITING");
        let started = std::time::Instant::now();
        let mut admitted = None;
        while started.elapsed() < Duration::from_secs(6) {
            if app.status(&next, &t2).await.str("status") == "ACTIVE" {
                admitted = Some(started.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let admitted = admitted.expect("the next buyer is admitted");
        assert!(
            admitted < Duration::from_millis(3200),
            "admitted {admitted:?} after the idle buyer's last request"
        );
        let ended = app.status(&idle, &t1).await;
        assert_eq!(ended.str("status"), "EXPIRED");
        assert_eq!(ended.str("expiredReason"), "TURN_ENDED");
        assert!(app.queue_state(concert).await.i64("lapsed") >= 1);
    }
);

contract!(
    a_buyer_who_holds_nothing_loses_the_slot_after_the_pick_window,
    |c: &mut frontrow::Config| c.pick_seconds = 2,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(5, 100).await;
        app.set_queue(concert, 2, 1000, false).await;
        let started = std::time::Instant::now();
        let before = chrono::Utc::now();
        // Present all along (it polls), but never holds a seat.
        let (browser, tb) = app.admitted("browser", 0, concert).await;
        let (holder, th) = app.admitted("holder", 500, concert).await;
        let held = app.hold(&holder, &th, schedule, 1).await;
        assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
        let next = app.buyer("next").await;
        let tn = app.join(&next, concert).await.str("token").to_owned();
        let shown = app.status(&browser, &tb).await;
        let ends: chrono::DateTime<chrono::Utc> = shown.body["turnEndsAt"]
            .as_str()
            .and_then(|raw| raw.parse().ok())
            .expect("an ACTIVE place shows when its turn ends");
        assert!(
            ends <= chrono::Utc::now() + chrono::Duration::seconds(2) && ends > before,
            "the pick window's end, not the 600 s turn's: {}",
            shown.body
        );
        let mut admitted = None;
        while started.elapsed() < Duration::from_secs(6) {
            if app.status(&next, &tn).await.str("status") == "ACTIVE" {
                admitted = Some(started.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let admitted = admitted.expect("the next buyer is admitted");
        assert!(
            admitted >= Duration::from_millis(1_900) && admitted < Duration::from_millis(3_500),
            "admitted {admitted:?} after the browsing buyer's admission"
        );
        let ended = app.status(&browser, &tb).await;
        assert_eq!(ended.str("status"), "EXPIRED");
        assert_eq!(ended.str("expiredReason"), "TURN_ENDED");
        let holding = app.status(&holder, &th).await;
        assert_eq!(holding.str("status"), "ACTIVE", "the cart keeps the place");
    }
);

contract!(
    a_stream_keeps_a_waiting_place_present_and_survives_a_reconnect,
    |c: &mut frontrow::Config| c.waiting_idle_seconds = 2,
    |app: TestApp| async move {
        let (concert, _) = app.concert(5, 0).await;
        app.set_queue(concert, 1, 1000, false).await;
        let first = app.buyer("first").await;
        let t1 = app.join(&first, concert).await.str("token").to_owned();
        let second = app.buyer("watcher").await;
        let token = app.join(&second, concert).await.str("token").to_owned();
        let open = || app.api.queue_stream(&second, &token);
        // Only the stream asks for the watcher's status, for longer than
        // the idle time, across a reconnect.
        let mut stream = open().await.expect("stream opens");
        let first_events = events_until(&mut stream, |_| true).await;
        assert_eq!(first_events[0]["status"], "WAITING");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        drop(stream);
        let mut stream = open().await.expect("stream reopens");
        let again = events_until(&mut stream, |_| true).await;
        assert_eq!(
            again[0]["status"], "WAITING",
            "the same place after a reconnect"
        );
        assert_eq!(again[0]["position"], 1);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let left = app.leave(&first, &t1).await;
        assert_eq!(left.status, StatusCode::NO_CONTENT);
        let active = events_until(&mut stream, |e| e["status"] != "WAITING").await;
        assert_eq!(
            active.last().expect("an event")["status"],
            "ACTIVE",
            "the stream kept the place present"
        );
    }
);

contract!(
    a_waiting_buyer_quiet_for_less_than_the_grace_keeps_the_place,
    |c: &mut frontrow::Config| c.waiting_idle_seconds = 3,
    |app: TestApp| async move {
        let (concert, _) = app.concert(5, 0).await;
        app.set_queue(concert, 1, 1000, false).await;
        let first = app.buyer("first").await;
        let t1 = app.join(&first, concert).await.str("token").to_owned();
        let quiet = app.buyer("quiet").await;
        let token = app.join(&quiet, concert).await.str("token").to_owned();
        // A locked phone for less than the grace, then back.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert_eq!(app.status(&quiet, &token).await.str("status"), "WAITING");
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        app.leave(&first, &t1).await;
        assert_eq!(
            app.status(&quiet, &token).await.str("status"),
            "ACTIVE",
            "back within the grace: the place was kept"
        );
    }
);
