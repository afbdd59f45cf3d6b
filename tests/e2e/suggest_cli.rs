//! `hopscope suggest` end to end (split from `tests/it/suggest.rs`, which checks the
//! ranking in-process): the table and `best:` line for a DSP.md §5 chirp, a fixed hop,
//! every window, a short file, and 19 bad inputs refused with one line.
//!
//! Oracles: the table's values against the library's R3 of the same signal and
//! parameters, and the bin width and hop formulas.

use std::path::Path;

use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::offline::suggest;

use crate::support::chirp::{chirp, CHIRPS, SR};
use crate::support::{
    assert_one_line_error, hopscope_in, run_with_timeout, Outcome, TempDir, PATIENCE,
};

fn hann(n_fft: usize, hop: usize) -> StftParams {
    StftParams {
        fft_size: n_fft,
        win_length: n_fft,
        hop_size: hop,
        window: WindowKind::Hann,
    }
}

fn write_wav_f32(path: &Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SR,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for &s in samples {
        w.write_sample(s).expect("write sample");
    }
    w.finalize().expect("finalize wav");
}

fn run(dir: &TempDir, args: &[&str]) -> Outcome {
    run_with_timeout(hopscope_in(dir.path(), args), PATIENCE)
}

/// The table's rows as `column name → value`, and the `best:` line's fields.
struct Parsed {
    rows: Vec<std::collections::BTreeMap<String, String>>,
    best: std::collections::BTreeMap<String, String>,
}

fn parse(stdout: &str) -> Parsed {
    let mut lines = stdout.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines
        .next()
        .expect("a table header")
        .split_whitespace()
        .collect();
    let mut rows = Vec::new();
    let mut best = None;
    for line in lines {
        if let Some(rest) = line.strip_prefix("best: ") {
            best = Some(
                rest.split_whitespace()
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').expect("key=value");
                        (k.to_string(), v.to_string())
                    })
                    .collect(),
            );
            continue;
        }
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert!(cells.len() >= header.len(), "short row: {line:?}");
        let mut row: std::collections::BTreeMap<String, String> = header
            .iter()
            .zip(&cells)
            .map(|(h, c)| (h.to_string(), c.to_string()))
            .collect();
        row.insert("marker".into(), cells[header.len()..].join(" "));
        rows.push(row);
    }
    Parsed {
        rows,
        best: best.expect("a best: line"),
    }
}

#[test]
fn binary_ranks_a_chirp_wav() {
    let dir = TempDir::new("suggest");
    let ch = &CHIRPS[1];
    write_wav_f32(&dir.join("chirp.wav"), &chirp(ch));
    let o = run(&dir, &["suggest", "chirp.wav"]);
    assert_eq!(o.code(), Some(0), "stderr: {}", o.stderr);
    assert!(o.stderr.is_empty(), "stderr: {}", o.stderr);
    let p = parse(&o.stdout);
    // 256..16384 all fit 48000 samples: 7 rows sorted by n_fft.
    let sizes: Vec<usize> = p.rows.iter().map(|r| r["n_fft"].parse().unwrap()).collect();
    assert_eq!(
        sizes,
        [256, 512, 1024, 2048, 4096, 8192, 16384],
        "{}",
        o.stdout
    );
    let mut ranks: Vec<usize> = p.rows.iter().map(|r| r["rank"].parse().unwrap()).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, [1, 2, 3, 4, 5, 6, 7]);
    for r in &p.rows {
        let n: f64 = r["n_fft"].parse().unwrap();
        let bin_hz: f64 = r["bin_hz"].parse().unwrap();
        let hop_ms: f64 = r["hop_ms"].parse().unwrap();
        assert!((bin_hz - 48_000.0 / n).abs() < 0.006, "{r:?}");
        assert!((hop_ms - n / 4.0 / 48.0).abs() < 0.0006, "{r:?}");
        let bits: f64 = r["entropy_bits"].parse().unwrap();
        assert!(bits > 0.0 && bits < 20.0, "{r:?}");
        assert_eq!(r["marker"] == "<- best", r["rank"] == "1", "{r:?}");
        // The printed value is the library's R3 to 3 decimals.
        let direct =
            suggest::entropy_bits(&chirp(ch), hann(n as usize, n as usize / 4)).expect("defined");
        assert!((bits - direct).abs() <= 0.0005 + 1e-9, "{r:?} vs {direct}");
    }
    let expect_best = [
        ("n_fft", "1024"),
        ("win_length", "1024"),
        ("hop", "256"),
        ("window", "hann"),
    ];
    for (k, v) in expect_best {
        assert_eq!(p.best[k], v, "best: {:?}", p.best);
    }
    let best_row = p.rows.iter().find(|r| r["rank"] == "1").expect("rank 1");
    assert_eq!(best_row["n_fft"], "1024");

    // A fixed hop: the output says it corrects, and the corrected ranking still wins.
    let o = run(
        &dir,
        &["suggest", "chirp.wav", "--hop", "64", "--max-n-fft", "4096"],
    );
    assert_eq!(o.code(), Some(0), "stderr: {}", o.stderr);
    assert!(o.stdout.contains("log2(hop/n_fft)"), "{}", o.stdout);
    let p = parse(&o.stdout);
    assert_eq!(p.rows.len(), 5);
    for r in &p.rows {
        let n: f64 = r["n_fft"].parse().unwrap();
        let raw: f64 = r["raw_bits"].parse().unwrap();
        let bits: f64 = r["entropy_bits"].parse().unwrap();
        assert!((bits - raw - (64.0 / n).log2()).abs() < 0.0011, "{r:?}");
    }
    assert_eq!(p.best["n_fft"], "1024");
    assert_eq!(p.best["hop"], "64");

    // Every window: 8 windows × 5 sizes, a window column, one best.
    let o = run(
        &dir,
        &[
            "suggest",
            "chirp.wav",
            "--windows",
            "--min-n-fft",
            "512",
            "--max-n-fft",
            "8192",
        ],
    );
    assert_eq!(o.code(), Some(0), "stderr: {}", o.stderr);
    let p = parse(&o.stdout);
    assert_eq!(p.rows.len(), 40, "{}", o.stdout);
    assert!(p.rows.iter().all(|r| r.contains_key("window")));
    assert_eq!(p.rows.iter().filter(|r| r["rank"] == "1").count(), 1);
    let best_row = p.rows.iter().find(|r| r["rank"] == "1").expect("rank 1");
    assert_eq!(best_row["window"], p.best["window"]);
    assert_eq!(best_row["n_fft"], p.best["n_fft"]);

    // A short file clips the largest sizes and says so.
    write_wav_f32(&dir.join("short.wav"), &chirp(ch)[..3000]);
    let o = run(&dir, &["suggest", "short.wav"]);
    assert_eq!(o.code(), Some(0), "stderr: {}", o.stderr);
    let p = parse(&o.stdout);
    let sizes: Vec<usize> = p.rows.iter().map(|r| r["n_fft"].parse().unwrap()).collect();
    assert_eq!(sizes, [256, 512, 1024, 2048]);
    assert!(
        o.stdout.contains("skipped n_fft 4096, 8192, 16384"),
        "{}",
        o.stdout
    );
}

