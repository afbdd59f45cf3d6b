//! Live input you can trust (issue #9), on a REAL audio server: each test starts its own
//! PulseAudio server (`tests/support/pulse.rs`: private temp dir and socket, a null sink
//! whose monitor is the default source), plays a WAV tone of known frequency and level
//! into it with `paplay`, and runs the debug binary capturing from it, through ALSA
//! (`default` → libasound2-plugins' pulse plugin) or cpal's native PulseAudio host. The
//! "device" vanishes when the server is killed with SIGKILL and comes back when it is
//! started again on the same socket.
//!
//! Oracles: a 1500 Hz sine (bin 32 of n_fft 1024 at 48 kHz, so no scalloping) of peak
//! 0.1·32767/32768 in a 16-bit WAV must read −20.00 dBFS at 1500.0 Hz (the sink is
//! s16le 48 kHz at 100 % volume: the samples pass unchanged; measured −20.00); for
//! another rate or size the expected level includes the Hann window's scalloping loss,
//! computed here from the window's DTFT. Timing is asserted in status lines only (the
//! machine is not real-time): every wait on the test's side is a hang catcher
//! ([`PATIENCE`]) that returns as soon as its condition holds; the times are printed.
//!
//! Needs `pulseaudio`, `pactl`, `pacat`, `paplay`, the ALSA pulse plugin (Debian:
//! pulseaudio pulseaudio-utils libasound2-plugins) and, for the window test, the X tools
//! of `tests/window_e2e.rs`. Without the PulseAudio tools a test prints `SKIPPED ...`
//! and passes, unless `HOPSCOPE_REQUIRE_PULSE=1` (CI), which fails it instead.
//!
//! `--host`, the `state= host= stalls= losses= recoveries= down_s= nonfinite=` status
//! fields, the `hopscope: input ...` event lines, the `input down N time(s) for X s`
//! summary and the window's NO INPUT banner and gap hatching are issue #9's interface.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::live::LiveChild;
use crate::support::pulse::{self, Pulse};
use crate::support::tone::{check_recovered, input_down, DOWN_STATES};
use crate::support::x11::{Image, Xvfb};
use crate::support::{
    assert_one_line_error, run_with_timeout, status_lines, Outcome, Status, HOPSCOPE, PATIENCE,
};

/// Bin 32 of n_fft 1024 at 48 kHz.
const TONE_HZ: f64 = 1500.0;
/// Peak amplitude in the WAV: −20 dBFS.
const TONE_AMP: f64 = 0.1;
/// A steady tone reads within this of its level (measured: 0.00 dB off).
const LEVEL_TOL_DB: f64 = 0.1;
/// Analysis parameters of the headless runs.
const N_FFT: &str = "1024";
const HOP: &str = "256";

/// A tone WAV in the server's temp dir; the tone's amplitude relative to full scale.
fn tone_wav(pulse: &Pulse, tone_s: f64) -> (std::path::PathBuf, f64) {
    let wav = pulse.dir().join("tone.wav");
    // 0.5 s of silence first: paplay's first frames are dropped.
    let amp = pulse::write_tone_wav(&wav, TONE_HZ, TONE_AMP, 0.5, tone_s);
    (wav, amp)
}

/// hopscope `--headless ARGS` as a client of `pulse`, run in its temp dir.
fn headless(pulse: &Pulse, args: &[&str]) -> Command {
    let mut cmd = Command::new(HOPSCOPE);
    cmd.current_dir(pulse.dir().path())
        .arg("--headless")
        .args(args);
    pulse.apply_env(&mut cmd);
    cmd
}

