//! Compare panes in the analysis thread: several STFTs of one input, each row tagged
//! with its pane and pane set.
//!
//! Oracles: the naive f64 DFT of `support::dsp` with the DSP.md §1.1 window formulas, the
//! DSP.md §3 calibration (a bin-centred sine of amplitude A reads 20·log10(A) dBFS:
//! `dB = 20·log10(2|X|/S1)`), and the row grid `first = k·hop` of a stream that starts
//! at sample 0.

use std::sync::Arc;
use std::time::Instant;

use hopscope::analysis::message::{Control, SpectrumRow, MAX_PANES};
use hopscope::analysis::{Analysis, AnalysisLink, AnalysisSetup};
use hopscope::audio::callback::CaptureCallback;
use hopscope::audio::ring;
use hopscope::audio::stats::CaptureStats;
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::stream::{ChannelSelect, Timebase};

use crate::support::dsp::{naive_dft, ref_window_vec};

const SR: u32 = 48_000;
/// 750 Hz: bin 16 of 1024, 32 of 2048, 64 of 4096 (on a bin centre for every pane).
const TONE_HZ: f64 = 750.0;
const AMPLITUDE: f64 = 0.5;

fn signal(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(SR);
            // The tone plus a quieter one off-grid, so rows are not all alike.
            (AMPLITUDE * (2.0 * std::f64::consts::PI * TONE_HZ * t).sin()
                + 0.01 * (2.0 * std::f64::consts::PI * 5_123.4 * t).sin()) as f32
        })
        .collect()
}

fn p(fft_size: usize, win_length: usize, hop_size: usize, window: WindowKind) -> StftParams {
    StftParams {
        fft_size,
        win_length,
        hop_size,
        window,
    }
}

struct Rig {
    analysis: Analysis,
    link: AnalysisLink,
    callback: CaptureCallback<f32>,
    fed: usize,
}

fn rig(first: StftParams, compare: Vec<StftParams>) -> Rig {
    let (producer, consumer) = ring::sample_ring(SR, 1);
    let (marks_p, marks) = ring::mark_ring();
    let stats = Arc::new(CaptureStats::default());
    let callback = CaptureCallback::<f32>::new(producer, marks_p, stats, 1);
    let (analysis, link) = Analysis::new(AnalysisSetup {
        history: None,
        swaps: None,
        columns_wait: false,
        backlog_s: hopscope::analysis::WINDOW_BACKLOG_S,
        samples: consumer,
        marks,
        channels: 1,
        channel_select: ChannelSelect::Mix,
        sample_rate_hz: SR,
        timebase: Timebase {
            origin: Instant::now(),
        },
        params: first,
        compare,
        scale: ValueScale::Db,
    });
    Rig {
        analysis,
        link,
        callback,
        fed: 0,
    }
}

/// Feeds `x[rig.fed..upto]` in 480-frame callbacks and collects every row.
fn feed(rig: &mut Rig, x: &[f32], upto: usize, rows: &mut Vec<SpectrumRow>) {
    while rig.fed < upto {
        let end = (rig.fed + 480).min(upto);
        rig.callback
            .on_data(&x[rig.fed..end], rig.fed as u64 * 20_833);
        rig.fed = end;
        while rig.analysis.pass().frames > 0 {}
        for row in rig.link.rows.try_iter() {
            // Keep a copy; the buffer goes back into circulation.
            rows.push(row.clone());
            rig.link.recycle(row);
        }
    }
}

/// The calibrated dBFS of bin `k` of the frame at `first`, by the naive DFT.
fn oracle_db(x: &[f32], params: StftParams, first: usize, k: usize) -> f64 {
    let w = ref_window_vec(params.window, params.win_length);
    let s1: f64 = w.iter().sum();
    let left = (params.fft_size - params.win_length) / 2;
    let spec = naive_dft(
        &x[first..first + params.win_length],
        &w,
        params.fft_size,
        left,
    );
    let (re, im) = spec[k];
    20.0 * (2.0 * re.hypot(im) / s1).log10()
}

fn tone_bin(params: StftParams) -> usize {
    (TONE_HZ * params.fft_size as f64 / f64::from(SR)).round() as usize
}

/// Checks one pane's rows: consecutive on the hop grid, and (five of them, to keep the
/// naive DFT cheap) equal to the oracle at five bins, the tone at its calibrated level.
fn check_pane(x: &[f32], rows: &[&SpectrumRow], params: StftParams, what: &str) {
    assert!(!rows.is_empty(), "{what}: no rows");
    for pair in rows.windows(2) {
        assert_eq!(
            pair[1].first_sample,
            pair[0].first_sample + params.hop_size as u64,
            "{what}: rows are one hop apart"
        );
    }
    let step = (rows.len() / 4).max(1);
    for row in rows.iter().step_by(step).chain(rows.last()) {
        assert_eq!(row.params, params, "{what}");
        assert_eq!(row.first_sample % params.hop_size as u64, 0, "{what}: grid");
        let k0 = tone_bin(params);
        // The tone's bin and its neighbours, and the quiet tone's: levels well above
        // f32 noise (−60 dBFS and up).
        let k1 = (5_123.4 * params.fft_size as f64 / f64::from(SR)).round() as usize;
        for k in [k0, k0 + 1, k1 - 1, k1, k1 + 1] {
            let want = oracle_db(x, params, row.first_sample as usize, k);
            assert!(want > -70.0, "{what}: bin {k} at {want} dB is not a test");
            let got = f64::from(row.bins[k]);
            assert!(
                (got - want).abs() < 0.01,
                "{what}: row at {} bin {k}: {got} dB vs naive DFT {want} dB",
                row.first_sample
            );
        }
        let (peak, level) = row.peak();
        assert_eq!(peak, k0, "{what}: peak bin");
        let want_db = 20.0 * AMPLITUDE.log10();
        assert!(
            (f64::from(level) - want_db).abs() < 0.01,
            "{what}: the {AMPLITUDE} sine reads {level} dBFS, not {want_db:.2}"
        );
    }
}

