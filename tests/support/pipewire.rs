//! A real PipeWire per test, private to it: its own temp dir, `XDG_RUNTIME_DIR` (so its
//! own `pipewire-0` socket), session bus (`dbus-daemon --session` on `<dir>/bus`), logs
//! and WirePlumber state. A null sink `testsink` (`support.null-audio-sink`, driven by
//! the graph's timer) is created with `pw-cli`; WirePlumber makes it the default sink,
//! and cpal's native PipeWire host captures its monitor as `sink_default`, so what
//! `pw-cat` plays into the sink is what a capturing client hears, in real time. The
//! "device" vanishes when `pipewire` and `wireplumber` are killed with SIGKILL (a
//! crashed desktop audio server) and comes back when they are started again on the
//! same runtime dir and the sink is created again.
//!
//! Clients (hopscope, pw-cli, pw-cat, pw-metadata) reach it through
//! [`PipeWire::apply_env`]: `XDG_RUNTIME_DIR` and `DBUS_SESSION_BUS_ADDRESS` of the
//! temp dir, no `PULSE_SERVER`/`PIPEWIRE_REMOTE`, and a PulseAudio `client.conf` that
//! forbids autospawn (`hopscope devices` walks every host: nothing may start a
//! PulseAudio server in our runtime dir). Nothing outside the temp dir is touched;
//! tests run in parallel.
//!
//! Measured on Debian 12 (PipeWire 0.3.65, WirePlumber 0.4.13, as root, 2 cores):
//! `pw-cli info 0` answers ≈ 0.2 s after spawn, the sink is the default ≈ 0.1 s later;
//! a −20 dBFS 16-bit WAV played with `pw-cat` reads −20.00 dBFS on a bin centre (the
//! sink is F32 at 48 kHz, volumes 100 %: the samples pass unchanged).
//!
//! Needs `pipewire`, `wireplumber`, `pw-cli`, `pw-cat`, `pw-metadata` and `dbus-daemon`
//! (Debian: pipewire pipewire-bin wireplumber dbus; `make test-deps` installs them).
//! Without them [`PipeWire::start_or_skip`] prints why on the terminal and the test
//! returns early, unless `HOPSCOPE_REQUIRE_PIPEWIRE=1` (set by `.ci/run`), which turns
//! a missing tool into a failure.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::pulse::{find_program, kill_child, print_skip, run_tool};
use super::TempDir;

/// The null sink tests play into.
pub const SINK: &str = "testsink";
/// What `--device` takes for the default sink's monitor on cpal's PipeWire host (its
/// id without the host prefix).
pub const DEVICE: &str = "sink_default";
/// Its id in `hopscope devices`.
pub const DEVICE_ID: &str = "pipewire:sink_default";
/// Its name (in `hopscope devices` and the status lines' `src=`).
pub const DEVICE_NAME: &str = "default_sink";
/// The graph's rate (PipeWire's default clock rate).
pub const RATE: u32 = 48_000;
/// The programs a test needs.
pub const TOOLS: [&str; 6] = [
    "pipewire",
    "wireplumber",
    "pw-cli",
    "pw-cat",
    "pw-metadata",
    "dbus-daemon",
];
/// `pw-cli create-node adapter` properties of the sink (`object.linger`: it outlives
/// the pw-cli that created it).
const SINK_PROPS: &str = "{ factory.name=support.null-audio-sink node.name=testsink \
     media.class=Audio/Sink object.linger=true audio.position=[FL FR] }";
/// Hard limit for one run of pw-cli / pw-metadata (a hang catcher).
const TOOL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the servers may take to answer and to make the sink the default.
const READY_TIMEOUT: Duration = super::PATIENCE;

/// Why PipeWire tests cannot run here (missing programs), or `None`.
pub fn missing() -> Option<String> {
    let missing: Vec<String> = TOOLS
        .iter()
        .filter(|t| find_program(t).is_none())
        .map(|t| format!("`{t}`"))
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "no {} (Debian: pipewire pipewire-bin wireplumber dbus; `make test-deps` \
             installs them)",
            missing.join(", ")
        )
    })
}

/// Whether `HOPSCOPE_REQUIRE_PIPEWIRE=1`: missing tools fail instead of skipping.
fn required() -> bool {
    std::env::var("HOPSCOPE_REQUIRE_PIPEWIRE").is_ok_and(|v| v == "1")
}

