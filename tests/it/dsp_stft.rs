//! STFT oracles: `FrameTransform` against a naive f64 DFT, and `Stft::push` framing
//! and mid-stream reconfiguration against `FrameTransform` on the right slice.
//!
//! The DFT oracle uses the test's own closed-form windows (`support::dsp::ref_window`),
//! the test's own O(n²) DFT and the DSP.md §2.2 formula written out here.

use crate::support::dsp::{naive_dft, ref_window_vec, windows_under_test};
use crate::support::rng::Rng;
use hopscope::dsp::scale::{num_bins, ValueScale};
use hopscope::dsp::stft::{FrameTransform, RowInfo, Stft, StftParams, HISTORY_LEN, MAX_FFT_SIZE};
use hopscope::dsp::window::WindowKind;
use hopscope::offline::{frame_signal, stft_rows};

fn params(fft_size: usize, win_length: usize, hop_size: usize, window: WindowKind) -> StftParams {
    StftParams {
        fft_size,
        win_length,
        hop_size,
        window,
    }
}

/// Largest error of `got` against `want`, relative to `max |want|` (the row's norm),
/// and the largest per-bin relative error over bins with `|want| ≥ 1 %` of that max.
fn errors(got: &[f64], want: &[f64]) -> (f64, f64) {
    assert_eq!(got.len(), want.len());
    let peak = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut max_rel_to_peak: f64 = 0.0;
    let mut max_rel_strong: f64 = 0.0;
    for (g, w) in got.iter().zip(want) {
        let e = (g - w).abs();
        max_rel_to_peak = max_rel_to_peak.max(e / peak);
        if w.abs() >= 0.01 * peak {
            max_rel_strong = max_rel_strong.max(e / w.abs());
        }
    }
    (max_rel_to_peak, max_rel_strong)
}

/// Test 1: naive O(n²) f64 DFT vs `FrameTransform` for Power, Magnitude and Db.
///
/// Norm: `max_k |got[k] − ref[k]| / max_k |ref[k]|` ≤ 1e-5 (row-relative, so bins near
/// zero are judged against the row's peak), plus a per-bin relative error ≤ 1e-4 for
/// every bin above 1 % of the peak. Db is turned back into |X| with the DSP.md §2.2
/// formula: `|X[k]| = c_k·S1·10^(L/20)`, c = ½ inside, 1 at DC and (even n_fft) Nyquist.
#[test]
fn frame_transform_matches_naive_dft() {
    let configs = [
        (16usize, 16usize),
        (17, 17),
        (17, 10),
        (64, 64),
        (64, 33),
        (100, 100),
        (255, 255),
        (255, 200),
        (400, 300),
        (1000, 1000),
    ];
    let mut rng = Rng::new(1);
    let (mut worst, mut worst_strong) = ([0.0f64; 3], [0.0f64; 3]);
    for (n_fft, win) in configs {
        for kind in windows_under_test() {
            let p = params(n_fft, win, win, kind);
            let left = (n_fft - win) / 2;
            assert_eq!(p.window_offset(), left, "window centred at (n_fft − win)/2");
            let w = ref_window_vec(kind, win);
            let s1: f64 = w.iter().sum();
            let frame = rng.signal(win);
            let reference = naive_dft(&frame, &w, n_fft, left);
            let ref_mag: Vec<f64> = reference.iter().map(|&(re, im)| re.hypot(im)).collect();
            let ref_pow: Vec<f64> = ref_mag.iter().map(|m| m * m).collect();
            let bins = num_bins(n_fft);
            assert_eq!(ref_mag.len(), bins);

            for (si, scale) in [ValueScale::Power, ValueScale::Magnitude, ValueScale::Db]
                .into_iter()
                .enumerate()
            {
                let mut t = FrameTransform::new(p, scale);
                let mut out = vec![f32::NAN; bins];
                t.process(&frame, &mut out);
                let got: Vec<f64> = match scale {
                    ValueScale::Power | ValueScale::Magnitude => {
                        out.iter().map(|&v| v as f64).collect()
                    }
                    ValueScale::Db => out
                        .iter()
                        .enumerate()
                        .map(|(k, &l)| {
                            let edge = k == 0 || (n_fft % 2 == 0 && k == n_fft / 2);
                            let c = if edge { 1.0 } else { 0.5 };
                            c * s1 * 10f64.powf(l as f64 / 20.0)
                        })
                        .collect(),
                };
                let want = if scale == ValueScale::Power {
                    &ref_pow
                } else {
                    &ref_mag
                };
                let (e, es) = errors(&got, want);
                worst[si] = worst[si].max(e);
                worst_strong[si] = worst_strong[si].max(es);
                assert!(
                    e <= 1e-5 && es <= 1e-4,
                    "{kind} n_fft={n_fft} win={win} {scale}: error {e:.2e} (row-relative), \
                     {es:.2e} (per strong bin)"
                );
            }
        }
    }
    eprintln!(
        "naive DFT: max row-relative error power {:.2e} magnitude {:.2e} db {:.2e}; \
         per strong bin {:.2e} / {:.2e} / {:.2e}",
        worst[0], worst[1], worst[2], worst_strong[0], worst_strong[1], worst_strong[2]
    );
}

