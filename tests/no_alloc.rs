//! RT2: zero allocation in the capture callback and in the analysis loop after
//! warm-up, and in the window's frames in steady state (issue 10), proven with an
//! allocation-disabling global allocator.
//!
//! `assert_no_alloc` with `warn_debug` counts violations (per thread) instead of
//! aborting; it only checks in debug builds, so this file refuses to run in release.

use std::sync::Arc;

use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count, AllocDisabler};
use cpal::{FromSample, Sample};
use ringbuf::traits::Consumer;

use hopscope::analysis::message::Control;
use hopscope::analysis::{Analysis, AnalysisLink, AnalysisSetup};
use hopscope::audio::callback::CaptureCallback;
use hopscope::audio::ring::{self, MarkProducer, SampleProducer};
use hopscope::audio::stats::CaptureStats;
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::{Stft, StftParams};
use hopscope::dsp::window::{WindowKind, ALL_WINDOWS};
use hopscope::stream::{ChannelSelect, Timebase};

#[global_allocator]
static A: AllocDisabler = AllocDisabler;

const CALLBACK_LENGTHS: [usize; 5] = [0, 1, 7, 4096, 65536];

/// The checker must itself be able to fail: an allocation inside the guard counts.
#[test]
fn the_checker_catches_an_allocation() {
    // assert_no_alloc only checks in debug builds: refuse to compile this file otherwise.
    const {
        assert!(
            cfg!(debug_assertions),
            "run tests/no_alloc.rs in debug: assert_no_alloc only checks there"
        )
    };
    reset_violation_count();
    let v = assert_no_alloc(|| vec![1u8; 100]);
    assert_eq!(v.len(), 100);
    assert_eq!(
        violation_count(),
        1,
        "a deliberate allocation must be counted"
    );
    reset_violation_count();
}

fn callback_never_allocates<T>(make: impl Fn(usize) -> T)
where
    T: Sample + Send + 'static,
    f32: FromSample<T>,
{
    for channels in [1usize, 2] {
        // A ring smaller than the longest callback, so the drop path runs too.
        let (producer, mut consumer) = ring::sample_ring_with_capacity(8192 * channels);
        let (mark_producer, mut marks) = ring::mark_ring();
        let stats = Arc::new(CaptureStats::default());
        let mut cb =
            CaptureCallback::<T>::new(producer, mark_producer, Arc::clone(&stats), channels);
        let mut expected_frames = 0u64;
        for &len in &CALLBACK_LENGTHS {
            let data: Vec<T> = (0..len).map(&make).collect();
            reset_violation_count();
            assert_no_alloc(|| cb.on_data(&data, 1_000));
            assert_eq!(
                violation_count(),
                0,
                "on_data allocated ({} samples of {}, {channels} ch)",
                len,
                std::any::type_name::<T>()
            );
            expected_frames += (len / channels) as u64;
            // Drain outside the guard so every length meets an empty ring once.
            consumer.clear();
            marks.clear();
        }
        // The counters prove the callback ran on real data.
        let snap = stats.snapshot();
        assert_eq!(snap.frames_captured, expected_frames);
        assert!(
            snap.frames_dropped > 0,
            "the 65536-sample callback must overflow the ring"
        );
    }
}

#[test]
fn capture_callback_f32() {
    callback_never_allocates(|i| ((i as f32) * 0.01).sin());
}

#[test]
fn capture_callback_f64() {
    callback_never_allocates(|i| ((i as f64) * 0.01).sin());
}

#[test]
fn capture_callback_i8() {
    callback_never_allocates(|i| (i % 255) as i8);
}

#[test]
fn capture_callback_i16() {
    callback_never_allocates(|i| (i as i16).wrapping_mul(31));
}

#[test]
fn capture_callback_i32() {
    callback_never_allocates(|i| (i as i32).wrapping_mul(1 << 20));
}

#[test]
fn capture_callback_u8() {
    callback_never_allocates(|i| (i % 256) as u8);
}

#[test]
fn capture_callback_u16() {
    callback_never_allocates(|i| (i % 65536) as u16);
}

#[test]
fn capture_callback_i24() {
    callback_never_allocates(|i| cpal::I24::new((i as i32 % 1000) * 1000).expect("in range"));
}

