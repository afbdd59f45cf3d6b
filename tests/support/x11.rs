//! A private headless X server per test (Xvfb) and the X tools the window tests drive
//! it with: `xdpyinfo` (ready?), `xdotool` (find the window, keys, pointer) and
//! ImageMagick's `import` (screenshots), decoded with the `png` crate.
//!
//! Packages (Debian): xvfb xauth xdotool imagemagick x11-utils; `make test-deps`
//! installs them. A missing tool fails the test with that hint instead of skipping:
//! a silent pass would hide a broken set-up.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Hard limit for one run of an X tool (a hang catcher).
const TOOL_TIMEOUT: Duration = super::PATIENCE;

/// Runs a short-lived tool with a hard timeout (killed and panics after it).
pub fn run_tool(cmd: Command, timeout: Duration) -> Output {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let args = format!("{:?}", cmd.get_args().collect::<Vec<_>>());
    match super::capture(cmd, timeout) {
        Ok(out) => out,
        Err(super::Capture::Spawn(e)) => {
            panic!("cannot run {program}: {e} (Debian: make test-deps installs the X test tools)")
        }
        Err(super::Capture::Timeout { .. }) => {
            panic!("{program} {args} still running after {timeout:?}: killed")
        }
    }
}

/// An Xvfb server on a display number it picked itself (`-displayfd`, so parallel
/// tests and other X servers never collide); terminated on drop.
pub struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    /// Starts `Xvfb -screen 0 {width}x{height}x24 -nolisten tcp` and waits until
    /// `xdpyinfo` answers (at most [`super::PATIENCE`]: a hang catcher).
    pub fn start(width: usize, height: usize) -> Xvfb {
        let mut child = Command::new("Xvfb")
            // Xvfb writes the display number it chose on this fd once it accepts clients.
            .args(["-displayfd", "1", "-screen", "0"])
            .arg(format!("{width}x{height}x24"))
            .args(["-nolisten", "tcp", "-noreset"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run Xvfb: {e}: install xvfb (Debian; make test-deps does)")
            });
        let stdout = child.stdout.take().expect("Xvfb stdout");
        let mut stderr = child.stderr.take().expect("Xvfb stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            // Keep the pipe open and drained for the server's lifetime.
            for _ in lines {}
        });
        let (etx, erx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            let _ = etx.send(s);
        });
        let number = match rx.recv_timeout(super::PATIENCE) {
            Ok(n) if n.trim().parse::<u32>().is_ok() => n.trim().to_string(),
            other => {
                let _ = child.kill();
                let _ = child.wait();
                let log = erx.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
                panic!("Xvfb did not report a display number ({other:?})\n--- Xvfb stderr\n{log}");
            }
        };
        let server = Xvfb {
            child,
            display: format!(":{number}"),
        };
        let started = Instant::now();
        loop {
            if run_tool(server.command("xdpyinfo"), TOOL_TIMEOUT)
                .status
                .success()
            {
                break;
            }
            assert!(
                started.elapsed() < super::PATIENCE,
                "Xvfb {} does not answer xdpyinfo",
                server.display
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// `:N`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// A command that talks to this server only (DISPLAY set, Wayland hidden).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.display)
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("XAUTHORITY");
        cmd
    }

    fn xdotool(&self, args: &[&str]) -> Output {
        let mut cmd = self.command("xdotool");
        cmd.args(args);
        run_tool(cmd, TOOL_TIMEOUT)
    }

    /// Polls `xdotool search --name name_regex` until a window appears (its id) or
    /// `timeout` passes or `alive()` turns false (`None`).
    pub fn wait_for_window(
        &self,
        name_regex: &str,
        timeout: Duration,
        mut alive: impl FnMut() -> bool,
    ) -> Option<String> {
        let started = Instant::now();
        loop {
            let out = self.xdotool(&["search", "--name", name_regex]);
            let text = String::from_utf8_lossy(&out.stdout);
            if let Some(id) = text.split_whitespace().next() {
                return Some(id.to_string());
            }
            if started.elapsed() > timeout || !alive() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Presses and releases `key` (an X keysym name) in window `wid`. The 100 ms
    /// delay matters: minifb misses a press and release within one frame.
    pub fn key(&self, wid: &str, key: &str) {
        let out = self.xdotool(&["key", "--window", wid, "--delay", "100", key]);
        assert!(
            out.status.success(),
            "xdotool key {key}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Like [`Xvfb::key`] without checking xdotool's status: for a key that closes
    /// the window (the release then goes to a window that no longer exists).
    pub fn key_unchecked(&self, wid: &str, key: &str) {
        let _ = self.xdotool(&["key", "--window", wid, "--delay", "100", key]);
    }

    /// Moves the pointer to screen (x, y).
    pub fn mouse_move(&self, x: usize, y: usize) {
        let out = self.xdotool(&["mousemove", &x.to_string(), &y.to_string()]);
        assert!(
            out.status.success(),
            "xdotool mousemove: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Moves the pointer to (x, y) of window `wid` (relative to the window's origin).
    pub fn mouse_move_in(&self, wid: &str, x: usize, y: usize) {
        let out = self.xdotool(&["mousemove", "--window", wid, &x.to_string(), &y.to_string()]);
        assert!(
            out.status.success(),
            "xdotool mousemove --window: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Screenshot of window `wid` (ImageMagick `import`) saved to `path` and decoded.
    pub fn screenshot(&self, wid: &str, path: &Path) -> Image {
        let mut cmd = self.command("import");
        cmd.args(["-silent", "-window", wid])
            .arg(format!("png24:{}", path.display()));
        let out = run_tool(cmd, TOOL_TIMEOUT);
        assert!(
            out.status.success(),
            "import -window {wid}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Image::read_png(path)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            // SIGTERM first: the server then removes its lock file and socket.
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// An 8-bit RGB image.
#[derive(Clone)]
pub struct Image {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major RGB triplets.
    pub rgb: Vec<u8>,
}

impl Image {
    /// Decodes a PNG (any colour type and depth; alpha is dropped).
    pub fn read_png(path: &Path) -> Image {
        let file =
            std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder
            .read_info()
            .unwrap_or_else(|e| panic!("{} is not a PNG: {e}", path.display()));
        let mut buf = vec![0; reader.output_buffer_size().expect("PNG size")];
        let info = reader
            .next_frame(&mut buf)
            .unwrap_or_else(|e| panic!("decode {}: {e}", path.display()));
        let (width, height) = (info.width as usize, info.height as usize);
        let samples = info.color_type.samples();
        let mut rgb = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            let row = &buf[y * info.line_size..][..width * samples];
            for px in row.chunks_exact(samples) {
                match samples {
                    1 | 2 => rgb.extend_from_slice(&[px[0]; 3]),
                    _ => rgb.extend_from_slice(&px[..3]),
                }
            }
        }
        Image { width, height, rgb }
    }

    /// The pixel at (x, y).
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        assert!(x < self.width && y < self.height, "({x}, {y}) outside");
        let i = (y * self.width + x) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    /// Luma (Rec. 601, 0–255) at (x, y).
    pub fn luma(&self, x: usize, y: usize) -> f64 {
        let [r, g, b] = self.pixel(x, y);
        0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b)
    }

    /// How many pixels differ by more than `tolerance` in some channel.
    pub fn diff_count(&self, other: &Image, tolerance: u8) -> usize {
        assert_eq!(
            (self.width, self.height),
            (other.width, other.height),
            "images of different sizes"
        );
        self.rgb
            .chunks_exact(3)
            .zip(other.rgb.chunks_exact(3))
            .filter(|(a, b)| {
                a.iter()
                    .zip(b.iter())
                    .any(|(p, q)| p.abs_diff(*q) > tolerance)
            })
            .count()
    }
}
