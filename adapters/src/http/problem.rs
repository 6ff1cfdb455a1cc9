//! The one place where errors become HTTP responses: RFC 9457
//! `application/problem+json` bodies with a stable machine-readable `code`.
//! Store failures are logged here and answered with 503, never with their
//! details.

use frontrow_application::StoreError;
use frontrow_application::best_available::BestAvailableError;
use frontrow_application::catalogue::CatalogueError;
use frontrow_application::door::{DoorError, Refusal};
use frontrow_application::payments::PaymentError;
use frontrow_application::points::PointsError;
use frontrow_application::queue::QueueError;
use frontrow_application::reservations::ReservationError;
use frontrow_application::users::UserError;
use frontrow_domain::points::PointsError as PointsRule;
use frontrow_domain::reservation::TransitionError;
use frontrow_domain::user::UserError as NameRule;
use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

/// An RFC 9457 problem.
#[derive(Debug, Clone, Object)]
pub struct Problem {
    /// A URI naming the problem type: `urn:frontrow:problem:<code>`.
    #[oai(rename = "type")]
    pub kind: String,
    /// The status's reason phrase, e.g. "Conflict".
    pub title: String,
    /// The HTTP status code, repeated for clients that lost it.
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// Stable, for programs: match on this, not on `detail`.
    pub code: String,
    /// The request's `X-Request-Id`, to quote when reporting it.
    #[oai(rename = "requestId", skip_serializing_if_is_none)]
    pub request_id: Option<String>,
    /// On `SALE_NOT_OPEN`: when the sale opens.
    #[oai(rename = "opensAt", skip_serializing_if_is_none)]
    pub opens_at: Option<chrono::DateTime<chrono::Utc>>,
    /// On a refused payment: the reservation of the cart that refused.
    #[oai(rename = "reservationId", skip_serializing_if_is_none)]
    pub reservation_id: Option<i64>,
    /// On `INVALID_LAYOUT`: which fault (`UNKNOWN_TIER`, `DUPLICATE_SECTION`,
    /// `TOO_MANY_SEATS`, ...); `detail` says where.
    #[oai(skip_serializing_if_is_none)]
    pub fault: Option<String>,
    /// On `NO_ADJACENT_SEATS`: the best free seats that are not together,
    /// by seat number, to offer instead (not held).
    #[oai(skip_serializing_if_is_none)]
    pub split: Option<Vec<i64>>,
}

/// Every error response of the API: a [`Problem`] with its status and, where
/// they apply, `WWW-Authenticate` and `Retry-After`.
#[derive(Debug, ApiResponse)]
pub enum ProblemResponse {
    /// Any failure, as an RFC 9457 problem with a stable `code`.
    #[oai(content_type = "application/problem+json")]
    Default(
        StatusCode,
        Json<Problem>,
        /// On 401: `Bearer` (RFC 6750).
        #[oai(header = "WWW-Authenticate")]
        Option<String>,
        /// On 503 and 429: seconds to wait before retrying.
        #[oai(header = "Retry-After")]
        Option<String>,
        /// On 429 `RATE_LIMITED`: the limit that refused, as
        /// `"<name>";q=<requests>;w=<seconds>` (draft-ietf-httpapi-ratelimit-headers).
        #[oai(header = "RateLimit-Policy")]
        Option<String>,
        /// On 429 `RATE_LIMITED`: `"<name>";r=0;t=<seconds until one more is allowed>`.
        #[oai(header = "RateLimit")]
        Option<String>,
    ),
}

/// How long a client should wait after a 503 before asking again.
const RETRY_AFTER_SECONDS: &str = "2";

impl ProblemResponse {
    /// A problem with a stable `code` (e.g. `SEAT_UNAVAILABLE`) and a
    /// detail for people; a 401 gets a `Bearer` challenge, a 503 a
    /// `Retry-After`.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        let problem = Problem {
            kind: format!("urn:frontrow:problem:{}", code.to_ascii_lowercase()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            request_id: super::request_id::current(),
            opens_at: None,
            reservation_id: None,
            fault: None,
            split: None,
        };
        let challenge = (status == StatusCode::UNAUTHORIZED).then(|| "Bearer".to_owned());
        let retry_after =
            (status == StatusCode::SERVICE_UNAVAILABLE).then(|| RETRY_AFTER_SECONDS.to_owned());
        ProblemResponse::Default(status, Json(problem), challenge, retry_after, None, None)
    }

    /// The same problem, telling the client to wait `seconds` (at least 1)
    /// before asking again: a 429's `Retry-After`.
    pub fn retry_after(self, seconds: u64) -> Self {
        let ProblemResponse::Default(status, body, challenge, _, policy, limit) = self;
        let seconds = seconds.max(1).to_string();
        ProblemResponse::Default(status, body, challenge, Some(seconds), policy, limit)
    }

    /// The same problem, naming the rate limit that refused it in
    /// `RateLimit-Policy` and `RateLimit`.
    pub fn rate_limited(self, policy: String, limit: String) -> Self {
        let ProblemResponse::Default(status, body, challenge, retry, _, _) = self;
        ProblemResponse::Default(status, body, challenge, retry, Some(policy), Some(limit))
    }
}