/// Offline `stft_rows` uses the same transform: equal rows, any thread count.
#[test]
fn offline_rows_equal_frame_transform() {
    let p = params(400, 300, 75, WindowKind::Hann);
    let signal = Rng::new(2).signal(5000);
    let framed = frame_signal(&signal, &p, false);
    assert_eq!(framed.rows, (5000 - 300) / 75 + 1);
    let mut t = FrameTransform::new(p, ValueScale::Db);
    let mut row = vec![0.0f32; p.num_bins()];
    for threads in [1, 3] {
        let all = stft_rows(&framed.samples, framed.rows, p, ValueScale::Db, threads);
        assert_eq!(all.len(), framed.rows * p.num_bins());
        for (m, got) in all.chunks_exact(p.num_bins()).enumerate() {
            t.process(&signal[m * 75..m * 75 + 300], &mut row);
            assert_eq!(got, &row[..], "row {m}, {threads} threads");
        }
    }
}

/// Rows collected from an `Stft`.
#[derive(Default)]
struct Collected {
    rows: Vec<(RowInfo, Vec<f32>)>,
}

impl Collected {
    fn push(&mut self, stft: &mut Stft, chunk: &[f32]) {
        stft.push(chunk, |info, row| self.rows.push((info, row.to_vec())));
    }
}

/// A random callback size: 0, 1, small odd, up to n_fft, or bigger than n_fft.
fn callback_size(rng: &mut Rng, n_fft: usize) -> usize {
    match rng.below(6) {
        0 => 0,
        1 => 1,
        2 => 2 * rng.below(8) + 1,
        3 => 1 + rng.below(n_fft),
        4 => n_fft + 1 + rng.below(2 * n_fft),
        _ => rng.below(64),
    }
}

/// `FrameTransform` applied to `signal[first..first + win]`.
fn expected_row(p: StftParams, scale: ValueScale, signal: &[f32], first: usize) -> Vec<f32> {
    let mut t = FrameTransform::new(p, scale);
    let mut out = vec![f32::NAN; p.num_bins()];
    t.process(&signal[first..first + p.win_length], &mut out);
    out
}