#[test]
fn stft_push_every_size_and_window() {
    let signal: Vec<f32> = (0..70_000)
        .map(|i| ((i as f32) * 0.013).sin() * 0.5)
        .collect();
    for window in ALL_WINDOWS {
        for fft_size in [16usize, 100, 256, 1024, 2048, 4096, 16384, 65536] {
            let params = StftParams {
                fft_size,
                win_length: fft_size,
                hop_size: (fft_size / 4).max(1),
                window,
            };
            let mut stft = Stft::new(params, ValueScale::Db);
            let mut rows = 0usize;
            // Warm-up is not needed for Stft::push: it never allocates, even the first time.
            reset_violation_count();
            assert_no_alloc(|| {
                for chunk in signal.chunks(997) {
                    stft.push(chunk, |_, row| {
                        rows += 1;
                        assert!(row[0].is_finite());
                    });
                }
            });
            assert_eq!(
                violation_count(),
                0,
                "Stft::push allocated at n_fft {fft_size} {window}"
            );
            assert_eq!(rows as u64, params.rows_for(signal.len() as u64));
        }
    }
}

struct Rig {
    analysis: Analysis,
    link: AnalysisLink,
    callback: CaptureCallback<f32>,
}

fn rig(params: StftParams) -> Rig {
    let (producer, consumer): (SampleProducer, _) = ring::sample_ring(48_000, 2);
    let (mark_producer, marks): (MarkProducer, _) = ring::mark_ring();
    let stats = Arc::new(CaptureStats::default());
    let callback = CaptureCallback::<f32>::new(producer, mark_producer, stats, 2);
    let (analysis, link) = Analysis::new(AnalysisSetup {
        // The live window's configuration: every analysed sample also goes into the
        // re-render history (a short lock and a memcpy, no allocation).
        history: Some(hopscope::analysis::history::MonoHistory::shared(
            2.0, 48_000,
        )),
        swaps: None,
        columns_wait: false,
        backlog_s: hopscope::analysis::WINDOW_BACKLOG_S,
        samples: consumer,
        marks,
        channels: 2,
        channel_select: ChannelSelect::Mix,
        sample_rate_hz: 48_000,
        timebase: Timebase {
            origin: std::time::Instant::now(),
        },
        params,
        compare: Vec::new(),
        scale: ValueScale::Db,
    });
    Rig {
        analysis,
        link,
        callback,
    }
}

/// Feeds `frames` stereo frames through the callback and runs passes until the ring is empty,
/// checking allocations only inside `pass` when `checked`; returns rows received.
fn run(rig: &mut Rig, frames: usize, checked: bool, t: &mut usize) -> usize {
    let mut block = vec![0.0f32; 2 * 480];
    let mut rows = 0;
    let mut fed = 0;
    while fed < frames {
        for (i, s) in block.chunks_exact_mut(2).enumerate() {
            let x = (((*t + i) as f32) * 0.031).sin() * 0.25;
            s[0] = x;
            s[1] = -x;
        }
        *t += 480;
        rig.callback.on_data(&block, (*t as u64) * 20_833);
        fed += 480;
        loop {
            let outcome = if checked {
                reset_violation_count();
                let o = assert_no_alloc(|| rig.analysis.pass());
                assert_eq!(
                    violation_count(),
                    0,
                    "analysis pass allocated in steady state"
                );
                o
            } else {
                rig.analysis.pass()
            };
            assert!(!outcome.stop);
            if outcome.frames == 0 {
                break;
            }
        }
        for row in rig.link.rows.try_iter() {
            rows += 1;
            rig.link.recycle(row);
        }
    }
    rows
}

