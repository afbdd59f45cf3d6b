//! A real PulseAudio server per test, private to it: its own temp dir, Unix socket,
//! runtime dir and logs (`tests/support/pulse-test.pa`): a timer-driven null sink
//! `testsink` whose monitor is the default source, so what `paplay` plays into the sink
//! is what a capturing client hears, in real time. The "device" vanishes when the server
//! is killed with SIGKILL (a crashed desktop audio server: the closest thing to an
//! unplugged microphone on a machine without a sound card) and comes back when it is
//! started again on the same socket.
//!
//! Clients (hopscope, pactl, pacat, paplay) reach it through [`Pulse::apply_env`]:
//! `PULSE_SERVER=unix:<dir>/native`, a `client.conf` without autospawn, and an
//! `ALSA_CONFIG_PATH` whose asoundrc routes ALSA `default` and the named PCM
//! [`ALSA_DEVICE`] to it through libasound2-plugins' `pulse` plugin (so cpal's ALSA host
//! captures from it too). Nothing outside the temp dir is touched; tests run in parallel.
//!
//! Measured on Debian 12 (PulseAudio 16.1, libasound2-plugins 1.2.7.1):
//! - ready (`pactl info` answers) ≈ 0.1 s after spawn; the null sink then renders one
//!   ~2 s block before the keep-alive stream brings its latency down: ≈ 2.3 s to warm.
//! - the first few hundred frames of every `paplay` stream are dropped: lead with silence.
//! - a −20 dBFS 16-bit WAV reads −20.00 dBFS at the monitor: the sink is s16le at 48 kHz
//!   like the WAV, volumes are 100 % (exact unity), so the samples pass unchanged.
//! - after SIGKILL the ALSA `pulse` plugin delivers no more periods (≈ 0.2 s of buffered
//!   audio first), and with libpulse's shared memory (the default) the capture thread
//!   deadlocks inside the plugin (`pa_memimport_free` waits for a block the capture
//!   thread holds, while it waits for the mainloop lock): the cpal stream can never be
//!   dropped. cpal's native PulseAudio host reports one `StreamInvalidated` error
//!   ("PulseAudio disconnected") within ~30 ms and drops cleanly.
//!
//! Needs `pulseaudio`, `pactl`, `pacat`, `paplay` and the ALSA pulse plugin (Debian:
//! pulseaudio pulseaudio-utils libasound2-plugins; `make test-deps` installs them).
//! Without them [`Pulse::start_or_skip`] prints why on the terminal and the test
//! returns early, unless `HOPSCOPE_REQUIRE_PULSE=1` (set by `.ci/run`), which turns a
//! missing tool into a failure.

use std::f64::consts::PI;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use super::TempDir;

/// The null sink tests play into.
pub const SINK: &str = "testsink";
/// Its monitor, the default source (what the "microphone" hears).
pub const SOURCE: &str = "testsink.monitor";
/// How the native PulseAudio host names that source (PulseAudio's "Monitor of " + the
/// sink's `device.description`).
pub const SOURCE_DESCRIPTION: &str = "Monitor of TestSink";
/// The sink's (and the monitor's) rate.
pub const RATE: u32 = 48_000;
/// A named ALSA PCM on the private server (besides `default`).
pub const ALSA_DEVICE: &str = "testpulse";
/// Its ALSA hint description (what `hopscope devices` lists for it on the ALSA host).
pub const ALSA_DEVICE_DESCRIPTION: &str = "hopscope test PulseAudio server";
/// The programs a test needs.
pub const TOOLS: [&str; 4] = ["pulseaudio", "pactl", "pacat", "paplay"];
/// The ALSA → PulseAudio plugin of libasound2-plugins.
const ALSA_PULSE_PLUGIN: &str = "libasound_module_pcm_pulse.so";
/// System ALSA configuration that must precede ours in `ALSA_CONFIG_PATH`.
const ALSA_CONF: &str = "/usr/share/alsa/alsa.conf";
const PA_TEMPLATE: &str = include_str!("pulse-test.pa");
/// Hard limit for one run of pactl (a hang catcher).
const TOOL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to answer and to warm up.
const READY_TIMEOUT: Duration = super::PATIENCE;

