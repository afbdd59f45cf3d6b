//! Rows folded into time columns (`render::timeaxis::ColumnFold`, what the analysis thread
//! does for the window and the history re-render does for its rows) against the naive
//! per-column maximum of `support::columns`, for hops from 1 to 65536 and every span the
//! `,` / `.` keys step through, including columns that straddle rows and a stream an hour
//! in (no drift).

use std::collections::BTreeMap;

use hopscope::render::timeaxis::{ColumnFold, TimeGrid};
use hopscope::ui::state::SPANS_MS;

use crate::support::columns::naive_columns;
use crate::support::rng::Rng;

const SR: u32 = 48_000;
const HEIGHT: usize = 4;

/// `n` rows of hop `hop` ending from `first_end` on, random values with a rare spike.
fn rows(rng: &mut Rng, first_end: u64, hop: usize, n: usize) -> Vec<(u64, Vec<f32>)> {
    (0..n)
        .map(|k| {
            let values = (0..HEIGHT)
                .map(|_| {
                    if rng.below(500) == 0 {
                        0.0
                    } else {
                        rng.range(-120.0, -20.0) as f32
                    }
                })
                .collect();
            (first_end + (k * hop) as u64, values)
        })
        .collect()
}

/// The fold's columns, checking that its runs are contiguous and account for every row.
fn folded(rows: &[(u64, Vec<f32>)], grid: TimeGrid, hop: usize) -> BTreeMap<u64, Vec<f32>> {
    let mut fold = ColumnFold::new(grid, HEIGHT);
    let mut out = BTreeMap::new();
    let mut next: Option<u64> = None;
    let mut rows_seen = 0u64;
    let mut keep = |run: hopscope::render::timeaxis::Run<'_>| {
        if let Some(n) = next {
            assert_eq!(run.first, n, "runs are contiguous");
        }
        assert!(run.last >= run.first);
        next = Some(run.last + 1);
        rows_seen += u64::from(run.rows);
        let values = run.values.expect("no gap here").to_vec();
        for c in run.first..=run.last {
            assert!(out.insert(c, values.clone()).is_none(), "column {c} twice");
        }
    };
    for (end, values) in rows {
        fold.push_row(values, *end, hop, &mut keep);
    }
    fold.flush(&mut keep);
    assert_eq!(rows_seen, rows.len() as u64, "every row in exactly one run");
    out
}

#[test]
fn columns_are_the_maximum_of_their_rows_at_every_hop_and_span() {
    let mut rng = Rng::new(61);
    for hop in [1usize, 3, 7, 512, 4096, 65536] {
        for span_ms in SPANS_MS {
            for (width_px, first_end) in [(1216u32, 1024u64), (997, 3600 * u64::from(SR) + 12_345)]
            {
                let grid = TimeGrid::new(span_ms, width_px, SR);
                let samples_per_col =
                    f64::from(span_ms) * f64::from(SR) / 1000.0 / f64::from(width_px);
                // At least 40 rows and 30 columns' worth of them.
                let n = ((30.0 * samples_per_col / hop as f64).ceil() as usize).clamp(40, 200_000);
                let rows = rows(&mut rng, first_end, hop, n);
                let want = naive_columns(&rows, span_ms, width_px, SR);
                let got = folded(&rows, grid, hop);
                let what = format!("hop {hop}, span {span_ms} ms, {width_px} px, from {first_end}");
                assert_eq!(got.len(), want.len(), "{what}: columns");
                for (c, w) in &want {
                    assert_eq!(got.get(c), Some(w), "{what}: column {c}");
                }
                // Rows per column as the hop and the span say (±1 at the ends).
                if (hop as f64) < samples_per_col {
                    assert!(want.len() as f64 >= n as f64 * hop as f64 / samples_per_col - 2.0);
                }
            }
        }
    }
}

#[test]
fn a_column_is_handed_out_with_its_last_row_not_one_row_later() {
    // hop 1000, 480 samples per column (span 1 s over 100 px): every row completes the
    // columns up to its own at once, so nothing waits for the next row.
    let grid = TimeGrid::new(1000, 100, SR);
    let mut fold = ColumnFold::new(grid, 1);
    for k in 1..50u64 {
        let end = k * 1000;
        let mut last = None;
        fold.push_row(&[k as f32], end, 1000, |run| last = Some(run.last));
        assert_eq!(last, Some(grid.column_of(end)), "row {k}");
    }
}

#[test]
fn a_gap_is_hatched_over_its_columns_and_columns_resume_after_it() {
    let grid = TimeGrid::new(10_000, 1000, SR); // 480 samples a column
    let mut fold = ColumnFold::new(grid, 1);
    let mut runs = Vec::new();
    for k in 1..=10u64 {
        fold.push_row(&[-50.0], k * 480, 480, |r| {
            runs.push((r.first, r.last, r.values.map(|v| v[0])))
        });
    }
    // 1 s without samples, then rows again.
    let gap_end = 10 * 480 + SR as u64;
    fold.push_gap(gap_end, |r| {
        runs.push((r.first, r.last, r.values.map(|v| v[0])))
    });
    fold.push_row(&[-40.0], gap_end + 480, 480, |r| {
        runs.push((r.first, r.last, r.values.map(|v| v[0])))
    });
    assert_eq!(
        runs[..10],
        (1..=10).map(|c| (c, c, Some(-50.0))).collect::<Vec<_>>()[..]
    );
    // The gap: columns 11 ..= 109 (its end, sample 52 800, starts column 110).
    assert_eq!(runs[10], (11, 109, None));
    assert_eq!(runs[11], (110, 111, Some(-40.0)));
}

#[test]
fn column_start_sample_inverts_column_of() {
    let mut rng = Rng::new(62);
    for _ in 0..2000 {
        let span_ms = SPANS_MS[rng.below(SPANS_MS.len())];
        let width = 300 + rng.below(3000) as u32;
        let sr = [8000u32, 44_100, 48_000, 96_000][rng.below(4)];
        let mut grid = TimeGrid::new(span_ms, width, sr);
        grid.origin_sample = rng.below(1 << 20) as u64;
        grid.origin_col = rng.below(1 << 16) as u64;
        let c = grid.origin_col + rng.below(1 << 24) as u64;
        let s = grid.column_start_sample(c);
        assert_eq!(grid.column_of(s), c, "{grid:?} column {c}");
        assert!(grid.column_of(s - 1) < c, "{grid:?} column {c}");
    }
}
