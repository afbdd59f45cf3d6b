//! Live input on cpal's native PipeWire host (`--host pipewire`), on a REAL PipeWire:
//! each test starts its own session bus, `pipewire` and `wireplumber` on a private
//! `XDG_RUNTIME_DIR` (`tests/support/pipewire.rs`), creates a null sink `testsink`
//! (the default sink), plays a WAV tone of known frequency and level into it with
//! `pw-cat`, and runs the debug binary capturing the default sink's monitor
//! (`--device sink_default`). The "device" vanishes when pipewire and wireplumber are
//! killed with SIGKILL and comes back when they are started again (and the sink
//! created again).
//!
//! Oracle for the level: a 1 kHz sine of peak 0.1·32767/32768 in a 16-bit WAV, analysed
//! with a periodic Hann window of n_fft 2048 at 48 kHz, lies 1/3 bin below the centre of
//! bin 43 (1007.8 Hz); it must read its level plus the window's scalloping loss there,
//! computed here in closed form from the Hann window's DTFT (−0.627 dB: −20.63 dBFS).
//! Timing is asserted in status lines only (the machine is not real-time): every wait
//! on the test's side is a hang catcher ([`PATIENCE`]) that returns as soon as its
//! condition holds; the times measured are printed.
//!
//! Needs `pipewire`, `wireplumber`, `pw-cli`, `pw-cat`, `pw-metadata`, `dbus-daemon`
//! (Debian: pipewire pipewire-bin wireplumber dbus). Without them a test prints
//! `SKIPPED ...` and passes, unless `HOPSCOPE_REQUIRE_PIPEWIRE=1` (CI), which fails it.
#![cfg(target_os = "linux")]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::live::LiveChild;
use crate::support::pipewire::{self, PipeWire};
use crate::support::tone::{
    check_recovered, hann_gain_db, hann_scalloping_db, input_down, DOWN_STATES,
};
use crate::support::{pulse, run_with_timeout, status_lines, Status, HOPSCOPE, PATIENCE};

/// 1/3 bin below the centre of bin 43 of n_fft 2048 at 48 kHz.
const TONE_HZ: f64 = 1000.0;
/// Peak amplitude in the WAV: −20 dBFS.
const TONE_AMP: f64 = 0.1;
/// A steady tone reads within this of its expected level.
const LEVEL_TOL_DB: f64 = 0.1;
/// Analysis parameters of the headless runs.
const N_FFT: &str = "2048";
const HOP: &str = "512";

/// A tone WAV in the temp dir (0.5 s of silence first); the tone's amplitude relative
/// to full scale.
fn tone_wav(pw: &PipeWire, tone_s: f64) -> (PathBuf, f64) {
    let wav = pw.dir().join("tone.wav");
    let amp = pulse::write_tone_wav(&wav, TONE_HZ, TONE_AMP, 0.5, tone_s);
    (wav, amp)
}

/// hopscope `--headless --host pipewire --device sink_default ARGS` as a client of
/// `pw`, run in its temp dir.
fn headless(pw: &PipeWire, args: &[&str]) -> Command {
    let mut cmd = Command::new(HOPSCOPE);
    cmd.current_dir(pw.dir().path())
        .args([
            "--headless",
            "--host",
            "pipewire",
            "--device",
            pipewire::DEVICE,
        ])
        .args(["--n-fft", N_FFT, "--hop", HOP])
        .args(args);
    pw.apply_env(&mut cmd);
    cmd
}