/// A private session bus, PipeWire and WirePlumber (and the players), killed on drop.
pub struct PipeWire {
    dir: TempDir,
    dbus: Option<Child>,
    pipewire: Option<Child>,
    wireplumber: Option<Child>,
    players: Vec<Child>,
    /// How many times the servers were started.
    starts: u32,
}

impl PipeWire {
    /// [`PipeWire::start`], or `None` after printing why when the tools are missing
    /// (a failure instead with `HOPSCOPE_REQUIRE_PIPEWIRE=1`). `test` names the test.
    pub fn start_or_skip(test: &str) -> Option<PipeWire> {
        if let Some(reason) = missing() {
            assert!(
                !required(),
                "{test}: {reason}, and HOPSCOPE_REQUIRE_PIPEWIRE=1 forbids skipping"
            );
            print_skip(test, &reason);
            return None;
        }
        Some(PipeWire::start(test))
    }

    /// Starts the session bus, then PipeWire and WirePlumber, and creates the sink;
    /// returns once the sink is the default.
    pub fn start(tag: &str) -> PipeWire {
        let dir = TempDir::new(&format!("pipewire-{tag}"));
        for sub in ["run", "config", "state", "data"] {
            std::fs::create_dir_all(dir.join(sub)).expect("create a dir in the temp dir");
        }
        // A runtime dir is private to its user.
        std::fs::set_permissions(dir.join("run"), std::fs::Permissions::from_mode(0o700))
            .expect("chmod the runtime dir");
        std::fs::write(
            dir.join("client.conf"),
            "# PulseAudio clients of this test: never start a server of their own\n\
             autospawn = no\n",
        )
        .expect("write client.conf");
        let mut pw = PipeWire {
            dir,
            dbus: None,
            pipewire: None,
            wireplumber: None,
            players: Vec::new(),
            starts: 0,
        };
        pw.start_bus();
        pw.start_servers();
        pw
    }

    /// The temp dir (runtime dir, bus socket, logs).
    pub fn dir(&self) -> &TempDir {
        &self.dir
    }

    fn runtime_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    fn bus_address(&self) -> String {
        format!("unix:path={}", self.dir.join("bus").display())
    }

    /// The environment a client of this PipeWire needs (and variables it must not have:
    /// `None`).
    pub fn envs(&self) -> Vec<(&'static str, Option<String>)> {
        vec![
            (
                "XDG_RUNTIME_DIR",
                Some(self.runtime_dir().display().to_string()),
            ),
            ("DBUS_SESSION_BUS_ADDRESS", Some(self.bus_address())),
            ("PIPEWIRE_REMOTE", None),
            ("PIPEWIRE_RUNTIME_DIR", None),
            ("PULSE_SERVER", None),
            ("PULSE_RUNTIME_PATH", None),
            (
                "PULSE_CLIENTCONFIG",
                Some(self.dir.join("client.conf").display().to_string()),
            ),
            // `hopscope devices` walks every host: never let libjack start a jackd.
            ("JACK_NO_START_SERVER", Some("1".to_string())),
        ]
    }

    /// Points `cmd` at this PipeWire (see [`PipeWire::envs`]).
    pub fn apply_env(&self, cmd: &mut Command) {
        for (k, v) in self.envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
    }