#[test]
fn analysis_pass_steady_state_every_window_and_size() {
    let first = StftParams {
        fft_size: 1024,
        win_length: 1024,
        hop_size: 256,
        window: WindowKind::Hann,
    };
    let mut rig = rig(first);
    let mut t = 0usize;
    for window in ALL_WINDOWS {
        for (fft_size, win_length, hop_size) in [
            (256, 256, 64),
            (2048, 2048, 512),
            (4096, 3000, 1024),
            (16384, 16384, 4096),
        ] {
            let params = StftParams {
                fft_size,
                win_length,
                hop_size,
                window,
            };
            assert!(
                rig.link.control.send(Control::SetParams(0, params)),
                "analysis holds the receiver"
            );
            // Warm-up: the reconfiguration allocates, and every recycled row buffer grows once.
            let warm = run(&mut rig, hop_size * 300, false, &mut t);
            assert!(warm >= 290, "warm-up produced {warm} rows");
            let rows = run(&mut rig, hop_size * 40, true, &mut t);
            assert!(
                rows >= 39,
                "steady state produced only {rows} rows at {fft_size} {window}"
            );
            assert_eq!(rig.analysis.params(), params);
        }
    }
}

#[test]
fn analysis_pass_steady_state_with_four_compare_panes() {
    let base = StftParams {
        fft_size: 4096,
        win_length: 4096,
        hop_size: 256,
        window: WindowKind::Hann,
    };
    let mut rig = rig(base);
    let windows = [
        WindowKind::Hamming,
        WindowKind::Hann,
        WindowKind::Blackman,
        WindowKind::Kaiser { beta: 8.6 },
    ];
    let params = windows.map(|window| StftParams { window, ..base });
    assert!(
        rig.link.control.send(Control::SetPanes {
            layout: 1,
            count: 4,
            params,
        }),
        "analysis holds the receiver"
    );
    let mut t = 0usize;
    // Warm-up: new panes allocate their engines; row buffers grow once.
    let warm = run(&mut rig, 256 * 300, false, &mut t);
    assert!(warm >= 4 * 280, "warm-up produced {warm} rows");
    let rows = run(&mut rig, 256 * 40, true, &mut t);
    assert!(rows >= 4 * 39, "steady state produced only {rows} rows");
    assert_eq!(rig.analysis.pane_params().collect::<Vec<_>>(), params);
}

/// Issue 11: the window's panes fold their rows into time columns in the analysis
/// thread (one at hop 1, one with mel bands, one hop longer than a column): no
/// allocation there either, and every row is folded into a run.
#[test]
fn analysis_pass_folding_rows_into_time_columns_allocates_nothing() {
    use hopscope::dsp::mel::{MelNorm, MelScale, MelSpec};
    use hopscope::render::freqmap::{FreqAxis, FreqScale};
    use hopscope::render::timeaxis::ColumnSpec;
    let base = StftParams {
        fft_size: 1024,
        win_length: 1024,
        hop_size: 1,
        window: WindowKind::Hann,
    };
    let mut rig = rig(base);
    let params = [1usize, 64, 2048, 4096].map(|hop_size| StftParams {
        hop_size,
        fft_size: hop_size.max(1024),
        win_length: hop_size.max(1024),
        ..base
    });
    assert!(rig.link.control.send(Control::SetPanes {
        layout: 1,
        count: 4,
        params,
    }));
    let axis = FreqAxis {
        scale: FreqScale::Log,
        fmin_hz: 20.0,
        fmax_hz: 24_000.0,
    };
    let mel = MelSpec {
        n_mels: 64,
        fmin_hz: 0.0,
        fmax_hz: 8000.0,
        scale: MelScale::Slaney,
        norm: MelNorm::Slaney,
    };
    for pane in 0..4 {
        let spec = ColumnSpec {
            bands: None,
            axis,
            mel: (pane == 1).then_some(mel),
            height_px: 150,
            width_px: 1200,
            span_ms: 1000,
        };
        assert!(rig.link.control.send(Control::SetColumns {
            pane,
            grid_id: 9,
            spec,
        }));
    }
    let mut t = 0usize;
    run(&mut rig, 48_000, false, &mut t);
    let before = rig.link.stats.snapshot();
    let runs = run(&mut rig, 24_000, true, &mut t);
    let after = rig.link.stats.snapshot();
    assert_eq!(after.rows_dropped, 0);
    // Every row is folded; runs are at most one per column of each pane (600 in 0.5 s)
    // and at least one per row of the long hops.
    let rows = after.rows_produced - before.rows_produced;
    assert!(rows >= 24_000, "{rows} rows");
    assert_eq!(after.rows_folded - before.rows_folded, rows);
    assert!((600..=4 * 602).contains(&runs), "{runs} runs");
}

