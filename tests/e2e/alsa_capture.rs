//! The REAL capture path (cpal → ALSA) on a machine without a sound card.
//!
//! Each test makes a temp dir with a FIFO and an asoundrc (from
//! `tests/support/asoundrc.testmic.conf`) defining the capture PCM `testmic` as
//! ALSA's `file` plugin over `null`, reading its samples from the FIFO. A writer
//! thread paces a known signal into the FIFO in real time, one ALSA period per
//! write, as F32 little-endian, 2 channels, 48 kHz (cpal's default configuration
//! on that PCM; the test checks hopscope reports exactly that). hopscope runs with
//! `ALSA_CONFIG_PATH=/usr/share/alsa/alsa.conf:<dir>/asoundrc`, so nothing outside
//! the temp dir is touched and tests can run in parallel.
//!
//! These tests take real time (~2–4 s each). They fail (never skip) when ALSA's
//! configuration or `mkfifo` is missing: `make test-deps` installs them. Timing is
//! asserted in status lines only (the program's own clock); every wait on the test's
//! side is a hang catcher ([`PATIENCE`]).
#![cfg(all(
    target_os = "linux",
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    )
))]

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::fifo::{AlsaFixture, Feeder, Signal, CHANNELS, RATE};
use crate::support::live::LiveChild;
use crate::support::{
    assert_one_line_error, run_with_timeout, status_lines, Outcome, Status, PATIENCE,
};

/// Runs hopscope with `fx`'s ALSA configuration and a hard timeout; live runs get
/// `--headless` (status lines, no window); `devices` takes no live flags.
fn run(fx: &AlsaFixture, args: &[&str]) -> Outcome {
    let mut cmd = Command::new(support::HOPSCOPE);
    if args.first() != Some(&"devices") {
        cmd.arg("--headless");
    }
    cmd.current_dir(fx.dir().path())
        .args(args)
        .env("ALSA_CONFIG_PATH", fx.config_path());
    run_with_timeout(cmd, PATIENCE)
}

const BIN_CENTRED_3000: Signal = Signal {
    left_hz: 3000.0,
    right_hz: 3000.0,
    amplitude: 0.5,
    lead_s: 0.25,
    tone_s: 8.0,
};

/// 20·log10(0.5): a bin-centred sine of amplitude 0.5.
const MINUS_6_DB: f64 = -6.0206;
/// n_fft 1024, hop 256 at 48 kHz.
const ROWS_PER_S: f64 = 48_000.0 / 256.0;