    /// A command for a server or tool of this PipeWire: the client environment, and
    /// its home, configuration and state in the temp dir (WirePlumber keeps state).
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        self.apply_env(&mut cmd);
        cmd.env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("XDG_STATE_HOME", self.dir.join("state"))
            .env("XDG_DATA_HOME", self.dir.join("data"))
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null());
        cmd
    }

    fn log_file(&self, name: &str) -> File {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(name))
            .unwrap_or_else(|e| panic!("open {name}: {e}"))
    }

    /// Spawns `program ARGS` with its output in the log `log`.
    fn spawn_logged(&self, program: &str, args: &[&str], log: &str) -> Child {
        let log = self.log_file(log);
        self.command(program)
            .args(args)
            .stdout(log.try_clone().expect("clone log fd"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
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

    /// Runs a short-lived tool of this PipeWire; its stdout if it succeeded in time.
    fn tool(&self, program: &str, args: &[&str]) -> Option<String> {
        let mut cmd = self.command(program);
        cmd.args(args);
        let out = run_tool(cmd, TOOL_TIMEOUT)?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `pw-cli ARGS` against this PipeWire; `None` if it failed or hung.
    pub fn pw_cli(&self, args: &[&str]) -> Option<String> {
        self.tool("pw-cli", args)
    }

    fn running(child: &mut Option<Child>) -> bool {
        child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Whether both servers are running.
    pub fn is_running(&mut self) -> bool {
        Self::running(&mut self.pipewire) && Self::running(&mut self.wireplumber)
    }

    /// The private session bus, up once its socket exists.
    fn start_bus(&mut self) {
        let bus = self.dir.join("bus");
        let address = self.bus_address();
        let t0 = Instant::now();
        self.dbus = Some(self.spawn_logged(
            "dbus-daemon",
            &[
                "--session",
                &format!("--address={address}"),
                "--nofork",
                "--nopidfile",
            ],
            "dbus.log",
        ));
        while !bus.exists() {
            assert!(
                Self::running(&mut self.dbus) && t0.elapsed() < READY_TIMEOUT,
                "the session bus is not up after {:?}\n{}",
                t0.elapsed(),
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts `pipewire` (log `pipewire-N.log`), waits until `pw-cli info 0` answers,
    /// then starts `wireplumber` (log `wireplumber-N.log`), creates the sink and waits
    /// until WirePlumber has made it the default sink.
    ///
    /// WirePlumber only once PipeWire answers: after a SIGKILL the old `pipewire-0`
    /// socket is still there, and a WirePlumber started beside the new PipeWire could
    /// connect to it first, fail ("Failed to connect to PipeWire") and exit.
    fn start_servers(&mut self) {
        assert!(self.pipewire.is_none(), "PipeWire is already running");
        self.starts += 1;
        let n = self.starts;
        let t0 = Instant::now();
        self.pipewire = Some(self.spawn_logged("pipewire", &[], &format!("pipewire-{n}.log")));
        let fail = |pw: &PipeWire, what: &str| -> ! {
            panic!(
                "PipeWire start {n}: {what} after {:?}\n{}",
                t0.elapsed(),
                pw.logs()
            )
        };
        // Ready: the core answers.
        while self.pw_cli(&["info", "0"]).is_none() {
            if !Self::running(&mut self.pipewire) || t0.elapsed() > READY_TIMEOUT {
                fail(self, "pw-cli info 0 gets no answer");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.wireplumber =
            Some(self.spawn_logged("wireplumber", &[], &format!("wireplumber-{n}.log")));
        if self
            .pw_cli(&["create-node", "adapter", SINK_PROPS])
            .is_none()
        {
            fail(self, "pw-cli create-node failed");
        }
        // Warm: WirePlumber made the sink the default.
        let want = format!("{{\"name\":\"{SINK}\"}}");
        while !self
            .tool("pw-metadata", &["0", "default.audio.sink"])
            .is_some_and(|m| m.contains(&want))
        {
            if !self.is_running() || t0.elapsed() > READY_TIMEOUT {
                fail(self, "the sink is not the default sink");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The "device" vanishes: SIGKILL to pipewire and wireplumber (then to the players,
    /// which lose their connection anyway), all reaped. The session bus stays.
    pub fn kill(&mut self) {
        for mut server in [self.pipewire.take(), self.wireplumber.take()]
            .into_iter()
            .flatten()
        {
            kill_child(&mut server);
        }
        for mut p in self.players.drain(..) {
            kill_child(&mut p);
        }
    }

    /// Starts pipewire and wireplumber again on the same runtime dir and creates the
    /// sink again; how long that took (until the sink is the default).
    pub fn restart(&mut self) -> Duration {
        let t = Instant::now();
        self.kill();
        self.start_servers();
        t.elapsed()
    }

    /// Plays `wav` into the sink with `pw-cat` (killed with the servers or on drop).
    pub fn play(&mut self, wav: &Path) {
        let wav = wav.to_string_lossy();
        let player = self.spawn_logged("pw-cat", &["-p", "--target", SINK, &wav], "pw-cat.log");
        self.players.push(player);
    }
}

impl Drop for PipeWire {
    fn drop(&mut self) {
        self.kill();
        if let Some(mut d) = self.dbus.take() {
            kill_child(&mut d);
        }
    }
}