/// Issue 9: a gap in the input (the capture clock jumps) and non-finite samples from a
/// broken driver are handled inside `pass` without allocating.
#[test]
fn analysis_pass_with_gaps_and_non_finite_samples_allocates_nothing() {
    let mut rig = rig(StftParams {
        fft_size: 2048,
        win_length: 2048,
        hop_size: 512,
        window: WindowKind::Hann,
    });
    let mut t = 0usize;
    // Warm up: fill the row-buffer pool.
    run(&mut rig, 48_000, false, &mut t);
    let mut block = vec![0.0f32; 2 * 480];
    let mut clock_ns = t as u64 * 20_833;
    for k in 0..400 {
        for (i, s) in block.chunks_exact_mut(2).enumerate() {
            *s.first_mut().expect("2 channels") = (((t + i) as f32) * 0.031).sin() * 0.25;
            s[1] = 0.1;
        }
        if k % 7 == 3 {
            block[11] = f32::NAN;
            block[40] = f32::INFINITY;
        }
        t += 480;
        // Every 50th callback comes 0.5 s late: a stall the watchdog would see.
        clock_ns += 10_000_000 + if k % 50 == 49 { 500_000_000 } else { 0 };
        rig.callback.on_data(&block, clock_ns);
        loop {
            reset_violation_count();
            let outcome = assert_no_alloc(|| rig.analysis.pass());
            assert_eq!(violation_count(), 0, "pass allocated with gaps / NaN");
            if outcome.frames == 0 {
                break;
            }
        }
        for row in rig.link.rows.try_iter() {
            rig.link.recycle(row);
        }
    }
    let stats = rig.link.stats.snapshot();
    assert_eq!(stats.gaps, 8);
    assert_eq!(stats.gap_samples, 8 * 24_000);
    assert_eq!(stats.nonfinite_samples, 2 * 57);
}

// ---------------------------------------------------------------- the window's frames

mod window_frames {
    //! Issue 10: composing the window's frames allocates nothing in steady state: 300
    //! frames into the software presenter's buffer (and 300 of the server-side blit list
    //! over a plain buffer), with rows arriving in every pane at their real rate, the HUD
    //! re-rendered every 15 frames (250 ms), a parameter-change marker, the cursor
    //! readout with its linked crosses, a notice, the help box and a pause on screen,
    //! under the counting allocator. Everything the frame loop draws, without a display.

    use std::time::{Duration, Instant};

