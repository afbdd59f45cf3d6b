//! `hopscope latency`'s table in-process (`hopscope::offline::latency`): the model
//! columns against ../shared/DSP.md and closed forms, the flags' validation, the
//! measurement's bookkeeping, and the printed table read back.
//!
//! Oracles: DSP.md §4.3 (Hann, sr 48 kHz, B = 1, mean ms) and §4.1's intervals for Hann
//! (a click reaches −6 dB N/4 samples before the frame end, a tone onset N/2, plus the
//! mean phase (max(H, B) − 1)/2, §4.2); §1.2's ENBW in bins (Hann 1.5, Blackman 1.7268,
//! rectangular 1) and §3's resolution ENBW·sr/N (70.3125 Hz for Hann 1024, whatever the
//! n_fft); rows/s = sr/hop and Δt = hop/sr by definition. No wall-clock assertion: the
//! measured figures are checked for consistency, never for speed.

use clap::Parser;
use hopscope::cli::{Cli, Command};
use hopscope::config::LatencyConfig;
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::offline::latency::{
    measure_cpu, model_row, model_rows, smallest_realtime_hop, Budget, CpuCost, LatencyLine,
    LatencyReport,
};

const SR: u32 = 48_000;

fn params(n_fft: usize, win_length: usize, hop: usize, window: WindowKind) -> StftParams {
    StftParams {
        fft_size: n_fft,
        win_length,
        hop_size: hop,
        window,
    }
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, expected {want} (± {tol})"
    );
}

/// DSP.md §4.3, n_fft 1024 rows: hop, click ≥ −6 dB mean, tone onset −6 dB mean (ms).
const TABLE_4_3_1024: [(usize, f64, f64); 3] =
    [(128, 6.66, 11.99), (256, 7.99, 13.32), (512, 10.66, 15.99)];

#[test]
fn hann_1024_rows_match_dsp_md_4_3_and_the_closed_forms() {
    for &(hop, click_ms, tone_ms) in &TABLE_4_3_1024 {
        let row = model_row(&params(1024, 1024, hop, WindowKind::Hann), SR, 1);
        close(
            &format!("hop {hop} click"),
            row.latency.click_ms,
            click_ms,
            0.01,
        );
        close(
            &format!("hop {hop} tone"),
            row.latency.tone_ms,
            tone_ms,
            0.01,
        );
    }
    // §4.1 for Hann: N/4 (click) and N/2 (tone) plus the mean phase (H − 1)/2, B = 1.
    for hop in [1usize, 16, 64, 128, 256, 512] {
        let row = model_row(&params(1024, 1024, hop, WindowKind::Hann), SR, 1);
        let phase = (hop as f64 - 1.0) / 2.0;
        close(
            &format!("hop {hop} click"),
            row.latency.click_ms,
            (256.0 + phase) * 1000.0 / 48_000.0,
            1e-9,
        );
        close(
            &format!("hop {hop} tone"),
            row.latency.tone_ms,
            (512.0 + phase) * 1000.0 / 48_000.0,
            1e-9,
        );
        close(
            "buffer of one sample",
            row.latency.buffer_ms,
            1.0 / 48.0,
            1e-12,
        );
    }
}

#[test]
fn rows_per_second_and_the_hop_in_ms_are_sr_over_hop_and_hop_over_sr() {
    for (sr, hop) in [
        (48_000u32, 1usize),
        (48_000, 64),
        (48_000, 1024),
        (44_100, 7),
        (8_000, 3),
    ] {
        let row = model_row(&params(1024, 1024, hop, WindowKind::Hann), sr, 480);
        assert_eq!(row.hop_size, hop);
        assert_eq!(
            row.rows_per_s,
            f64::from(sr) / hop as f64,
            "sr {sr} hop {hop}"
        );
        close(
            &format!("sr {sr} hop {hop} ms"),
            row.hop_ms,
            hop as f64 / f64::from(sr) * 1000.0,
            1e-12,
        );
    }
}

