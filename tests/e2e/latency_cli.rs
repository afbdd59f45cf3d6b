//! `hopscope latency` end to end: the table of `latency --hops 1,64,512 --n-fft 1024`
//! read back by its header and checked against ../shared/DSP.md and closed forms, its
//! measured CPU columns for consistency (never for speed), and impossible parameters
//! refused with one line and exit code 2.
//!
//! Oracles: Δt = hop/sr, rows/s = sr/hop; Hann's −6 dB delays N/4 (click) and N/2 (tone)
//! plus the mean phase (max(H, B) − 1)/2 (DSP.md §4.1–4.2; the default buffer is 480
//! frames, 10 ms), and with B = 1 the §4.3 means of the n_fft 1024 rows; Δf = 1.5 bins ×
//! 48000/1024 = 70.3125 Hz (§1.2, §3).

use std::collections::BTreeMap;

use crate::support::{
    assert_one_line_error, hopscope_in, run_with_timeout, Outcome, TempDir, PATIENCE,
};

fn run(dir: &TempDir, args: &[&str]) -> Outcome {
    run_with_timeout(hopscope_in(dir.path(), args), PATIENCE)
}

/// The table's lines as `column → value` (the comment lines skipped) and the
/// `one core:` line's `key=value` fields.
struct Table {
    rows: Vec<BTreeMap<String, String>>,
    one_core: BTreeMap<String, String>,
}

fn parse(stdout: &str) -> Table {
    let mut lines = stdout.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    let mut rows = Vec::new();
    let mut one_core = None;
    for line in lines {
        if let Some(rest) = line.strip_prefix("one core: ") {
            one_core = Some(
                rest.split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            );
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields.len(), header.len(), "line {line:?} under {header:?}");
        rows.push(
            header
                .iter()
                .zip(fields)
                .map(|(h, f)| (h.to_string(), f.to_string()))
                .collect(),
        );
    }
    Table {
        rows,
        one_core: one_core.expect("a `one core:` line"),
    }
}

fn num(row: &BTreeMap<String, String>, name: &str) -> f64 {
    let v = row.get(name).unwrap_or_else(|| panic!("no column {name}"));
    v.parse()
        .unwrap_or_else(|e| panic!("{name} = {v:?} is not a number: {e}"))
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, expected {want} (± {tol})"
    );
}

fn latency_table(dir: &TempDir, args: &[&str]) -> Table {
    let o = run(dir, args);
    assert_eq!(
        o.code(),
        Some(0),
        "hopscope {}: {}\n{}",
        args.join(" "),
        o.stdout,
        o.stderr
    );
    assert!(o.stderr.is_empty(), "stderr: {}", o.stderr);
    eprintln!("{}", o.stdout);
    parse(&o.stdout)
}