/// Pushes `signal` in `chunks`, checking after every push that exactly
/// `floor((pushed − win)/hop) + 1` rows exist, then checks every row.
fn check_framing(p: StftParams, scale: ValueScale, signal: &[f32], chunks: &[usize]) -> usize {
    let mut stft = Stft::new(p, scale);
    let mut got = Collected::default();
    let mut pushed = 0usize;
    for &c in chunks {
        got.push(&mut stft, &signal[pushed..pushed + c]);
        pushed += c;
        let want = if pushed < p.win_length {
            0
        } else {
            (pushed - p.win_length) / p.hop_size + 1
        };
        assert_eq!(got.rows.len(), want, "{p:?}: rows after {pushed} samples");
        assert_eq!(p.rows_for(pushed as u64), want as u64, "rows_for({pushed})");
        assert_eq!(stft.samples_pushed(), pushed as u64);
    }
    assert_eq!(pushed, signal.len());
    // One transform for all rows (the engine's shared plan).
    let mut t = FrameTransform::new(p, scale);
    let mut want = vec![f32::NAN; p.num_bins()];
    for (m, (info, row)) in got.rows.iter().enumerate() {
        let first = m * p.hop_size;
        assert_eq!(info.first_sample, first as u64, "{p:?}: row {m}");
        assert_eq!(info.params, p);
        assert_eq!(row.len(), p.num_bins());
        t.process(&signal[first..first + p.win_length], &mut want);
        assert_eq!(
            row, &want,
            "{p:?} {scale}: row {m} differs from FrameTransform"
        );
    }
    got.rows.len()
}

/// Test 6: framing for random callback-size sequences, bit-exact against
/// `FrameTransform` on `samples[m·hop .. m·hop + win]`.
#[test]
fn push_framing_random_callbacks() {
    let configs = [
        (params(64, 64, 16, WindowKind::Hann), ValueScale::Db),
        (params(100, 60, 1, WindowKind::Hamming), ValueScale::Power), // hop = 1, win < n_fft
        (
            params(128, 96, 96, WindowKind::BlackmanHarris),
            ValueScale::Magnitude,
        ), // hop = win
        (params(17, 17, 5, WindowKind::Rect), ValueScale::Db),
        (
            params(256, 201, 37, WindowKind::Kaiser { beta: 8.6 }),
            ValueScale::Db,
        ),
        (params(16, 16, 16, WindowKind::Flattop), ValueScale::Power),
    ];
    let mut rng = Rng::new(3);
    let mut total_rows = 0;
    for (p, scale) in configs {
        for seq in 0..12 {
            let len = match seq {
                0 => p.win_length - 1, // no row
                1 => p.win_length,     // exactly one row
                _ => rng.below(6 * p.fft_size + 50),
            };
            let signal = rng.signal(len);
            let mut chunks = Vec::new();
            let mut left = len;
            while left > 0 {
                let c = match seq {
                    2 => 1,    // one sample per callback
                    3 => left, // one callback
                    _ => callback_size(&mut rng, p.fft_size).min(left),
                };
                chunks.push(c);
                left -= c;
            }
            chunks.insert(rng.below(chunks.len() + 1), 0);
            total_rows += check_framing(p, scale, &signal, &chunks);
        }
    }
    eprintln!("framing: {total_rows} rows checked bit-exactly");
}

/// Framing across the history ring's wrap-around (more than `HISTORY_LEN` samples).
#[test]
fn push_framing_across_history_wrap() {
    let p = params(4096, 4000, 3001, WindowKind::Blackman);
    let len = HISTORY_LEN + HISTORY_LEN / 2 + 777;
    let signal = Rng::new(4).signal(len);
    let mut rng = Rng::new(40);
    let mut chunks = Vec::new();
    let mut left = len;
    while left > 0 {
        let c = (1 + rng.below(9000)).min(left);
        chunks.push(c);
        left -= c;
    }
    let rows = check_framing(p, ValueScale::Db, &signal, &chunks);
    assert_eq!(rows, (len - 4000) / 3001 + 1);
    eprintln!("history wrap: {rows} rows over {len} samples");
}

/// One step of a reconfiguration scenario.
#[derive(Clone, Copy, Debug)]
enum Step {
    Push(usize),
    Reconfigure(StftParams, ValueScale),
}