/// A tone run of 4 s: the steady status lines show the tone at its level, rows at
/// sr/hop, no drops. `host_args` picks the host (none: the default input).
fn tone_at_its_level(test: &str, host_args: &[&str], expect_host: Option<&str>) {
    let t0 = Instant::now();
    let Some(mut pulse) = Pulse::start_or_skip(test) else {
        return;
    };
    let started_in = t0.elapsed();
    let (wav, amp) = tone_wav(&pulse, 30.0);
    pulse.play(&wav);
    let mut args = host_args.to_vec();
    args.extend(["--n-fft", N_FFT, "--hop", HOP, "--duration", "4"]);
    let o = run_with_timeout(headless(&pulse, &args), PATIENCE);
    let dump = format!("--- stdout\n{}--- stderr\n{}", o.stdout, o.stderr);
    assert_eq!(o.code(), Some(0), "{test}: exit {:?}\n{dump}", o.status);
    assert!(!o.stderr.contains("panicked"), "{test}: panic\n{dump}");
    assert!(
        !o.stderr.contains("DEMO"),
        "{test}: fell back to the demo\n{dump}"
    );
    let lines = status_lines(&o.stdout);
    let settled: Vec<&Status> = lines.iter().filter(|s| s.num("t") >= 1.5).collect();
    assert!(settled.len() >= 2, "{test}: too few status lines\n{dump}");
    for s in &settled {
        assert_eq!(s.num("sr"), f64::from(pulse::RATE), "{test}: {}", s.line);
        if let Err(e) = support::tone::tone_seen(s, TONE_HZ, amp, LEVEL_TOL_DB) {
            panic!("{test}: {e}: {}\n{dump}", s.line);
        }
        let rows_per_s = s.num("sr") / s.num("hop");
        let rps = s.num("rows_per_s");
        // The final line covers a partial second: judge full intervals only.
        if s.line != lines.last().expect("lines").line {
            assert!(
                (rps - rows_per_s).abs() <= 0.15 * rows_per_s,
                "{test}: rows_per_s {rps}, expected {rows_per_s} ± 15%: {}",
                s.line
            );
        }
        for key in ["dropped_samples", "dropped_rows"] {
            assert_eq!(s.num(key), 0.0, "{test}: {key}: {}", s.line);
        }
        if let Some(host) = expect_host {
            assert_eq!(s.str("host"), host, "{test}: {}", s.line);
            assert_eq!(s.str("state"), "live", "{test}: {}", s.line);
        }
    }
    let last = lines.last().expect("status lines");
    println!(
        "{test}: server ready in {started_in:.2?}; {}; exit after {:.2?}; test {:.2?}",
        last.line,
        o.elapsed,
        t0.elapsed()
    );
}

/// (a) The default input (no `--host`): ALSA `default` → the pulse plugin → the
/// server. Works with the pre-#9 binary.
#[test]
fn default_input_through_pulse_reads_the_tone_at_its_level() {
    tone_at_its_level("default_input_through_pulse", &[], None);
}

/// (a) `--host alsa`: the same through ALSA, chosen explicitly.
#[test]
fn alsa_host_through_pulse_reads_the_tone_at_its_level() {
    tone_at_its_level("alsa_host_through_pulse", &["--host", "alsa"], Some("alsa"));
}

/// (b) cpal's native PulseAudio host.
#[test]
fn pulseaudio_host_reads_the_tone_at_its_level() {
    tone_at_its_level(
        "pulseaudio_host",
        &["--host", "pulseaudio"],
        Some("pulseaudio"),
    );
}

