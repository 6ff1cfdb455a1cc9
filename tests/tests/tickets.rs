//! Tickets (`http::tickets`, `frontrow_adapters::tickets::verify`): a paid
//! seat has a signed code that the published key checks with no call to the
//! service; an altered code fails; only the owner of a CONFIRMED
//! reservation gets one. On every backend.

use frontrow_adapters::tickets::{TicketClaims, verify};
use frontrow_tests::{TestApp, contract};
use reqwest::StatusCode;

contract!(
    a_paid_seat_has_a_ticket_the_door_can_check,
    |app: TestApp| async move {
        let (concert, schedule) = app.concert(10, 100).await;
        let (buyer, token) = app.admitted("ada", 500, concert).await;
        let held = app.hold(&buyer, &token, schedule, 4).await;
        assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
        let reservation = held.i64("reservationId");

        let unpaid = app.ticket(&buyer, reservation).await;
        assert_eq!(unpaid.status, StatusCode::CONFLICT, "{}", unpaid.body);
        assert_eq!(unpaid.str("code"), "TICKET_NOT_ISSUED");

        let paid = app.pay(&buyer, &token, reservation).await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
        let ticket = app.ticket(&buyer, reservation).await;
        assert_eq!(ticket.status, StatusCode::OK, "{}", ticket.body);
        assert_eq!(ticket.i64("seatNumber"), 4);
        assert_eq!(ticket.str("startsAt"), "2030-01-01T19:00:00+00:00");
        assert!(ticket.str("qrSvg").starts_with("<?xml") || ticket.str("qrSvg").contains("<svg"));

        // The door: the published key alone.
        let key = app.ticket_public_key().await;
        assert_eq!(key.status, StatusCode::OK, "{}", key.body);
        assert_eq!(key.str("algorithm"), "Ed25519");
        let code = ticket.str("code");
        assert_eq!(
            verify(code, key.str("publicKey")),
            Ok(TicketClaims {
                reservation,
                schedule,
                seat: 4,
                user: buyer.user_id,
                starts_at: 1_893_524_400, // 2030-01-01T19:00:00Z
            })
        );

        // One character of the payload changed: refused.
        let mut altered = code.as_bytes().to_vec();
        let at = key.str("prefix").len() + 10;
        altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).expect("ascii");
        assert!(verify(&altered, key.str("publicKey")).is_err());

        // Someone else's reservation is not found, paid or not.
        let eve = app.buyer("eve").await;
        let theirs = app.ticket(&eve, reservation).await;
        assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.body);
        assert_eq!(theirs.str("code"), "RESERVATION_NOT_FOUND");
    }
);
