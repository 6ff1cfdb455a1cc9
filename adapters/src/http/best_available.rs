//! Best available: `quantity` seats together, picked by the server from the
//! live map and held as one cart (see `application::best_available`).

use super::limits::QueueTokenHeader;
use super::problem::ProblemResponse;
use super::reservations::{ReservationBody, body};
use super::security::Buyer;
use super::{AppState, Tag};
use frontrow_application::best_available::SeatsWanted;
use frontrow_domain::venue::SeatFilter;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

/// The best-available route.
pub struct BestAvailableApi(pub Arc<AppState>);

/// How many seats together, and where.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct SeatsWantedBody {
    /// 1 to the per-buyer limit (`--max-seats-per-user`, default 4);
    /// anything else is 400 `INVALID_QUANTITY`.
    quantity: i64,
    /// Only seats of this tier (a `tierId` of the layout); unknown: 404
    /// `TIER_NOT_FOUND`.
    #[oai(nullable)]
    tier: Option<String>,
    /// Only seats of this section (an `id` of the layout); unknown: 404
    /// `SECTION_NOT_FOUND`.
    #[oai(nullable)]
    section: Option<String>,
}

/// The seats held for you, together, as one cart.
#[derive(Object)]
#[oai(rename_all = "camelCase")]
struct CartBody {
    /// One per seat, in seat order, side by side in one row.
    reservations: Vec<ReservationBody>,
    /// What the cart costs: the sum of its seats' prices.
    total_price: i64,
}

#[derive(ApiResponse)]
enum BestAvailableResponse {
    /// The best seats together are held for you (each until its
    /// `holdExpiresAt`; see `covered`).
    #[oai(status = 201)]
    Held(Json<CartBody>),
}

#[OpenApi(tag = "Tag::Reservations")]
impl BestAvailableApi {
    /// Hold the best seats together (ACTIVE queue token)
    ///
    /// Picks the best block of `quantity` free seats side by side in one
    /// row (never across an aisle), in the tier and/or section asked: the
    /// block whose centre is nearest the stage (distance from the stage's
    /// centre line plus twice the distance from its front). The seats are
    /// held all or nothing, as `POST /api/v1/reservations` holds one, with
    /// the same checks and limits. When no block is free: 409
    /// `NO_ADJACENT_SEATS`, with `split` the best free seats apart (not
    /// held; empty when sold out). When other buyers keep taking the
    /// blocks picked: 409 `SEAT_UNAVAILABLE`; ask again.
    #[oai(
        path = "/api/v1/schedules/:schedule_id/best-available",
        method = "post"
    )]
    async fn best_available(
        &self,
        buyer: Buyer,
        schedule_id: Path<i64>,
        request: Json<SeatsWantedBody>,
        #[oai(name = "X-Queue-Token")] token: Header<QueueTokenHeader>,
    ) -> Result<BestAvailableResponse, ProblemResponse> {
        super::rate_limits::per_account(
            &self.0,
            frontrow_application::limits::Limit::HoldPerAccount,
            buyer.0,
        )
        .await?;
        let wanted = SeatsWanted {
            quantity: request.quantity,
            filter: SeatFilter {
                tier: request.tier.as_deref(),
                section: request.section.as_deref(),
            },
        };
        let held = self
            .0
            .best_available
            .take(buyer.0, token.as_deref(), schedule_id.0, wanted)
            .await?;
        Ok(BestAvailableResponse::Held(Json(CartBody {
            total_price: held.iter().map(|r| r.price.get()).sum(),
            reservations: held.iter().map(|r| body(r, &self.0)).collect(),
        })))
    }
}