    use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count};

    use hopscope::analysis::columns::{FoldRow, PaneColumns, TimeOrigin};
    use hopscope::analysis::message::{ColumnRun, SpectrumRow};
    use hopscope::analysis::AnalysisStats;
    use hopscope::audio::health::InputHealth;
    use hopscope::audio::stats::CaptureStats;
    use hopscope::config::pane::PaneSettings;
    use hopscope::dsp::scale::ValueScale;
    use hopscope::dsp::stft::StftParams;
    use hopscope::dsp::window::WindowKind;
    use hopscope::render::chrome::BACKGROUND;
    use hopscope::render::colormap::Colormap;
    use hopscope::render::freqmap::{FreqAxis, FreqScale};
    use hopscope::ui::frame::{FrameInput, RowInput, Scene, Target};
    use hopscope::ui::hud::HudSources;
    use hopscope::ui::pane::column_spec;
    use hopscope::ui::present::{Blit, Presenter};
    use hopscope::ui::state::ViewState;
    use hopscope::ui::timing::Meters;

    const SR: u32 = 48_000;
    const WIDTH: usize = 1280;
    const HEIGHT: usize = 720;
    /// Samples per frame at 60 fps.
    const FRAME_SAMPLES: u64 = SR as u64 / 60;
    const WARM_UP_FRAMES: usize = 60;
    const STEADY_FRAMES: usize = 300;
    /// Over the plot of the first pane, 44 columns from its right edge (held from the
    /// 29th frame on): the readout there, linked crosses in the other panes. (A new
    /// pointer position looks its note name up once, which allocates.)
    const POINTER: (usize, usize) = (1160, 150);

    fn params(window: WindowKind, hop_size: usize) -> StftParams {
        StftParams {
            fft_size: 2048,
            win_length: 2048,
            hop_size,
            window,
        }
    }

    /// One pane per `(window, hop)`, a screen spanning `span_ms` (at 1 s, hop 256 folds
    /// about 1.3 rows into a column and hop 512 spans 1.5 columns a row).
    fn view(panes: &[(WindowKind, usize)], span_ms: u32) -> ViewState {
        let axis = FreqAxis {
            scale: FreqScale::Linear,
            fmin_hz: 0.0,
            fmax_hz: f64::from(SR) / 2.0,
        };
        let panes = panes
            .iter()
            .map(|&(window, hop)| PaneSettings {
                frontend: None,
                params: params(window, hop),
                win_follows: true,
                axis,
                mel: None,
            })
            .collect();
        ViewState {
            span_ms,
            ..ViewState::new(panes, SR)
        }
    }

    /// A row of pane `pane` starting at `first_sample`: a noise floor and a 1 kHz line.
    fn row(pane: usize, params: StftParams, first_sample: u64) -> SpectrumRow {
        let line_bin = 1000 * params.fft_size / SR as usize;
        let bins = (0..params.fft_size / 2 + 1)
            .map(|k| {
                if k == line_bin {
                    -20.0
                } else {
                    -90.0 + (k % 7) as f32
                }
            })
            .collect();
        let now = Instant::now();
        SpectrumRow {
            pane,
            layout: 0,
            generation: 0,
            params,
            scale: ValueScale::Db,
            sample_rate_hz: SR,
            first_sample,
            gap_before: 0,
            captured_at: now,
            finished_at: now,
            bins,
            columns: None,
        }
    }

    /// What the frame loop owns, minus the window.
    struct Rig {
        state: ViewState,
        cmap: Colormap,
        scene: Scene,
        meters: Meters,
        /// Each pane's next row (its buffer reused, as the analysis recycles them).
        rows: Vec<SpectrumRow>,
        /// Each pane's rows folded into time columns, as the analysis thread does.
        folds: Vec<PaneColumns>,
        /// The message a run of columns reaches the UI in (its buffer reused).
        message: SpectrumRow,
        /// Samples captured so far: rows arrive up to here.
        clock: u64,
        capture: CaptureStats,
        analysis: AnalysisStats,
        health: InputHealth,
        presenter: Presenter,
        /// Server-side mode: the blit list, and the plain frame it is drawn over.
        server_side: Option<(Vec<Blit>, Vec<u32>)>,
    }

    impl Rig {
        fn new(panes: &[(WindowKind, usize)], span_ms: u32, server_side: bool) -> Rig {
            let state = view(panes, span_ms);
            let cmap = Colormap::new(state.colormap);
            let scene = Scene::new(WIDTH, HEIGHT, &state, &cmap);
            // The panes wait for grid 0; the folds make their runs on it.
            let folds = scene
                .panes()
                .iter()
                .enumerate()
                .map(|(i, pane)| {
                    let plot = pane.layout.plot;
                    let spec = column_spec(&state.pane(i), (plot.w, plot.h), span_ms);
                    let first = StftParams {
                        fft_size: 1024,
                        win_length: 1024,
                        ..state.pane(i).params
                    };
                    PaneColumns::new(0, spec, &first, SR, &TimeOrigin::default())
                })
                .collect();
            let mut message = row(0, state.pane(0).params, 0);
            message.bins = Vec::with_capacity(HEIGHT);
            // Rows start under n_fft 1024: the switch to the panes' 2048 leaves a marker.
            let rows = panes
                .iter()
                .enumerate()
                .map(|(i, &(window, hop))| {
                    let p = StftParams {
                        fft_size: 1024,
                        win_length: 1024,
                        ..params(window, hop)
                    };
                    row(i, p, 0)
                })
                .collect();
            Rig {
                state,
                cmap,
                scene,
                meters: Meters::new(),
                rows,
                folds,
                message,
                clock: 0,
                capture: CaptureStats::default(),
                analysis: AnalysisStats::default(),
                health: InputHealth::new(),
                presenter: Presenter::software(WIDTH, HEIGHT, BACKGROUND),
                server_side: server_side
                    .then(|| (Vec::with_capacity(1024), vec![BACKGROUND; WIDTH * HEIGHT])),
            }
        }

        /// Frame `k`: the rows of 1/60 s in every pane, then the frame composed; the
        /// HUD re-rendered every 15th frame.
        fn frame(&mut self, k: usize) {
            let frame_start = Instant::now();
            self.clock += FRAME_SAMPLES;
            let Rig {
                rows,
                folds,
                message,
                state,
                cmap,
                scene,
                meters,
                clock,
                ..
            } = self;
            for (row, fold) in rows.iter_mut().zip(folds.iter_mut()) {
                let hop = row.params.hop_size as u64;
                while row.first_sample + hop <= *clock {
                    row.first_sample += hop;
                    // Now and then a gap in the input before the row (drawn as hatching).
                    row.gap_before = if k % 97 == 50 { 4 * hop } else { 0 };
                    row.first_sample += row.gap_before;
                    (row.captured_at, row.finished_at) = (frame_start, frame_start);
                    let end_sample = row.first_sample + row.params.win_length as u64;
                    let folded = FoldRow {
                        bins: &row.bins,
                        params: &row.params,
                        sample_rate_hz: SR,
                        end_sample,
                        gap_end: (row.gap_before > 0).then_some(row.first_sample),
                    };
                    fold.push(folded, &TimeOrigin::default(), |run, params, grid| {
                        message.pane = row.pane;
                        message.params = *params;
                        (message.captured_at, message.finished_at) = (frame_start, frame_start);
                        message.bins.clear();
                        message.bins.extend_from_slice(run.values.unwrap_or(&[]));
                        message.columns = Some(ColumnRun {
                            grid_id: 0,
                            grid: *grid,
                            first: run.first,
                            last: run.last,
                            rows: run.rows,
                            first_row_end: run.first_row_end,
                        });
                        let mut input = RowInput {
                            state,
                            cmap,
                            layout_epoch: 0,
                            frame_start,
                            meters,
                        };
                        // Re-render requests are the window's to send (no history here).
                        let _ = scene.take_row(message, &mut input);
                    });
                }
            }
            self.scene.follow_view(self.state.paused);
            if k % 15 == 0 {
                let sources = HudSources {
                    source_label: "DEMO SIGNAL",
                    demo_fallback: false,
                    capture: &self.capture,
                    analysis: &self.analysis,
                };
                self.scene
                    .render_hud(&self.state, &sources, &mut self.meters, frame_start);
            }
            self.compose(frame_start);
            self.meters
                .frame_presented(frame_start, frame_start + Duration::from_millis(1));
        }

        fn compose(&mut self, now: Instant) {
            let input = FrameInput {
                state: &self.state,
                cmap: &self.cmap,
                source_label: "DEMO SIGNAL",
                pointer: Some(POINTER),
                notice: Some("snapshot failed: a test notice"),
                health: Some(self.health.snapshot(now)),
            };
            let target = match &mut self.server_side {
                Some((blits, frame)) => Target {
                    pixels: frame,
                    blits: Some(blits),
                },
                None => Target {
                    pixels: self.presenter.pixels_mut(),
                    blits: None,
                },
            };
            self.scene.compose(&input, target);
        }

        /// Before frame `k`: the analysis switches to the panes' own parameters halfway
        /// through the warm-up; the help box shows over steady frames 100–179, the view
        /// is paused over 200–249.
        fn set_view(&mut self, k: usize) {
            if k == WARM_UP_FRAMES / 2 {
                for (i, r) in self.rows.iter_mut().enumerate() {
                    *r = row(i, self.state.panes[i].params, r.first_sample);
                }
            }
            let steady = k.checked_sub(WARM_UP_FRAMES);
            self.state.help = steady.is_some_and(|s| (100..180).contains(&s));
            self.state.paused = steady.is_some_and(|s| (200..250).contains(&s));
        }
    }

    /// Runs the warm-up (whose first frame must allocate: the checker sees this path)
    /// and 300 steady frames, each under the counting allocator; returns the steady
    /// frames' allocator calls and the first frame that made any.
    fn steady_state(rig: &mut Rig) -> (u32, Option<usize>) {
        reset_violation_count();
        assert_no_alloc(|| rig.frame(0));
        assert!(
            violation_count() > 0,
            "the first frame draws the chrome, which allocates: the checker must see it"
        );
        for k in 1..WARM_UP_FRAMES {
            rig.set_view(k);
            rig.frame(k);
        }
        let (mut total, mut first) = (0, None);
        for k in WARM_UP_FRAMES..WARM_UP_FRAMES + STEADY_FRAMES {
            rig.set_view(k);
            reset_violation_count();
            assert_no_alloc(|| rig.frame(k));
            let calls = violation_count();
            total += calls;
            if calls > 0 && first.is_none() {
                first = Some(k);
            }
        }
        (total, first)
    }

    fn assert_steady_state_allocates_nothing(
        panes: &[(WindowKind, usize)],
        span_ms: u32,
        server_side: bool,
    ) {
        let mut rig = Rig::new(panes, span_ms, server_side);
        let (total, first) = steady_state(&mut rig);
        let what = format!(
            "{} pane(s), span {span_ms} ms, server-side {server_side}",
            panes.len()
        );
        assert_eq!(
            total, 0,
            "{what}: {total} allocator calls in {STEADY_FRAMES} steady frames (the first in frame {first:?})"
        );
        // The frames showed what they were meant to: columns of the time drawn, the
        // marker in view.
        let pane = &rig.scene.panes()[0];
        let newest = &rig.rows[0];
        let newest_end = newest.first_sample + newest.params.win_length as u64;
        let plot = pane.layout.plot;
        let grid = hopscope::render::timeaxis::TimeGrid::new(span_ms, plot.w as u32, SR);
        assert_eq!(
            pane.waterfall.next_serial(),
            grid.column_of(newest_end) + 1,
            "{what}: the newest column is the newest row's"
        );
        let plot_w = pane.layout.plot.w as u64;
        // (At a 1 s span the marker of 0.5 s has scrolled out after 6 s.)
        assert!(
            span_ms < 10_000
                || pane
                    .waterfall
                    .markers()
                    .iter()
                    .any(|m| m.label == "n_fft 2048" && m.column + plot_w > pane.view_end),
            "{what}: the n_fft marker is in view"
        );
    }

    #[test]
    fn one_pane_software_frames_allocate_nothing() {
        assert_steady_state_allocates_nothing(&[(WindowKind::Hann, 512)], 10_000, false);
    }

    #[test]
    fn one_pane_server_side_frames_allocate_nothing() {
        assert_steady_state_allocates_nothing(&[(WindowKind::Hann, 512)], 10_000, true);
    }

    const COMPARE: [(WindowKind, usize); 3] = [
        (WindowKind::Hamming, 512),
        (WindowKind::Hann, 512),
        (WindowKind::Blackman, 256),
    ];

    #[test]
    fn three_compare_panes_software_frames_allocate_nothing() {
        assert_steady_state_allocates_nothing(&COMPARE, 1000, false);
    }

    #[test]
    fn three_compare_panes_server_side_frames_allocate_nothing() {
        assert_steady_state_allocates_nothing(&COMPARE, 1000, true);
    }
}