/// When a stderr line starting with `prefix` first shows up (polled every 5 ms, at
/// most `timeout`: a hang catcher), and that line; `None` if it does not.
fn wait_stderr(app: &LiveChild, prefix: &str, timeout: Duration) -> Option<(Instant, String)> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(l) = app.stderr().lines().find(|l| l.starts_with(prefix)) {
            return Some((Instant::now(), l.to_string()));
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `b − a` in seconds, negative when `b` came first.
fn signed_secs(a: Instant, b: Instant) -> f64 {
    if b >= a {
        (b - a).as_secs_f64()
    } else {
        -(a - b).as_secs_f64()
    }
}

/// The oracle itself: the closed form against the direct sum over the window, and the
/// calibration figure of `tests/dsp_calibration.rs` (1 kHz, n_fft 2048: −0.627 dB).
#[test]
fn hann_scalloping_closed_form_matches_the_direct_sum() {
    for (delta, n) in [(-1.0 / 3.0, 2048), (0.25, 1024), (0.5, 64), (-0.1, 17)] {
        let direct = hann_gain_db(delta, n);
        let closed = hann_scalloping_db(delta, n);
        assert!(
            (closed - direct).abs() < 1e-9,
            "δ {delta}, n {n}: closed form {closed} dB, direct sum {direct} dB"
        );
    }
    let db = hann_scalloping_db(TONE_HZ / (48_000.0 / 2048.0) - 43.0, 2048);
    assert!((db + 0.627).abs() < 0.001, "1 kHz at n_fft 2048: {db} dB");
}

/// (a) `--host pipewire --device sink_default`: 4 s of the tone; the steady status
/// lines show it in its bin at its level, rows at sr/hop, no drops, state live.
#[test]
fn pipewire_host_reads_the_tone_at_its_level() {
    let test = "pipewire_host_tone";
    let t0 = Instant::now();
    let Some(mut pw) = PipeWire::start_or_skip(test) else {
        return;
    };
    let started_in = t0.elapsed();
    let (wav, amp) = tone_wav(&pw, 30.0);
    pw.play(&wav);
    let o = run_with_timeout(headless(&pw, &["--duration", "4"]), PATIENCE);
    let dump = format!(
        "--- stdout\n{}--- stderr\n{}{}",
        o.stdout,
        o.stderr,
        pw.logs()
    );
    assert_eq!(o.code(), Some(0), "{test}: exit {:?}\n{dump}", o.status);
    assert!(!o.stderr.contains("panicked"), "{test}: panic\n{dump}");
    assert!(
        o.stderr.contains("via pipewire"),
        "{test}: not capturing via the PipeWire host\n{dump}"
    );
    let lines = status_lines(&o.stdout);
    let settled: Vec<&Status> = lines.iter().filter(|s| s.num("t") >= 1.5).collect();
    assert!(settled.len() >= 2, "{test}: too few status lines\n{dump}");
    let last = lines.last().expect("status lines");
    for s in &settled {
        assert_eq!(s.num("sr"), f64::from(pipewire::RATE), "{test}: {}", s.line);
        assert_eq!(s.str("host"), "pipewire", "{test}: {}", s.line);
        assert_eq!(s.str("src"), pipewire::DEVICE_NAME, "{test}: {}", s.line);
        assert_eq!(s.str("state"), "live", "{test}: {}", s.line);
        if let Err(e) = support::tone::tone_seen(s, TONE_HZ, amp, LEVEL_TOL_DB) {
            panic!("{test}: {e}: {}\n{dump}", s.line);
        }
        // The final line covers a partial second: judge full intervals only.
        if s.line != last.line {
            let rows_per_s = s.num("sr") / s.num("hop");
            let rps = s.num("rows_per_s");
            assert!(
                (rps - rows_per_s).abs() <= 0.15 * rows_per_s,
                "{test}: rows_per_s {rps}, expected {rows_per_s} ± 15%: {}",
                s.line
            );
        }
        for key in ["dropped_samples", "dropped_rows", "losses", "stalls"] {
            assert_eq!(s.num(key), 0.0, "{test}: {key}: {}", s.line);
        }
    }
    println!(
        "{test}: PipeWire ready in {started_in:.2?}; {}; exit after {:.2?}; test {:.2?}",
        last.line,
        o.elapsed,
        t0.elapsed()
    );
}

/// (a) `hopscope devices` on the private PipeWire: the pipewire host answers, is the
/// default host (the first of pipewire, pulseaudio, alsa that answers: no PulseAudio
/// server here) and lists the default sink's monitor.
#[test]
fn devices_lists_the_pipewire_host_and_its_default_sink() {
    let test = "pipewire_devices";
    let Some(pw) = PipeWire::start_or_skip(test) else {
        return;
    };
    let mut cmd = Command::new(HOPSCOPE);
    cmd.current_dir(pw.dir().path()).arg("devices");
    pw.apply_env(&mut cmd);
    let o = run_with_timeout(cmd, PATIENCE);
    let dump = format!("--- stdout\n{}--- stderr\n{}", o.stdout, o.stderr);
    assert_eq!(o.code(), Some(0), "{test}: exit {:?}\n{dump}", o.status);
    assert!(!o.stderr.contains("panicked"), "{test}: panic\n{dump}");
    let Some(at) = o.stdout.find("host pipewire") else {
        panic!("{test}: no 'host pipewire' section\n{dump}");
    };
    let section = &o.stdout[at..];
    let header = section.lines().next().unwrap_or("");
    assert_eq!(header, "host pipewire (default host)", "{test}\n{dump}");
    // The section ends at the next host.
    let body: Vec<&str> = section
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("host "))
        .collect();
    let id = format!("[id {}]", pipewire::DEVICE_ID);
    assert!(
        body.iter()
            .any(|l| l.trim_start().starts_with(pipewire::DEVICE_NAME) && l.ends_with(&id)),
        "{test}: no '{} ... {id}' under the pipewire host\n{dump}",
        pipewire::DEVICE_NAME
    );
    println!("{test}: {header}: {} lines", body.len());
}

