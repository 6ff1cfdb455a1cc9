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
        pick_ms: 0,
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
    room.keep(&token(1), Some(at(60_000)), &settings(), at(1_000));
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
    room.keep(&token(1), Some(at(60_000)), &settings(), at(1_000));
    room.keep(&token(1), None, &settings(), at(30_000));
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

const PICK: i64 = 5_000;

/// One ACTIVE slot, a 20 s turn, a 5 s pick window and no idle lapses:
/// user 1 is ACTIVE from 0 ms and user 2 waits behind.
fn picking() -> (Room, RoomSettings) {
    let settings = RoomSettings {
        active_idle_ms: 0,
        waiting_idle_ms: 0,
        pick_ms: PICK,
        ..settings()
    };
    let mut room = Room::default();
    let first = room.join(UserId::from_store(1), token(1), 0, &settings, at(0));
    let second = room.join(UserId::from_store(2), token(2), 0, &settings, at(0));
    assert_eq!(
        (first.answer.status, second.answer.status),
        (QueueStatus::Active, QueueStatus::Waiting)
    );
    (room, settings)
}

#[test]
fn a_place_that_holds_nothing_loses_its_turn_after_the_pick_window() {
    let (mut room, settings) = picking();
    let polled = room.place(&token(1), &settings, at(4_999));
    assert_eq!(
        (polled.status, polled.turn_ends_at),
        (QueueStatus::Active, Some(at(PICK))),
        "the deadline shown is the pick window's, not the 20 s turn's"
    );
    // The window ends: the slot goes to the next in line.
    assert_eq!(
        room.place(&token(2), &settings, at(PICK)).status,
        QueueStatus::Active
    );
    let ended = room.place(&token(1), &settings, at(PICK));
    assert_eq!(
        (ended.status, ended.ended),
        (QueueStatus::Expired, Some(Ending::TurnEnded))
    );
}

#[test]
fn a_place_that_holds_keeps_its_turn_while_the_cart_lives() {
    let (mut room, settings) = picking();
    room.keep(&token(1), Some(at(12_000)), &settings, at(1_000));
    let holding = room.place(&token(1), &settings, at(11_000));
    assert_eq!(holding.status, QueueStatus::Active);
    assert!(room.turn_running(&token(1), at(11_000)), "may hold more");
    // The cart lapses at 12 s: the window runs again from there.
    let lapsed_cart = room.place(&token(1), &settings, at(16_999));
    assert_eq!(
        (lapsed_cart.status, lapsed_cart.turn_ends_at),
        (QueueStatus::Active, Some(at(12_000 + PICK)))
    );
    assert_eq!(
        room.place(&token(1), &settings, at(12_000 + PICK)).status,
        QueueStatus::Expired
    );
    assert_eq!(
        room.place(&token(2), &settings, at(12_000 + PICK)).status,
        QueueStatus::Active
    );
}

#[test]
fn after_paying_the_buyer_has_the_window_again_within_the_turn() {
    let (mut room, settings) = picking();
    room.keep(&token(1), Some(at(30_000)), &settings, at(1_000));
    // Paid at 10 s with nothing else held: 5 s more to pick a second seat.
    room.keep(&token(1), None, &settings, at(10_000));
    let paid = room.place(&token(1), &settings, at(14_999));
    assert_eq!(
        (paid.status, paid.turn_ends_at),
        (QueueStatus::Active, Some(at(10_000 + PICK)))
    );
    assert!(room.turn_running(&token(1), at(14_999)));
    // The second seat, paid at 18 s: the window would run to 23 s, but
    // the hard deadline (20 s) ends the turn first.
    room.keep(&token(1), Some(at(40_000)), &settings, at(14_000));
    room.keep(&token(1), None, &settings, at(18_000));
    let last = room.place(&token(1), &settings, at(19_999));
    assert_eq!(last.turn_ends_at, Some(at(20_000)), "never past the turn");
    assert_eq!(
        room.place(&token(1), &settings, at(20_000)).status,
        QueueStatus::Expired
    );
}

#[test]
fn no_pick_window_when_it_is_zero() {
    let (mut room, settings) = picking();
    let settings = RoomSettings {
        pick_ms: 0,
        ..settings
    };
    // Admitted under a window; under 0 a new admission has none.
    room.leave(&token(1), Ending::Left, &settings, at(1_000));
    let idle = room.place(&token(2), &settings, at(19_999));
    assert_eq!(
        (idle.status, idle.turn_ends_at),
        (QueueStatus::Active, Some(at(21_000))),
        "held nothing for 19 s, kept to the turn's end"
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
    // Nobody holds: ceil(10 × 100 %) + 2 = 12 ACTIVE, however many wait and
    // whatever the capacity and rate allow.
    assert_eq!((stats.active, stats.waiting, stats.admitted), (12, 988, 12));
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
    assert_eq!((stats.active, stats.admitted), (11, 12));
    // The holds lapse: ten seats return, and the room admits up to the rule.
    let stats = room.stats(&settings, at(30_000));
    assert_eq!((stats.active, stats.admitted), (12, 13));
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
    let with_holds = Some(Stock {
        total: 100,
        sold: 50,
        held: 40,
    });
    assert_eq!(
        rule.most_active(with_holds),
        15 + 40,
        "and a place per hold"
    );
    assert_eq!(StockRule::new(0, 2), None);
    assert_eq!(StockRule::new(100, -1), None);
}