fn unavailable(error: &StoreError) -> ProblemResponse {
    // As an error value, so the log shows its cause chain (`error.sources`).
    tracing::error!(error = error as &dyn std::error::Error, "store failure");
    ProblemResponse::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "STORE_UNAVAILABLE",
        "a backing store is unavailable; retry shortly",
    )
}

fn transition(error: TransitionError) -> ProblemResponse {
    let code = match error {
        TransitionError::HoldExpired => "HOLD_EXPIRED",
        TransitionError::AlreadyConfirmed => "ALREADY_CONFIRMED",
        TransitionError::Cancelled => "RESERVATION_CANCELLED",
    };
    ProblemResponse::new(StatusCode::CONFLICT, code, error.to_string())
}

impl From<StoreError> for ProblemResponse {
    fn from(error: StoreError) -> Self {
        unavailable(&error)
    }
}

impl From<UserError> for ProblemResponse {
    fn from(error: UserError) -> Self {
        let detail = error.to_string();
        match error {
            UserError::Invalid(NameRule::InvalidName) => {
                ProblemResponse::new(StatusCode::BAD_REQUEST, "INVALID_NAME", detail)
            }
            UserError::Invalid(NameRule::InvalidPassword) => {
                ProblemResponse::new(StatusCode::BAD_REQUEST, "INVALID_PASSWORD", detail)
            }
            UserError::NameTaken => {
                ProblemResponse::new(StatusCode::CONFLICT, "NAME_TAKEN", detail)
            }
            UserError::InvalidCredentials => {
                ProblemResponse::new(StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS", detail)
            }
            UserError::TooManyAttempts {
                retry_after_seconds,
            } => ProblemResponse::new(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS", detail)
                .retry_after(retry_after_seconds),
            UserError::Store(e) => unavailable(&e),
        }
    }
}

impl From<PointsError> for ProblemResponse {
    fn from(error: PointsError) -> Self {
        let detail = error.to_string();
        match error {
            PointsError::Rule(PointsRule::InvalidAmount) => {
                ProblemResponse::new(StatusCode::BAD_REQUEST, "INVALID_AMOUNT", detail)
            }
            PointsError::Rule(PointsRule::BalanceLimit) => {
                ProblemResponse::new(StatusCode::CONFLICT, "BALANCE_LIMIT", detail)
            }
            PointsError::Rule(PointsRule::Insufficient) => {
                ProblemResponse::new(StatusCode::CONFLICT, "INSUFFICIENT_POINTS", detail)
            }
            PointsError::InvalidIdempotencyKey => {
                ProblemResponse::new(StatusCode::BAD_REQUEST, "INVALID_IDEMPOTENCY_KEY", detail)
            }
            PointsError::IdempotencyKeyReused => ProblemResponse::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "IDEMPOTENCY_KEY_REUSED",
                detail,
            ),
            PointsError::UnknownUser => {
                ProblemResponse::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", detail)
            }
            PointsError::Store(e) => unavailable(&e),
        }
    }
}

impl From<CatalogueError> for ProblemResponse {
    fn from(error: CatalogueError) -> Self {
        let detail = error.to_string();
        match error {
            CatalogueError::Invalid(_)
            | CatalogueError::InvalidOpening(_)
            | CatalogueError::LayoutOrSeats(_) => {
                ProblemResponse::new(StatusCode::BAD_REQUEST, "INVALID_CONCERT", detail)
            }
            CatalogueError::InvalidLayout { error, .. } => {
                let mut problem =
                    ProblemResponse::new(StatusCode::BAD_REQUEST, "INVALID_LAYOUT", detail);
                let ProblemResponse::Default(_, Json(body), ..) = &mut problem;
                body.fault = Some(error.fault().to_owned());
                problem
            }
            CatalogueError::SectionNotFound => {
                ProblemResponse::new(StatusCode::NOT_FOUND, "SECTION_NOT_FOUND", detail)
            }
            CatalogueError::InvalidIdempotencyKey => {
                ProblemResponse::new(StatusCode::BAD_REQUEST, "INVALID_IDEMPOTENCY_KEY", detail)
            }
            CatalogueError::IdempotencyKeyReused => ProblemResponse::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "IDEMPOTENCY_KEY_REUSED",
                detail,
            ),
            CatalogueError::ConcertNotFound => {
                ProblemResponse::new(StatusCode::NOT_FOUND, "CONCERT_NOT_FOUND", detail)
            }
            CatalogueError::ScheduleNotFound => {
                ProblemResponse::new(StatusCode::NOT_FOUND, "SCHEDULE_NOT_FOUND", detail)
            }
            CatalogueError::Store(e) => unavailable(&e),
        }
    }
}

