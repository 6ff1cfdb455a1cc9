//! `GET /api/v1/points`, `POST /api/v1/points/charge`.

use super::limits::{IdempotencyKeyHeader, Int};
use super::problem::ProblemResponse;
use super::security::Buyer;
use super::{AppState, Tag};
use frontrow_application::points::PointsError;
use frontrow_domain::points::MAX_CHARGE;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use std::sync::Arc;

pub struct PointsApi(pub Arc<AppState>);

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Balance {
    balance: i64,
}

/// The balance and what live holds reserve of it.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Purse {
    balance: i64,
    /// The prices of your live holds that your points covered when they
    /// were made: kept for their payment until paid, released or lapsed.
    reserved: i64,
    /// `balance - reserved`: what a new hold or a payment of an uncovered
    /// hold can use.
    available: i64,
}

#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct Charge {
    /// Whole points, 1 to 1,000,000.
    amount: Int<1, MAX_CHARGE>,
}

#[OpenApi(tag = "Tag::Points")]
impl PointsApi {
    /// The caller's balance, with the points live holds reserve
    #[oai(path = "/api/v1/points", method = "get")]
    async fn balance(&self, buyer: Buyer) -> Result<Json<Purse>, ProblemResponse> {
        let now = self.0.reservations.now();
        let purse = self.0.points.purse(buyer.0, now).await?;
        Ok(Json(Purse {
            balance: purse.balance().get(),
            reserved: purse.reserved().get(),
            available: purse.available().get(),
        }))
    }

    /// Add points to the caller's balance
    ///
    /// With an `Idempotency-Key`, a retry applies once and returns the first answer.
    #[oai(path = "/api/v1/points/charge", method = "post")]
    async fn charge(
        &self,
        buyer: Buyer,
        body: Json<Charge>,
        #[oai(name = "Idempotency-Key")] key: Header<Option<IdempotencyKeyHeader>>,
        request: &poem::Request,
    ) -> Result<Json<Balance>, ProblemResponse> {
        // A key that is not visible ASCII (`ключ`, raw bytes) never reaches
        // `key`: the header parser skips what is not a string, as if none was
        // sent, and a retry would be applied twice. A key was sent, so it is
        // refused like any other malformed key.
        if key.0.is_none() && request.headers().contains_key("idempotency-key") {
            return Err(PointsError::InvalidIdempotencyKey.into());
        }
        let balance = self
            .0
            .points
            .charge(buyer.0, body.amount.0, key.0.as_ref().map(|k| k.0.as_str()))
            .await?;
        Ok(Json(Balance {
            balance: balance.get(),
        }))
    }
}
