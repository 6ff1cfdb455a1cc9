//! `POST /api/v1/payments`.

use super::limits::QueueTokenHeader;
use super::problem::ProblemResponse;
use super::security::Buyer;
use super::{AppState, Tag};
use frontrow_application::payments::Receipt;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

pub struct PaymentsApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Pay {
    reservation_id: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct ReceiptBody {
    payment_id: i64,
    reservation_id: i64,
    amount: i64,
    /// The balance right after this payment.
    balance: i64,
}

#[derive(ApiResponse)]
enum PayResponse {
    /// Paid now: the seat is yours and your queue token is spent.
    #[oai(status = 201)]
    Paid(Json<ReceiptBody>),
    /// Already paid earlier: the same receipt, charged once.
    #[oai(status = 200)]
    AlreadyPaid(Json<ReceiptBody>),
}

fn body(receipt: Receipt) -> Json<ReceiptBody> {
    Json(ReceiptBody {
        payment_id: receipt.payment.get(),
        reservation_id: receipt.reservation.get(),
        amount: receipt.amount.get(),
        balance: receipt.balance.get(),
    })
}

#[OpenApi(tag = "Tag::Payments")]
impl PaymentsApi {
    /// Pay for a held seat with points (ACTIVE queue token)
    ///
    /// The reservation is the idempotency key: paying again returns the first
    /// receipt with 200 and charges nothing.
    #[oai(path = "/api/v1/payments", method = "post")]
    async fn pay(
        &self,
        buyer: Buyer,
        request: Json<Pay>,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<PayResponse, ProblemResponse> {
        let (receipt, created) = self
            .0
            .payments
            .pay(buyer.0, token.as_deref(), request.reservation_id)
            .await?;
        Ok(if created {
            PayResponse::Paid(body(receipt))
        } else {
            PayResponse::AlreadyPaid(body(receipt))
        })
    }
}