impl From<DoorError> for ProblemResponse {
    fn from(error: DoorError) -> Self {
        let detail = error.to_string();
        let (status, code) = match error {
            // 428: the request needs a precondition (a solved challenge)
            // that it did not meet; get one at the level the detail names.
            DoorError::ChallengeRequired { .. } => {
                (StatusCode::PRECONDITION_REQUIRED, "CHALLENGE_REQUIRED")
            }
            DoorError::ChallengeRefused { why } => match why {
                Refusal::Expired => (StatusCode::FORBIDDEN, "CHALLENGE_EXPIRED"),
                Refusal::Replayed => (StatusCode::FORBIDDEN, "CHALLENGE_REPLAYED"),
                Refusal::Missing | Refusal::TooEasy => {
                    (StatusCode::PRECONDITION_REQUIRED, "CHALLENGE_REQUIRED")
                }
                Refusal::Forged | Refusal::WrongPurpose => {
                    (StatusCode::FORBIDDEN, "CHALLENGE_INVALID")
                }
            },
            DoorError::InvalidLevel(_) => (StatusCode::BAD_REQUEST, "INVALID_DOOR_LEVEL"),
            DoorError::Store(e) => return unavailable(&e),
        };
        ProblemResponse::new(status, code, detail)
    }
}

impl From<QueueError> for ProblemResponse {
    fn from(error: QueueError) -> Self {
        let detail = error.to_string();
        let (status, code) = match error {
            QueueError::MissingToken => (StatusCode::UNAUTHORIZED, "QUEUE_TOKEN_MISSING"),
            QueueError::UnknownToken => (StatusCode::UNAUTHORIZED, "QUEUE_TOKEN_INVALID"),
            QueueError::NotYourToken => (StatusCode::FORBIDDEN, "QUEUE_TOKEN_NOT_YOURS"),
            QueueError::WrongConcert => (StatusCode::FORBIDDEN, "QUEUE_TOKEN_WRONG_CONCERT"),
            QueueError::NotActive => (StatusCode::FORBIDDEN, "QUEUE_NOT_ACTIVE"),
            QueueError::Expired => (StatusCode::FORBIDDEN, "QUEUE_TOKEN_EXPIRED"),
            QueueError::TurnOver => (StatusCode::FORBIDDEN, "QUEUE_TURN_OVER"),
            QueueError::SoldOut => (StatusCode::CONFLICT, "SOLD_OUT"),
            QueueError::SaleNotOpen { opens_at } => {
                let mut problem =
                    ProblemResponse::new(StatusCode::CONFLICT, "SALE_NOT_OPEN", detail);
                let ProblemResponse::Default(_, Json(body), ..) = &mut problem;
                body.opens_at = Some(super::catalogue::datetime(opens_at));
                return problem;
            }
            QueueError::ConcertNotFound => (StatusCode::NOT_FOUND, "CONCERT_NOT_FOUND"),
            QueueError::InvalidPolicy(_) => (StatusCode::BAD_REQUEST, "INVALID_QUEUE_POLICY"),
            QueueError::Store(e) => return unavailable(&e),
        };
        ProblemResponse::new(status, code, detail)
    }
}

impl From<ReservationError> for ProblemResponse {
    fn from(error: ReservationError) -> Self {
        let detail = error.to_string();
        let (status, code) = match error {
            ReservationError::ScheduleNotFound => (StatusCode::NOT_FOUND, "SCHEDULE_NOT_FOUND"),
            ReservationError::SeatOutOfRange => (StatusCode::BAD_REQUEST, "SEAT_OUT_OF_RANGE"),
            ReservationError::InvalidSeats(_) => (StatusCode::BAD_REQUEST, "INVALID_SEATS"),
            ReservationError::Cover(_) => (StatusCode::CONFLICT, "POINTS_NEEDED"),
            ReservationError::SeatUnavailable => (StatusCode::CONFLICT, "SEAT_UNAVAILABLE"),
            ReservationError::SeatLimitReached => (StatusCode::CONFLICT, "SEAT_LIMIT_REACHED"),
            ReservationError::HouseholdLimitReached { .. } => {
                (StatusCode::CONFLICT, "HOUSEHOLD_LIMIT")
            }
            ReservationError::NotFound => (StatusCode::NOT_FOUND, "RESERVATION_NOT_FOUND"),
            ReservationError::InvalidPage => (StatusCode::BAD_REQUEST, "INVALID_PAGE"),
            ReservationError::Transition(e) => return transition(e),
            ReservationError::Queue(e) => return e.into(),
            ReservationError::Store(e) => return unavailable(&e),
        };
        ProblemResponse::new(status, code, detail)
    }
}