/// (c) The server is killed mid-stream and restarted on the same socket: the status
/// line notices within two lines, rows flow again and the tone is back at its level,
/// nothing is dropped outside the loss, the exit is clean and reports the loss.
fn loss_and_recovery(test: &str, host: &str) {
    let t0 = Instant::now();
    let Some(mut pulse) = Pulse::start_or_skip(test) else {
        return;
    };
    let (wav, amp) = tone_wav(&pulse, 60.0);
    pulse.play(&wav);
    let args = [
        "--host",
        host,
        "--n-fft",
        N_FFT,
        "--hop",
        HOP,
        "--duration",
        "22",
    ];
    let mut app = LiveChild::spawn("hopscope", headless(&pulse, &args));
    let state = |s: &Status| s.str("state").to_string();

    // Live, with the tone, before the loss.
    let before = app.wait_status("live with the tone before the loss", PATIENCE, |s| {
        state(s) == "live" && support::tone::tone_seen(s, TONE_HZ, amp, LEVEL_TOL_DB).is_ok()
    });
    assert_eq!(before.str("host"), host, "{}", before.line);
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
    pulse.kill();
    let after: Vec<Status> = (0..2)
        .map(|_| app.next_status("status after the kill", PATIENCE))
        .collect();
    let noticed = after
        .iter()
        .position(|s| DOWN_STATES.contains(&s.str("state")));
    assert!(
        noticed.is_some(),
        "{test}: neither status line after the kill says {DOWN_STATES:?}:\n{}\n{}\n{}",
        after[0].line,
        after[1].line,
        app.dump()
    );
    // Down for about 3 s: no line claims to be live meanwhile.
    while killed_at.elapsed() < Duration::from_secs(3) {
        let s = app.next_status("status while down", PATIENCE);
        assert_ne!(
            state(&s),
            "live",
            "{test}: live with the server dead: {}",
            s.line
        );
    }

    // The server comes back.
    let restart_at = Instant::now();
    let restart_took = pulse.restart();
    let ready_at = Instant::now();
    pulse.play(&wav);
    // Rows flow again once the server is ready (measured: within 2 s; printed below).
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
    // Nothing left spinning on the dead stream (the ALSA pulse plugin, when it does not
    // deadlock, fails every poll at once: ~1.4 million errors a second).
    let cpu0 = app.cpu_seconds();
    std::thread::sleep(Duration::from_secs(2));
    let cpu1 = app.cpu_seconds();
    if let (Some(c0), Some(c1)) = (cpu0, cpu1) {
        let share = (c1 - c0) / 2.0;
        assert!(
            share < 0.5,
            "{test}: {:.0} % of a core after the recovery: something spins\n{}",
            share * 100.0,
            app.dump()
        );
    }

    // --duration ends it, exit code 0.
    let Some(status) = app.wait_exit(PATIENCE) else {
        panic!(
            "{test}: still running {PATIENCE:?} after the recovery\n{}",
            app.dump()
        );
    };
    let stderr = app.stderr();
    let dump = app.dump();
    assert_eq!(status.code(), Some(0), "{test}: exit {status:?}\n{dump}");
    assert!(!stderr.contains("panicked"), "{test}: panic\n{dump}");
    let stdout = app.stdout_lines().join("\n");
    let lines = status_lines(&stdout);
    let last = lines.last().expect("status lines");
    let dead_s = (restart_at - killed_at).as_secs_f64();
    let until_back_s = (back_at - killed_at).as_secs_f64();
    check_recovered(test, last, &toned, dead_s, until_back_s);
    assert!(
        last.num("stream_errors") <= 100.0,
        "{test}: a storm of stream errors: {}",
        last.line
    );
    // stderr: the events, and the summary's input line.
    let events: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("hopscope: input "))
        .collect();
    assert!(
        events.len() >= 2
            && events
                .iter()
                .any(|l| l.starts_with("hopscope: input back after")),
        "{test}: expected 'hopscope: input ...' lines for the loss and the recovery\n{dump}"
    );
    let Some((n, secs)) = input_down(&stderr) else {
        panic!("{test}: no 'input down N time(s) for X s' in the summary\n{dump}");
    };
    assert!(
        n >= 1 && secs > 0.0 && secs <= until_back_s + 1.0,
        "{test}: summary says down {n} time(s) for {secs} s\n{dump}"
    );
    println!(
        "{test}: noticed in status line {} after the kill ({}); restart took {restart_took:.2?}; \
         live {:.2} s after the server was ready ({}); tone back: {}; summary: down {n} time(s) \
         for {secs} s; final: {}; test {:.2?}",
        noticed.unwrap_or(0) + 1,
        after[noticed.unwrap_or(0)].line,
        (back_at - ready_at).as_secs_f64(),
        back.line,
        toned.line,
        last.line,
        t0.elapsed()
    );
    for e in events {
        println!("{test}: {e}");
    }
}

#[test]
fn alsa_host_survives_the_server_being_killed_and_restarted() {
    loss_and_recovery("alsa_host_loss_and_recovery", "alsa");
}

#[test]
fn pulseaudio_host_survives_the_server_being_killed_and_restarted() {
    loss_and_recovery("pulseaudio_host_loss_and_recovery", "pulseaudio");
}