/// The live front-ends' pieces, each after warm-up: the resampler (48 and 44.1 kHz →
/// 16 kHz, every callback length, and its `finish` and `reset`), the front-end engine,
/// the rolling span maximum and the clamp/scaling, chained as the analysis thread runs
/// them.
#[test]
fn resampler_frontend_engine_span_max_and_post_allocate_nothing() {
    use hopscope::dsp::frontend::engine::FrontendEngine;
    use hopscope::dsp::frontend::{presets, row_max, SpanMax};
    use hopscope::dsp::resample::Resampler;
    for from_hz in [48_000u32, 44_100, 16_000] {
        for spec in presets::all() {
            let mut resampler = Resampler::new(from_hz, spec.sample_rate_hz).expect("rates");
            let mut engine = FrontendEngine::new(&spec);
            let mut span = SpanMax::new(3000);
            let post = spec.post();
            let mut row = vec![0.0f32; spec.bands()];
            let x: Vec<f32> = (0..65_536)
                .map(|i| ((i as f32) * 0.031).sin() * 0.25)
                .collect();
            let mut rows = 0usize;
            let mut feed = |resampler: &mut Resampler,
                            engine: &mut FrontendEngine,
                            span: &mut SpanMax,
                            input: &[f32]|
             -> usize {
                let mut n = 0;
                resampler.push(input, |out| {
                    engine.push(out, |r| {
                        row.copy_from_slice(r);
                        let m = span.push(row_max(&row));
                        post.apply(m, &mut row);
                        n += 1;
                    });
                });
                n
            };
            // Warm-up.
            rows += feed(&mut resampler, &mut engine, &mut span, &x[..8192]);
            for len in CALLBACK_LENGTHS {
                reset_violation_count();
                rows += assert_no_alloc(|| feed(&mut resampler, &mut engine, &mut span, &x[..len]));
                assert_eq!(
                    violation_count(),
                    0,
                    "{} from {from_hz} Hz allocated ({len} samples)",
                    spec.name
                );
            }
            reset_violation_count();
            assert_no_alloc(|| {
                resampler.finish(|out| engine.push(out, |_| {}));
                engine.finish(|_| {});
                resampler.reset();
                engine.reset();
                span.reset();
            });
            assert_eq!(
                violation_count(),
                0,
                "{}: finish/reset allocated",
                spec.name
            );
            assert!(rows > 20, "{}: {rows} rows", spec.name);
        }
    }
}

