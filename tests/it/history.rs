//! The re-render history (`history`): the mono ring against a naive `Vec` of everything
//! pushed, and a re-render against the same frames computed directly with the offline
//! STFT (`offline::stft_rows`), mapped with the same `ColumnMap` and folded into time
//! columns by the naive oracle (`support::columns`).

use hopscope::analysis::history::MonoHistory;
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use std::collections::BTreeMap;

use hopscope::render::freqmap::{ColumnMap, FreqAxis, FreqScale};
use hopscope::render::timeaxis::TimeGrid;
use hopscope::ui::rerender::{render, RerenderRequest};

use crate::support::columns::naive_columns;
use crate::support::rng::Rng;

#[test]
fn the_ring_holds_exactly_the_newest_samples() {
    let mut rng = Rng::new(3);
    for capacity in [1usize, 7, 64, 1000] {
        let mut h = MonoHistory::new(capacity);
        let mut all: Vec<f32> = Vec::new();
        for _ in 0..200 {
            let n = rng.below(3 * capacity + 2);
            let chunk: Vec<f32> = (0..n).map(|i| (all.len() + i) as f32).collect();
            h.push(&chunk);
            all.extend_from_slice(&chunk);
            let total = all.len() as u64;
            assert_eq!(h.total(), total);
            assert_eq!(h.oldest(), total.saturating_sub(capacity as u64));
            // Random ranges: held ones copy exactly, others are refused untouched.
            for _ in 0..5 {
                let start = rng.below(all.len() + 2) as u64;
                let len = rng.below(capacity + 2);
                let mut out = vec![-1.0f32; len];
                let held = start >= h.oldest() && start + len as u64 <= total;
                assert_eq!(
                    h.copy(start, &mut out),
                    held,
                    "cap {capacity} [{start}, +{len})"
                );
                if held {
                    assert_eq!(out[..], all[start as usize..start as usize + len]);
                } else {
                    assert!(out.iter().all(|&v| v == -1.0));
                }
            }
        }
    }
}

/// The re-rendered runs as columns (index → values), checking they are contiguous.
fn columns_of(done: &hopscope::ui::rerender::Rerendered) -> BTreeMap<u64, Vec<f32>> {
    let mut out = BTreeMap::new();
    let mut next = None;
    for run in done.runs() {
        if let Some(n) = next {
            assert_eq!(run.first, n, "contiguous runs");
        }
        next = Some(run.last + 1);
        for c in run.first..=run.last {
            out.insert(c, run.values.expect("no gap").to_vec());
        }
    }
    out
}

#[test]
fn a_rerender_equals_the_frames_computed_directly_folded_into_columns() {
    let sr = 48_000u32;
    let mut rng = Rng::new(11);
    let signal: Vec<f32> = (0..sr as usize * 3)
        .map(|n| {
            let t = n as f64 / f64::from(sr);
            (0.5 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin() + 0.01 * rng.gaussian()) as f32
        })
        .collect();
    let shared = MonoHistory::shared(2.0, sr); // holds the last 2 of the 3 s
    shared.lock().unwrap().push(&signal);
    let axis = FreqAxis {
        scale: FreqScale::Log,
        fmin_hz: 20.0,
        fmax_hz: 24_000.0,
    };
    for (fft, win, hop, window, span_ms, columns) in [
        (
            4096usize,
            4096usize,
            512usize,
            WindowKind::Hann,
            1000u32,
            5000usize,
        ),
        (2048, 1500, 256, WindowKind::Blackman, 10_000, 900),
        (1024, 1024, 1000, WindowKind::Hamming, 1000, 300),
        (512, 512, 7, WindowKind::Hann, 2000, 400),
    ] {
        let params = StftParams {
            fft_size: fft,
            win_length: win,
            hop_size: hop,
            window,
        };
        let map = ColumnMap::new(&axis, 300, fft, sr);
        let grid = TimeGrid::new(span_ms, 1000, sr);
        // The first live row on the new grid ends here; re-rendered rows end before it.
        let first_end = 2 * sr as u64 + 777;
        let cut_serial = grid.column_of(first_end);
        let req = RerenderRequest {
            pane: 0,
            id: 5,
            params,
            map: map.clone(),
            grid,
            first_end,
            cut_serial,
            columns,
        };
        let done = render(&shared, &req);
        assert_eq!(done.id, 5);
        // Oracle: every row ending at first_end − k·hop whose frame lies in the held 2 s
        // and whose end is in the `columns` columns before the cut or later.
        let oldest = (signal.len() - 2 * sr as usize) as u64;
        let lowest = (oldest + win as u64)
            .max(grid.column_start_sample(cut_serial.saturating_sub(columns as u64)));
        let ends: Vec<u64> = (1..)
            .map(|k| first_end - k * hop as u64)
            .take_while(|&e| e >= lowest)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        assert_eq!(done.rows, ends.len(), "{params:?}");
        // Frames computed directly from the signal, mapped, then folded naively.
        let start = (ends[0] - win as u64) as usize;
        let direct =
            hopscope::offline::stft_rows(&signal[start..], ends.len(), params, ValueScale::Db, 1);
        let bins = params.num_bins();
        let rows: Vec<(u64, Vec<f32>)> = ends
            .iter()
            .enumerate()
            .map(|(r, &e)| {
                let mut px = vec![0.0f32; 300];
                map.apply(&direct[r * bins..(r + 1) * bins], &mut px);
                (e, px)
            })
            .collect();
        let want = naive_columns(&rows, span_ms, 1000, sr);
        let got = columns_of(&done);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{params:?}"
        );
        for (c, w) in &want {
            for (i, (g, w)) in got[c].iter().zip(w).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-4,
                    "{params:?} column {c} px {i}: {g} vs {w}"
                );
            }
        }
        // The newest column re-rendered is the newest row's: the cut's (merged there) or
        // one before it (the window fills the columns between with the first live row,
        // which spans them).
        let newest = *got.keys().last().expect("columns");
        assert_eq!(newest, grid.column_of(*ends.last().expect("rows")));
        assert!(newest <= cut_serial);
    }
}

#[test]
fn nothing_is_rendered_from_samples_not_held() {
    let sr = 8_000u32;
    let shared = MonoHistory::shared(0.5, sr);
    shared.lock().unwrap().push(&vec![0.1f32; 2 * sr as usize]);
    let axis = FreqAxis {
        scale: FreqScale::Linear,
        fmin_hz: 0.0,
        fmax_hz: 4000.0,
    };
    let params = StftParams {
        fft_size: 8192,
        win_length: 8192, // longer than the 4000 samples held
        hop_size: 512,
        window: WindowKind::Hann,
    };
    let grid = TimeGrid::new(10_000, 500, sr);
    let done = render(
        &shared,
        &RerenderRequest {
            pane: 0,
            id: 1,
            params,
            map: ColumnMap::new(&axis, 50, 8192, sr),
            grid,
            first_end: 2 * sr as u64,
            cut_serial: grid.column_of(2 * sr as u64),
            columns: 1000,
        },
    );
    assert!(done.rows == 0 && done.spans.is_empty() && done.values.is_empty());
}