/// Ctrl-C, SIGTERM and SIGHUP while the default input's server is dead (the ALSA pulse
/// plugin's capture thread is then stuck inside libpulse, so a stream that is joined on
/// the way out never lets go): each ends the run through the ordered shutdown (its
/// summary line on stderr), without a panic. Waiting for the exit is a hang catcher
/// ([`PATIENCE`]); how long it took is printed.
#[test]
fn signals_end_the_run_promptly_during_a_loss() {
    let test = "signals_during_a_loss";
    let Some(mut pulse) = Pulse::start_or_skip(test) else {
        return;
    };
    let (wav, _) = tone_wav(&pulse, 60.0);
    for (i, signal) in ["INT", "TERM", "HUP"].into_iter().enumerate() {
        if i > 0 {
            pulse.restart();
        }
        pulse.play(&wav);
        let mut app = LiveChild::spawn(
            "hopscope",
            headless(&pulse, &["--n-fft", N_FFT, "--hop", HOP]),
        );
        app.wait_status("rows flowing", PATIENCE, |s| s.num("rows_per_s") > 0.0);
        pulse.kill();
        app.wait_status("no rows after the kill", PATIENCE, |s| {
            s.num("rows_per_s") == 0.0
        });
        let sent_at = Instant::now();
        app.signal(signal);
        let Some(status) = app.wait_exit(PATIENCE) else {
            panic!(
                "{test}: SIG{signal} during a loss: still running after {PATIENCE:?}\n{}",
                app.dump()
            );
        };
        let took = sent_at.elapsed();
        let stderr = app.stderr();
        assert!(
            !stderr.contains("panicked"),
            "{test}: SIG{signal}\n{}",
            app.dump()
        );
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("hopscope: stopped after")),
            "{test}: SIG{signal} ({status:?}) ended the run without the ordered shutdown's \
             summary\n{}",
            app.dump()
        );
        println!("{test}: SIG{signal} → {status:?} after {took:.2?}");
    }
}

/// (f) A device listed by `hopscope devices` whose server dies before it is opened:
/// asked for by name, one line and exit 2.
fn vanished_named_device(
    test: &str,
    host_args: &[&str],
    hosts_listed: &[&str],
    listed_as: &str,
    query: &str,
) {
    let Some(mut pulse) = Pulse::start_or_skip(test) else {
        return;
    };
    let mut cmd = Command::new(HOPSCOPE);
    cmd.current_dir(pulse.dir().path()).arg("devices");
    pulse.apply_env(&mut cmd);
    let listed = run_with_timeout(cmd, PATIENCE);
    assert_eq!(
        listed.code(),
        Some(0),
        "{test}: devices\n{}{}",
        listed.stdout,
        listed.stderr
    );
    assert!(
        listed.stdout.contains(listed_as),
        "{test}: `hopscope devices` should list '{listed_as}' while the server runs:\n{}",
        listed.stdout
    );
    for host in hosts_listed {
        assert!(
            listed.stdout.to_lowercase().contains(host),
            "{test}: `hopscope devices` should list every host, '{host}' too:\n{}",
            listed.stdout
        );
    }
    pulse.kill();
    let mut args = host_args.to_vec();
    args.extend(["--device", query, "--duration", "2"]);
    let o = run_with_timeout(headless(&pulse, &args), PATIENCE);
    assert_one_line_error(test, &o);
    assert!(
        !o.stderr.contains("unexpected argument"),
        "{test}: rejected the arguments, not the device: {}",
        o.stderr
    );
    assert!(
        o.stderr.to_lowercase().contains(&query.to_lowercase()),
        "{test}: the error should name '{query}': {}",
        o.stderr
    );
    println!("{test}: {}", o.stderr.trim_end());
}

/// (f) ALSA: the named PCM `testpulse` (the pulse plugin on the test server).
#[test]
fn vanished_alsa_device_by_name_is_a_one_line_error() {
    vanished_named_device(
        "vanished_alsa_device",
        &[],
        &[],
        pulse::ALSA_DEVICE,
        pulse::ALSA_DEVICE,
    );
}

/// (f) The native host's source, listed by `devices` (every host) and asked for with
/// `--host pulseaudio --device`.
#[test]
fn vanished_pulseaudio_device_by_name_is_a_one_line_error() {
    vanished_named_device(
        "vanished_pulseaudio_device",
        &["--host", "pulseaudio"],
        &["alsa", "pulseaudio"],
        pulse::SOURCE_DESCRIPTION,
        pulse::SOURCE_DESCRIPTION,
    );
}

