//! A cart: the holds a buyer pays for in one payment.
//!
//! The rule of its shape lives here: at least one reservation, at most the
//! per-buyer limit, none twice. The payment itself (every hold live and the
//! buyer's, the balance covering the total) is decided by the store in one
//! transaction; what it decides per seat is the `Reservation` and
//! `SeatState` moves, per buyer the `PointBalance` spend of the total.

use crate::points::Points;
use crate::reservation::{Reservation, ReservationStatus, SeatLimit};
use crate::seat::SeatNumber;
use crate::{ReservationId, ScheduleId, Timestamp};

/// Why a list of reservations is not a cart. Nothing is read or written
/// for any of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CartError {
    /// No reservation at all.
    Empty,
    /// More reservations than one buyer may hold.
    TooMany {
        /// The per-buyer limit.
        limit: u32,
    },
    /// The same reservation twice.
    Repeated(ReservationId),
    /// A number that is no reservation id (zero or negative).
    BadId(i64),
    /// Reservations of more than one concert: a queue token, and so a
    /// payment, is for one.
    ManyConcerts,
}

impl std::fmt::Display for CartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CartError::Empty => write!(f, "a cart needs at least one reservation"),
            CartError::TooMany { limit } => write!(f, "a cart holds at most {limit} reservations"),
            CartError::Repeated(id) => write!(f, "reservation {id} is in the cart twice"),
            CartError::BadId(raw) => write!(f, "{raw} is not a reservation id"),
            CartError::ManyConcerts => write!(f, "a cart holds seats of one concert"),
        }
    }
}

impl std::error::Error for CartError {}

/// The reservations of one payment: 1..=limit of them, distinct, in
/// ascending order (the order the store locks them in, so two payments that
/// share a reservation never wait on each other in a circle).
///
/// ```
/// use frontrow_domain::cart::{Cart, CartError};
/// use frontrow_domain::reservation::SeatLimit;
///
/// let cart = Cart::new(&[9, 4], SeatLimit(4))?;
/// assert_eq!(cart.ids().iter().map(|id| id.get()).collect::<Vec<_>>(), [4, 9]);
/// assert_eq!(Cart::new(&[], SeatLimit(4)), Err(CartError::Empty));
/// assert!(matches!(Cart::new(&[4, 4], SeatLimit(4)), Err(CartError::Repeated(_))));
/// assert_eq!(Cart::new(&[1, 2, 3], SeatLimit(2)), Err(CartError::TooMany { limit: 2 }));
/// # Ok::<(), CartError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cart(Vec<ReservationId>);

impl Cart {
    /// The cart of `raw` ids, or why they are none.
    pub fn new(raw: &[i64], limit: SeatLimit) -> Result<Self, CartError> {
        if raw.is_empty() {
            return Err(CartError::Empty);
        }
        if raw.len() > limit.0 as usize {
            return Err(CartError::TooMany { limit: limit.0 });
        }
        let mut ids = raw
            .iter()
            .map(|&id| ReservationId::parse(id).ok_or(CartError::BadId(id)))
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort();
        if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(CartError::Repeated(pair[0]));
        }
        Ok(Self(ids))
    }

    /// The reservations, ascending.
    pub fn ids(&self) -> &[ReservationId] {
        &self.0
    }
}

/// One seat of a payment: a line of its receipt and of its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentLine {
    /// The reservation paid, now CONFIRMED.
    pub reservation: ReservationId,
    /// The performance the seat belongs to.
    pub schedule: ScheduleId,
    /// The seat, now SOLD.
    pub seat: SeatNumber,
    /// The reservation's price.
    pub amount: Points,
}

/// When a buyer's cart lapses: the latest deadline of their live holds
/// among `holds` (those of one concert), `None` when nothing is held. After
/// a payment the buyer's place ends when this is `None`, and is kept until
/// it otherwise. The MySQL payment procedure computes it in the payment's
/// transaction (`frontrow_pay_cart`), checked against this by the spec.
///
/// ```
/// use frontrow_domain::cart::ends;
/// use frontrow_domain::Timestamp;
///
/// assert_eq!(ends([], Timestamp(5)), None);
/// ```
pub fn ends<'a>(
    holds: impl IntoIterator<Item = &'a Reservation>,
    now: Timestamp,
) -> Option<Timestamp> {
    holds
        .into_iter()
        .filter(|r| r.status_at(now) == ReservationStatus::Held)
        .map(|r| r.hold_expires_at)
        .max()
}