#[test]
fn audio_blocks_longer_than_the_hop_replace_it_in_the_phase_term() {
    // DSP.md §4.2: H → max(H, B). Hann 1024 with 480-frame blocks.
    for (hop, phase) in [(1usize, 239.5), (64, 239.5), (512, 255.5)] {
        let row = model_row(&params(1024, 1024, hop, WindowKind::Hann), SR, 480);
        close(
            &format!("hop {hop} B 480 click"),
            row.latency.click_ms,
            (256.0 + phase) / 48.0,
            1e-9,
        );
        close(
            &format!("hop {hop} B 480 tone"),
            row.latency.tone_ms,
            (512.0 + phase) / 48.0,
            1e-9,
        );
        close("buffer 480 frames", row.latency.buffer_ms, 10.0, 1e-12);
    }
}

#[test]
fn resolution_is_enbw_times_sr_over_the_window_length() {
    // DSP.md §1.2 ENBW (bins) and §3: Hann 1024 → 70.3125 Hz at 48 kHz, at any n_fft.
    let cases = [
        (1024, 1024, WindowKind::Hann, 1.5, 1e-9),
        (2048, 1024, WindowKind::Hann, 1.5, 1e-9),
        (4096, 4096, WindowKind::Hann, 1.5, 1e-9),
        (1024, 1024, WindowKind::Rect, 1.0, 1e-9),
        (1024, 1024, WindowKind::Blackman, 1.7268, 1e-3),
        (1024, 1024, WindowKind::BlackmanHarris, 2.0044, 1e-3),
        (1024, 1024, WindowKind::Flattop, 3.7702, 1e-3),
    ];
    for (n_fft, win, window, enbw_bins, tol) in cases {
        let row = model_row(&params(n_fft, win, 64, window), SR, 1);
        let bin_hz = 48_000.0 / win as f64;
        close(
            &format!("{window} n_fft {n_fft} win {win} resolution"),
            row.resolution_hz,
            enbw_bins * bin_hz,
            tol * bin_hz,
        );
    }
    let hann = model_row(&params(1024, 1024, 256, WindowKind::Hann), SR, 1);
    close("DSP.md §3 Hann 1024", hann.resolution_hz, 70.3125, 1e-9);
}

fn config(args: &[&str]) -> Result<LatencyConfig, String> {
    let cli = Cli::try_parse_from(std::iter::once("hopscope").chain(args.iter().copied()))
        .map_err(|e| e.to_string())?;
    match &cli.command {
        Some(Command::Latency(a)) => LatencyConfig::try_from(a).map_err(|e| e.to_string()),
        other => panic!("{args:?} parsed as {other:?}"),
    }
}