/// (f) No device flags and the default input's server gone after `devices` listed it:
/// the labelled demo instead, said on stderr and in `src=`.
#[test]
fn vanished_default_device_falls_back_to_the_labelled_demo() {
    let test = "vanished_default_device";
    let Some(mut pulse) = Pulse::start_or_skip(test) else {
        return;
    };
    let mut cmd = Command::new(HOPSCOPE);
    cmd.current_dir(pulse.dir().path()).arg("devices");
    pulse.apply_env(&mut cmd);
    let listed = run_with_timeout(cmd, PATIENCE);
    assert_eq!(listed.code(), Some(0), "{}{}", listed.stdout, listed.stderr);
    assert!(
        listed.stdout.contains(pulse::ALSA_DEVICE),
        "devices should list the test server's PCM:\n{}",
        listed.stdout
    );
    pulse.kill();
    let o: Outcome = run_with_timeout(headless(&pulse, &["--duration", "2"]), PATIENCE);
    let dump = format!("--- stdout\n{}--- stderr\n{}", o.stdout, o.stderr);
    assert_eq!(o.code(), Some(0), "{test}: exit {:?}\n{dump}", o.status);
    assert!(!o.stderr.contains("panicked"), "{dump}");
    assert!(
        o.stderr.contains("DEMO SIGNAL"),
        "{test}: stderr should say the demo is shown instead\n{dump}"
    );
    // Only hopscope's own lines: no libasound/libpulse noise the user cannot act on.
    for l in o.stderr.lines() {
        assert!(
            l.starts_with("hopscope: "),
            "{test}: stray stderr line {l:?}\n{dump}"
        );
    }
    let lines = status_lines(&o.stdout);
    assert!(!lines.is_empty(), "{dump}");
    for s in &lines {
        assert_eq!(s.str("src"), "DEMO SIGNAL - no input device", "{}", s.line);
    }
    println!("{test}: {}", o.stderr.lines().next().unwrap_or_default());
}

// ---------------------------------------------------------------------------------------
// (d) The window during a loss.

/// The window (minifb default) and the Xvfb screen holding it.
const WIDTH: usize = 1280;
const HEIGHT: usize = 720;
const SCREEN: (usize, usize) = (1280, 800);
/// Layout of src/render/chrome.rs at 1280×720 (see tests/window_e2e.rs).
const PLOT_X: usize = 64;
const PLOT_Y: usize = 20;
const PLOT_W: usize = WIDTH - 64 - 76;
const PLOT_H: usize = HEIGHT - 20 - 28;
/// The NO INPUT banner's background (issue #9).
const BANNER_RED: [u8; 3] = [0xC8, 0x1E, 0x1E];
const WHITE: [u8; 3] = [255, 255, 255];
/// The gap hatching's two greys (issue #9).
const HATCH_DARK: [u8; 3] = [0x2A, 0x2A, 0x2A];
const HATCH_LIGHT: [u8; 3] = [0x5A, 0x5A, 0x5A];
/// The help box title colour (src/ui/hud.rs `BANNER`).
const HELP_TITLE: [u8; 3] = [255, 200, 40];

/// Where the red banner is in a screenshot.
#[derive(Debug)]
struct Banner {
    red: usize,
    x: (usize, usize),
    y: (usize, usize),
    white_inside: usize,
}

fn find_banner(img: &Image) -> Banner {
    let mut b = Banner {
        red: 0,
        x: (usize::MAX, 0),
        y: (usize::MAX, 0),
        white_inside: 0,
    };
    for y in 0..img.height {
        for x in 0..img.width {
            if img.pixel(x, y) == BANNER_RED {
                b.red += 1;
                b.x = (b.x.0.min(x), b.x.1.max(x));
                b.y = (b.y.0.min(y), b.y.1.max(y));
            }
        }
    }
    if b.red > 0 {
        for y in b.y.0..=b.y.1 {
            for x in b.x.0..=b.x.1 {
                if img.pixel(x, y) == WHITE {
                    b.white_inside += 1;
                }
            }
        }
    }
    b
}

