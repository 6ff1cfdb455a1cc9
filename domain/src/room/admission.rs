//! Admission: the line, presence, lapses and the round every call runs
//! first (the rules of the module doc, in code).

use super::parts::Slot;
use super::{Ending, MAX_DROPPED, MAX_SKIPPED, Room, RoomSettings};
use crate::Timestamp;
use crate::queue::{AdmissionBucket, QueueStatus, QueueToken, SalePhase};

impl Room {
    /// Moves the pre-queue, in draw order, to the back of the line once
    /// the sale is open: all of it in one step.
    pub(super) fn open_if_due(&mut self, now: Timestamp) {
        if self.pre_line.is_empty() || self.phase(now) != SalePhase::Open {
            return;
        }
        for (_, token) in std::mem::take(&mut self.pre_line) {
            self.pre_draws.remove(&token);
            self.enqueue(token);
        }
    }

    pub(super) fn enqueue(&mut self, token: QueueToken) {
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        self.line.insert(arrival, token.clone());
        self.arrivals.insert(token, arrival);
        self.positions.add(arrival, 1);
    }

    /// Drops up to [`MAX_DROPPED`] lapsed ACTIVE places, counting them.
    pub(super) fn drop_lapsed(&mut self, now: Timestamp) {
        let mut gone = Vec::new();
        for _ in 0..MAX_DROPPED {
            match self.lapses.first() {
                Some((at, _)) if *at <= now => {}
                _ => break,
            }
            if let Some((_, token)) = self.lapses.pop_first() {
                self.active.remove(&token);
                self.ended(&token);
                self.lapsed += 1;
                gone.push(token);
            }
        }
        self.moved(gone.len(), now);
        self.record_endings(gone, Ending::TurnEnded);
    }

    /// A waiting place whose holder was last seen longer than the idle
    /// time ago is absent.
    pub(super) fn absent(
        &self,
        token: &QueueToken,
        settings: &RoomSettings,
        now: Timestamp,
    ) -> bool {
        let idle = settings.waiting_idle_ms;
        idle > 0
            && self
                .seen
                .get(token)
                .is_some_and(|seen| seen.millis() < now.millis() - idle)
    }

    /// A waiting holder asked for its status: it is present. Recorded only
    /// within what two idle times admit at the current rate, and at most
    /// every quarter of the idle time, so a long line's polls are reads.
    pub(super) fn present(&mut self, token: &QueueToken, settings: &RoomSettings, now: Timestamp) {
        let idle = settings.waiting_idle_ms;
        let (status, position) = self.status(token, now);
        let waiting = matches!(status, QueueStatus::Waiting | QueueStatus::PreQueue);
        let near = position <= 2 * self.admission_rate(settings) * idle / 1000;
        if idle <= 0 || !waiting || !near {
            return;
        }
        let stale = self
            .seen
            .get(token)
            .is_none_or(|seen| seen.millis() < now.millis() - idle / 4);
        if stale {
            self.seen.insert(token.clone(), now);
        }
    }

    /// Admits from the head of the line as far as the policy in force and
    /// the stock allow (see
    /// [`AdmissionPolicy::admissions`](crate::queue::AdmissionPolicy::admissions)
    /// and [`StockRule::most_active`](crate::queue::StockRule::most_active));
    /// nobody before the opening.
    pub fn admit(&mut self, settings: &RoomSettings, now: Timestamp) {
        self.open_if_due(now);
        if self.phase(now) != SalePhase::Open {
            return;
        }
        let policy = self.in_force(settings);
        let bucket = self.bucket.unwrap_or_else(|| policy.fresh_bucket(now));
        // Whole admissions in the bucket: the count and drop are only
        // needed when one may be made.
        let (possible, _) = policy.admissions(0, 1, i64::MAX, bucket, now);
        if possible == 0 {
            return;
        }
        self.drop_lapsed(now);
        let most_active = settings.stock_rule.most_active(self.stock(now));
        let (admit, after) = policy.admissions(
            self.active.len() as i64,
            self.line.len() as i64,
            most_active,
            bucket,
            now,
        );
        let (mut admitted, mut skipped, mut lapsed) = (0, 0, Vec::new());
        // In batches of what is still to admit, as ZPOPMIN pops them: the
        // skip bound is checked between batches.
        while admitted < admit && skipped < MAX_SKIPPED as i64 {
            let batch: Vec<(usize, QueueToken)> = (0..admit - admitted)
                .map_while(|_| self.line.pop_first())
                .collect();
            if batch.is_empty() {
                break;
            }
            for (arrival, token) in batch {
                self.arrivals.remove(&token);
                self.positions.add(arrival, -1);
                let absent = self.absent(&token, settings, now);
                self.seen.remove(&token);
                self.joined.remove(&token);
                if absent {
                    // Skipped, not admitted: a later status says EXPIRED.
                    skipped += 1;
                    self.ended(&token);
                    lapsed.push(token);
                    continue;
                }
                admitted += 1;
                let hard = Timestamp(now.millis().saturating_add(settings.active_ms));
                let lapse = if settings.active_idle_ms > 0 {
                    hard.min(Timestamp(
                        now.millis().saturating_add(settings.active_idle_ms),
                    ))
                } else {
                    hard
                };
                let slot = Slot {
                    hard,
                    own: lapse,
                    pick: settings.pick_window(now),
                    kept: None,
                };
                self.lapses.insert((slot.lapse(), token.clone()));
                self.active.insert(token, slot);
            }
        }
        self.lapsed += skipped;
        self.record_endings(lapsed, Ending::Lapsed);
        self.admitted += admitted;
        if admitted > 0 && self.moved_at.is_none() {
            // The line starts moving: the first admission.
            self.moved_at = Some(now);
        }
        if admitted > 0 {
            // Tokens go only to those admitted; a skipped place spends none.
            self.bucket = Some(AdmissionBucket {
                milli_tokens: after.milli_tokens + (admit - admitted) * 1000,
                ..after
            });
        }
    }
}
