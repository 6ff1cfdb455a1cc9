//! `POST /api/v1/payments`.

use super::limits::QueueTokenHeader;
use super::problem::{ProblemResponse, invalid_cart};
use super::security::Buyer;
use super::{AppState, Tag};
use frontrow_application::payments::Receipt;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

pub struct PaymentsApi(pub Arc<AppState>);

/// What to pay for: one reservation (`reservationId`, today's clients) or
/// a cart (`reservationIds`), exactly one of the two.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Pay {
    /// One reservation: a cart of one.
    reservation_id: Option<i64>,
    /// The cart: 1 to the per-buyer seat limit distinct reservations of
    /// one concert, paid together or not at all.
    #[oai(validator(max_items = 64))]
    reservation_ids: Option<Vec<i64>>,
}

/// One seat of a payment.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ReceiptLineBody {
    reservation_id: i64,
    schedule_id: i64,
    seat_number: i64,
    /// The seat's price.
    amount: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ReceiptBody {
    payment_id: i64,
    /// The first (lowest) reservation paid: a one-seat payment's only one.
    reservation_id: i64,
    /// The points taken: the sum of the lines.
    amount: i64,
    /// The balance right after this payment.
    balance: i64,
    /// A line per seat, ascending by reservation.
    lines: Vec<ReceiptLineBody>,
}

#[derive(ApiResponse)]
enum ReceiptResponse {
    /// The payment that paid this reservation, with every line of it.
    #[oai(status = 200)]
    Found(Json<ReceiptBody>),
}

#[derive(ApiResponse)]
enum PayResponse {
    /// Paid now: the seats are yours.
    #[oai(status = 201)]
    Paid(Json<ReceiptBody>),
    /// Already paid earlier (the same cart): the same receipt, charged once.
    #[oai(status = 200)]
    AlreadyPaid(Json<ReceiptBody>),
}

fn body(receipt: Receipt) -> Json<ReceiptBody> {
    let lines: Vec<ReceiptLineBody> = receipt
        .lines
        .iter()
        .map(|line| ReceiptLineBody {
            reservation_id: line.reservation.get(),
            schedule_id: line.schedule.get(),
            seat_number: line.seat.get(),
            amount: line.amount.get(),
        })
        .collect();
    Json(ReceiptBody {
        payment_id: receipt.payment.get(),
        reservation_id: lines.first().map_or(0, |line| line.reservation_id),
        amount: receipt.amount.get(),
        balance: receipt.balance.get(),
        lines,
    })
}

#[OpenApi(tag = "Tag::Payments")]
impl PaymentsApi {
    /// Pay for held seats with points, all in one payment
    ///
    /// Each reservation is paid at most once: paying the same cart again
    /// returns the first receipt with 200 and charges nothing; a cart that
    /// shares a paid reservation with another payment is refused (409
    /// `ALREADY_CONFIRMED`, `reservationId` names it). A refusal charges
    /// nothing and names the reservation that refused.
    #[oai(path = "/api/v1/payments", method = "post")]
    async fn pay(
        &self,
        buyer: Buyer,
        request: Json<Pay>,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<PayResponse, ProblemResponse> {
        super::rate_limits::per_account(
            &self.0,
            frontrow_application::limits::Limit::PaymentPerAccount,
            buyer.0,
        )
        .await?;
        let cart = match (request.0.reservation_id, request.0.reservation_ids) {
            (Some(one), None) => vec![one],
            (None, Some(many)) => many,
            _ => {
                return Err(invalid_cart(
                    "give exactly one of reservationId and reservationIds",
                ));
            }
        };
        let (receipt, created) = self
            .0
            .payments
            .pay_cart(buyer.0, token.as_deref(), &cart)
            .await?;
        Ok(if created {
            PayResponse::Paid(body(receipt))
        } else {
            PayResponse::AlreadyPaid(body(receipt))
        })
    }

    /// The receipt a reservation was paid with
    ///
    /// Every line of the payment (a cart paid together shares one
    /// receipt). 404 `NOT_PAID` for a reservation of yours that is in no
    /// payment, `RESERVATION_NOT_FOUND` for one that is not yours.
    #[oai(path = "/api/v1/reservations/:reservation_id/receipt", method = "get")]
    async fn receipt(
        &self,
        buyer: Buyer,
        reservation_id: Path<i64>,
    ) -> Result<ReceiptResponse, ProblemResponse> {
        let receipt = self.0.payments.receipt(buyer.0, reservation_id.0).await?;
        Ok(ReceiptResponse::Found(body(receipt)))
    }
}