#[test]
fn binary_rejects_bad_input_with_one_line() {
    let dir = TempDir::new("suggest-bad");
    std::fs::write(
        dir.join("corrupt.wav"),
        b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk",
    )
    .unwrap();
    write_wav_f32(&dir.join("tiny.wav"), &chirp(&CHIRPS[0])[..200]);
    write_wav_f32(&dir.join("silent.wav"), &[0.0; 4096]);
    write_wav_f32(&dir.join("ok.wav"), &chirp(&CHIRPS[0])[..8192]);
    let cases: &[(&[&str], &str)] = &[
        (&["suggest", "missing.wav"], "missing.wav"),
        (&["suggest", "corrupt.wav"], "corrupt.wav"),
        (&["suggest", "tiny.wav"], "too short"),
        (&["suggest", "silent.wav"], "silent"),
        (
            &[
                "suggest",
                "ok.wav",
                "--min-n-fft",
                "4096",
                "--max-n-fft",
                "1024",
            ],
            "--min-n-fft",
        ),
        (&["suggest", "ok.wav", "--min-n-fft", "300"], "--min-n-fft"),
        (&["suggest", "ok.wav", "--max-n-fft", "1000"], "--max-n-fft"),
        (
            &["suggest", "ok.wav", "--max-n-fft", "131072"],
            "--max-n-fft",
        ),
        (&["suggest", "ok.wav", "--hop-ratio", "0"], "--hop-ratio"),
        (&["suggest", "ok.wav", "--hop-ratio", "1.5"], "--hop-ratio"),
        (
            &["suggest", "ok.wav", "--hop-ratio", "-0.25"],
            "--hop-ratio",
        ),
        (&["suggest", "ok.wav", "--hop-ratio", "nan"], "--hop-ratio"),
        (&["suggest", "ok.wav", "--hop", "0"], "--hop"),
        (&["suggest", "ok.wav", "--hop", "512"], "--hop"),
        (
            &["suggest", "ok.wav", "--hop", "64", "--hop-ratio", "0.5"],
            "--hop",
        ),
        (
            &["suggest", "ok.wav", "--windows", "--window", "hamming"],
            "--window",
        ),
        (&["suggest", "ok.wav", "--window", "nosuch"], "--window"),
        (&["suggest", "ok.wav", "--channel", "1"], "--channel"),
        (&["suggest"], "IN.wav"),
    ];
    for (args, mention) in cases {
        let o = run(&dir, args);
        let what = format!("hopscope {}", args.join(" "));
        assert_one_line_error(&what, &o);
        assert!(o.stderr.contains(mention), "{what}: {}", o.stderr);
    }
    // Positive control: the same flags with valid values succeed.
    let o = run(
        &dir,
        &["suggest", "ok.wav", "--hop-ratio", "1", "--channel", "0"],
    );
    assert_eq!(o.code(), Some(0), "stderr: {}", o.stderr);
    assert!(o.stdout.contains("best: n_fft="), "{}", o.stdout);
}
