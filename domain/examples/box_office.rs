//! A box-office terminal for a small hall, built on `frontrow-domain` alone.
//!
//! The terminal keeps its seats, reservations and wallets in memory and asks
//! the domain's state machines whether each move is allowed: `SeatState` for
//! the seat, `Reservation` for the hold, `PointBalance` for the wallet. A
//! move is computed in full before anything is written back, so a refused
//! one leaves nothing to undo, which is how frontrow's stores use the same
//! rules inside one transaction.
//!
//! There is no IO and no clock: the script below passes the time to every
//! call, so a hold that lapses does so at an exact, repeatable instant.
//!
//! Run it with `cargo run -p frontrow-domain --example box_office`; `cargo
//! test` runs it too.

use frontrow_domain::points::{ChargeAmount, PointBalance, Points, PointsError};
use frontrow_domain::reservation::{Reservation, ReservationStatus, TransitionError};
use frontrow_domain::seat::{SeatError, SeatNumber, SeatState, SeatStatus};
use frontrow_domain::{ReservationId, ScheduleId, Timestamp, UserId};
use std::collections::HashMap;
use std::fmt;

/// Everything the terminal may refuse, each for a domain reason.
#[derive(Debug)]
enum Refused {
    Seat(SeatError),
    Reservation(TransitionError),
    Points(PointsError),
    NoSuchReservation,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Seat(e) => e.fmt(f),
            Refused::Reservation(e) => e.fmt(f),
            Refused::Points(e) => e.fmt(f),
            Refused::NoSuchReservation => f.write_str("no such reservation"),
        }
    }
}

impl std::error::Error for Refused {}

impl From<SeatError> for Refused {
    fn from(e: SeatError) -> Self {
        Refused::Seat(e)
    }
}
impl From<TransitionError> for Refused {
    fn from(e: TransitionError) -> Self {
        Refused::Reservation(e)
    }
}
impl From<PointsError> for Refused {
    fn from(e: PointsError) -> Self {
        Refused::Points(e)
    }
}

/// One performance's seats, its reservations and the buyers' wallets.
struct BoxOffice {
    schedule: ScheduleId,
    price: Points,
    hold_seconds: u64,
    /// Seat `n` is `seats[n - 1]`.
    seats: Vec<SeatState>,
    reservations: Vec<Reservation>,
    wallets: HashMap<UserId, PointBalance>,
    /// Points charged in total, to check that none is lost.
    charged: i64,
}

impl BoxOffice {
    fn new(seat_count: usize, price: Points, hold_seconds: u64) -> Self {
        Self {
            schedule: ScheduleId::from_store(1),
            price,
            hold_seconds,
            seats: vec![SeatState::Available; seat_count],
            reservations: Vec::new(),
            wallets: HashMap::new(),
            charged: 0,
        }
    }

    fn charge(&mut self, user: UserId, amount: i64) -> Result<Points, Refused> {
        let amount = ChargeAmount::parse(amount)?;
        let wallet = self
            .wallets
            .get(&user)
            .copied()
            .unwrap_or(PointBalance::new(Points::ZERO));
        let wallet = wallet.charge(amount)?;
        self.wallets.insert(user, wallet);
        self.charged += amount.points().get();
        Ok(wallet.points())
    }

    /// Parses the seat number at the edge, then asks the seat.
    fn hold(&mut self, user: UserId, seat: i64, now: Timestamp) -> Result<ReservationId, Refused> {
        let seat = SeatNumber::parse(seat, self.seats.len() as i64)?;
        let id = ReservationId::from_store(self.reservations.len() as i64 + 1);
        let until = now.plus_seconds(self.hold_seconds);
        let held = self.seat(seat).hold(id, now, until)?;
        *self.seat_mut(seat) = held;
        self.reservations.push(Reservation {
            id,
            user,
            schedule: self.schedule,
            seat,
            price: self.price,
            stored_status: ReservationStatus::Held,
            hold_expires_at: until,
            cover: frontrow_domain::hold_cost::Cover::Covered,
        });
        Ok(id)
    }

    /// Payment: the reservation, the seat and the wallet must all agree.
    /// All three next states are computed first; only then is anything kept.
    fn pay(&mut self, user: UserId, id: ReservationId, now: Timestamp) -> Result<Points, Refused> {
        let index = self
            .reservations
            .iter()
            .position(|r| r.id == id && r.user == user)
            .ok_or(Refused::NoSuchReservation)?;
        let reservation = self.reservations[index].clone();
        let confirmed = reservation.clone().confirm(now)?;
        let sold = self.seat(reservation.seat).sell(id, now)?;
        let wallet = self
            .wallets
            .get(&user)
            .copied()
            .unwrap_or(PointBalance::new(Points::ZERO))
            .spend(reservation.price)?;
        self.reservations[index] = confirmed;
        *self.seat_mut(reservation.seat) = sold;
        self.wallets.insert(user, wallet);
        Ok(wallet.points())
    }