/// Why PulseAudio tests cannot run here (missing programs), or `None`.
pub fn missing() -> Option<String> {
    let mut missing: Vec<String> = TOOLS
        .iter()
        .filter(|t| find_program(t).is_none())
        .map(|t| format!("`{t}`"))
        .collect();
    if find_alsa_plugin().is_none() {
        missing.push(format!("the ALSA plugin {ALSA_PULSE_PLUGIN}"));
    }
    if !Path::new(ALSA_CONF).exists() {
        missing.push(ALSA_CONF.to_string());
    }
    (!missing.is_empty()).then(|| {
        format!(
            "no {} (Debian: pulseaudio pulseaudio-utils libasound2-plugins libasound2-data; \
             `make test-deps` installs them)",
            missing.join(", ")
        )
    })
}

/// Prints a skip notice straight to the terminal (libtest captures `println!`, not this).
pub fn print_skip(test: &str, reason: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
}

/// Whether `HOPSCOPE_REQUIRE_PULSE=1`: missing tools fail instead of skipping.
fn required() -> bool {
    std::env::var("HOPSCOPE_REQUIRE_PULSE").is_ok_and(|v| v == "1")
}

pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn find_alsa_plugin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for root in ["/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib"] {
        let root = Path::new(root);
        dirs.push(root.join("alsa-lib"));
        // Multiarch: /usr/lib/x86_64-linux-gnu/alsa-lib
        if let Ok(entries) = std::fs::read_dir(root) {
            dirs.extend(entries.flatten().map(|e| e.path().join("alsa-lib")));
        }
    }
    dirs.into_iter()
        .map(|d| d.join(ALSA_PULSE_PLUGIN))
        .find(|p| p.is_file())
}

/// Runs a short-lived tool; `None` if it could not start or ran longer than `timeout`
/// (then it is killed).
pub fn run_tool(cmd: Command, timeout: Duration) -> Option<Output> {
    super::capture(cmd, timeout).ok()
}

/// Kills (SIGKILL) and reaps a child of ours; its exit status.
pub fn kill_child(child: &mut Child) -> Option<ExitStatus> {
    if matches!(child.try_wait(), Ok(None)) {
        let _ = child.kill();
    }
    child.wait().ok()
}

/// A private PulseAudio server (and its keep-alive stream and players), killed on drop.
pub struct Pulse {
    dir: TempDir,
    daemon: Option<Child>,
    keepalive: Option<Child>,
    players: Vec<Child>,
    /// How many times the daemon was started.
    starts: u32,
}

impl Pulse {
    /// [`Pulse::start`], or `None` after printing why when the tools are missing
    /// (a failure instead with `HOPSCOPE_REQUIRE_PULSE=1`). `test` names the test.
    pub fn start_or_skip(test: &str) -> Option<Pulse> {
        if let Some(reason) = missing() {
            assert!(
                !required(),
                "{test}: {reason}, and HOPSCOPE_REQUIRE_PULSE=1 forbids skipping"
            );
            print_skip(test, &reason);
            return None;
        }
        Some(Pulse::start(test))
    }

    /// Writes the configuration into a new temp dir and starts the server, ready and warm.
    pub fn start(tag: &str) -> Pulse {
        let dir = TempDir::new(&format!("pulse-{tag}"));
        std::fs::create_dir_all(dir.join("run")).expect("create the runtime dir");
        let socket = dir.join("native");
        let pa = PA_TEMPLATE.replace("@SOCKET@", &socket.to_string_lossy());
        std::fs::write(dir.join("test.pa"), pa).expect("write test.pa");
        std::fs::write(
            dir.join("client.conf"),
            format!(
                "# clients of the test server only: never start a server of their own\n\
                 autospawn = no\ndefault-server = unix:{}\n",
                socket.display()
            ),
        )
        .expect("write client.conf");
        std::fs::write(dir.join("asoundrc"), asoundrc(&socket)).expect("write asoundrc");
        let mut pulse = Pulse {
            dir,
            daemon: None,
            keepalive: None,
            players: Vec::new(),
            starts: 0,
        };
        pulse.start_daemon();
        pulse
    }