/// Whether `b` is the documented banner: across the top of the waterfall, red
/// background, white text.
fn is_banner(b: &Banner) -> bool {
    b.red >= PLOT_W * 4
        && b.x.1 - b.x.0 + 1 >= PLOT_W / 2
        && b.y.0 + 2 >= PLOT_Y
        && b.y.1 < PLOT_Y + PLOT_H / 4
        && b.white_inside >= 20
}

/// Plot columns (window x) drawn as gap hatching: both greys on at least 1/8 of the
/// plot height each.
fn hatched_columns(img: &Image) -> Vec<usize> {
    (PLOT_X..PLOT_X + PLOT_W)
        .filter(|&x| {
            let (mut dark, mut light) = (0, 0);
            for y in PLOT_Y..PLOT_Y + PLOT_H {
                match img.pixel(x, y) {
                    p if p == HATCH_DARK => dark += 1,
                    p if p == HATCH_LIGHT => light += 1,
                    _ => {}
                }
            }
            dark >= PLOT_H / 8 && light >= PLOT_H / 8
        })
        .collect()
}

fn count_rgb(img: &Image, rgb: [u8; 3]) -> usize {
    img.rgb.chunks_exact(3).filter(|p| *p == rgb).count()
}

fn keep_shot(path: &Path, name: &str) {
    if let Some(dir) = std::env::var_os("HOPSCOPE_E2E_SHOTS") {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::copy(path, Path::new(&dir).join(name));
    }
}

