use super::*;
use crate::catalogue::MockCatalogue;
use crate::fixtures::{FakeLog, held, stored};
use async_trait::async_trait;
use frontrow_domain::{ConcertId, ReservationId};
use proptest::prelude::*;
use std::sync::atomic::AtomicBool;

const SCHEDULE: ScheduleId = ScheduleId::from_store(1);

fn catalogue_of(seats: usize) -> Arc<MockCatalogue> {
    let mut catalogue = MockCatalogue::new();
    catalogue
        .expect_seats()
        .returning(move |_| Ok(vec![stored(SeatState::Available, 0); seats]));
    Arc::new(catalogue)
}

/// A log whose `since` does not answer while `stuck` is set: a store round
/// trip that takes as long as the test likes.
#[derive(Default)]
struct StuckLog {
    log: FakeLog,
    stuck: AtomicBool,
    released: Notify,
}

impl StuckLog {
    fn release(&self) {
        self.stuck.store(false, Ordering::SeqCst);
        self.released.notify_waiters();
    }
}

#[async_trait]
impl SeatChangeLog for StuckLog {
    async fn version(&self, schedule: ScheduleId) -> Result<u64, StoreError> {
        self.log.version(schedule).await
    }
    async fn append(&self, change: &SeatChange) -> Result<u64, StoreError> {
        self.log.append(change).await
    }
    async fn since(
        &self,
        schedule: ScheduleId,
        after: u64,
    ) -> Result<Option<Vec<(u64, SeatChange)>>, StoreError> {
        while self.stuck.load(Ordering::SeqCst) {
            let released = self.released.notified();
            if !self.stuck.load(Ordering::SeqCst) {
                break;
            }
            released.await;
        }
        self.log.since(schedule, after).await
    }
    async fn open_sale(&self, c: ConcertId, s: &[ScheduleId], n: i64) -> Result<(), StoreError> {
        self.log.open_sale(c, s, n).await
    }
}

fn known(version: u64) -> Option<KnownVersion> {
    Some(KnownVersion {
        version,
        asked_at: Instant::now(),
    })
}