/// Runs `steps` on an engine and on the documented rule, comparing every row.
///
/// The rule (`Stft::reconfigure` docs): the first row with new parameters ends one new
/// hop after the last row's end, or at the new `win_length` if no row exists yet, and
/// never before `win_length` (a frame cannot start before sample 0); later rows follow
/// every new hop. A row ending at `e` is emitted once `e` samples have been pushed, and
/// covers `[e − win_length, e)`.
fn check_reconfigure(start: (StftParams, ValueScale), steps: &[Step], signal: &[f32]) -> usize {
    let mut stft = Stft::new(start.0, start.1);
    let mut got = Collected::default();
    let (mut p, mut scale) = start;
    let mut last_end: Option<u64> = None;
    let mut next_end = p.win_length as u64;
    let mut pushed = 0usize;
    let mut checked = 0;
    for (i, &step) in steps.iter().enumerate() {
        match step {
            Step::Reconfigure(np, ns) => {
                stft.reconfigure(np, ns);
                assert_eq!(stft.params(), np);
                assert_eq!(stft.scale(), ns);
                (p, scale) = (np, ns);
                let win = p.win_length as u64;
                next_end = match last_end {
                    Some(e) => (e + p.hop_size as u64).max(win),
                    None => win,
                };
            }
            Step::Push(n) => {
                let before = got.rows.len();
                got.push(&mut stft, &signal[pushed..pushed + n]);
                pushed += n;
                let mut expected = Vec::new();
                while next_end <= pushed as u64 {
                    expected.push(next_end);
                    last_end = Some(next_end);
                    next_end += p.hop_size as u64;
                }
                let new_rows = &got.rows[before..];
                assert_eq!(
                    new_rows.len(),
                    expected.len(),
                    "step {i} ({step:?}) after {pushed} samples with {p:?}"
                );
                for ((info, row), &end) in new_rows.iter().zip(&expected) {
                    let first = end - p.win_length as u64;
                    assert_eq!(info.first_sample, first, "step {i}: first_sample");
                    assert_eq!(info.params, p, "step {i}: params");
                    assert_eq!(row.len(), p.num_bins(), "step {i}: row width");
                    let want = expected_row(p, scale, signal, first as usize);
                    assert_eq!(row, &want, "step {i}: row starting at {first}");
                    checked += 1;
                }
            }
        }
    }
    checked
}