#[test]
fn latency_table_holds_the_model_and_a_measured_cpu_column() {
    let dir = TempDir::new("latency");
    let table = latency_table(&dir, &["latency", "--hops", "1,64,512", "--n-fft", "1024"]);
    let hops: Vec<String> = table.rows.iter().map(|r| r["hop"].clone()).collect();
    assert_eq!(hops, ["1", "64", "512"]);
    let mut worst_us = 0.0f64;
    for row in &table.rows {
        let hop = num(row, "hop");
        let what = format!("hop {hop}");
        close(
            &format!("{what} hop_ms"),
            num(row, "hop_ms"),
            hop / 48.0,
            5e-5,
        );
        close(
            &format!("{what} rows/s"),
            num(row, "rows_per_s"),
            48_000.0 / hop,
            5e-4,
        );
        let phase = (hop.max(480.0) - 1.0) / 2.0;
        close(
            &format!("{what} click"),
            num(row, "click_ms"),
            (256.0 + phase) / 48.0,
            5e-4,
        );
        close(
            &format!("{what} tone"),
            num(row, "tone_ms"),
            (512.0 + phase) / 48.0,
            5e-4,
        );
        close(&format!("{what} buffer"), num(row, "buffer_ms"), 10.0, 5e-4);
        close(&format!("{what} df"), num(row, "df_hz"), 70.3125, 1e-3);
        let (us, ms, pct) = (
            num(row, "us_per_row"),
            num(row, "cpu_ms_per_s"),
            num(row, "core_pct"),
        );
        for (name, v) in [("us_per_row", us), ("cpu_ms_per_s", ms), ("core_pct", pct)] {
            assert!(v.is_finite() && v > 0.0, "{what}: {name} = {v}");
        }
        // CPU per second of audio = rows/s × CPU per row; the share of a core is its tenth.
        close(
            &format!("{what} ms/s"),
            ms,
            us * 48_000.0 / hop / 1000.0,
            0.01 * ms + 5e-3,
        );
        close(&format!("{what} core %"), pct, ms / 10.0, 5e-4 + 1e-6 * ms);
        let fits = if ms < 1000.0 { "yes" } else { "no" };
        assert_eq!(row["realtime"], fits, "{what}: {row:?}");
        worst_us = worst_us.max(us);
    }
    // DSP.md §4.3's 1024/512 row holds with B = 480 too (max(512, 480) = 512).
    close("§4.3 click", num(&table.rows[2], "click_ms"), 10.66, 0.01);
    close("§4.3 tone", num(&table.rows[2], "tone_ms"), 15.99, 0.01);
    let one = &table.one_core;
    assert_eq!(one["n_fft"], "1024");
    close("one-core us", num(one, "us_per_row"), worst_us, 1e-3);
    let hop = num(one, "smallest_hop");
    let want = (48_000.0 * worst_us / 1e6).ceil().max(1.0);
    assert!(
        (hop - want).abs() <= 1.0,
        "smallest_hop {hop}, expected {want}"
    );
}

#[test]
fn latency_with_one_sample_blocks_gives_dsp_md_4_3() {
    let dir = TempDir::new("latency-b1");
    let table = latency_table(
        &dir,
        &[
            "latency", "--buffer", "1", "--hops", "128,256", "--n-fft", "1024",
        ],
    );
    for (row, (hop, click, tone)) in table
        .rows
        .iter()
        .zip([(128, 6.66, 11.99), (256, 7.99, 13.32)])
    {
        assert_eq!(row["hop"], hop.to_string());
        close(
            &format!("hop {hop} click"),
            num(row, "click_ms"),
            click,
            0.01,
        );
        close(&format!("hop {hop} tone"), num(row, "tone_ms"), tone, 0.01);
        close("one-sample buffer", num(row, "buffer_ms"), 1.0 / 48.0, 5e-4);
    }
}

#[test]
fn impossible_latency_parameters_are_one_line_and_exit_2() {
    let dir = TempDir::new("latency-bad");
    for (args, mention) in [
        (&["latency", "--hops", "0"][..], "--hops"),
        (
            &["latency", "--n-fft", "1024", "--hops", "1,2048"],
            "win_length (1024)",
        ),
        (&["latency", "--hops", "1,,4"], "--hops"),
        (&["latency", "--hops", "1;4"], "--hops"),
        (&["latency", "--hops", "-3"], "--hops"),
        (&["latency", "--n-fft", "8"], "--n-fft"),
        (&["latency", "--n-fft", "100000"], "--n-fft"),
        (&["latency", "--hops", "1,2", "--hop", "4"], "--hop"),
        (&["latency", "--sample-rate", "0"], "--sample-rate"),
        (&["latency", "--buffer", "0"], "--buffer"),
    ] {
        let o = run(&dir, args);
        let what = format!("hopscope {}", args.join(" "));
        assert_one_line_error(&what, &o);
        assert!(
            o.stderr.contains(mention),
            "{what}: the error should mention {mention:?}: {}",
            o.stderr
        );
    }
}