/// Checks a live run that should show `expect_hz` at −6.02 dBFS after its start.
fn check_live_run(what: &str, o: &Outcome, buffer: u32, duration_s: f64, expect_hz: &str) {
    let dump = format!("--- stdout\n{}--- stderr\n{}", o.stdout, o.stderr);
    assert_eq!(
        o.code(),
        Some(0),
        "{what}: exit status {:?}\n{dump}",
        o.status
    );
    assert!(!o.stderr.contains("panicked"), "{what}: {dump}");
    // The feeder's byte layout relies on this negotiation.
    let expect_cfg = format!("F32, {CHANNELS} ch, {RATE} Hz, buffer {buffer} frames");
    assert!(
        o.stderr.contains("capturing from 'Test microphone") && o.stderr.contains(&expect_cfg),
        "{what}: expected the test microphone opened as {expect_cfg}\n{dump}"
    );
    let lines = status_lines(&o.stdout);
    // One line per second, then the final line at exit.
    let (last, periodic) = lines.split_last().expect("status lines");
    // It stopped at --duration by its own clock (the wait for the exit is a hang catcher
    // only): the last line's t, printed as it stops, from --duration to one line later.
    let last_t = last.num("t");
    assert!(
        last_t >= duration_s && last_t < duration_s + 1.0,
        "{what}: --duration {duration_s}, but the last status line says t={last_t}\n{dump}"
    );
    assert!(
        periodic.len() + 1 >= duration_s as usize,
        "{what}: expected ~{duration_s} periodic status lines\n{dump}"
    );
    let settled: Vec<&Status> = periodic.iter().filter(|s| s.num("t") >= 1.5).collect();
    assert!(
        !settled.is_empty(),
        "{what}: no status line after 1.5 s\n{dump}"
    );
    for s in &settled {
        assert_eq!(
            s.str("src"),
            "Test microphone (raw file via ALSA file plugin)"
        );
        assert_eq!(s.num("sr"), f64::from(RATE), "{}", s.line);
        assert_eq!(s.num("n_fft"), 1024.0, "{}", s.line);
        assert_eq!(s.num("hop"), 256.0, "{}", s.line);
        assert_eq!(s.str("peak_hz"), expect_hz, "{what}: {}", s.line);
        let db = s.num("peak_dbfs");
        assert!(
            (db - MINUS_6_DB).abs() <= 0.05,
            "{what}: peak_dbfs {db}, expected −6.02 ± 0.05: {}",
            s.line
        );
        let rps = s.num("rows_per_s");
        assert!(
            (rps - ROWS_PER_S).abs() <= 0.1 * ROWS_PER_S,
            "{what}: rows_per_s {rps}, expected {ROWS_PER_S} ± 10%: {}",
            s.line
        );
        // Real-time pacing: captured frames keep up with the wall clock.
        let expect_frames = s.num("t") * f64::from(RATE);
        let captured = s.num("captured");
        assert!(
            (captured - expect_frames).abs() <= 0.1 * expect_frames,
            "{what}: captured {captured} frames by t={}, expected ~{expect_frames}",
            s.num("t")
        );
    }
    for s in periodic.iter().chain(std::iter::once(last)) {
        for key in ["dropped_samples", "dropped_rows", "stream_errors"] {
            assert_eq!(s.num(key), 0.0, "{what}: {key}: {}", s.line);
        }
    }
    assert_eq!(
        last.str("peak_hz"),
        expect_hz,
        "{what}: final {}",
        last.line
    );
    assert!(
        o.stderr.matches(", 0 dropped;").count() == 2 && o.stderr.contains("; 0 stream errors"),
        "{what}: summary reports losses\n{dump}"
    );
    let summary: Vec<String> = settled
        .iter()
        .map(|s| {
            format!(
                "t={} peak_hz={} peak_dbfs={} rows_per_s={} captured={} p50={}ms",
                s.str("t"),
                s.str("peak_hz"),
                s.str("peak_dbfs"),
                s.str("rows_per_s"),
                s.str("captured"),
                s.str("capture_to_row_ms_p50")
            )
        })
        .collect();
    println!("{what}: exit in {:.2?}; {}", o.elapsed, summary.join(" | "));
}

#[test]
fn devices_lists_the_test_microphone() {
    let fx = AlsaFixture::new("alsa-devices");
    // Listing opens the PCM for its configurations: it blocks without a writer.
    let feeder = Feeder::start(&fx.fifo(), 240, BIN_CENTRED_3000);
    let o = run(&fx, &["devices"]);
    let report = feeder.finish();
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout
            .contains("Test microphone (raw file via ALSA file plugin)")
            && o.stdout.contains("testmic"),
        "devices should list testmic:\n{}",
        o.stdout
    );
    println!("devices: FIFO opened {} time(s)", report.readers);
}

/// Both channels 3000 Hz (bin 64 of n_fft 1024), amplitude 0.5, the default mix.
#[test]
fn captures_a_bin_centred_tone_in_real_time() {
    let fx = AlsaFixture::new("alsa-tone");
    let feeder = Feeder::start(&fx.fifo(), 240, BIN_CENTRED_3000);
    let args = [
        "--device",
        "testmic",
        "--buffer",
        "240",
        "--n-fft",
        "1024",
        "--hop",
        "256",
        "--duration",
        "4",
    ];
    let o = run(&fx, &args);
    let report = feeder.finish();
    check_live_run("mix, buffer 240", &o, 240, 4.0, "3000.0");
    assert!(report.readers >= 1, "{report:?}");
    println!("mix, buffer 240: feeder {report:?}");
}

/// Left 1500 Hz, right 6000 Hz: `--channel` picks one; a 480-frame buffer is
/// honoured (the feeder writes 480-frame periods to match).
#[test]
fn channel_selection_and_buffer_size() {
    let fx = AlsaFixture::new("alsa-channels");
    let signal = Signal {
        left_hz: 1500.0,
        right_hz: 6000.0,
        ..BIN_CENTRED_3000
    };
    for (channel, hz) in [("1", "6000.0"), ("0", "1500.0")] {
        let feeder = Feeder::start(&fx.fifo(), 480, signal);
        let args = [
            "--device",
            "testmic",
            "--buffer",
            "480",
            "--n-fft",
            "1024",
            "--hop",
            "256",
            "--channel",
            channel,
            "--duration",
            "3",
        ];
        let o = run(&fx, &args);
        let report = feeder.finish();
        let what = format!("channel {channel}, buffer 480");
        check_live_run(&what, &o, 480, 3.0, hz);
        println!("{what}: feeder {report:?}");
    }
}

