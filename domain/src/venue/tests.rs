use super::*;

fn tiers() -> Vec<TierDraft> {
    vec![
        TierDraft::new("floor", "Floor", 180),
        TierDraft::new("balcony", "Balcony", 60),
    ]
}

fn two_sections() -> LayoutDraft {
    LayoutDraft {
        tiers: tiers(),
        sections: vec![
            SectionDraft::grid("A", "Floor A", "floor", 2, 10),
            SectionDraft::with_rows(
                "B",
                "Balcony",
                Some("balcony"),
                vec![
                    RowDraft::new("A", 6).with_gaps(vec![3]),
                    RowDraft::new("B", 6).in_tier("floor"),
                ],
            )
            .at(0, 4),
        ],
        stage: None,
    }
}

fn fault(draft: &LayoutDraft) -> &'static str {
    match VenueLayout::parse(draft) {
        Err(error) => error.fault(),
        Ok(_) => "none",
    }
}

#[test]
fn seats_are_numbered_in_section_then_row_order() {
    let layout = VenueLayout::parse(&two_sections()).unwrap();
    assert_eq!(layout.seat_count(), 32);
    let place = |n| {
        let p = layout.place(n).unwrap();
        (
            p.section.id.as_str(),
            p.row.label.as_str(),
            p.seat,
            p.tier.id.as_str(),
        )
    };
    assert_eq!(place(1), ("A", "1", 1, "floor"));
    assert_eq!(place(20), ("A", "2", 10, "floor"));
    assert_eq!(place(21), ("B", "A", 1, "balcony"));
    assert_eq!(place(32), ("B", "B", 6, "floor"), "a row's own tier wins");
    assert!(layout.place(0).is_none() && layout.place(33).is_none());
    let prices: Vec<i64> = layout.seat_prices().map(|p| p.get()).collect();
    assert_eq!(prices.len(), 32);
    assert_eq!((prices[0], prices[20], prices[31]), (180, 60, 180));
    assert_eq!(layout.lowest_price().get(), 60);
    assert_eq!(layout.sections()[1].seat_numbers(), 21..=32);
}

#[test]
fn a_layout_round_trips_through_its_spelled_out_draft() {
    let layout = VenueLayout::parse(&two_sections()).unwrap();
    assert_eq!(VenueLayout::parse(&layout.to_draft()), Ok(layout));
}

#[test]
fn each_fault_is_named() {
    let with = |change: fn(&mut LayoutDraft)| {
        let mut draft = two_sections();
        change(&mut draft);
        fault(&draft)
    };
    assert_eq!(with(|d| d.tiers.clear()), "TIER_COUNT");
    assert_eq!(with(|d| d.tiers[1].id = "floor".into()), "DUPLICATE_TIER");
    assert_eq!(
        with(|d| d.tiers[0].id = "no spaces".into()),
        "INVALID_TIER_ID"
    );
    assert_eq!(with(|d| d.tiers[0].name = " ".into()), "INVALID_TIER_NAME");
    assert_eq!(with(|d| d.tiers[0].price = -1), "INVALID_PRICE");
    assert_eq!(with(|d| d.sections.clear()), "SECTION_COUNT");
    assert_eq!(with(|d| d.sections[1].id = "A".into()), "DUPLICATE_SECTION");
    assert_eq!(
        with(|d| d.sections[0].id = String::new()),
        "INVALID_SECTION_ID"
    );
    assert_eq!(
        with(|d| d.sections[0].name = String::new()),
        "INVALID_SECTION_NAME"
    );
    assert_eq!(
        with(|d| d.sections[0].tier = Some("vip".into())),
        "UNKNOWN_TIER"
    );
    assert_eq!(
        with(|d| d.sections[1].rows[1].tier = Some("vip".into())),
        "UNKNOWN_TIER"
    );
    assert_eq!(with(|d| d.sections[1].tier = None), "NO_TIER");
    assert_eq!(with(|d| d.sections[0].seats_per_row = None), "ROWS_OR_GRID");
    assert_eq!(with(|d| d.sections[1].row_count = Some(3)), "ROWS_OR_GRID");
    assert_eq!(with(|d| d.sections[0].row_count = Some(0)), "ROW_COUNT");
    assert_eq!(with(|d| d.sections[0].row_count = Some(201)), "ROW_COUNT");
    assert_eq!(
        with(|d| d.sections[1].rows[1].label = "A".into()),
        "DUPLICATE_ROW"
    );
    assert_eq!(
        with(|d| d.sections[1].rows[1].label = "".into()),
        "INVALID_ROW_LABEL"
    );
    assert_eq!(with(|d| d.sections[1].rows[0].seats = 0), "EMPTY_ROW");
    assert_eq!(with(|d| d.sections[0].seats_per_row = Some(0)), "EMPTY_ROW");
    assert_eq!(with(|d| d.sections[1].rows[0].seats = 501), "ROW_TOO_LONG");
    assert_eq!(
        with(|d| d.sections[1].rows[0].gaps = vec![6]),
        "INVALID_GAP"
    );
    assert_eq!(
        with(|d| d.sections[1].rows[0].gaps = vec![0]),
        "INVALID_GAP"
    );
    assert_eq!(
        with(|d| d.sections[1].rows[0].gaps = vec![3, 3]),
        "INVALID_GAP"
    );
    assert_eq!(with(|d| d.sections[0].width = Some(9)), "INVALID_GEOMETRY");
    assert_eq!(with(|d| d.sections[0].height = Some(1)), "INVALID_GEOMETRY");
    assert_eq!(with(|d| d.sections[0].x = -1), "INVALID_GEOMETRY");
    assert_eq!(
        with(|d| d.stage = Some(Area {
            x: 0,
            y: 0,
            width: 0,
            height: 1
        })),
        "INVALID_STAGE"
    );
    assert_eq!(
        with(|d| d.sections[0].row_count = Some(200)),
        "none",
        "200 rows of 10 is allowed"
    );
}