/// The analysis loop with front-end panes (Whisper next to an STFT pane, then YAMNet and
/// the TF tutorial's linear |X|), folded into time columns as the window has them: no
/// allocation in steady state, and every pane makes rows.
#[test]
fn analysis_pass_with_frontend_panes_allocates_nothing() {
    use hopscope::config::frontend::builtins;
    use hopscope::render::freqmap::{FreqAxis, FreqScale};
    use hopscope::render::timeaxis::ColumnSpec;
    let base = StftParams {
        fft_size: 2048,
        win_length: 2048,
        hop_size: 512,
        window: WindowKind::Hann,
    };
    let mut rig = rig(base);
    let mut params = [base; 4];
    params[3].fft_size = 1024;
    params[3].win_length = 1024;
    assert!(rig.link.control.send(Control::SetPanes {
        layout: 1,
        count: 4,
        params,
    }));
    let by_name = |n: &str| builtins().iter().find(|s| s.name == n).expect("built in");
    let frontends = [
        by_name("whisper"),
        by_name("yamnet"),
        by_name("tf-tutorial"),
    ];
    for (pane, spec) in frontends.iter().enumerate() {
        assert!(rig
            .link
            .control
            .send(Control::SetFrontend(pane, Some(*spec))));
    }
    let axis = FreqAxis {
        scale: FreqScale::Linear,
        fmin_hz: 0.0,
        fmax_hz: 24_000.0,
    };
    for pane in 0..4 {
        let spec = ColumnSpec {
            bands: frontends.get(pane).map(|f| f.bands()),
            axis,
            mel: None,
            height_px: 150,
            width_px: 1200,
            span_ms: 2000,
        };
        assert!(rig.link.control.send(Control::SetColumns {
            pane,
            grid_id: 3,
            spec,
        }));
    }
    let mut t = 0usize;
    run(&mut rig, 48_000, false, &mut t);
    let before = rig.link.stats.snapshot();
    run(&mut rig, 48_000, true, &mut t);
    let after = rig.link.stats.snapshot();
    assert_eq!(after.rows_dropped, 0);
    // 1 s: 100 rows for Whisper and YAMNet, 125 for the tutorial, 93.75 for the STFT.
    let rows = after.rows_produced - before.rows_produced;
    assert!((410..=430).contains(&rows), "{rows} rows");
    let geometry: Vec<StftParams> = rig.analysis.pane_params().collect();
    assert_eq!(geometry[0].hop_size, 480, "Whisper's hop at 48 kHz");
    assert_eq!(geometry[2].hop_size, 384, "the tutorial's hop at 48 kHz");
    assert!(rig.analysis.frontend(0).is_some() && rig.analysis.frontend(3).is_none());
}