/// With no --device, ALSA's `default` (→ testmic via `pcm.!default`) is used.
#[test]
fn default_device_is_the_test_microphone() {
    let fx = AlsaFixture::new("alsa-default");
    let feeder = Feeder::start(&fx.fifo(), 240, BIN_CENTRED_3000);
    let o = run(
        &fx,
        &[
            "--buffer",
            "240",
            "--n-fft",
            "1024",
            "--hop",
            "256",
            "--duration",
            "2",
        ],
    );
    feeder.finish();
    assert_eq!(o.code(), Some(0), "{}{}", o.stdout, o.stderr);
    assert!(
        !o.stderr.contains("DEMO"),
        "must not fall back to the demo:\n{}",
        o.stderr
    );
    let lines = status_lines(&o.stdout);
    let last = lines.last().expect("status lines");
    assert_eq!(last.str("peak_hz"), "3000.0", "{}", last.line);
    assert!(
        (last.num("peak_dbfs") - MINUS_6_DB).abs() <= 0.05,
        "{}",
        last.line
    );
    assert_eq!(last.num("dropped_samples"), 0.0, "{}", last.line);
}

/// An unknown --device is one line listing the devices there are, exit 2.
#[test]
fn unknown_device_is_a_one_line_error_listing_devices() {
    let fx = AlsaFixture::new("alsa-nodevice");
    // In case device enumeration opens the PCM: keep a writer there.
    let feeder = Feeder::start(&fx.fifo(), 240, BIN_CENTRED_3000);
    let o = run(&fx, &["--device", "nosuchdevice", "--duration", "2"]);
    feeder.finish();
    assert_one_line_error("--device nosuchdevice", &o);
    assert!(
        o.stderr.contains("nosuchdevice")
            && o.stderr
                .contains("Test microphone (raw file via ALSA file plugin)"),
        "the error should name the query and list the devices: {}",
        o.stderr
    );
}

/// hopscope headless on the FIFO microphone for `duration_s`: 240-frame buffers (the
/// feeder's chunk), n_fft 1024, hop 256.
fn headless_on_fifo(fx: &AlsaFixture, duration_s: &str) -> LiveChild {
    let mut cmd = Command::new(support::HOPSCOPE);
    cmd.current_dir(fx.dir().path())
        .args(["--headless", "--device", "testmic", "--buffer", "240"])
        .args(["--n-fft", "1024", "--hop", "256", "--duration", duration_s])
        .env("ALSA_CONFIG_PATH", fx.config_path());
    LiveChild::spawn("hopscope", cmd)
}