#[test]
fn no_layout_may_hold_more_seats_than_a_schedule() {
    let mut draft = LayoutDraft {
        tiers: tiers(),
        sections: (0..21)
            .map(|i| SectionDraft::grid(&format!("S{i}"), "Block", "floor", 100, 5))
            .collect(),
        stage: None,
    };
    assert_eq!(fault(&draft), "TOO_MANY_SEATS", "21 × 500 seats");
    draft.sections.pop();
    assert_eq!(
        VenueLayout::parse(&draft).map(|l| l.seat_count()),
        Ok(10_000)
    );
}

#[test]
fn a_numbered_hall_is_one_section_in_rows_of_twenty_at_one_price() {
    let hall = VenueLayout::numbered_hall(45, Points::new(30).unwrap());
    assert!(hall.is_numbered_hall());
    assert_eq!(hall.seat_count(), 45);
    let rows: Vec<i64> = hall.sections()[0].rows.iter().map(|r| r.seats).collect();
    assert_eq!(rows, [20, 20, 5]);
    let last = hall.place(45).unwrap();
    assert_eq!((last.row.label.as_str(), last.seat), ("3", 5));
    assert!(hall.seat_prices().all(|p| p.get() == 30));
}

#[test]
fn the_best_block_is_the_front_centre_one() {
    // One section of 3 rows × 10 seats, stage across the top.
    let draft = LayoutDraft {
        tiers: tiers(),
        sections: vec![SectionDraft::grid("A", "Floor", "floor", 3, 10)],
        stage: None,
    };
    let layout = VenueLayout::parse(&draft).unwrap();
    let all_free = |_| true;
    let best = layout.best_blocks(2, &SeatFilter::default(), all_free);
    assert_eq!(best[0].seats(), 5..=6, "front row, centre");
    assert_eq!(best.len(), 3 * 9);
    // Seats 5 and 6 taken: the best pair is beside them (4-5 overlaps 5).
    let free = |n: i64| n != 5 && n != 6;
    let best = layout.best_blocks(2, &SeatFilter::default(), free);
    assert_eq!(best[0].seats(), 3..=4, "one seat off centre, front row");
    assert_eq!(best[1].seats(), 7..=8);
    // A row further back beats two seats further out.
    assert!(best.iter().position(|b| b.first_seat == 15).unwrap() < 4);
}

#[test]
fn a_block_never_spans_an_aisle_nor_a_taken_seat() {
    let draft = LayoutDraft {
        tiers: tiers(),
        sections: vec![SectionDraft::with_rows(
            "A",
            "Floor",
            Some("floor"),
            vec![RowDraft::new("1", 6).with_gaps(vec![3])],
        )],
        stage: None,
    };
    let layout = VenueLayout::parse(&draft).unwrap();
    let blocks = layout.best_blocks(3, &SeatFilter::default(), |_| true);
    let mut found: Vec<_> = blocks.iter().map(|b| b.seats()).collect();
    found.sort_by_key(|r| *r.start());
    assert_eq!(found, [1..=3, 4..=6]);
    assert!(
        layout
            .best_blocks(4, &SeatFilter::default(), |_| true)
            .is_empty()
    );
    assert!(
        layout
            .best_blocks(3, &SeatFilter::default(), |n| n != 2 && n != 5)
            .is_empty()
    );
    assert_eq!(
        layout.best_split(3, &SeatFilter::default(), |n| n != 2 && n != 5),
        [1, 3, 4],
        "the split offers the best single seats (1 and 6 tie: the lower wins)"
    );
}

#[test]
fn blocks_stay_in_the_tier_and_section_asked_for() {
    let layout = VenueLayout::parse(&two_sections()).unwrap();
    let balcony = SeatFilter {
        tier: Some("balcony"),
        section: None,
    };
    let blocks = layout.best_blocks(2, &balcony, |_| true);
    assert!(!blocks.is_empty());
    for block in &blocks {
        for seat in block.seats() {
            assert_eq!(layout.tier_of(seat).unwrap().id, "balcony");
        }
    }
    let section_b = SeatFilter {
        tier: None,
        section: Some("B"),
    };
    assert!(
        layout
            .best_blocks(2, &section_b, |_| true)
            .iter()
            .all(|b| b.first_seat > 20)
    );
    assert!(layout.knows(&balcony) && layout.knows(&section_b));
    assert!(!layout.knows(&SeatFilter {
        tier: Some("vip"),
        section: None
    }));
}