#[test]
fn flags_give_the_hops_rate_buffer_and_scale_and_refuse_impossible_ones() {
    let c = config(&["latency", "--n-fft", "1024"]).expect("defaults");
    assert_eq!(c.hops, [1, 16, 64, 256, 1024]);
    assert_eq!((c.sample_rate_hz, c.buffer_frames), (48_000, 480));
    assert_eq!(c.scale, ValueScale::Db);
    assert_eq!(
        c.params,
        params(1024, 1024, c.params.hop_size, WindowKind::Hann)
    );
    let c = config(&["latency", "--n-fft", "256"]).expect("defaults up to win_length");
    assert_eq!(c.hops, [1, 16, 64, 256]);
    let c = config(&["latency", "--hop", "128"]).expect("--hop");
    assert_eq!(c.hops, [128]);
    let c = config(&[
        "latency",
        "--hops",
        "512,1,64",
        "--n-fft",
        "2048",
        "--win-length",
        "1024",
        "--window",
        "blackman",
        "--sample-rate",
        "44100",
        "--buffer",
        "256",
        "--scale",
        "power",
    ])
    .expect("every flag");
    assert_eq!(c.hops, [512, 1, 64]);
    assert_eq!(
        c.params,
        params(2048, 1024, c.params.hop_size, WindowKind::Blackman)
    );
    assert_eq!((c.sample_rate_hz, c.buffer_frames), (44_100, 256));
    assert_eq!(c.scale, ValueScale::Power);
    let rows = model_rows(&c);
    assert_eq!(
        rows.iter().map(|r| r.hop_size).collect::<Vec<_>>(),
        [512, 1, 64]
    );
    let many = vec!["1"; 17].join(",");
    for (args, mention) in [
        (vec!["latency", "--hops", "0"], "--hops"),
        (
            vec!["latency", "--n-fft", "1024", "--hops", "1,2048"],
            "win_length (1024)",
        ),
        (vec!["latency", "--hops", "1,,4"], "--hops"),
        (vec!["latency", "--hops", "x"], "--hops"),
        (
            vec!["latency", "--hops", "1,2", "--hop", "4"],
            "cannot be used with",
        ),
        (vec!["latency", "--n-fft", "8"], "--n-fft"),
        (
            vec!["latency", "--n-fft", "1024", "--win-length", "2048"],
            "--win-length",
        ),
        (vec!["latency", "--sample-rate", "10"], "--sample-rate"),
        (vec!["latency", "--buffer", "0"], "--buffer"),
        (vec!["latency", "--hops", many.as_str()], "at most 16"),
    ] {
        match config(&args) {
            Ok(c) => panic!("{args:?} accepted: {c:?}"),
            Err(e) => assert!(
                e.contains(mention),
                "{args:?}: {e:?} should mention {mention:?}"
            ),
        }
    }
}

#[test]
fn the_measurement_counts_the_rows_of_the_samples_it_pushed() {
    let budget = Budget {
        min_cpu_s: 0.005,
        min_audio_s: 0.05,
        max_cpu_s: 0.05,
    };
    for (n_fft, hop, buffer) in [
        (256usize, 1usize, 480usize),
        (1024, 64, 480),
        (512, 512, 100),
    ] {
        let p = params(n_fft, n_fft, hop, WindowKind::Hann);
        let cost = measure_cpu(p, ValueScale::Db, SR, buffer, budget);
        let what = format!("n_fft {n_fft} hop {hop} buffer {buffer}");
        assert!(
            cost.cpu_s.is_finite() && cost.cpu_s >= budget.min_cpu_s,
            "{what}: {cost:?}"
        );
        assert_eq!(
            cost.samples % buffer as u64,
            0,
            "{what}: whole blocks: {cost:?}"
        );
        // Rows end at win + k·hop: the samples pushed hold samples/hop of them, ±1.
        let expected = cost.samples / hop as u64;
        assert!(cost.rows.abs_diff(expected) <= 1, "{what}: {cost:?}");
        assert!(
            cost.rows >= 32,
            "{what}: at least one look's worth of rows: {cost:?}"
        );
        close(
            &format!("{what} cpu per s of audio"),
            cost.cpu_ms_per_audio_s(),
            cost.us_per_row() * cost.rows as f64 / 1000.0 / cost.audio_s(),
            1e-9 * cost.cpu_ms_per_audio_s(),
        );
    }
}

#[test]
fn smallest_realtime_hop_is_the_ceiling_of_sr_times_the_row_cost() {
    assert_eq!(smallest_realtime_hop(5.0, 48_000), 1); // 0.24 → 1
    assert_eq!(smallest_realtime_hop(0.001, 48_000), 1);
    assert_eq!(smallest_realtime_hop(100.0, 48_000), 5); // 4.8
    assert_eq!(smallest_realtime_hop(250.0, 48_000), 12);
    assert_eq!(smallest_realtime_hop(300.0, 44_100), 14); // 13.23
}