/// Before this module followed the log in the background, a reader that
/// knew the log was ahead fetched the changes itself, one reader per
/// schedule at a time, and every other reader waited for that fetch: with
/// a log that does not answer, all of them waited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_answer_at_once_while_the_log_does_not() {
    let log = Arc::new(StuckLog::default());
    let maps = Arc::new(SeatMaps::new(catalogue_of(10), log.clone()));
    maps.current(SCHEDULE).await.unwrap();
    log.stuck.store(true, Ordering::SeqCst);
    // Another instance holds seat 2: the log is at version 1 now.
    log.append(&held(1, 2, 1)).await.unwrap();
    let readers: Vec<_> = (0..200)
        .map(|_| {
            let maps = maps.clone();
            tokio::spawn(async move {
                let read = maps.read(SCHEDULE, known(1));
                tokio::time::timeout(Duration::from_millis(500), read).await
            })
        })
        .collect();
    for reader in readers {
        let map = reader
            .await
            .unwrap()
            .expect("a reader waited for the log")
            .unwrap();
        assert_eq!(map.version, 0, "the map this instance holds, as it is");
    }
    log.release();
    let caught_up = async {
        loop {
            let map = maps.current(SCHEDULE).await.unwrap();
            if map.version == 1 {
                return map;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    let map = tokio::time::timeout(Duration::from_millis(FOLLOW_POLL_MS * 4), caught_up)
        .await
        .expect("the follower caught up once the log answered");
    assert!(matches!(map.seats[1], SeatState::Held { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_reads_its_own_change_at_once_even_while_the_log_does_not_answer() {
    let log = Arc::new(StuckLog::default());
    let maps = SeatMaps::new(catalogue_of(10), log.clone());
    maps.current(SCHEDULE).await.unwrap();
    log.stuck.store(true, Ordering::SeqCst);
    // Someone else's change first, then this instance's own.
    log.append(&held(1, 1, 1)).await.unwrap();
    maps.changed(&held(1, 3, 1)).await;
    let map = maps.current(SCHEDULE).await.unwrap();
    assert!(matches!(map.seats[2], SeatState::Held { .. }), "own change");
    assert_eq!(map.seats[0], SeatState::Available, "not fetched yet");
    assert_eq!(map.version, 0, "the version says what is complete");
    log.release();
}

/// Changes land every millisecond or two while 32 readers read as fast as
/// they can: every reader is handed a map holding every change logged more
/// than the bound before its read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reader_sees_a_map_no_older_than_the_bound() {
    const BOUND: Duration = Duration::from_millis(100);
    let log = Arc::new(FakeLog::default());
    let maps = Arc::new(SeatMaps::new(catalogue_of(500), log.clone()));
    maps.current(SCHEDULE).await.unwrap();
    let appended = Arc::new(Mutex::new(Vec::<(Instant, u64)>::new()));
    let writer = {
        let (log, appended) = (log.clone(), appended.clone());
        tokio::spawn(async move {
            for i in 0..300u64 {
                let change = held(1, (i % 500) as i64 + 1, i / 500 + 1);
                let version = log.append(&change).await.unwrap();
                appended.lock().push((Instant::now(), version));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    let readers: Vec<_> = (0..32)
        .map(|_| {
            let maps = maps.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let until = Instant::now() + Duration::from_millis(400);
                while Instant::now() < until {
                    let map = maps.current(SCHEDULE).await.unwrap();
                    seen.push((Instant::now(), map.version));
                    tokio::task::yield_now().await;
                }
                seen
            })
        })
        .collect();
    writer.await.unwrap();
    let appended = appended.lock().clone();
    let mut reads = 0;
    for reader in readers {
        for (read_at, version) in reader.await.unwrap() {
            reads += 1;
            let due = appended
                .iter()
                .take_while(|(at, _)| *at + BOUND <= read_at)
                .last()
                .map_or(0, |(_, v)| *v);
            assert!(
                version >= due,
                "a reader got version {version}, {due} was logged over {BOUND:?} before"
            );
        }
    }
    assert!(reads > 1_000, "{reads} reads");
    assert!(maps.lag() <= BOUND, "lag {:?}", maps.lag());
}

#[tokio::test(start_paused = true)]
async fn a_follower_nobody_reads_stops_and_its_map_goes() {
    let maps = SeatMaps::new(catalogue_of(3), Arc::new(FakeLog::default()));
    maps.current(SCHEDULE).await.unwrap();
    assert_eq!(maps.followed(), 1);
    tokio::time::sleep(Duration::from_millis(FOLLOW_IDLE_MS / 2)).await;
    maps.current(SCHEDULE).await.unwrap();
    tokio::time::sleep(Duration::from_millis(FOLLOW_IDLE_MS / 2)).await;
    assert_eq!(maps.followed(), 1, "read within the idle time");
    tokio::time::sleep(Duration::from_millis(FOLLOW_IDLE_MS + FOLLOW_POLL_MS * 2)).await;
    assert_eq!(maps.followed(), 0, "nobody read it for the idle time");
    assert_eq!(maps.loads(), 1);
    maps.current(SCHEDULE).await.unwrap();
    assert_eq!((maps.followed(), maps.loads()), (1, 2), "loaded again");
}

#[tokio::test(start_paused = true)]
async fn a_map_past_its_age_is_read_again_while_readers_keep_the_old_one() {
    let maps = SeatMaps::new(catalogue_of(3), Arc::new(FakeLog::default()));
    maps.current(SCHEDULE).await.unwrap();
    for _ in 0..(SEAT_MAP_MAX_AGE_MS / 10_000 + 1) {
        tokio::time::sleep(Duration::from_millis(10_000)).await;
        maps.current(SCHEDULE).await.unwrap();
    }
    assert_eq!(maps.loads(), 2, "one reload in the background");
}

#[tokio::test]
async fn a_change_the_log_could_not_take_is_logged_once_it_can() {
    let log = Arc::new(FakeLog::default());
    let maps = SeatMaps::new(Arc::new(MockCatalogue::new()), log.clone());
    let change = |seat, version| held(1, seat, version);
    log.down.store(true, Ordering::SeqCst);
    maps.changed(&change(1, 2)).await;
    maps.changed(&change(1, 3)).await; // the same seat again: newest kept
    maps.changed(&change(2, 1)).await;
    assert_eq!(maps.relog_unlogged().await, 0, "still down");
    log.down.store(false, Ordering::SeqCst);
    // The next change logged brings the others with it.
    maps.changed(&change(3, 1)).await;
    let logged = log.since(SCHEDULE, 0).await.unwrap().unwrap();
    let mut seats: Vec<(i64, u64)> = logged
        .iter()
        .map(|(_, c)| (c.seat.get(), c.seat_version))
        .collect();
    seats.sort_unstable();
    assert_eq!(seats, vec![(1, 3), (2, 1), (3, 1)]);
    assert_eq!(maps.relog_unlogged().await, 0, "nothing left");
}

const SEATS: usize = 4;

#[derive(Debug, Clone)]
enum Op {
    Hold(usize),
    Cancel(usize),
    Pay(usize),
    /// Time passes: holds may lapse (no change is logged for that).
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..SEATS).prop_map(Op::Hold),
        (0..SEATS).prop_map(Op::Cancel),
        (0..SEATS).prop_map(Op::Pay),
        (1..400i64).prop_map(Op::Wait),
    ]
}

/// The database, as the domain's seat state machine drives it: every
/// transition that succeeds bumps the seat's version and logs a change.
fn run(ops: &[Op]) -> (Vec<StoredSeat>, Vec<SeatChange>, Timestamp) {
    let mut rows = vec![stored(SeatState::Available, 0); SEATS];
    let mut changes = Vec::new();
    let mut now = Timestamp(1_000);
    let mut next_reservation = 1;
    for op in ops {
        let (seat, next) = match *op {
            Op::Wait(ms) => {
                now = Timestamp(now.millis() + ms);
                continue;
            }
            Op::Hold(seat) => {
                let id = ReservationId::from_store(next_reservation);
                next_reservation += 1;
                (
                    seat,
                    rows[seat]
                        .state
                        .hold(id, now, Timestamp(now.millis() + 500)),
                )
            }
            Op::Cancel(seat) | Op::Pay(seat) => {
                let SeatState::Held { reservation, .. } = rows[seat].state else {
                    continue;
                };
                let state = rows[seat].state;
                let next = match op {
                    Op::Cancel(_) => state.release(reservation, now),
                    _ => state.sell(reservation, now),
                };
                (seat, next)
            }
        };
        let Ok(state) = next else { continue };
        rows[seat] = stored(state, rows[seat].version + 1);
        changes.push(SeatChange {
            concert: ConcertId::from_store(1),
            schedule: SCHEDULE,
            seat: SeatNumber::from_store(seat as i64 + 1),
            state,
            seat_version: rows[seat].version,
        });
    }
    (rows, changes, now)
}

fn states(rows: &[StoredSeat]) -> Vec<SeatState> {
    rows.iter().map(|r| r.state).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Changes applied in any order, some of them twice, rebuild
    /// exactly the database's map and its free-seat count.
    #[test]
    fn any_order_of_changes_rebuilds_the_databases_map(
        ops in proptest::collection::vec(op(), 0..60),
        order in any::<u64>(),
    ) {
        let (rows, changes, now) = run(&ops);
        let mut shuffled: Vec<SeatChange> = changes.clone();
        shuffled.extend(changes.iter().step_by(3).copied());
        let mut seed = order | 1;
        for i in (1..shuffled.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            shuffled.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        let start = vec![stored(SeatState::Available, 0); SEATS];
        let mut working = WorkingMap::from_stored(&start, 0);
        for change in &shuffled {
            working.apply(change);
        }
        let map = working.map();
        let from_db = WorkingMap::from_stored(&rows, 0);
        prop_assert_eq!(map.seats.as_ref(), &states(&rows));
        prop_assert_eq!(map.available_at(now), from_db.map().available_at(now));
        let free = rows
            .iter()
            .filter(|r| r.state.status_at(now) == frontrow_domain::seat::SeatStatus::Available)
            .count() as i64;
        prop_assert_eq!(map.available_at(now), free);
        let counts = map.counts_at(now);
        prop_assert_eq!(counts.available + counts.held + counts.sold, SEATS as i64);
        prop_assert_eq!(counts, from_db.map().counts_at(now));
    }

    /// A follower that finds a gap in the log reloads, and ends with the
    /// database's map.
    #[test]
    fn a_gap_in_the_log_is_repaired_from_the_database(
        ops in proptest::collection::vec(op(), 1..60),
        lost in 0usize..8,
    ) {
        let (rows, changes, _) = run(&ops);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let log = Arc::new(FakeLog::default());
            let start = vec![stored(SeatState::Available, 0); SEATS];
            let mut catalogue = MockCatalogue::new();
            let loads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let counted = loads.clone();
            let end = rows.clone();
            catalogue.expect_seats().returning(move |_| {
                // The first read sees the start, later ones the end.
                let n = counted.fetch_add(1, Ordering::SeqCst);
                Ok(if n == 0 { start.clone() } else { end.clone() })
            });
            let maps = SeatMaps::new(Arc::new(catalogue), log.clone());
            maps.current(SCHEDULE).await.unwrap();
            for change in &changes {
                log.append(change).await.unwrap();
            }
            if lost > 0 && changes.len() > lost {
                log.forget_before(lost as u64 + 1);
            }
            tokio::time::sleep(Duration::from_millis(FOLLOW_POLL_MS * 2)).await;
            let map = maps.current(SCHEDULE).await.unwrap();
            assert_eq!(map.seats.as_ref(), &states(&rows));
        });
    }
}
