//! The room's rules, each as a short story.

use super::*;
use crate::ReservationId;
use crate::queue::StockRule;

const IDLE: i64 = 8_000;

fn settings() -> RoomSettings {
    RoomSettings {
        default_policy: AdmissionPolicy::new(1, 1_000, false).expect("a policy"),
        active_ms: 20_000,
        active_idle_ms: IDLE,
        waiting_idle_ms: IDLE,
        stock_rule: StockRule::default(),
        controller: RateController::default(),
    }
}

fn token(n: u64) -> QueueToken {
    QueueToken::parse(&format!("1.{n}.0.ab")).expect("a token")
}

fn at(ms: i64) -> Timestamp {
    Timestamp(ms)
}

/// A room where user 1 is ACTIVE from 0 ms.
fn room_with_one_active() -> Room {
    let mut room = Room::default();
    let joined = room.join(UserId::from_store(1), token(1), 0, &settings(), at(0));
    assert_eq!(joined.answer.status, QueueStatus::Active);
    room
}

#[test]
fn a_turn_never_ends_under_a_live_hold_but_takes_no_new_hold() {
    let mut room = room_with_one_active();
    room.keep(&token(1), Some(at(60_000)), at(1_000));
    // The idle lapse (8 s) and the turn (20 s) pass; the cart keeps it.
    assert_eq!(
        room.place(&token(1), &settings(), at(30_000)).status,
        QueueStatus::Active
    );
    assert!(!room.turn_running(&token(1), at(30_000)), "no more holds");
    let lapsed = room.place(&token(1), &settings(), at(60_000));
    assert_eq!(
        (lapsed.status, lapsed.ended),
        (QueueStatus::Expired, Some(Ending::TurnEnded))
    );
}

#[test]
fn an_emptied_cart_after_the_turn_ends_the_place_at_once() {
    let mut room = room_with_one_active();
    room.keep(&token(1), Some(at(60_000)), at(1_000));
    room.keep(&token(1), None, at(30_000));
    assert_eq!(
        room.place(&token(1), &settings(), at(30_000)).ended,
        Some(Ending::TurnEnded),
        "the turn had ended: nothing keeps the place"
    );
    assert_eq!(
        room.place(&token(1), &settings(), at(30_000)).status,
        QueueStatus::Expired
    );
}

#[test]
fn asking_again_for_a_live_place_is_a_sign_of_life() {
    let mut room = room_with_one_active();
    let again = room.join(UserId::from_store(1), token(9), 0, &settings(), at(7_000));
    assert!(!again.created && again.token == token(1));
    // Without the re-join the place would have idled out at 8 s.
    assert_eq!(
        room.place(&token(1), &settings(), at(10_000)).status,
        QueueStatus::Active
    );
}

#[test]
fn a_place_says_why_it_ended() {
    let mut room = room_with_one_active();
    // User 2 waits behind a full room, then goes quiet past the grace.
    room.join(UserId::from_store(2), token(2), 0, &settings(), at(0));
    room.leave(&token(1), Ending::Paid, &settings(), at(20_000));
    assert_eq!(
        room.place(&token(1), &settings(), at(20_000)).ended,
        Some(Ending::Paid)
    );
    let skipped = room.place(&token(2), &settings(), at(20_000));
    assert_eq!(
        (skipped.status, skipped.ended),
        (QueueStatus::Expired, Some(Ending::Lapsed))
    );
}

#[test]
fn endings_are_remembered_within_a_bound() {
    let mut room = Room::default();
    let settings = RoomSettings {
        default_policy: AdmissionPolicy::new(1_000_000, 100_000, false).expect("a policy"),
        ..settings()
    };
    for n in 0..(MAX_ENDED as u64 + 10) {
        room.join(UserId::from_store(n as i64), token(n), 0, &settings, at(0));
        room.leave(&token(n), Ending::Left, &settings, at(0));
    }
    assert!(room.endings.len() <= MAX_ENDED);
    assert!(room.is_idle());
}

/// A room of `seats` seats, capacity 1,000 at 1,000/s, and 1,000 buyers
/// waiting after the first round.
fn a_rush_for(seats: i64, settings: &RoomSettings) -> Room {
    let mut room = Room::default();
    room.open_stock(seats);
    for n in 0..1_000 {
        room.join(
            UserId::from_store(n as i64 + 1),
            token(n),
            0,
            settings,
            at(0),
        );
    }
    room
}

fn rush_settings() -> RoomSettings {
    RoomSettings {
        default_policy: AdmissionPolicy::new(1_000, 1_000, false).expect("a policy"),
        active_ms: 600_000,
        active_idle_ms: 0,
        waiting_idle_ms: 0,
        ..settings()
    }
}

#[test]
fn with_ten_seats_available_a_thousand_waiting_buyers_are_not_let_in() {
    let settings = rush_settings();
    let mut room = a_rush_for(10, &settings);
    let stats = room.stats(&settings, at(5_000));
    // ceil(10 × 125 %) + 2 = 15 ACTIVE, however many wait and whatever the
    // capacity and rate allow.
    assert_eq!((stats.active, stats.waiting, stats.admitted), (15, 985, 15));
}

#[test]
fn seats_taken_stop_admission_and_seats_returned_resume_it() {
    let settings = rush_settings();
    let mut room = a_rush_for(10, &settings);
    // Every seat is held for 30 s: nobody more, even when places free up.
    for seat in 1..=10 {
        room.seat_changed(
            ScheduleId::from_store(1),
            SeatNumber::from_store(seat),
            1,
            SeatState::Held {
                reservation: ReservationId::from_store(seat),
                until: at(30_000),
            },
        );
    }
    room.leave(&token(0), Ending::Left, &settings, at(1_000));
    let stats = room.stats(&settings, at(1_000));
    assert_eq!((stats.active, stats.admitted), (14, 15));
    // The holds lapse: ten seats return, and the room admits up to the rule.
    let stats = room.stats(&settings, at(30_000));
    assert_eq!((stats.active, stats.admitted), (15, 16));
}

#[test]
fn the_rule_is_a_share_of_the_seats_available_plus_a_spare() {
    let rule = StockRule::new(125, 2).expect("a rule");
    let available = |n: i64| {
        Some(Stock {
            total: 100,
            sold: 100 - n,
            held: 0,
        })
    };
    assert_eq!(rule.most_active(available(0)), 0);
    assert_eq!(rule.most_active(available(1)), 4);
    assert_eq!(rule.most_active(available(10)), 15);
    assert_eq!(rule.most_active(available(100)), 127);
    assert_eq!(rule.most_active(None), i64::MAX);
    assert_eq!(StockRule::new(0, 2), None);
    assert_eq!(StockRule::new(100, -1), None);
}