    /// The temp dir (socket, configuration, logs).
    pub fn dir(&self) -> &TempDir {
        &self.dir
    }

    /// `unix:<socket>`.
    pub fn server(&self) -> String {
        format!("unix:{}", self.dir.join("native").display())
    }

    /// `ALSA_CONFIG_PATH` for a client: the system's alsa.conf, then ours.
    pub fn alsa_config_path(&self) -> String {
        format!("{ALSA_CONF}:{}", self.dir.join("asoundrc").display())
    }

    /// The environment a client of this server needs.
    pub fn envs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("PULSE_SERVER", self.server()),
            (
                "PULSE_CLIENTCONFIG",
                self.dir.join("client.conf").display().to_string(),
            ),
            ("ALSA_CONFIG_PATH", self.alsa_config_path()),
            // `hopscope devices` walks every host: never let libjack start a jackd.
            ("JACK_NO_START_SERVER", "1".to_string()),
        ]
    }

    /// Points `cmd` at this server (see [`Pulse::envs`]).
    pub fn apply_env(&self, cmd: &mut Command) {
        for (k, v) in self.envs() {
            cmd.env(k, v);
        }
        cmd.env_remove("PULSE_RUNTIME_PATH");
    }

    /// A command for a PulseAudio client tool talking to this server only.
    fn tool(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        self.apply_env(&mut cmd);
        // The tools may create ~/.config/pulse: keep that in the temp dir.
        cmd.env("HOME", self.dir.path());
        cmd
    }

    fn log_file(&self, name: &str) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(name))
            .unwrap_or_else(|e| panic!("open {name}: {e}"))
    }

    /// Whether the daemon process is running.
    pub fn is_running(&mut self) -> bool {
        self.daemon
            .as_mut()
            .is_some_and(|d| matches!(d.try_wait(), Ok(None)))
    }

    /// `pactl ARGS` against this server; `None` if it failed or hung.
    pub fn pactl(&self, args: &[&str]) -> Option<String> {
        let mut cmd = self.tool("pactl");
        cmd.args(args);
        let out = run_tool(cmd, TOOL_TIMEOUT)?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Every log the servers and tools wrote, for failure messages.
    pub fn logs(&self) -> String {
        let mut s = String::new();
        for name in self.dir.entries() {
            if name.ends_with(".log") {
                let text = std::fs::read_to_string(self.dir.join(&name)).unwrap_or_default();
                s.push_str(&format!("--- {name}\n{text}"));
            }
        }
        s
    }

    /// Starts the daemon (log `pulse-N.log`), waits until `pactl info` answers, starts
    /// the keep-alive stream and waits until the sink runs with a short latency.
    fn start_daemon(&mut self) {
        assert!(self.daemon.is_none(), "the server is already running");
        self.starts += 1;
        let log = self.log_file(&format!("pulse-{}.log", self.starts));
        let log_err = log.try_clone().expect("clone log fd");
        let t0 = Instant::now();
        let daemon = Command::new("pulseaudio")
            .arg("-n")
            .arg("-F")
            .arg(self.dir.join("test.pa"))
            .args([
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--log-target=stderr",
            ])
            .env("HOME", self.dir.path())
            .env("XDG_RUNTIME_DIR", self.dir.join("run"))
            .env_remove("PULSE_SERVER")
            .env_remove("PULSE_RUNTIME_PATH")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run pulseaudio: {e}"));
        self.daemon = Some(daemon);
        // Ready: pactl answers.
        loop {
            if self.pactl(&["info"]).is_some() {
                break;
            }
            if !self.is_running() || t0.elapsed() > READY_TIMEOUT {
                panic!(
                    "the PulseAudio server does not answer after {:?}\n{}",
                    t0.elapsed(),
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // A silent low-latency stream: without it the null sink renders ~2 s blocks and a
        // capture stream gets no data at all for 1–2 s at a time.
        let log = self.log_file("keepalive.log");
        let mut keepalive = self.tool("pacat");
        keepalive
            .args([
                "--playback",
                &format!("--device={SINK}"),
                "--latency-msec=10",
                "--raw",
                "--format=s16le",
                &format!("--rate={RATE}"),
                "--channels=2",
                "/dev/zero",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log fd"))
            .stderr(log);
        self.keepalive = Some(keepalive.spawn().expect("start the keep-alive pacat"));
        // Warm: the sink's latency is down from its first ~2 s block.
        loop {
            if self
                .pactl(&["list", "sinks"])
                .is_some_and(|s| sink_is_fast(&s))
            {
                break;
            }
            assert!(
                t0.elapsed() < READY_TIMEOUT,
                "the null sink stays slow after {:?}\n{}",
                t0.elapsed(),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The "device" vanishes: SIGKILL to the server (then to its keep-alive and players,
    /// which lose their connection anyway), all reaped.
    pub fn kill(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            kill_child(&mut d);
        }
        if let Some(mut k) = self.keepalive.take() {
            kill_child(&mut k);
        }
        for mut p in self.players.drain(..) {
            kill_child(&mut p);
        }
    }

    /// Starts the server again on the same socket, ready and warm; how long that took.
    pub fn restart(&mut self) -> Duration {
        let t = Instant::now();
        self.kill();
        self.start_daemon();
        t.elapsed()
    }

    /// Plays `wav` into the sink with `paplay` (killed with the server or on drop).
    pub fn play(&mut self, wav: &Path) {
        let log = self.log_file("paplay.log");
        let mut cmd = self.tool("paplay");
        cmd.arg(format!("--device={SINK}"))
            .arg(wav)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log fd"))
            .stderr(log);
        self.players.push(cmd.spawn().expect("start paplay"));
    }
}

impl Drop for Pulse {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether `pactl list sinks` shows `testsink` with a latency under 100 ms.
fn sink_is_fast(list: &str) -> bool {
    let Some(at) = list.find(&format!("Name: {SINK}\n")) else {
        return false;
    };
    let block = list[at..].split("\nSink #").next().unwrap_or("");
    block.lines().any(|l| {
        l.trim()
            .strip_prefix("Latency: ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|us| us.parse::<u64>().ok())
            .is_some_and(|us| us < 100_000)
    })
}

/// The asoundrc routing ALSA to the server at `socket`.
fn asoundrc(socket: &Path) -> String {
    format!(
        "# hopscope tests: ALSA -> the private PulseAudio server of this temp dir\n\
         # (libasound2-plugins' `pulse` plugin). Loaded after alsa.conf via ALSA_CONFIG_PATH.\n\
         pcm.{ALSA_DEVICE} {{\n    type pulse\n    server \"unix:{s}\"\n    \
         hint {{\n        show on\n        description \"{ALSA_DEVICE_DESCRIPTION}\"\n    }}\n}}\n\
         ctl.{ALSA_DEVICE} {{\n    type pulse\n    server \"unix:{s}\"\n}}\n\
         # cpal's default ALSA input: the same server, whether or not it was running when\n\
         # the configuration was first read (pulseaudio's own hook only routes `default`\n\
         # to a server it finds running at that moment).\n\
         pcm.!default {{\n    type pulse\n    server \"unix:{s}\"\n}}\n\
         ctl.!default {{\n    type pulse\n    server \"unix:{s}\"\n}}\n",
        s = socket.display()
    )
}

/// A 16-bit stereo WAV at [`RATE`]: `lead_s` of silence (the first frames of every
/// paplay stream are dropped), then a sine of `hz` at peak `amplitude` (1.0 = full
/// scale) on both channels for `tone_s`. Returns the tone's amplitude after
/// quantisation relative to full scale (32768), the level a dBFS reading must show.
pub fn write_tone_wav(path: &Path, hz: f64, amplitude: f64, lead_s: f64, tone_s: f64) -> f64 {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create the tone WAV");
    let lead = (lead_s * f64::from(RATE)) as u64;
    let tone = (tone_s * f64::from(RATE)) as u64;
    let scale = amplitude * 32767.0;
    for i in 0..lead + tone {
        let v = if i < lead {
            0
        } else {
            let t = (i - lead) as f64 / f64::from(RATE);
            (scale * (2.0 * PI * hz * t).sin()).round() as i16
        };
        w.write_sample(v).expect("write sample");
        w.write_sample(v).expect("write sample");
    }
    w.finalize().expect("finish the tone WAV");
    scale / 32768.0
}