/// Issue #9: a device that stops delivering (the FIFO's writer pauses, keeping it
/// open: the capture thread blocks in read()) is reported as `state=stalled` (then `lost`
/// and `reconnecting`, the stream being reopened after 1 s) within two status lines; when the writer resumes, rows flow again (`state=live`) and the tone is
/// back at −6.02 dBFS, nothing is dropped after that, and the run ends normally.
#[test]
fn a_stalled_device_is_reported_and_recovers() {
    let t0 = Instant::now();
    let fx = AlsaFixture::new("alsa-stall");
    let feeder = Feeder::start(
        &fx.fifo(),
        240,
        Signal {
            tone_s: 60.0,
            ..BIN_CENTRED_3000
        },
    );
    let mut app = headless_on_fifo(&fx, "12");
    let tone = |s: &Status| {
        s.str("peak_hz") == "3000.0" && (s.num("peak_dbfs") - MINUS_6_DB).abs() <= 0.05
    };
    let before = app.wait_status("live with the tone", PATIENCE, |s| {
        s.str("state") == "live" && tone(s)
    });
    assert_eq!(before.num("stalls"), 0.0, "{}", before.line);

    // Stop writing right after a status line: the next two lines cover the stall.
    app.next_status("a status line before the stall", PATIENCE);
    let paused_at = Instant::now();
    feeder.pause();
    let after: Vec<Status> = (0..2)
        .map(|_| app.next_status("status during the stall", PATIENCE))
        .collect();
    // Stalled at 250 ms; after 1 s the stream is closed and reopened (lost, reconnecting).
    let stalled = after.iter().position(|s| {
        ["stalled", "lost", "reconnecting"].contains(&s.str("state")) && s.num("stalls") >= 1.0
    });
    assert!(
        stalled.is_some(),
        "no stalled/lost/reconnecting state within two status lines of the stall:\n{}\n{}\n{}",
        after[0].line,
        after[1].line,
        app.dump()
    );
    while paused_at.elapsed() < Duration::from_millis(2500) {
        let s = app.next_status("status during the stall", PATIENCE);
        assert_ne!(s.str("state"), "live", "live while stalled: {}", s.line);
    }

    feeder.resume();
    let back = app.wait_status("live again", PATIENCE, |s| {
        s.str("state") == "live" && s.num("rows_per_s") > 0.0
    });
    let toned = app.wait_status("the tone again", PATIENCE, |s| {
        s.str("state") == "live" && tone(s)
    });
    let Some(status) = app.wait_exit(PATIENCE) else {
        panic!(
            "still running {PATIENCE:?} after the stall ended\n{}",
            app.dump()
        );
    };
    let dump = app.dump();
    assert_eq!(status.code(), Some(0), "exit {status:?}\n{dump}");
    assert!(!app.stderr().contains("panicked"), "{dump}");
    let stdout = app.stdout_lines().join("\n");
    let lines = status_lines(&stdout);
    let last = lines.last().expect("status lines");
    assert!(
        last.num("stalls") >= 1.0,
        "the stall is not counted: {}",
        last.line
    );
    for key in ["dropped_samples", "dropped_rows"] {
        assert_eq!(
            last.num(key),
            toned.num(key),
            "{key} grew after the stall: {} → {}",
            toned.line,
            last.line
        );
    }
    assert!(
        app.stderr()
            .lines()
            .any(|l| l.starts_with("hopscope: input ")),
        "no 'hopscope: input ...' event line for the stall\n{dump}"
    );
    println!(
        "stall: noticed in line {} ({}); back: {}; tone: {}; final: {}; test {:.2?}",
        stalled.unwrap_or(0) + 1,
        after[stalled.unwrap_or(0)].line,
        back.line,
        toned.line,
        last.line,
        t0.elapsed()
    );
    drop(feeder);
}

/// Issue 9 §5: when the FIFO's writer goes away, ALSA's `file` plugin delivers the end
/// of the file unpaced, thousands of times faster than the stream's rate. That is a
/// fault shown and counted (`runaway`), the stream is closed (no core burnt on it), its
/// reopen waits for a writer as `reconnecting`, and the run still ends at --duration
/// with exit 0.
#[test]
fn a_runaway_source_is_counted_and_closed() {
    let fx = AlsaFixture::new("alsa-runaway");
    let feeder = Feeder::start(
        &fx.fifo(),
        240,
        Signal {
            tone_s: 60.0,
            ..BIN_CENTRED_3000
        },
    );
    let mut app = headless_on_fifo(&fx, "7");
    app.wait_status("live", PATIENCE, |s| {
        s.str("state") == "live" && s.num("rows_per_s") > 0.0
    });
    feeder.finish(); // the writer closes the FIFO
    let ran_away = app.wait_status("runaway counted", PATIENCE, |s| {
        s.num("runaways") >= 1.0 && s.str("state") != "live"
    });
    // Closed, not burning: nothing more is captured while it waits for a writer.
    let later = app.next_status("a line later", PATIENCE);
    let later2 = app.next_status("two lines later", PATIENCE);
    assert_eq!(
        later.num("captured"),
        later2.num("captured"),
        "still capturing after the runaway:\n{}\n{}",
        later.line,
        later2.line
    );
    assert_eq!(later2.str("state"), "reconnecting", "{}", later2.line);
    let Some(status) = app.wait_exit(PATIENCE) else {
        panic!("still running after --duration\n{}", app.dump());
    };
    assert_eq!(status.code(), Some(0), "{}", app.dump());
    let stderr = app.stderr();
    assert!(
        stderr.contains("input lost: samples arrive far faster than the stream's rate"),
        "{}",
        app.dump()
    );
    assert!(!stderr.contains("panicked"), "{}", app.dump());
    println!("{}", ran_away.line);
}