    fn seat(&self, seat: SeatNumber) -> SeatState {
        self.seats[seat.get() as usize - 1]
    }

    fn seat_mut(&mut self, seat: SeatNumber) -> &mut SeatState {
        &mut self.seats[seat.get() as usize - 1]
    }

    fn free_seats(&self, now: Timestamp) -> usize {
        self.seats
            .iter()
            .filter(|s| s.status_at(now) == SeatStatus::Available)
            .count()
    }

    /// What must hold whatever the script did.
    fn check_invariants(&self) -> Result<(), String> {
        for (index, seat) in self.seats.iter().enumerate() {
            if let SeatState::Sold { reservation } = seat {
                let confirmed = self.reservations.iter().any(|r| {
                    r.id == *reservation
                        && r.seat.get() == index as i64 + 1
                        && r.stored_status == ReservationStatus::Confirmed
                });
                if !confirmed {
                    return Err(format!("seat {} sold without its payment", index + 1));
                }
            }
        }
        let confirmed: Vec<_> = self
            .reservations
            .iter()
            .filter(|r| r.stored_status == ReservationStatus::Confirmed)
            .collect();
        let sold = self
            .seats
            .iter()
            .filter(|s| matches!(s, SeatState::Sold { .. }))
            .count();
        if confirmed.len() != sold {
            return Err(format!(
                "{} payments for {sold} sold seats",
                confirmed.len()
            ));
        }
        let spent: i64 = confirmed.iter().map(|r| r.price.get()).sum();
        let left: i64 = self.wallets.values().map(|w| w.points().get()).sum();
        if self.charged != spent + left {
            return Err(format!(
                "charged {} but spent {spent} and {left} left",
                self.charged
            ));
        }
        Ok(())
    }
}

/// Prints one line per request, so the run reads like the terminal's log.
fn log<T: fmt::Debug>(at: Timestamp, what: &str, outcome: Result<T, Refused>) -> Option<T> {
    let seconds = at.millis() / 1000;
    match outcome {
        Ok(value) => {
            println!("t={seconds:>4}s  {what:<32} ok: {value:?}");
            Some(value)
        }
        Err(refused) => {
            println!("t={seconds:>4}s  {what:<32} refused: {refused}");
            None
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let price = Points::new(120).ok_or("a price is never negative")?;
    let mut office = BoxOffice::new(4, price, 300);
    let (ada, bob, cy) = (
        UserId::from_store(1),
        UserId::from_store(2),
        UserId::from_store(3),
    );
    let t = |seconds: u64| Timestamp(0).plus_seconds(seconds);

    log(t(0), "ada charges 200", office.charge(ada, 200));
    log(t(0), "bob charges 100", office.charge(bob, 100));
    log(t(0), "cy charges 0", office.charge(cy, 0));
    log(t(0), "cy charges 500", office.charge(cy, 500));

    let adas = log(t(10), "ada holds seat 2", office.hold(ada, 2, t(10)));
    log(t(11), "bob holds seat 2", office.hold(bob, 2, t(11)));
    log(t(12), "bob holds seat 9", office.hold(bob, 9, t(12)));
    let bobs = log(t(13), "bob holds seat 3", office.hold(bob, 3, t(13)));
    if let Some(bobs) = bobs {
        log(t(20), "bob pays for seat 3", office.pay(bob, bobs, t(20)));
    }
    if let Some(adas) = adas {
        log(t(30), "cy pays for ada's hold", office.pay(cy, adas, t(30)));
        log(t(40), "ada pays for seat 2", office.pay(ada, adas, t(40)));
        log(t(41), "ada pays again", office.pay(ada, adas, t(41)));
    }

    // Bob's hold on seat 3 lapses at t=313 without any sweeper: cy may take it.
    println!("free seats at t=312: {}", office.free_seats(t(312)));
    println!("free seats at t=313: {}", office.free_seats(t(313)));
    let cys = log(t(313), "cy holds seat 3", office.hold(cy, 3, t(313)));
    if let (Some(bobs), Some(cys)) = (bobs, cys) {
        log(
            t(314),
            "bob pays for the lapsed hold",
            office.pay(bob, bobs, t(314)),
        );
        log(t(315), "cy pays for seat 3", office.pay(cy, cys, t(315)));
    }

    office.check_invariants()?;
    let sold = office.seats.len() - office.free_seats(t(315));
    println!(
        "sold {sold} of {} seats; every sold seat has its payment and every point is accounted for",
        office.seats.len()
    );
    assert_eq!(sold, 2, "seat 2 to ada and seat 3 to cy");
    Ok(())
}

#[cfg(test)]
mod tests {
    /// `cargo test` runs the whole script, invariant checks included.
    #[test]
    fn the_box_office_script_keeps_its_invariants() -> Result<(), Box<dyn std::error::Error>> {
        super::main()
    }
}