/// Screenshots every ~200 ms until `pred` holds (the image and when) or `timeout` (a
/// hang catcher).
fn poll_shot(
    x: &Xvfb,
    wid: &str,
    path: &Path,
    timeout: Duration,
    pred: impl Fn(&Image) -> bool,
) -> Option<(Image, Instant)> {
    let deadline = Instant::now() + timeout;
    loop {
        let img = x.screenshot(wid, path);
        if pred(&img) {
            return Some((img, Instant::now()));
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `key=value` of a window status line (`n_fft=... hop=...`).
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("status line has no {key}: {line}"))
}

/// (d) The window on the native host: the banner while the server is dead, keys
/// answered during the loss, the gap hatched over its real duration once the input is
/// back, and Q quitting during a second loss.
#[test]
fn window_shows_the_loss_answers_keys_and_quits_during_it() {
    let test = "window_during_a_loss";
    let t0 = Instant::now();
    let Some(mut pulse) = Pulse::start_or_skip(test) else {
        return;
    };
    let (wav, _) = tone_wav(&pulse, 90.0);
    pulse.play(&wav);
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    let mut cmd = x.command(HOPSCOPE);
    cmd.current_dir(pulse.dir().path())
        .args(["--host", "pulseaudio"]);
    pulse.apply_env(&mut cmd);
    let mut app = LiveChild::spawn("hopscope", cmd);
    let wid = {
        let app_ref = &mut app;
        x.wait_for_window("^hopscope$", PATIENCE, || app_ref.is_running())
    };
    let Some(wid) = wid else {
        panic!("{test}: no window within {PATIENCE:?}\n{}", app.dump());
    };
    x.mouse_move(0, 0);
    let first = app.expect_line("initial status line", PATIENCE, |l| l.starts_with("n_fft="));
    // Columns per second: the plot's width over the span (whatever the hop).
    let span_s: f64 = field(&first, "span_s").parse().expect("span_s");
    let columns_per_s = PLOT_W as f64 / span_s;
    let shot = pulse.dir().join("shot.png");

    // Live: no banner, no hatching.
    std::thread::sleep(Duration::from_secs(2));
    let live = x.screenshot(&wid, &shot);
    keep_shot(&shot, "loss-0-live.png");
    assert_eq!((live.width, live.height), (WIDTH, HEIGHT), "window size");
    let b = find_banner(&live);
    assert_eq!(b.red, 0, "{test}: banner pixels while live: {b:?}");
    assert!(
        hatched_columns(&live).is_empty(),
        "{test}: hatching while live"
    );

    // The server dies: the banner appears.
    let killed_at = Instant::now();
    pulse.kill();
    let Some((down, banner_at)) = poll_shot(&x, &wid, &shot, PATIENCE, |img| {
        is_banner(&find_banner(img))
    }) else {
        let b = find_banner(&x.screenshot(&wid, &shot));
        keep_shot(&shot, "loss-1-no-banner.png");
        panic!(
            "{test}: no NO INPUT banner within {PATIENCE:?} of the kill: {b:?}\n{}",
            app.dump()
        );
    };
    keep_shot(&shot, "loss-1-banner.png");
    let banner = find_banner(&down);

    // Keys are answered during the loss: H shows the help box, H again hides it.
    let yellow_before = count_rgb(&down, HELP_TITLE);
    x.key(&wid, "h");
    let help = poll_shot(&x, &wid, &shot, PATIENCE, |img| {
        count_rgb(img, HELP_TITLE) >= yellow_before + 100
    });
    assert!(
        help.is_some(),
        "{test}: H during the loss: no help box ({yellow_before} title-coloured pixels before)\n{}",
        app.dump()
    );
    keep_shot(&shot, "loss-2-help.png");
    x.key(&wid, "h");
    let help_gone = poll_shot(&x, &wid, &shot, PATIENCE, |img| {
        count_rgb(img, HELP_TITLE) <= yellow_before + 20
    });
    assert!(
        help_gone.is_some(),
        "{test}: H again during the loss: the help box stays"
    );

    // The server comes back: the banner goes, the gap is hatched over its duration.
    let restart_at = Instant::now();
    pulse.restart();
    pulse.play(&wav);
    let Some((_, gone_at)) = poll_shot(&x, &wid, &shot, PATIENCE, |img| find_banner(img).red == 0)
    else {
        keep_shot(&shot, "loss-3-banner-stays.png");
        panic!(
            "{test}: the banner stays {PATIENCE:?} after the restart\n{}",
            app.dump()
        );
    };
    std::thread::sleep(Duration::from_secs(1));
    let after = x.screenshot(&wid, &shot);
    keep_shot(&shot, "loss-3-gap.png");
    let hatched = hatched_columns(&after);
    let (lo_s, hi_s) = (
        (restart_at - killed_at).as_secs_f64() - 0.3,
        (gone_at - killed_at).as_secs_f64() + 0.3,
    );
    let gap_s = hatched.len() as f64 / columns_per_s;
    assert!(
        gap_s >= lo_s && gap_s <= hi_s,
        "{test}: {} hatched columns = {gap_s:.2} s at {columns_per_s} columns/s; the input was \
         gone at least {lo_s:.2} s and at most {hi_s:.2} s",
        hatched.len()
    );
    if let (Some(first_x), Some(last_x)) = (hatched.first(), hatched.last()) {
        assert!(
            last_x - first_x < hatched.len() + 2,
            "{test}: the hatching is not one block: x {first_x}..={last_x}, {} columns",
            hatched.len()
        );
    }

    // A second loss, and Q during it.
    pulse.kill();
    let again = poll_shot(&x, &wid, &shot, PATIENCE, |img| {
        is_banner(&find_banner(img))
    });
    assert!(
        again.is_some(),
        "{test}: no banner for the second loss\n{}",
        app.dump()
    );
    let q_at = Instant::now();
    x.key_unchecked(&wid, "q");
    let Some(status) = app.wait_exit(PATIENCE) else {
        panic!(
            "{test}: Q during a loss: still running after {PATIENCE:?}\n{}",
            app.dump()
        );
    };
    let quit_took = q_at.elapsed();
    let dump = app.dump();
    assert_eq!(status.code(), Some(0), "{test}: Q: exit {status:?}\n{dump}");
    assert!(!app.stderr().contains("panicked"), "{dump}");
    let stderr = app.stderr();
    let Some((n, secs)) = input_down(&stderr) else {
        panic!("{test}: no 'input down N time(s)' in the summary\n{dump}");
    };
    assert!(
        n >= 2 && secs > 0.0,
        "{test}: summary: down {n} time(s) for {secs} s\n{dump}"
    );
    println!(
        "{test}: banner {:.2} s after the kill: {banner:?}; gap {} columns = {gap_s:.2} s \
         (bounds {lo_s:.2}..{hi_s:.2} s); Q → exit {quit_took:.2?}; down {n} time(s) for {secs} s; \
         test {:.2?}",
        (banner_at - killed_at).as_secs_f64(),
        hatched.len(),
        t0.elapsed()
    );
}