/// The printed table, read back by its header, against the values it was made from.
#[test]
fn the_text_table_reads_back_as_its_values() {
    let cfg = config(&["latency", "--n-fft", "1024", "--hops", "1,64,512"]).expect("flags");
    let costs = [
        (48_000u64, 48_000u64, 0.3),
        (750, 48_000, 0.002),
        (1875, 1_920_000, 0.004),
    ];
    let lines = model_rows(&cfg)
        .into_iter()
        .zip(costs)
        .map(|(model, (rows, samples, cpu_s))| LatencyLine {
            model,
            cost: CpuCost {
                rows,
                samples,
                cpu_s,
                sample_rate_hz: SR,
            },
        })
        .collect();
    let report = LatencyReport { config: cfg, lines };
    let text = report.to_text();
    eprintln!("{text}");
    let mut rows = text.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = rows.next().expect("header").split_whitespace().collect();
    let col = |line: &str, name: &str| -> String {
        let i = header.iter().position(|h| *h == name).expect(name);
        line.split_whitespace().nth(i).expect("column").to_string()
    };
    let num = |line: &str, name: &str| col(line, name).parse::<f64>().expect("a number");
    let hop1 = rows.next().expect("hop 1");
    assert_eq!(col(hop1, "hop"), "1");
    close("rows/s", num(hop1, "rows_per_s"), 48_000.0, 5e-4);
    close("us/row", num(hop1, "us_per_row"), 6.25, 5e-4);
    close("cpu ms/s", num(hop1, "cpu_ms_per_s"), 300.0, 5e-4);
    close("core %", num(hop1, "core_pct"), 30.0, 5e-4);
    assert_eq!(col(hop1, "realtime"), "yes");
    let hop64 = rows.next().expect("hop 64");
    close("hop ms", num(hop64, "hop_ms"), 64.0 / 48.0, 5e-5);
    close(
        "click",
        num(hop64, "click_ms"),
        (256.0 + 239.5) / 48.0,
        5e-4,
    );
    close("tone", num(hop64, "tone_ms"), (512.0 + 239.5) / 48.0, 5e-4);
    close("buffer", num(hop64, "buffer_ms"), 10.0, 5e-4);
    close("df", num(hop64, "df_hz"), 70.3125, 1e-3);
    let hop512 = rows.next().expect("hop 512");
    close(
        "us/row",
        num(hop512, "us_per_row"),
        4e-3 / 1875.0 * 1e6,
        5e-4,
    );
    close("cpu ms/s", num(hop512, "cpu_ms_per_s"), 0.1, 5e-4);
    let last = rows.next().expect("the one-core line");
    // The largest row cost is hop 1's 6.25 µs: ceil(48000 · 6.25e-6) = 1.
    assert!(
        last.starts_with("one core: smallest_hop=1 n_fft=1024 "),
        "{last}"
    );
    assert!(rows.next().is_none());
}

/// DSP.md §4.3 "50% never": a click reaches −6 dB in some frame at every phase only while
/// the hop is at most the number of frame positions where the window is ≥ ½ its peak
/// (Hann 1024: 256..=768, 513 positions); the table says so above that, and only then.
#[test]
fn the_table_notes_hops_that_miss_some_clicks() {
    let note = |args: &[&str]| {
        let cfg = config(args).expect("flags");
        let lines = model_rows(&cfg)
            .into_iter()
            .map(|model| LatencyLine {
                model,
                cost: CpuCost {
                    rows: 100,
                    samples: 48_000,
                    cpu_s: 0.001,
                    sample_rate_hz: SR,
                },
            })
            .collect();
        LatencyReport { config: cfg, lines }
            .to_text()
            .contains("\"50% never\"")
    };
    assert!(!note(&[
        "latency",
        "--n-fft",
        "1024",
        "--hops",
        "1,512,513"
    ]));
    assert!(note(&["latency", "--n-fft", "1024", "--hops", "1,514"]));
    assert!(note(&["latency", "--n-fft", "512", "--hops", "512"]));
    // Rectangular: every position is at the peak, so no hop misses a click.
    assert!(!note(&[
        "latency", "--n-fft", "1024", "--hops", "1024", "--window", "rect"
    ]));
}