/// A payment request that names its cart neither or both ways: the same
/// code as a cart that breaks the cart's rules.
pub fn invalid_cart(detail: &str) -> ProblemResponse {
    ProblemResponse::new(StatusCode::BAD_REQUEST, "INVALID_CART", detail)
}

impl From<PaymentError> for ProblemResponse {
    fn from(error: PaymentError) -> Self {
        let detail = error.to_string();
        let reservation = error.reservation();
        let mut response = match error {
            PaymentError::InvalidCart(_) => invalid_cart(&detail),
            PaymentError::ReservationNotFound(_) => {
                ProblemResponse::new(StatusCode::NOT_FOUND, "RESERVATION_NOT_FOUND", detail)
            }
            PaymentError::NotPaid(_) => {
                ProblemResponse::new(StatusCode::NOT_FOUND, "NOT_PAID", detail)
            }
            PaymentError::InsufficientPoints => {
                ProblemResponse::new(StatusCode::CONFLICT, "INSUFFICIENT_POINTS", detail)
            }
            PaymentError::Transition { error, .. } => {
                let mut response = transition(error);
                let ProblemResponse::Default(_, Json(problem), ..) = &mut response;
                problem.detail = detail;
                response
            }
            PaymentError::Queue(e) => e.into(),
            PaymentError::Store(e) => unavailable(&e),
        };
        let ProblemResponse::Default(_, Json(problem), ..) = &mut response;
        problem.reservation_id = reservation;
        response
    }
}

/// Errors raised by poem itself (unparseable input, unknown route, missing
/// credentials, oversized body) become problems too.
pub fn from_poem_error(error: poem::Error) -> Response {
    if error.is_from_response() {
        return error.into_response();
    }
    let status = error.status();
    let code = match status {
        StatusCode::BAD_REQUEST => "INVALID_REQUEST",
        StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "HEADERS_TOO_LARGE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        s if s.is_client_error() => "INVALID_REQUEST",
        _ => "INTERNAL",
    };
    let detail = if status.is_server_error() {
        tracing::error!(%error, "request failed");
        "internal error".to_owned()
    } else {
        error.to_string()
    };
    ProblemResponse::new(status, code, detail).into_response()
}

/// A ticket asked for a reservation that is not paid: 409
/// `TICKET_NOT_ISSUED` (a missing or someone else's one is 404 as usual).
pub(super) fn ticket_not_issued(status: &str) -> ProblemResponse {
    ProblemResponse::new(
        StatusCode::CONFLICT,
        "TICKET_NOT_ISSUED",
        format!("the reservation is {status}; only a CONFIRMED one has a ticket"),
    )
}

/// A ticket code that cannot be drawn as a QR code (it always fits, so
/// this is a bug): logged with its cause, answered 500.
pub(super) fn qr_failed(error: &qrcode::types::QrError) -> ProblemResponse {
    tracing::error!(error = error as &dyn std::error::Error, "ticket QR failed");
    ProblemResponse::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL",
        "internal error",
    )
}

impl From<BestAvailableError> for ProblemResponse {
    fn from(error: BestAvailableError) -> Self {
        let detail = error.to_string();
        match error {
            BestAvailableError::InvalidQuantity { .. } => {
                ProblemResponse::new(StatusCode::BAD_REQUEST, "INVALID_QUANTITY", detail)
            }
            BestAvailableError::TierNotFound => {
                ProblemResponse::new(StatusCode::NOT_FOUND, "TIER_NOT_FOUND", detail)
            }
            BestAvailableError::SectionNotFound => {
                ProblemResponse::new(StatusCode::NOT_FOUND, "SECTION_NOT_FOUND", detail)
            }
            BestAvailableError::NoAdjacentSeats { split, .. } => {
                let mut problem =
                    ProblemResponse::new(StatusCode::CONFLICT, "NO_ADJACENT_SEATS", detail);
                let ProblemResponse::Default(_, Json(body), ..) = &mut problem;
                body.split = Some(split);
                problem
            }
            BestAvailableError::Seating(e) => e.into(),
            BestAvailableError::Hold(e) => e.into(),
        }
    }
}

impl From<frontrow_application::seating::SeatingError> for ProblemResponse {
    fn from(error: frontrow_application::seating::SeatingError) -> Self {
        match error {
            frontrow_application::seating::SeatingError::Catalogue(e) => e.into(),
            frontrow_application::seating::SeatingError::Queue(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_failure_is_a_503_with_retry_after_and_no_detail() {
        let response = ProblemResponse::from(QueueError::Store(StoreError::new("redis: refused")))
            .into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()["retry-after"], RETRY_AFTER_SECONDS);
        assert!(response.headers().get("www-authenticate").is_none());
    }
}