#[test]
fn every_pane_analyses_the_same_input_with_its_own_parameters() {
    let panes = [
        p(1024, 1024, 256, WindowKind::Hamming),
        p(2048, 2048, 512, WindowKind::Blackman),
        p(4096, 3000, 1024, WindowKind::Hann),
        p(2048, 2048, 128, WindowKind::Kaiser { beta: 8.6 }),
    ];
    assert_eq!(panes.len(), MAX_PANES);
    let x = signal(SR as usize);
    let mut r = rig(panes[0], panes[1..].to_vec());
    let mut rows = Vec::new();
    feed(&mut r, &x, x.len(), &mut rows);
    for (i, params) in panes.iter().enumerate() {
        let mine: Vec<&SpectrumRow> = rows.iter().filter(|row| row.pane == i).collect();
        assert_eq!(
            mine.len() as u64,
            params.rows_for(x.len() as u64),
            "pane {i}: every row of its grid"
        );
        assert_eq!(mine[0].first_sample, 0, "pane {i} starts at sample 0");
        assert!(mine.iter().all(|row| row.layout == 0));
        check_pane(&x, &mine, *params, &format!("pane {i}"));
    }
    assert_eq!(r.link.stats.snapshot().rows_dropped, 0);
}

#[test]
fn set_panes_keeps_staying_panes_and_starts_new_ones_from_the_stream() {
    let first = p(2048, 2048, 512, WindowKind::Hann);
    let x = signal(2 * SR as usize);
    let mut r = rig(first, Vec::new());
    let mut rows = Vec::new();
    let switch_at = 30_000;
    feed(&mut r, &x, switch_at, &mut rows);
    let before = rows.len();
    assert!(rows.iter().all(|row| row.pane == 0 && row.layout == 0));
    let new = [
        first,
        p(4096, 4096, 1024, WindowKind::Blackman),
        p(1024, 1024, 256, WindowKind::Hamming),
    ];
    let mut params = [first; MAX_PANES];
    params[..3].copy_from_slice(&new);
    assert!(
        r.link.control.send(Control::SetPanes {
            layout: 3,
            count: 3,
            params,
        }),
        "analysis holds the receiver"
    );
    feed(&mut r, &x, x.len(), &mut rows);
    let after = &rows[before..];
    assert!(
        after.iter().all(|row| row.layout == 3),
        "new rows carry the new set"
    );
    // Pane 0 stayed: one unbroken grid across the switch.
    let pane0: Vec<&SpectrumRow> = rows.iter().filter(|row| row.pane == 0).collect();
    assert_eq!(pane0.len() as u64, first.rows_for(x.len() as u64));
    check_pane(&x, &pane0, first, "pane 0 across the switch");
    // New panes: rows from the stream's real samples, starting with the newest frame
    // already held at the switch, on the grid of a stream started at 0.
    for (i, params) in new.iter().enumerate().skip(1) {
        let mine: Vec<&SpectrumRow> = after.iter().filter(|row| row.pane == i).collect();
        let first_end = mine[0].first_sample + params.win_length as u64;
        assert!(
            first_end <= switch_at as u64 + 480
                && first_end + params.hop_size as u64 > switch_at as u64,
            "pane {i}: first row ends at {first_end}, switch at {switch_at}"
        );
        let newest = params.rows_for(x.len() as u64);
        assert_eq!(
            mine.len() as u64,
            newest - mine[0].first_sample / params.hop_size as u64,
            "pane {i}: every row from its first"
        );
        check_pane(&x, &mine, *params, &format!("new pane {i}"));
    }
    // Back to one pane with new parameters: only pane 0 rows, on layout 4.
    let mut one = [first; MAX_PANES];
    one[0] = p(8192, 8192, 2048, WindowKind::Hann);
    assert!(
        r.link.control.send(Control::SetPanes {
            layout: 4,
            count: 1,
            params: one,
        }),
        "analysis holds the receiver"
    );
    let more = signal(3 * SR as usize);
    let mut tail = Vec::new();
    feed(&mut r, &more, more.len(), &mut tail);
    assert!(!tail.is_empty());
    assert!(tail
        .iter()
        .all(|row| row.pane == 0 && row.layout == 4 && row.params == one[0]));
}

#[test]
fn a_pane_index_past_the_set_and_invalid_sets_are_ignored() {
    let first = p(1024, 1024, 256, WindowKind::Hann);
    let mut r = rig(first, Vec::new());
    let bad = p(1024, 2048, 256, WindowKind::Hann);
    assert!(bad.validate().is_err());
    assert!(
        r.link
            .control
            .send(Control::SetParams(2, p(512, 512, 128, WindowKind::Hann))),
        "receiver"
    );
    let mut params = [first; MAX_PANES];
    params[1] = bad;
    assert!(
        r.link.control.send(Control::SetPanes {
            layout: 1,
            count: 2,
            params,
        }),
        "receiver"
    );
    let x = signal(SR as usize / 2);
    let mut rows = Vec::new();
    feed(&mut r, &x, x.len(), &mut rows);
    assert!(rows
        .iter()
        .all(|row| row.pane == 0 && row.layout == 0 && row.params == first));
    assert_eq!(rows.len() as u64, first.rows_for(x.len() as u64));
}