/// (b) pipewire and wireplumber are killed mid-stream and started again (and the sink
/// created again): the backend's error is noticed within two status lines, no line
/// claims live while they are dead, rows flow again with the tone at its level after
/// the restart, the exit at `--duration` is clean and its summary reports the loss.
#[test]
fn pipewire_host_survives_pipewire_being_killed_and_restarted() {
    let test = "pipewire_loss_and_recovery";
    let t0 = Instant::now();
    let Some(mut pw) = PipeWire::start_or_skip(test) else {
        return;
    };
    let (wav, amp) = tone_wav(&pw, 60.0);
    pw.play(&wav);
    let mut app = LiveChild::spawn("hopscope", headless(&pw, &["--duration", "20"]));
    let state = |s: &Status| s.str("state").to_string();

    // Live, with the tone, before the loss.
    let before = app.wait_status("live with the tone before the loss", PATIENCE, |s| {
        state(s) == "live" && support::tone::tone_seen(s, TONE_HZ, amp, LEVEL_TOL_DB).is_ok()
    });
    assert_eq!(before.str("host"), "pipewire", "{}", before.line);
    for key in [
        "stalls",
        "losses",
        "recoveries",
        "nonfinite",
        "dropped_samples",
        "dropped_rows",
    ] {
        assert_eq!(
            before.num(key),
            0.0,
            "{test}: {key} before the loss: {}",
            before.line
        );
    }
    assert_eq!(before.num("down_s"), 0.0, "{}", before.line);

    // Kill right after a status line: the next two lines cover the second after it.
    app.next_status("a status line before the kill", PATIENCE);
    let killed_at = Instant::now();
    pw.kill();
    let lost_event = wait_stderr(&app, "hopscope: input lost", PATIENCE);
    let after: Vec<Status> = (0..2)
        .map(|_| app.next_status("status after the kill", PATIENCE))
        .collect();
    let noticed = after
        .iter()
        .position(|s| DOWN_STATES.contains(&s.str("state")) && s.num("losses") >= 1.0);
    let Some(noticed) = noticed else {
        panic!(
            "{test}: neither status line after the kill says {DOWN_STATES:?} with losses>=1:\n\
             {}\n{}\n{}",
            after[0].line,
            after[1].line,
            app.dump()
        );
    };
    // The native host reports the loss itself: no stall first, no 1 s watchdog timeout.
    let Some((lost_at, lost_line)) = lost_event else {
        panic!("{test}: no 'hopscope: input lost' line\n{}", app.dump());
    };
    assert!(
        lost_line.starts_with("hopscope: input lost: the backend reports the device gone"),
        "{test}: the loss is not the backend's report: {lost_line}\n{}",
        app.dump()
    );
    assert!(
        !app.stderr().contains("hopscope: input stalled"),
        "{test}: a stall before the backend's report\n{}",
        app.dump()
    );
    // Down for about 3 s: no line claims to be live meanwhile.
    while killed_at.elapsed() < Duration::from_secs(3) {
        let s = app.next_status("status while down", PATIENCE);
        assert_ne!(
            state(&s),
            "live",
            "{test}: live with PipeWire dead: {}",
            s.line
        );
    }

    // PipeWire comes back.
    let restart_at = Instant::now();
    let restart_took = pw.restart();
    let ready_at = Instant::now();
    pw.play(&wav);
    let back_event = wait_stderr(&app, "hopscope: input back after", PATIENCE);
    // Rows flow again once the sink is back (measured: within a few seconds; printed).
    let back = app.wait_status("live again", PATIENCE, |s| {
        state(s) == "live" && s.num("rows_per_s") > 0.0
    });
    let back_at = Instant::now();
    let toned = app.wait_status("the tone at its level after the recovery", PATIENCE, |s| {
        state(s) == "live" && support::tone::tone_seen(s, TONE_HZ, amp, LEVEL_TOL_DB).is_ok()
    });
    // A whole second after that: steady rows.
    let steady = app.next_status("steady after the recovery", PATIENCE);
    let rows_per_s = steady.num("sr") / steady.num("hop");
    assert_eq!(state(&steady), "live", "{test}: {}", steady.line);
    assert!(
        (steady.num("rows_per_s") - rows_per_s).abs() <= 0.15 * rows_per_s,
        "{test}: rows_per_s after the recovery: {}",
        steady.line
    );
    assert!(toned.num("recoveries") >= 1.0, "{test}: {}", toned.line);

    // --duration ends it, exit code 0.
    let Some(status) = app.wait_exit(PATIENCE) else {
        panic!(
            "{test}: still running {PATIENCE:?} after the recovery\n{}",
            app.dump()
        );
    };
    let stderr = app.stderr();
    let dump = format!("{}\n{}", app.dump(), pw.logs());
    assert_eq!(status.code(), Some(0), "{test}: exit {status:?}\n{dump}");
    assert!(!stderr.contains("panicked"), "{test}: panic\n{dump}");
    let stdout = app.stdout_lines().join("\n");
    let lines = status_lines(&stdout);
    let last = lines.last().expect("status lines");
    let dead_s = (restart_at - killed_at).as_secs_f64();
    let until_back_s = (back_at - killed_at).as_secs_f64();
    check_recovered(test, last, &toned, dead_s, until_back_s);
    assert_eq!(state(last), "live", "{test}: {}", last.line);
    let Some((back_event_at, back_line)) = back_event else {
        panic!("{test}: no 'hopscope: input back after' line\n{dump}");
    };
    let Some((n, secs)) = input_down(&stderr) else {
        panic!("{test}: no 'input down N time(s) for X s' in the summary\n{dump}");
    };
    assert!(
        n >= 1 && secs >= dead_s - 2.0 && secs <= until_back_s + 1.0,
        "{test}: summary says down {n} time(s) for {secs} s; PipeWire was dead {dead_s:.2} s\n{dump}"
    );
    println!(
        "{test}: loss event {:.3} s after the kill (status line {} after it: {}); restart took \
         {restart_took:.2?}; input back {:.3} s after the sink was the default ({back_line}); \
         live line {:.2} s after ({}); tone back: {}; summary: down {n} time(s) for {secs} s; \
         final: {}; test {:.2?}",
        (lost_at - killed_at).as_secs_f64(),
        noticed + 1,
        after[noticed].line,
        signed_secs(ready_at, back_event_at),
        (back_at - ready_at).as_secs_f64(),
        back.line,
        toned.line,
        last.line,
        t0.elapsed()
    );
}