/// Test 7: n_fft changes mid-stream (1024 → 4096 → 256 and more): the next row has the
/// new width, starts where the rule says, is filled from history, and never panics.
#[test]
fn reconfigure_mid_stream() {
    let hann = |n: usize, hop: usize| params(n, n, hop, WindowKind::Hann);
    let signal = Rng::new(6).signal(400_000);
    use Step::{Push, Reconfigure as Re};

    // Hand-written schedule, with the very next row's position spelled out.
    let mut stft = Stft::new(hann(1024, 256), ValueScale::Db);
    let mut got = Collected::default();
    got.push(&mut stft, &signal[..5000]); // rows end at 1024, 1280, …, 4864
    let last = got.rows.last().expect("rows").0;
    assert_eq!(last.first_sample + 1024, 4864);
    stft.reconfigure(hann(4096, 512), ValueScale::Db);
    got.rows.clear();
    got.push(&mut stft, &signal[5000..5376]); // 4864 + 512 = 5376: exactly one row
    assert_eq!(got.rows.len(), 1);
    let (info, row) = &got.rows[0];
    assert_eq!(row.len(), 2049, "new width n_fft/2 + 1");
    assert_eq!(
        info.first_sample,
        5376 - 4096,
        "ends one new hop after the last row"
    );
    let want = expected_row(hann(4096, 512), ValueScale::Db, &signal, 1280);
    assert_eq!(row, &want, "the 4096 window fills from history");
    stft.reconfigure(params(256, 256, 64, WindowKind::Rect), ValueScale::Power);
    got.rows.clear();
    got.push(&mut stft, &[]); // 5376 + 64 > 5376: nothing yet
    assert!(got.rows.is_empty());
    got.push(&mut stft, &signal[5376..5440]);
    assert_eq!(got.rows.len(), 1);
    assert_eq!(got.rows[0].0.first_sample, 5440 - 256);
    assert_eq!(got.rows[0].1.len(), 129);

    // Scripted schedules through the rule checker.
    let schedules: Vec<(StftParams, Vec<Step>)> = vec![
        // 1024 → 4096 → 256, changes between rows and mid-hop.
        (
            hann(1024, 256),
            vec![
                Push(3000),
                Re(hann(4096, 512), ValueScale::Db),
                Push(7000),
                Re(
                    params(256, 256, 64, WindowKind::Blackman),
                    ValueScale::Magnitude,
                ),
                Push(1000),
                Push(0),
                Re(
                    params(1000, 700, 350, WindowKind::Kaiser { beta: 6.0 }),
                    ValueScale::Power,
                ),
                Push(5000),
            ],
        ),
        // Several changes with no samples between them; only the last one counts.
        (
            hann(1024, 256),
            vec![
                Push(2000),
                Re(hann(4096, 512), ValueScale::Db),
                Re(hann(256, 64), ValueScale::Db),
                Re(
                    params(2048, 1500, 1500, WindowKind::Flattop),
                    ValueScale::Db,
                ),
                Push(6000),
            ],
        ),
        // Large hop → hop 1: rows already in the past are emitted at the next push.
        (
            hann(1024, 1024),
            vec![
                Push(2048 + 1000),
                Re(params(128, 100, 1, WindowKind::Hamming), ValueScale::Db),
                Push(0),
                Push(10),
            ],
        ),
        // At the stream start, before any row.
        (
            hann(1024, 256),
            vec![
                Re(hann(4096, 1024), ValueScale::Db),
                Push(5000),
                Re(hann(256, 128), ValueScale::Db),
                Push(1000),
            ],
        ),
        // After a partial first window: the smaller window's rows are already due.
        (
            hann(4096, 1024),
            vec![
                Push(1000),
                Re(hann(256, 64), ValueScale::Magnitude),
                Push(0),
                Push(300),
            ],
        ),
        // After a partial first window, to a larger one.
        (
            hann(256, 64),
            vec![Push(100), Re(hann(8192, 2048), ValueScale::Db), Push(9000)],
        ),
        // Small → MAX_FFT_SIZE after a long stream (history past its wrap), and back.
        (
            hann(256, 256),
            vec![
                Push(200_000),
                Re(hann(MAX_FFT_SIZE, MAX_FFT_SIZE / 2), ValueScale::Db),
                Push(40_000),
                Re(
                    params(17, 17, 3, WindowKind::Gaussian { sigma_frac: 0.2 }),
                    ValueScale::Db,
                ),
                Push(100),
            ],
        ),
    ];
    let mut rows = 0;
    for (start, steps) in &schedules {
        rows += check_reconfigure((*start, ValueScale::Db), steps, &signal);
    }

    // Random schedules with random callback sizes.
    let mut rng = Rng::new(7);
    let sizes = [16usize, 17, 100, 256, 1000, 1024, 4096];
    let kinds = windows_under_test();
    for _ in 0..6 {
        let mut steps = Vec::new();
        let mut budget = 60_000usize;
        while budget > 0 {
            if rng.below(5) == 0 {
                let n = sizes[rng.below(sizes.len())];
                let win = n - rng.below(n / 4 + 1);
                let hop = 1 + rng.below(win);
                let hop = if rng.below(3) == 0 {
                    win
                } else {
                    hop.max(win / 8)
                };
                let kind = kinds[rng.below(kinds.len())];
                let scale =
                    [ValueScale::Db, ValueScale::Power, ValueScale::Magnitude][rng.below(3)];
                steps.push(Re(params(n, win, hop, kind), scale));
            } else {
                let c = callback_size(&mut rng, 2048).min(budget);
                steps.push(Push(c));
                budget -= c;
            }
        }
        rows += check_reconfigure((hann(1024, 256), ValueScale::Db), &steps, &signal);
    }
    eprintln!("reconfigure: {rows} rows checked against the rule and FrameTransform");
}
