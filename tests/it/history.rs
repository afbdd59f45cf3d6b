//! The re-render history (`history`): the mono ring against a naive `Vec` of everything
//! pushed, and a re-render against the same frames computed directly with the offline
//! STFT (`offline::stft_rows`) and mapped with the same `ColumnMap`.

use hopscope::analysis::history::MonoHistory;
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::render::freqmap::{ColumnMap, FreqAxis, FreqScale};
use hopscope::ui::rerender::{render, RerenderRequest};

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

#[test]
fn a_rerender_equals_the_frames_computed_directly() {
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
    for (fft, win, hop, window) in [
        (4096usize, 4096usize, 512usize, WindowKind::Hann),
        (2048, 1500, 256, WindowKind::Blackman),
        (1024, 1024, 1000, WindowKind::Hamming),
    ] {
        let params = StftParams {
            fft_size: fft,
            win_length: win,
            hop_size: hop,
            window,
        };
        let map = ColumnMap::new(&axis, 300, fft, sr);
        // The first live row on the new grid ends here; re-rendered rows end before it.
        let first_end = 2 * sr as u64 + 777;
        let req = RerenderRequest {
            pane: 0,
            id: 5,
            params,
            map: map.clone(),
            first_end,
            max_rows: 100_000,
            sample_rate_hz: sr,
        };
        let done = render(&shared, &req);
        assert_eq!(done.id, 5);
        let rows = done.ends.len();
        // Oracle: every row ending at first_end − k·hop whose frame lies in the held 2 s.
        let oldest = (signal.len() - 2 * sr as usize) as u64;
        let want_rows = ((first_end - hop as u64 - oldest - win as u64) / hop as u64 + 1) as usize;
        assert_eq!(rows, want_rows, "{params:?}");
        for (k, &end) in done.ends.iter().enumerate() {
            assert_eq!(end, first_end - (rows - k) as u64 * hop as u64);
            assert!((done.times_s[k] - end as f64 / f64::from(sr)).abs() < 1e-12);
        }
        // Frames computed directly from the signal, then mapped.
        let start = (done.ends[0] - win as u64) as usize;
        let direct =
            hopscope::offline::stft_rows(&signal[start..], rows, params, ValueScale::Db, 1);
        let bins = params.num_bins();
        let mut want = vec![0.0f32; 300];
        for r in 0..rows {
            map.apply(&direct[r * bins..(r + 1) * bins], &mut want);
            let got = &done.columns[r * 300..(r + 1) * 300];
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-4,
                    "{params:?} row {r} px {i}: {g} vs {w}"
                );
            }
        }
        // max_rows keeps the newest rows.
        let few = render(
            &shared,
            &RerenderRequest {
                pane: 0,
                max_rows: 3,
                ..req.clone()
            },
        );
        assert_eq!(few.ends, done.ends[rows - 3..]);
        assert_eq!(few.columns[..], done.columns[(rows - 3) * 300..]);
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
    let done = render(
        &shared,
        &RerenderRequest {
            pane: 0,
            id: 1,
            params,
            map: ColumnMap::new(&axis, 50, 8192, sr),
            first_end: 2 * sr as u64,
            max_rows: 1000,
            sample_rate_hz: sr,
        },
    );
    assert!(done.ends.is_empty() && done.columns.is_empty());
}
