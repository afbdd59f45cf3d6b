//! End-to-end tests of the live window, headless: each test starts its own Xvfb
//! (`-displayfd`: a free display number), runs `hopscope` on it in a temp dir, finds
//! the window with `xdotool`, presses keys with `xdotool key --window`, reads the
//! status lines as they are printed, and checks real pixels from `import -window`
//! screenshots against the documented layout (src/render/chrome.rs): the plot spans
//! x 64..width−76, y 20..height−28; on the linear 0–fmax axis, plot row r (0 = top)
//! covers [fmax·(1−(r+1)/h), fmax·(1−r/h)]; the newest column is at the right edge.
//!
//! Needs Xvfb, xdotool, ImageMagick `import` and xdpyinfo (Debian: xvfb xauth xdotool
//! imagemagick x11-utils; `make test-deps` installs them). A missing tool fails the
//! test with that hint rather than skipping it.
//!
//! Set `HOPSCOPE_E2E_SHOTS=/some/dir` to keep the screenshots for a look.
//!
//! No wall-clock assertions: every wait (for the window, a line, the exit, a pixel) is a
//! hang catcher ([`PATIENCE`]) that returns as soon as its condition holds; the times
//! measured are printed.
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

use std::ops::RangeInclusive;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::fifo::{AlsaFixture, Feeder, Signal};
use crate::support::live::LiveChild;
use crate::support::x11::{Image, Xvfb};
use crate::support::{assert_one_line_error, run_with_timeout, TempDir, HOPSCOPE, PATIENCE};

/// The window's default size (minifb, 1280×720) and the Xvfb screen holding it.
const WIDTH: usize = 1280;
const HEIGHT: usize = 720;
const SCREEN: (usize, usize) = (1280, 800);
/// Layout of src/render/chrome.rs at 1280×720.
const PLOT_X: usize = 64;
const PLOT_Y: usize = 20;
const PLOT_W: usize = WIDTH - 64 - 76;
const PLOT_H: usize = HEIGHT - 20 - 28;
/// Linear axis 0..fmax at 48 kHz (checked against the status line).
const FMAX_HZ: f64 = 24_000.0;
/// Where pixels are sampled: the newest ~100 columns, right of the HUD and away
/// from the pointer (parked at 0,0, outside the plot).
const SAMPLE_COLUMNS: RangeInclusive<usize> = 1100..=1200;
/// Window title, as an xdotool regex.
const TITLE_RE: &str = "^hopscope$";
/// Luma (Rec. 601) thresholds. Magma on −120..0 dBFS: a −20 dBFS demo tone measures
/// 186–193 on its rows, the −6 dBFS live tone 229, the demo's noise floor 45–60,
/// silence 0.
const BRIGHT_LUMA: f64 = 150.0;
const DARK_LUMA: f64 = 100.0;
/// Parameter-change marker colour (src/ui/overlay.rs `MARKER`).
const MARKER_RGB: [u8; 3] = [240, 240, 240];

/// The plot rows (0 = top) whose band contains `hz`: one row, or two when `hz` lies
/// exactly on the boundary between them.
fn rows_containing(hz: f64) -> RangeInclusive<usize> {
    let x = PLOT_H as f64 * (1.0 - hz / FMAX_HZ);
    let lo = (x.ceil() as usize).saturating_sub(1).min(PLOT_H - 1);
    let hi = (x.floor() as usize).min(PLOT_H - 1);
    lo..=hi
}

/// Window y of plot row `r`.
fn window_y(r: usize) -> usize {
    PLOT_Y + r
}

/// The window rows of `hz`, widened by one display row each side.
fn expected_ys(hz: f64) -> RangeInclusive<usize> {
    let rows = rows_containing(hz);
    window_y(*rows.start()) - 1..=window_y(*rows.end()) + 1
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// What one horizontal line looks like in a screenshot, over a set of columns.
#[derive(Debug)]
struct LineReport {
    hz: f64,
    /// Window rows of `hz`, ±1 row.
    expected: RangeInclusive<usize>,
    columns: usize,
    /// Columns in which some row of `expected` is bright.
    bright: usize,
    /// Median over the columns of the brightest luma within `expected`.
    line_luma: f64,
    /// Where the median-over-columns luma profile peaks within the search band
    /// (medians: the demo's chirp and clicks cross a few columns only).
    peak: (usize, f64),
    /// Median luma per row of `dark_rows` (window y, luma).
    dark: Vec<(usize, f64)>,
    /// Median luma of the rows of `expected`.
    profile: Vec<(usize, f64)>,
}

impl LineReport {
    fn dark_max(&self) -> (usize, f64) {
        self.dark
            .iter()
            .copied()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0))
    }

    fn summary(&self) -> String {
        let (dy, dl) = self.dark_max();
        format!(
            "{} Hz: expected y {:?}; bright in {}/{} columns; line luma (median) {:.0}; \
             profile {:?}; median profile peaks at y={} ({:.0}); dark rows: {} rows, \
             brightest median y={dy} ({dl:.0})",
            self.hz,
            self.expected,
            self.bright,
            self.columns,
            self.line_luma,
            self.profile
                .iter()
                .map(|(y, l)| format!("{y}:{l:.0}"))
                .collect::<Vec<_>>(),
            self.peak.0,
            self.peak.1,
            self.dark.len(),
        )
    }
}

/// Measures the line at `hz` in `columns`: per column the brightest luma on the
/// expected rows; per row of `search` (window y) and of `dark_rows` the median luma.
fn measure_line(
    img: &Image,
    hz: f64,
    columns: impl Iterator<Item = usize> + Clone,
    search: RangeInclusive<usize>,
    dark_rows: &[usize],
) -> LineReport {
    let expected = expected_ys(hz);
    let mut line_lumas: Vec<f64> = columns
        .clone()
        .map(|x| expected.clone().map(|y| img.luma(x, y)).fold(0.0, f64::max))
        .collect();
    let per_row = |y: usize| {
        let mut v: Vec<f64> = columns.clone().map(|x| img.luma(x, y)).collect();
        (y, median(&mut v))
    };
    let peak = search
        .map(per_row)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("search band");
    LineReport {
        hz,
        columns: line_lumas.len(),
        bright: line_lumas.iter().filter(|l| **l > BRIGHT_LUMA).count(),
        line_luma: median(&mut line_lumas),
        peak,
        dark: dark_rows.iter().map(|&y| per_row(y)).collect(),
        profile: expected.clone().map(per_row).collect(),
        expected,
    }
}

/// Asserts `report`: the line is bright on its rows (±1) in ≥ 90% of the columns,
/// the brightest row (median over columns) of the search band is one of them, and
/// the `dark` rows are dark (median over columns below `dark_luma`).
fn assert_line(what: &str, report: &LineReport, dark_luma: f64) {
    assert!(
        report.bright * 10 >= report.columns * 9,
        "{what}: the {} Hz line is not bright at y {:?} (±1 row) in most columns: {}",
        report.hz,
        report.expected,
        report.summary()
    );
    assert!(
        report.expected.contains(&report.peak.0),
        "{what}: the brightest row near {} Hz is y={}, expected {:?}: {}",
        report.hz,
        report.peak.0,
        report.expected,
        report.summary()
    );
    for &(y, luma) in &report.dark {
        assert!(
            luma < dark_luma,
            "{what}: row y={y} near the {} Hz line should be dark (median luma {luma:.0} ≥ {dark_luma}): {}",
            report.hz,
            report.summary()
        );
    }
}

/// Copies a screenshot to `$HOPSCOPE_E2E_SHOTS` when set.
fn keep_shot(path: &Path, name: &str) {
    if let Some(dir) = std::env::var_os("HOPSCOPE_E2E_SHOTS") {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::copy(path, Path::new(&dir).join(name));
    }
}

/// `key=value` fields of a window status line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("status line has no {key}: {line}"))
}

fn is_status_line(line: &str) -> bool {
    line.starts_with("n_fft=")
}

/// The axis and colours the pixel checks assume.
fn assert_default_view(line: &str) {
    for (key, value) in [
        ("scale", "linear"),
        ("fmin", "0"),
        ("fmax", "24000"),
        ("colormap", "magma"),
        ("floor", "-120"),
        ("ceiling", "0"),
        ("span_s", "10"),
        ("paused", "false"),
    ] {
        assert_eq!(field(line, key), value, "initial view: {line}");
    }
}

/// Starts hopscope on `x` in `cwd` and waits for its window.
fn start_window(x: &Xvfb, cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> (LiveChild, String) {
    let mut cmd = x.command(HOPSCOPE);
    cmd.current_dir(cwd).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut app = LiveChild::spawn("hopscope", cmd);
    let wid = {
        let app_ref = &mut app;
        x.wait_for_window(TITLE_RE, PATIENCE, || app_ref.is_running())
    };
    let Some(wid) = wid else {
        panic!(
            "no window titled 'hopscope' on {} within {PATIENCE:?}\n{}",
            x.display(),
            app.dump()
        );
    };
    println!(
        "window {wid} on {} after {:.2?}",
        x.display(),
        app.elapsed()
    );
    // The cursor readout follows the pointer: park it outside the plot.
    x.mouse_move(0, 0);
    (app, wid)
}

/// Presses Q and checks a clean exit (waiting at most [`PATIENCE`]: a hang catcher).
fn quit(x: &Xvfb, wid: &str, app: &mut LiveChild) -> Duration {
    let t = Instant::now();
    // The window may be gone before xdotool sends the release: ignore its status.
    x.key_unchecked(wid, "q");
    let status = app.wait_exit(PATIENCE);
    let took = t.elapsed();
    let Some(status) = status else {
        panic!("Q: still running after {PATIENCE:?}\n{}", app.dump());
    };
    assert_eq!(
        status.code(),
        Some(0),
        "Q: exit status {status:?}\n{}",
        app.dump()
    );
    assert!(!app.stderr().contains("panicked"), "{}", app.dump());
    took
}

/// Columns per second: the plot's width over the default 10 s span (whatever the hop).
const COLUMNS_PER_S: f64 = PLOT_W as f64 / 10.0;
/// The newest column's x.
const NEWEST_X: usize = PLOT_X + PLOT_W - 1;
/// The demo's log chirp: 50·400^(t/10) Hz, t mod 10 s (src/source/demo.rs).
fn chirp_hz(t: f64) -> f64 {
    50.0 * 400f64.powf(t.rem_euclid(10.0) / 10.0)
}

/// The frequency bands the demo checks look at: the 1 kHz line with its search
/// band and the gap down to 660 Hz; the 3 kHz line ± 15 rows.
const BANDS_1K: (f64, f64) = (650.0, 1220.0);
const BANDS_3K: (f64, f64) = (2460.0, 3540.0);
/// How near (as a frequency ratio) the chirp may come to a checked band.
const CHIRP_MARGIN: f64 = 1.2;
/// The demo clock starts after spawn (the window opens first, ~0.15 s): how far
/// behind `elapsed` it may be (measured: 0.1–0.4 s).
const DEMO_LAG_S: f64 = 1.0;
/// The checks run in the long stretch without the chirp near the checked bands:
/// from t ≈ 7.4 s (chirp above 3540·1.2 Hz) to t ≈ 14.0 s (back up to 650/1.2 Hz).
/// The first screenshot waits until its oldest sampled column (1.1 s before the
/// newest, less the lag and a window) is past the start: 7.4 + 0.1 + 1.1 + 1.0.
const FIRST_SHOT_AT_S: f64 = 9.7;

/// Bounds (s) of the demo time of an image's newest column.
#[derive(Clone, Copy, Debug)]
struct Newest {
    lo: f64,
    hi: f64,
}

impl Newest {
    /// From the marker at `marker_x`: its first n_fft 4096 row was analysed between
    /// the Up press (`before_up`, less the demo's lag) and 0.2 s after the status
    /// line announcing it (`up_line_at`).
    fn from_marker(before_up: Duration, up_line_at: Duration, marker_x: usize) -> Newest {
        let after = (NEWEST_X - marker_x) as f64 / COLUMNS_PER_S;
        Newest {
            lo: before_up.as_secs_f64() - DEMO_LAG_S + after,
            hi: up_line_at.as_secs_f64() + 0.2 + after,
        }
    }
}

/// The columns whose spectrum cannot contain the chirp within `CHIRP_MARGIN` of
/// any of `bands`, given the bounds of the newest column's time (a column's
/// spectrum also holds the window before it: 0.1 s more).
fn chirp_free(
    columns: impl Iterator<Item = usize>,
    newest: Newest,
    bands: &[(f64, f64)],
) -> Vec<usize> {
    columns
        .filter(|&x| {
            let back = (NEWEST_X - x) as f64 / COLUMNS_PER_S;
            let (t0, t1) = (newest.lo - back - 0.1, newest.hi - back);
            let steps = ((t1 - t0) / 0.005).ceil() as usize;
            (0..=steps).all(|i| {
                let f = chirp_hz(t0 + i as f64 * 0.005);
                bands
                    .iter()
                    .all(|&(lo, hi)| f < lo / CHIRP_MARGIN || f > hi * CHIRP_MARGIN)
            })
        })
        .collect()
}

/// At least `min` columns left, or a clear message (the machine was too slow).
fn enough(what: &str, cols: Vec<usize>, min: usize, newest: Newest) -> Vec<usize> {
    assert!(
        cols.len() >= min,
        "{what}: only {} columns to check ({cols:?}): the newest column is from \
         {:.2}..{:.2} s, when the demo's chirp crosses the checked rows (machine \
         overloaded?)",
        cols.len(),
        newest.lo,
        newest.hi
    );
    cols
}

/// Plot columns holding a parameter-change marker (a dotted line of `MARKER_RGB`
/// every 3rd row), with their marker pixel counts.
fn marker_columns(img: &Image) -> Vec<(usize, usize)> {
    (PLOT_X..PLOT_X + PLOT_W)
        .map(|x| {
            let n = (PLOT_Y..PLOT_Y + PLOT_H)
                .filter(|&y| img.pixel(x, y) == MARKER_RGB)
                .count();
            (x, n)
        })
        .filter(|&(_, n)| n >= PLOT_H / 6)
        .collect()
}

/// The newest marker's x and the sampled columns right of it (15 columns of margin
/// for the new window to fill); panics if there is no marker.
fn after_marker(what: &str, img: &Image) -> (usize, RangeInclusive<usize>) {
    let markers = marker_columns(img);
    let Some(&(marker_x, _)) = markers.last() else {
        panic!("{what}: no n_fft change marker (dotted {MARKER_RGB:?} column) in the plot");
    };
    (
        marker_x,
        (marker_x + 15).max(*SAMPLE_COLUMNS.start())..=NEWEST_X,
    )
}

#[test]
fn demo_window_shows_the_1khz_line_and_responds_to_keys() {
    let t0 = Instant::now();
    let dir = TempDir::new("e2e-demo");
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    // History re-rendering off: the change markers this test measures stay in place
    // (`demo_window_rerenders_its_history_after_up` covers re-rendering).
    let (mut app, wid) = start_window(&x, dir.path(), &["--demo", "--history", "0"], &[]);
    let window_at = app.elapsed();
    let first = app.expect_line("initial status line", PATIENCE, is_status_line);
    assert_eq!(field(&first, "n_fft"), "2048", "{first}");
    assert_eq!(field(&first, "hop"), "512", "{first}");
    assert_default_view(&first);

    // Into the chirp-free stretch (the sampled columns are the newest ~1.1 s).
    let first_at = Duration::from_secs_f64(FIRST_SHOT_AT_S);
    std::thread::sleep(first_at.saturating_sub(app.elapsed()));
    let shot1_path = dir.join("shot1.png");
    let before_shot1 = app.elapsed();
    let shot1 = x.screenshot(&wid, &shot1_path);
    let shot1_at = app.elapsed();
    keep_shot(&shot1_path, "demo-1.png");
    assert_eq!((shot1.width, shot1.height), (WIDTH, HEIGHT), "window size");
    let newest1 = Newest {
        lo: before_shot1.as_secs_f64() - DEMO_LAG_S,
        hi: shot1_at.as_secs_f64(),
    };
    let cols = enough(
        "screenshot 1",
        chirp_free(SAMPLE_COLUMNS.step_by(2), newest1, &[BANDS_1K, BANDS_3K]),
        30,
        newest1,
    );

    // 1 kHz: between it and 440 Hz (rows ≥ 5 px from both) the demo has only noise.
    let y1k = expected_ys(1000.0);
    let y440 = expected_ys(440.0);
    let search_1k = y1k.start() - 6..=y1k.end() + 6;
    let gap_1k: Vec<usize> = (y1k.end() + 5..=y440.start() - 5).collect();
    assert!(
        gap_1k.len() >= 4,
        "rows between 440 and 1000 Hz: {gap_1k:?}"
    );
    let line_1k = measure_line(
        &shot1,
        1000.0,
        cols.iter().copied(),
        search_1k.clone(),
        &gap_1k,
    );
    println!(
        "demo n_fft 2048 (shot {shot1_at:.2?} after start, newest column {newest1:.2?}): {}",
        line_1k.summary()
    );
    assert_line("demo, n_fft 2048", &line_1k, DARK_LUMA);

    // 3 kHz (bin-centred at n_fft 2048): rows 5..15 px away are noise.
    let y3k = expected_ys(3000.0);
    let near_3k: Vec<usize> = (5..=15)
        .flat_map(|d| [y3k.start() - d, y3k.end() + d])
        .collect();
    let line_3k = measure_line(
        &shot1,
        3000.0,
        cols.iter().copied(),
        y3k.start() - 15..=y3k.end() + 15,
        &near_3k,
    );
    println!("demo n_fft 2048: {}", line_3k.summary());
    assert_line("demo, n_fft 2048", &line_3k, DARK_LUMA);

    // Up: n_fft doubles, announced on stdout.
    let t_up = Instant::now();
    let before_up = app.elapsed();
    x.key(&wid, "Up");
    let up = app.expect_line("Up → n_fft=4096", PATIENCE, |l| {
        is_status_line(l) && field(l, "n_fft") == "4096"
    });
    let up_latency = t_up.elapsed();
    let up_line_at = app.elapsed();
    assert_eq!(field(&up, "hop"), "512", "{up}");
    assert_default_view(&up);
    std::thread::sleep(Duration::from_millis(700));
    let shot2_path = dir.join("shot2.png");
    let shot2 = x.screenshot(&wid, &shot2_path);
    let shot2_at = app.elapsed();
    keep_shot(&shot2_path, "demo-2.png");
    // S now (its PNG is checked below), so that both images come before the chirp.
    let t_s = Instant::now();
    x.key(&wid, "s");
    let changed = shot1.diff_count(&shot2, 8);
    assert!(
        changed > 20_000,
        "the window barely changed after Up: {changed} pixels differ"
    );
    // The parameter change is marked by a dotted vertical line in the plot; the
    // columns analysed at n_fft 4096 (right of it) still show 1 kHz at its row.
    let before = marker_columns(&shot1);
    assert!(before.is_empty(), "marker before any change: {before:?}");
    let (marker_x, post) = after_marker("screenshot 2", &shot2);
    let mut newest2 = Newest::from_marker(before_up, up_line_at, marker_x);
    newest2.hi = newest2.hi.min(shot2_at.as_secs_f64());
    let post_cols = enough(
        "screenshot 2 after Up",
        chirp_free(post.clone(), newest2, &[BANDS_1K]),
        20,
        newest2,
    );
    let line_1k_4096 = measure_line(
        &shot2,
        1000.0,
        post_cols.iter().copied(),
        search_1k.clone(),
        &gap_1k,
    );
    println!(
        "demo n_fft 4096 (shot {shot2_at:.2?} after start, newest column {newest2:.2?}; marker at x={marker_x}; {} columns in {post:?}): {}",
        post_cols.len(),
        line_1k_4096.summary()
    );
    assert_line("demo, n_fft 4096", &line_1k_4096, DARK_LUMA);

    // S (pressed above): a PNG of the window in the working directory.
    let saved = app.expect_line("S → screenshot: PATH", PATIENCE, |l| {
        l.starts_with("screenshot: ")
    });
    let s_latency = t_s.elapsed();
    let path = Path::new(saved.trim_start_matches("screenshot: "));
    assert!(path.is_absolute(), "{saved}");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let stamp = name
        .strip_prefix("hopscope-")
        .and_then(|s| s.strip_suffix(".png"))
        .unwrap_or("");
    assert!(
        stamp.len() == 15
            && stamp.is_ascii()
            && digits(&stamp[..8])
            && &stamp[8..9] == "-"
            && digits(&stamp[9..]),
        "screenshot name should be hopscope-YYYYMMDD-HHMMSS.png: {name}"
    );
    assert_eq!(
        path.parent().unwrap().canonicalize().unwrap(),
        dir.path().canonicalize().unwrap(),
        "screenshot not in the working directory: {saved}"
    );
    assert!(path.exists(), "{saved}: no such file");
    keep_shot(path, "demo-saved.png");
    let png = Image::read_png(path);
    assert_eq!((png.width, png.height), (WIDTH, HEIGHT), "{saved}");
    let (saved_marker_x, saved_post) = after_marker("saved PNG", &png);
    let newest_saved = Newest::from_marker(before_up, up_line_at, saved_marker_x);
    let saved_cols = enough(
        "saved PNG",
        chirp_free(saved_post.clone(), newest_saved, &[BANDS_1K]),
        20,
        newest_saved,
    );
    let line_saved = measure_line(
        &png,
        1000.0,
        saved_cols.iter().copied(),
        search_1k.clone(),
        &gap_1k,
    );
    println!(
        "saved PNG (newest column {newest_saved:.2?}; marker at x={saved_marker_x}; {} columns in {saved_post:?}): {}",
        saved_cols.len(),
        line_saved.summary()
    );
    assert_line("saved PNG", &line_saved, DARK_LUMA);
    // It is the window's content: the static chrome (title row, frequency labels,
    // colour bar) is pixel-identical to the X screenshot.
    let chrome = [
        (0..WIDTH, 0..PLOT_Y),
        (0..PLOT_X, PLOT_Y..PLOT_Y + PLOT_H),
        (PLOT_X + PLOT_W..WIDTH, PLOT_Y..PLOT_Y + PLOT_H),
    ];
    let chrome_diff: Vec<(usize, usize)> = chrome
        .into_iter()
        .flat_map(|(xs, ys)| ys.flat_map(move |y| xs.clone().map(move |x| (x, y))))
        .filter(|&(x, y)| png.pixel(x, y) != shot2.pixel(x, y))
        .collect();
    assert!(
        chrome_diff.is_empty(),
        "the saved PNG's title, frequency labels and colour bar differ from the window's \
         at {} pixels: {:?}",
        chrome_diff.len(),
        &chrome_diff[..chrome_diff.len().min(20)]
    );

    // Paused with the HUD off, the window is still: what the X server assembled from
    // shared memory (the waterfall's runs, the strips, the overlays) is pixel-identical
    // to the S screenshot, which `present::assemble` builds from the same blits in
    // software.
    x.key(&wid, "space");
    let paused = app.expect_line("Space → paused=true", PATIENCE, |l| {
        is_status_line(l) && field(l, "paused") == "true"
    });
    assert_eq!(field(&paused, "n_fft"), "4096", "{paused}");
    x.key(&wid, "i");
    std::thread::sleep(Duration::from_millis(400));
    let still_path = dir.join("still.png");
    let still = x.screenshot(&wid, &still_path);
    x.key(&wid, "s");
    let saved = app.expect_line("S (paused) → screenshot: PATH", PATIENCE, |l| {
        l.starts_with("screenshot: ")
    });
    let paused_png = Image::read_png(Path::new(saved.trim_start_matches("screenshot: ")));
    let differ = still.diff_count(&paused_png, 0);
    if differ != 0 {
        keep_shot(&still_path, "demo-paused-window.png");
        keep_shot(
            Path::new(saved.trim_start_matches("screenshot: ")),
            "demo-paused-saved.png",
        );
    }
    assert_eq!(
        differ, 0,
        "paused window and its S screenshot differ at {differ} pixels ({saved})"
    );

    let quit_took = quit(&x, &wid, &mut app);
    let stderr = app.stderr();
    assert!(
        stderr.contains("hopscope: window (MIT-SHM)"),
        "Xvfb has MIT-SHM, but the window did not use it: {}",
        stderr.trim()
    );
    println!(
        "demo: window after {window_at:.2?}; Up → status line {up_latency:.2?}; {changed} pixels changed; S → screenshot line {s_latency:.2?}; Q → exit {quit_took:.2?}; test {:.2?}",
        t0.elapsed()
    );
    println!("demo stderr: {}", app.stderr().trim());
}

/// Rows around the 1 kHz line (±30 px) brighter than [`DARK_LUMA`] in column `x` of a
/// log-axis (20 Hz..24 kHz) screenshot: the line's visible thickness.
fn thickness_1k_log(img: &Image, x: usize) -> usize {
    let frac = (1000.0f64 / 20.0).ln() / (24_000.0f64 / 20.0).ln();
    let y = (PLOT_Y + PLOT_H) as f64 - frac * PLOT_H as f64;
    let y = y.round() as usize;
    (y - 30..=y + 30)
        .filter(|&yy| img.luma(x, yy) > DARK_LUMA)
        .count()
}

/// Median [`thickness_1k_log`] over the columns `xs` (the demo's chirp crosses 1 kHz in
/// a few of them; the median ignores it).
fn median_thickness(img: &Image, xs: RangeInclusive<usize>) -> f64 {
    let mut t: Vec<f64> = xs.map(|x| thickness_1k_log(img, x) as f64).collect();
    median(&mut t)
}

#[test]
fn demo_window_rerenders_its_history_after_up() {
    // On a log axis the 1 kHz line is ~2x thicker at n_fft 2048 than at 4096. After Up,
    // the columns from before the change are redrawn at 4096: no marker remains, and the
    // old columns' line is as thin as the new ones'.
    let dir = TempDir::new("e2e-rerender");
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    let (mut app, wid) = start_window(&x, dir.path(), &["--demo", "--freq-scale", "log"], &[]);
    let first = app.expect_line("initial status line", PATIENCE, is_status_line);
    assert_eq!(field(&first, "rerender"), "on", "{first}");
    std::thread::sleep(Duration::from_secs_f64(8.0).saturating_sub(app.elapsed()));
    let before_path = dir.join("before.png");
    let before = x.screenshot(&wid, &before_path);
    keep_shot(&before_path, "rerender-before.png");
    x.key(&wid, "Up");
    app.expect_line("Up → n_fft=4096", PATIENCE, |l| {
        is_status_line(l) && field(l, "n_fft") == "4096"
    });
    std::thread::sleep(Duration::from_millis(1500));
    let after_path = dir.join("after.png");
    let after = x.screenshot(&wid, &after_path);
    keep_shot(&after_path, "rerender-after.png");
    let markers = marker_columns(&after);
    assert!(
        markers.is_empty(),
        "a change marker remains after re-rendering: {markers:?}"
    );
    // Columns 3.2..6.4 s before the newest were analysed at 2048 before the change (the
    // HUD covers the top-left, not the 1 kHz row); the newest 100 after it, at 4096.
    let old = NEWEST_X - 600..=NEWEST_X - 300;
    let new = NEWEST_X - 100..=NEWEST_X;
    let t_before = median_thickness(&before, old.clone());
    let t_old = median_thickness(&after, old);
    let t_new = median_thickness(&after, new);
    println!("1 kHz line thickness (px): before Up {t_before}, after Up: re-rendered history {t_old}, live {t_new}");
    assert!(
        (t_old - t_new).abs() <= 1.0,
        "re-rendered history {t_old} px vs live {t_new} px: not the same analysis"
    );
    assert!(
        t_before >= t_new + 2.0,
        "n_fft 2048 ({t_before} px) should be visibly thicker than 4096 ({t_new} px)"
    );
    quit(&x, &wid, &mut app);
}

#[test]
fn p_saves_a_snapshot_whose_rows_equal_analyze_of_its_audio() {
    let dir = TempDir::new("e2e-snapshot");
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    let (mut app, wid) = start_window(
        &x,
        dir.path(),
        &[
            "--demo",
            "--snapshot-seconds",
            "3",
            "--suggest-seconds",
            "2",
            "--n-fft",
            "1024",
            "--hop",
            "256",
        ],
        &[],
    );
    app.expect_line("initial status line", PATIENCE, is_status_line);
    std::thread::sleep(Duration::from_secs_f64(4.5).saturating_sub(app.elapsed()));
    x.key(&wid, "p");
    let line = app.expect_line("P → snapshot: DIR", PATIENCE, |l| {
        l.starts_with("snapshot: ")
    });
    let folder = Path::new(line.trim_start_matches("snapshot: ")).to_path_buf();
    let name = folder.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("hopscope-snapshot-"), "{name}");
    assert_eq!(
        folder.parent().unwrap().canonicalize().unwrap(),
        dir.path().canonicalize().unwrap()
    );
    // The WAV: 3 s of mono float32 at 48 kHz.
    let reader = hound::WavReader::open(folder.join("audio.wav")).expect("audio.wav");
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (1, 48_000, 32)
    );
    assert_eq!(reader.len(), 3 * 48_000, "3 s of samples");
    // rows.npy is what `hopscope analyze audio.wav` computes with the same parameters.
    let rows = support::read_npy(&folder.join("rows.npy"));
    let again = dir.join("again.npy");
    let out = run_with_timeout(
        support::hopscope_in(
            dir.path(),
            &[
                "analyze",
                folder.join("audio.wav").to_str().unwrap(),
                "-o",
                again.to_str().unwrap(),
                "--n-fft",
                "1024",
                "--hop",
                "256",
            ],
        ),
        PATIENCE,
    );
    assert_eq!(out.code(), Some(0), "{out:?}");
    let again = support::read_npy(&again);
    assert_eq!(rows.shape, vec![1 + (3 * 48_000 - 1024) / 256, 513]);
    assert_eq!(rows.shape, again.shape);
    let worst = rows
        .data
        .iter()
        .zip(&again.data)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 1e-4, "rows.npy vs analyze: {worst} dB");
    // display.npy: the visible columns, one per row of the plot height.
    let display = support::read_npy(&folder.join("display.npy"));
    assert_eq!(display.shape[1], PLOT_H, "{:?}", display.shape);
    assert!(
        display.shape[0] > 300 && display.shape[0] <= PLOT_W,
        "{:?}",
        display.shape
    );
    // The parameters, and nothing left under a temporary name.
    let params = std::fs::read_to_string(folder.join("params.json")).expect("params.json");
    for needle in [
        "\"n_fft\": 1024",
        "\"hop_length\": 256",
        "\"sample_rate\": 48000",
    ] {
        assert!(params.contains(needle), "params.json lacks {needle}");
    }
    for f in [
        "snapshot.json",
        "params.librosa.py",
        "params.torch.py",
        "params.tf.py",
        "params.keras.py",
    ] {
        assert!(folder.join(f).exists(), "{f} missing");
    }
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    // E: the parameters alone, with their snippets, beside it.
    x.key(&wid, "e");
    let line = app.expect_line("E → export: PATH", PATIENCE, |l| {
        l.starts_with("export: ")
    });
    let json = Path::new(line.trim_start_matches("export: ")).to_path_buf();
    let text = std::fs::read_to_string(&json).expect("export JSON");
    assert!(
        text.contains("\"n_fft\": 1024") && text.contains("\"hop_length\": 256"),
        "{text:.300}"
    );
    assert!(
        json.with_extension("librosa.py").exists(),
        "snippet beside {}",
        json.display()
    );
    // G ranks n_fft over the recent history in the background; A applies the best.
    x.key(&wid, "g");
    let head = app.expect_line("G → suggest: last 2.0 s", PATIENCE, |l| {
        l.starts_with("suggest: last ")
    });
    assert!(
        head.starts_with("suggest: last 2.0 s,"),
        "--suggest-seconds 2: {head}"
    );
    let best = app.expect_line("G → suggest: best", PATIENCE, |l| {
        l.starts_with("suggest: best ")
    });
    let best_fft: usize = field(&best, "n_fft").parse().expect("n_fft");
    let best_hop: usize = field(&best, "hop").parse().expect("hop");
    assert!(
        best_fft.is_power_of_two() && (256..=16384).contains(&best_fft),
        "{best}"
    );
    assert_eq!(best_hop, best_fft / 4, "hop = n_fft x 256/1024: {best}");
    if best_fft != 1024 {
        x.key(&wid, "a");
        let applied = app.expect_line("A → the suggested n_fft", PATIENCE, |l| {
            is_status_line(l) && field(l, "n_fft") == best_fft.to_string()
        });
        assert_eq!(field(&applied, "hop"), best_hop.to_string(), "{applied}");
    }
    println!("suggest on the demo: {best}");
    quit(&x, &wid, &mut app);
}

/// Both channels 3000 Hz (bin 128 of n_fft 2048), amplitude 0.5 (−6 dBFS), through
/// the real cpal → ALSA capture path into the window.
#[test]
fn live_window_on_the_alsa_fifo_path_shows_the_tone() {
    let t0 = Instant::now();
    let fx = AlsaFixture::new("e2e-live");
    let feeder = Feeder::start(
        &fx.fifo(),
        240,
        Signal {
            left_hz: 3000.0,
            right_hz: 3000.0,
            amplitude: 0.5,
            lead_s: 0.25,
            tone_s: 60.0,
        },
    );
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    let alsa_config = fx.config_path();
    let (mut app, wid) = start_window(
        &x,
        fx.dir().path(),
        &["--device", "testmic", "--buffer", "240"],
        &[("ALSA_CONFIG_PATH", alsa_config.as_str())],
    );
    let first = app.expect_line("initial status line", PATIENCE, is_status_line);
    assert_default_view(&first);
    std::thread::sleep(Duration::from_millis(3000));
    let stderr = app.stderr();
    assert!(
        stderr.contains(
            "capturing from 'Test microphone (raw file via ALSA file plugin)' (F32, 2 ch, 48000 Hz, buffer 240 frames) via alsa"
        ),
        "expected the FIFO test microphone as F32, 2 ch, 48 kHz, 240 frames\n{}",
        app.dump()
    );
    let shot_path = fx.dir().join("live.png");
    let shot = x.screenshot(&wid, &shot_path);
    keep_shot(&shot_path, "live.png");
    assert_eq!((shot.width, shot.height), (WIDTH, HEIGHT), "window size");

    // The tone is the only thing in the signal: every row > 10 px away is dark.
    let y3k = expected_ys(3000.0);
    let far: Vec<usize> = (PLOT_Y..PLOT_Y + PLOT_H)
        .filter(|&y| y + 10 < *y3k.start() || y > y3k.end() + 10)
        .collect();
    let cols = SAMPLE_COLUMNS.step_by(2);
    let line = measure_line(
        &shot,
        3000.0,
        cols.clone(),
        PLOT_Y..=PLOT_Y + PLOT_H - 1,
        &far,
    );
    println!("live 3 kHz: {}", line.summary());
    assert_line("live, 3 kHz", &line, 40.0);
    // Stricter than medians: no far pixel in any sampled column is lit.
    let brightest_far = cols
        .flat_map(|x| far.iter().map(move |&y| (x, y)))
        .map(|(x, y)| (x, y, shot.luma(x, y)))
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .unwrap();
    println!("live: brightest pixel > 10 px from the line: {brightest_far:?}");
    assert!(
        brightest_far.2 < 60.0,
        "live: lit pixel far from 3 kHz: {brightest_far:?}: {}",
        line.summary()
    );

    let quit_took = quit(&x, &wid, &mut app);
    let report = feeder.finish();
    assert!(report.readers >= 1, "{report:?}");
    println!(
        "live: Q → exit {quit_took:.2?}; feeder {report:?}; test {:.2?}",
        t0.elapsed()
    );
}

#[test]
fn no_display_is_a_clear_error() {
    let dir = TempDir::new("e2e-nodisplay");
    let mut cmd = support::hopscope_in(dir.path(), &["--demo"]);
    cmd.env_remove("DISPLAY").env_remove("WAYLAND_DISPLAY");
    let o = run_with_timeout(cmd, PATIENCE);
    assert_one_line_error("--demo without DISPLAY", &o);
    assert!(
        o.stderr.contains("hopscope render"),
        "the error should point to the offline `hopscope render`: {}",
        o.stderr
    );
    assert!(dir.entries().is_empty(), "left files: {:?}", dir.entries());
    println!(
        "no display: exit 2 in {:.2?}: {}",
        o.elapsed,
        o.stderr.trim()
    );
}

// ---------------------------------------------------------------- compare panes, mel view

/// Compare panes at 1280×720: three bands of 240 rows, each laid out like a one-pane
/// frame of 1280×240 (label line, plot, time ticks).
const BAND_H: usize = HEIGHT / 3;
const BAND_PLOT_H: usize = BAND_H - PLOT_Y - 28;
/// The focused pane's label colour (src/ui/hud.rs `BANNER`).
const BANNER_RGB: [u8; 3] = [255, 200, 40];

/// Label-line pixels of band `b` in `rgb`.
fn label_pixels(img: &Image, b: usize, rgb: [u8; 3]) -> usize {
    (b * BAND_H + 4..b * BAND_H + 15)
        .flat_map(|y| (0..600).map(move |x| (x, y)))
        .filter(|&(x, y)| img.pixel(x, y) == rgb)
        .count()
}

/// Median over `xs` of the brightest luma on band `b`'s rows of `hz` (±1 row).
fn band_line_luma(img: &Image, b: usize, hz: f64, xs: RangeInclusive<usize>) -> f64 {
    let r = (BAND_PLOT_H as f64 * (1.0 - hz / FMAX_HZ)) as usize;
    let y = b * BAND_H + PLOT_Y + r;
    let mut per_column: Vec<f64> = xs
        .map(|x| (y - 1..=y + 1).map(|y| img.luma(x, y)).fold(0.0, f64::max))
        .collect();
    median(&mut per_column)
}

/// Whether the linked cursor's cross (arms of 4 px in `MARKER_RGB`) is centred at
/// (x, y), for some x within ±2 columns (panes may be one row apart in a frame).
fn cross_near(img: &Image, x: usize, y: usize) -> Option<usize> {
    (x - 2..=x + 2).find(|&cx| {
        (1..=4).all(|d| {
            [(cx - d, y), (cx + d, y), (cx, y - d), (cx, y + d)]
                .iter()
                .all(|&(px, py)| img.pixel(px, py) == MARKER_RGB)
        })
    })
}

#[test]
fn tab_splits_the_demo_into_three_window_panes_with_a_linked_readout() {
    let dir = TempDir::new("e2e-compare");
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    let (mut app, wid) = start_window(&x, dir.path(), &["--demo"], &[]);
    let first = app.expect_line("initial status line", PATIENCE, is_status_line);
    assert_eq!(field(&first, "pane"), "1/1", "{first}");
    // 4 s of one pane, then Tab: the three panes re-render those 4 s from the history.
    std::thread::sleep(Duration::from_secs_f64(4.0).saturating_sub(app.elapsed()));
    x.key(&wid, "Tab");
    let tab = app.expect_line("Tab → pane=1/3", PATIENCE, |l| {
        is_status_line(l) && field(l, "pane") == "1/3"
    });
    assert_eq!(field(&tab, "window"), "hamming", "{tab}");
    assert_eq!(field(&tab, "n_fft"), "2048", "{tab}");
    assert_eq!(field(&tab, "hop"), "512", "{tab}");
    std::thread::sleep(Duration::from_millis(1500));
    let path = dir.join("panes.png");
    let shot = x.screenshot(&wid, &path);
    keep_shot(&path, "compare-panes.png");
    // Newest columns (live) and columns 2.1-3.2 s back (before Tab: re-rendered).
    let history = NEWEST_X - 300..=NEWEST_X - 200;
    for b in 0..3 {
        for (what, xs) in [("live", SAMPLE_COLUMNS), ("history", history.clone())] {
            let luma = band_line_luma(&shot, b, 1000.0, xs);
            assert!(
                luma >= BRIGHT_LUMA,
                "pane {}: the 1 kHz line in its {what} columns has luma {luma:.0}",
                b + 1
            );
        }
        let banner = label_pixels(&shot, b, BANNER_RGB);
        if b == 0 {
            assert!(
                banner > 50,
                "the focused pane's label is highlighted ({banner} px)"
            );
        } else {
            assert_eq!(banner, 0, "pane {} is not focused", b + 1);
        }
    }
    // 2 focuses the second pane: its label is highlighted, and the keys act on it.
    x.key(&wid, "2");
    let focus = app.expect_line("2 → pane=2/3", PATIENCE, |l| {
        is_status_line(l) && field(l, "pane") == "2/3"
    });
    assert_eq!(field(&focus, "window"), "hann", "{focus}");
    // The pointer on the second pane's plot: the same time and frequency are marked
    // with a cross in the other two panes (not in the pointed one).
    let (px, prow) = (900, 100);
    x.mouse_move_in(&wid, px, BAND_H + PLOT_Y + prow);
    std::thread::sleep(Duration::from_millis(400));
    let path = dir.join("linked.png");
    let linked = x.screenshot(&wid, &path);
    keep_shot(&path, "compare-linked.png");
    assert!(
        label_pixels(&linked, 1, BANNER_RGB) > 50,
        "pane 2's label is highlighted"
    );
    assert_eq!(label_pixels(&linked, 0, BANNER_RGB), 0, "pane 1's is not");
    for b in [0, 2] {
        assert!(
            cross_near(&linked, px, b * BAND_H + PLOT_Y + prow).is_some(),
            "pane {}: no linked cross at ({px}, {})",
            b + 1,
            b * BAND_H + PLOT_Y + prow
        );
    }
    assert!(
        cross_near(&linked, px, BAND_H + PLOT_Y + prow).is_none(),
        "the pointed pane shows the pointer, not a cross"
    );
    // Paused, HUD off, pointer away: what the X server assembled from the three panes'
    // shared-memory mirrors equals the S screenshot assembled in software.
    x.mouse_move(0, 0);
    x.key(&wid, "i");
    x.key(&wid, "space");
    app.expect_line("Space → paused", PATIENCE, |l| {
        is_status_line(l) && field(l, "paused") == "true"
    });
    std::thread::sleep(Duration::from_millis(400));
    let still_path = dir.join("still.png");
    let still = x.screenshot(&wid, &still_path);
    x.key(&wid, "s");
    let saved = app.expect_line("S → screenshot: PATH", PATIENCE, |l| {
        l.starts_with("screenshot: ")
    });
    let png = Image::read_png(Path::new(saved.trim_start_matches("screenshot: ")));
    let differ = still.diff_count(&png, 0);
    if differ != 0 {
        keep_shot(&still_path, "compare-paused-window.png");
    }
    assert_eq!(
        differ, 0,
        "paused panes and their S screenshot differ at {differ} pixels"
    );
    // Right doubles the focused (second) pane's hop only; Tab goes back to that pane.
    x.key(&wid, "Right");
    let hop = app.expect_line("Right → hop=1024 on pane 2", PATIENCE, |l| {
        is_status_line(l) && field(l, "hop") == "1024"
    });
    assert_eq!(field(&hop, "pane"), "2/3", "{hop}");
    x.key(&wid, "Tab");
    let one = app.expect_line("Tab → pane=1/1", PATIENCE, |l| {
        is_status_line(l) && field(l, "pane") == "1/1"
    });
    assert_eq!(
        (field(&one, "window"), field(&one, "hop")),
        ("hann", "1024"),
        "{one}"
    );
    quit(&x, &wid, &mut app);
    assert!(
        app.stderr().contains("hopscope: window (MIT-SHM)"),
        "{}",
        app.dump()
    );
}

/// HTK mel of `hz` (DSP.md §7: 2595·log10(1 + f/700)).
fn htk_mel(hz: f64) -> f64 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

#[test]
fn mel_view_puts_the_1khz_tone_in_its_bands_stripes() {
    // 40 HTK bands over 0..8 kHz (norm none: a −20 dBFS tone reads about −20 dB).
    const N: usize = 40;
    let dir = TempDir::new("e2e-mel");
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    let (mut app, wid) = start_window(
        &x,
        dir.path(),
        &[
            "--demo",
            "--mel",
            "40",
            "--mel-scale",
            "htk",
            "--fmax",
            "8000",
        ],
        &[],
    );
    let first = app.expect_line("initial status line", PATIENCE, is_status_line);
    assert_eq!(field(&first, "mel"), "40-htk", "{first}");
    std::thread::sleep(Duration::from_secs_f64(3.0).saturating_sub(app.elapsed()));
    let path = dir.join("mel.png");
    let shot = x.screenshot(&wid, &path);
    keep_shot(&path, "mel-view.png");
    // Band i's centre: mel(0) + (i+1)·Δ, Δ = mel(8000)/(N+1). Pixel row y (0 = bottom)
    // shows band floor((y + ½)·N/H): the middle row of band i's stripe is the one
    // nearest (i + ½)·H/N.
    let delta = htk_mel(8000.0) / (N + 1) as f64;
    let stripe_y = |i: usize| -> usize {
        let y_from_bottom = ((i as f64 + 0.5) * PLOT_H as f64 / N as f64) as usize;
        PLOT_Y + PLOT_H - 1 - y_from_bottom
    };
    let stripe_luma = |i: usize| -> f64 {
        let mut v: Vec<f64> = SAMPLE_COLUMNS.map(|x| shot.luma(x, stripe_y(i))).collect();
        median(&mut v)
    };
    let lumas: Vec<f64> = (0..N).map(stripe_luma).collect();
    // 1 kHz lies between the centres of bands 13 and 14 (mel 1000 / Δ = 14.4 → i + 1).
    let below = (htk_mel(1000.0) / delta).floor() as usize - 1;
    for i in [below, below + 1] {
        assert!(
            lumas[i] >= BRIGHT_LUMA,
            "band {i} (centre {:.0} mel) holds the 1 kHz tone: luma {:.0}; all: {lumas:.0?}",
            (i + 1) as f64 * delta,
            lumas[i]
        );
    }
    // Halfway (in mel) between the 1 kHz and 3 kHz tones: no tone, only the noise.
    let quiet = ((htk_mel(1000.0) + htk_mel(3000.0)) / 2.0 / delta).round() as usize - 1;
    assert!(
        lumas[quiet] <= DARK_LUMA,
        "band {quiet} between the tones: luma {:.0}; all: {lumas:.0?}",
        lumas[quiet]
    );
    // M: back to the spectrum; F in the mel view cycles the formula.
    x.key(&wid, "m");
    app.expect_line("M → mel=off", PATIENCE, |l| {
        is_status_line(l) && field(l, "mel") == "off"
    });
    x.key(&wid, "m");
    x.key(&wid, "f");
    app.expect_line("M, F → mel=40-tf", PATIENCE, |l| {
        is_status_line(l) && field(l, "mel") == "40-tf"
    });
    quit(&x, &wid, &mut app);
}

/// Pixels of `rgb` in rows `ys` of the plot.
fn plot_pixels(img: &Image, ys: std::ops::Range<usize>, rgb: [u8; 3]) -> usize {
    ys.flat_map(|y| (PLOT_X..PLOT_X + PLOT_W).map(move |x| (x, y)))
        .filter(|&(x, y)| img.pixel(x, y) == rgb)
        .count()
}

/// Issue 9: a snapshot directory that went away (or is full, or read-only) makes P and
/// E fail; the failure is shown in the window for a few seconds, not only on stderr.
#[test]
fn p_and_e_failures_are_shown_in_the_window() {
    const NOTICE: [u8; 3] = [150, 40, 20];
    let dir = TempDir::new("e2e-notice");
    let shots = dir.join("shots");
    std::fs::create_dir(&shots).expect("mkdir");
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    let (mut app, wid) = start_window(
        &x,
        dir.path(),
        &["--demo", "--snapshot-dir", shots.to_str().expect("utf-8")],
        &[],
    );
    app.expect_line("initial status line", PATIENCE, is_status_line);
    std::thread::sleep(Duration::from_millis(1500));
    let bottom = PLOT_Y + PLOT_H - 24..PLOT_Y + PLOT_H;
    let before = x.screenshot(&wid, &dir.join("before.png"));
    assert_eq!(plot_pixels(&before, bottom.clone(), NOTICE), 0);
    std::fs::remove_dir_all(&shots).expect("rm the snapshot dir");
    for (key, what) in [("p", "snapshot failed"), ("e", "export failed")] {
        x.key(&wid, key);
        let deadline = Instant::now() + PATIENCE;
        while !app.stderr().contains(what) {
            assert!(
                Instant::now() < deadline,
                "{key}: no '{what}'\n{}",
                app.dump()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // A 24 px banner across the plot, less its white text: polled until it shows.
        let shot = dir.join(&format!("{key}.png"));
        let deadline = Instant::now() + PATIENCE;
        let n = loop {
            let n = plot_pixels(&x.screenshot(&wid, &shot), bottom.clone(), NOTICE);
            if n > PLOT_W * 12 || Instant::now() >= deadline {
                break n;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        keep_shot(&shot, &format!("notice-{key}.png"));
        assert!(n > PLOT_W * 12, "{key}: {n} notice pixels\n{}", app.dump());
    }
    assert!(!shots.exists(), "nothing was created in its place");
    quit(&x, &wid, &mut app);
}

// ---------------------------------------------------------------- time axis in seconds

/// The plot columns (window x) whose median luma over 8–16 kHz stands `above` the
/// median of all columns: the demo's clicks (broadband, one a second) light whole
/// columns there; the chirp crosses a row or two, the 6 kHz bursts stay below, the
/// noise floor measures 45–60.
fn broadband_columns(img: &Image, above: f64) -> Vec<usize> {
    let ys = window_y(*rows_containing(16_000.0).start())..window_y(*rows_containing(8000.0).end());
    let medians: Vec<f64> = (PLOT_X..PLOT_X + PLOT_W)
        .map(|x| {
            let mut l: Vec<f64> = ys.clone().map(|y| img.luma(x, y)).collect();
            median(&mut l)
        })
        .collect();
    let floor = median(&mut medians.clone());
    (PLOT_X..PLOT_X + PLOT_W)
        .filter(|&x| medians[x - PLOT_X] > floor + above)
        .collect()
}

/// Runs of adjacent columns (gaps of up to `join` columns joined): one per click line.
fn lines_of(columns: &[usize], join: usize) -> Vec<(usize, usize)> {
    let mut lines: Vec<(usize, usize)> = Vec::new();
    for &x in columns {
        match lines.last_mut() {
            Some((_, end)) if x <= *end + join + 1 => *end = x,
            _ => lines.push((x, x)),
        }
    }
    lines
}

/// The tick labels under the plot as boxes of foreground pixels `(x0, x1)` (glyph gaps
/// of up to 6 px joined: '.' is narrow; labels are at least 8 px apart by construction).
fn tick_label_boxes(img: &Image) -> Vec<(usize, usize)> {
    let fg = [220u8, 220, 220];
    let ys = PLOT_Y + PLOT_H + 8..PLOT_Y + PLOT_H + 16;
    let cols: Vec<usize> = (0..WIDTH)
        .filter(|&x| ys.clone().any(|y| img.pixel(x, y) == fg))
        .collect();
    lines_of(&cols, 6)
}

/// Issue 11: a screen spans the same seconds at every hop. With `--span 5`, the demo's
/// clicks (one a second) make 5 ± 1 lines on screen at hop 1, 64, 512 and 2048 alike,
/// one second of columns apart; the 3 kHz tone stays on its rows; the time-tick labels
/// are one 1-2-5 step apart and never overlap.
#[test]
fn a_screen_spans_the_same_seconds_at_every_hop() {
    let dir = TempDir::new("e2e-span");
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    let columns_per_s = PLOT_W as f64 / 5.0;
    let mut counts = Vec::new();
    for hop in ["1", "64", "512", "2048"] {
        // n_fft 1024, 4096 for hop 2048 (Hann frames that overlap by half: at hop =
        // n_fft a click near a frame's edge gets almost no weight in any frame, and
        // some seconds show none). A click lights a window plus a hop: ≤ 128 ms.
        let n_fft = if hop == "2048" { "4096" } else { "1024" };
        let args = ["--demo", "--n-fft", n_fft, "--hop", hop, "--span", "5"];
        let (mut app, wid) = start_window(&x, dir.path(), &args, &[]);
        let first = app.expect_line("initial status line", PATIENCE, is_status_line);
        assert_eq!(field(&first, "hop"), hop, "{first}");
        assert_eq!(field(&first, "span_s"), "5", "{first}");
        // Until a full screen of columns is drawn (the history is empty at start; a slow
        // machine makes them later, never fewer): the plot's oldest column is lit.
        let path = dir.join(&format!("span-hop-{hop}.png"));
        let ys =
            window_y(*rows_containing(16_000.0).start())..window_y(*rows_containing(8000.0).end());
        let full = |img: &Image| {
            let mut l: Vec<f64> = ys.clone().map(|y| img.luma(PLOT_X + 1, y)).collect();
            median(&mut l) > 25.0
        };
        let waited = Instant::now();
        std::thread::sleep(Duration::from_secs(5));
        let mut img = x.screenshot(&wid, &path);
        while !full(&img) {
            assert!(
                waited.elapsed() < PATIENCE,
                "hop {hop}: the screen never filled\n{}",
                app.dump()
            );
            std::thread::sleep(Duration::from_millis(500));
            img = x.screenshot(&wid, &path);
        }
        keep_shot(&path, &format!("span-hop-{hop}.png"));
        quit(&x, &wid, &mut app);

        let lines = lines_of(&broadband_columns(&img, 12.0), 2);
        let centres: Vec<f64> = lines.iter().map(|(a, b)| (a + b) as f64 / 2.0).collect();
        println!("hop {hop}: click lines at {centres:?}");
        assert!(
            (4..=6).contains(&lines.len()),
            "hop {hop}: {} click lines on a 5 s screen: {lines:?}",
            lines.len()
        );
        for w in centres.windows(2) {
            let apart_s = (w[1] - w[0]) / columns_per_s;
            assert!(
                (apart_s - 1.0).abs() < 0.05,
                "hop {hop}: clicks {apart_s:.3} s apart: {centres:?}"
            );
        }
        // Each line is narrow: a click lasts a window plus one hop.
        for (a, b) in &lines {
            let width_s = (b - a + 1) as f64 / columns_per_s;
            assert!(
                width_s < 0.15,
                "hop {hop}: a click line {width_s:.3} s wide"
            );
        }
        counts.push(lines.len());

        // The 3 kHz tone stays on its rows over the newest second.
        let xs = NEWEST_X - columns_per_s as usize..=NEWEST_X;
        let ys = expected_ys(3000.0);
        let mut on: Vec<f64> = xs
            .clone()
            .map(|x| ys.clone().map(|y| img.luma(x, y)).fold(0.0, f64::max))
            .collect();
        let mut off: Vec<f64> = xs.map(|x| img.luma(x, ys.start() - 8)).collect();
        let (on, off) = (median(&mut on), median(&mut off));
        assert!(
            on > BRIGHT_LUMA && off < DARK_LUMA,
            "hop {hop}: 3 kHz {on:.0}, 8 rows above {off:.0}"
        );

        // Tick labels: -0.5s … -4.5s (ticks ≥ 110 px apart: 0.48 s → the 0.5 s step),
        // 0.5 s apart, none over another (boxes no wider than one '-4.5s').
        let boxes = tick_label_boxes(&img);
        println!("hop {hop}: tick label boxes {boxes:?}");
        assert!((9..=10).contains(&boxes.len()), "hop {hop}: {boxes:?}");
        for (a, b) in &boxes {
            assert!(
                b - a < 5 * 8,
                "hop {hop}: a label box {a}..{b} wider than '-4.5s'"
            );
        }
        for w in boxes.windows(2) {
            let apart = (w[1].0 + w[1].1) as f64 / 2.0 - (w[0].0 + w[0].1) as f64 / 2.0;
            assert!(
                (apart / columns_per_s - 0.5).abs() < 0.02,
                "hop {hop}: {boxes:?}"
            );
        }
    }
    let (lo, hi) = (
        counts.iter().min().expect("4"),
        counts.iter().max().expect("4"),
    );
    assert!(
        hi - lo <= 1,
        "click lines per hop 1/64/512/2048: {counts:?}"
    );
}

/// Issue 11 §2: hop 1 at n_fft 1024 on 48 kHz, in the window and headless: no row and no
/// sample dropped (the counters, not the speed: the ring holds 5.4 s, these runs last 4;
/// a slower machine makes fewer rows, never drops), and in the window every row is
/// folded into time columns.
#[test]
fn hop_1_drops_no_row_and_no_sample_in_the_window_and_headless() {
    let dir = TempDir::new("e2e-hop1");
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    let args = ["--demo", "--n-fft", "1024", "--hop", "1", "--duration", "4"];
    let (mut app, _wid) = start_window(&x, dir.path(), &args, &[]);
    let status = app.wait_exit(PATIENCE).expect("exits after --duration");
    assert_eq!(status.code(), Some(0), "{}", app.dump());
    let summary = app
        .stderr()
        .lines()
        .find(|l| l.starts_with("hopscope: stopped after"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no exit summary\n{}", app.dump()));
    println!("window: {summary}");
    let number_before = |s: &str, what: &str| -> u64 {
        let at = s.find(what).unwrap_or_else(|| panic!("no {what:?} in {s}"));
        let word = s[..at].split_whitespace().next_back().expect("a number");
        word.trim_start_matches('(').parse().expect("a number")
    };
    assert_eq!(number_before(&summary, "dropped;"), 0, "samples: {summary}");
    let rows = number_before(&summary, "rows (");
    let folded = number_before(&summary, "folded into");
    assert!(rows > 10_000, "{summary}");
    assert_eq!(folded, rows, "every row folded: {summary}");
    let rows_part = &summary[summary.find("rows (").expect("rows")..];
    assert_eq!(number_before(rows_part, "dropped;"), 0, "rows: {summary}");

    let mut cmd = std::process::Command::new(HOPSCOPE);
    cmd.arg("--headless").args(args);
    let out = run_with_timeout(cmd, PATIENCE);
    let last = out
        .stdout
        .lines()
        .rfind(|l| l.starts_with("status "))
        .unwrap_or_else(|| panic!("no status line\n{}", out.stderr));
    println!("headless: {last}");
    assert_eq!(field(last, "dropped_rows"), "0", "{last}");
    assert_eq!(field(last, "dropped_samples"), "0", "{last}");
    assert_eq!(
        field(last, "rows_folded"),
        "0",
        "headless rows are not folded: {last}"
    );
    assert!(
        field(last, "rows").parse::<u64>().expect("rows") > 10_000,
        "{last}"
    );
}

/// `--frontend whisper` on the demo: the pane shows Whisper's 80 log-mel bands (the
/// 1 kHz tone's band stripe bright, a band between the 1 and 3 kHz tones dark), N and
/// Shift+N cycle the front-ends through `off`, and E writes the front-end's JSON, which
/// `--frontend PATH.json` accepts.
#[test]
fn frontend_whisper_pane_shows_the_tone_in_its_band_and_n_cycles() {
    const N: usize = 80;
    let dir = TempDir::new("e2e-frontend");
    let x = Xvfb::start(SCREEN.0, SCREEN.1);
    let (mut app, wid) = start_window(&x, dir.path(), &["--demo", "--frontend", "whisper"], &[]);
    let first = app.expect_line("initial status line", PATIENCE, is_status_line);
    assert_eq!(field(&first, "frontend"), "whisper", "{first}");
    std::thread::sleep(Duration::from_secs_f64(3.0).saturating_sub(app.elapsed()));
    let path = dir.join("whisper.png");
    let shot = x.screenshot(&wid, &path);
    keep_shot(&path, "frontend-whisper.png");
    // Whisper's bands: Slaney mel 0..8 kHz, band i's centre at mel edge i + 1 of N + 2;
    // stripe i (0 = bottom) around (i + ½)·H/N.
    let spec = hopscope::config::frontend::resolve_static("whisper", "test").expect("built in");
    let band_of = |hz: f64| {
        (0..N)
            .min_by(|&a, &b| {
                (spec.band_hz(a) - hz)
                    .abs()
                    .total_cmp(&(spec.band_hz(b) - hz).abs())
            })
            .expect("bands")
    };
    let stripe_luma = |i: usize| -> f64 {
        let y = PLOT_Y + PLOT_H - 1 - ((i as f64 + 0.5) * PLOT_H as f64 / N as f64) as usize;
        let mut v: Vec<f64> = SAMPLE_COLUMNS.map(|x| shot.luma(x, y)).collect();
        median(&mut v)
    };
    let (tone, quiet) = (band_of(1000.0), band_of(1750.0));
    let lumas: Vec<f64> = (0..N).map(stripe_luma).collect();
    assert!(
        lumas[tone] > lumas[quiet] + 40.0 && lumas[tone] > 120.0,
        "1 kHz band {tone}: luma {:.0}, band {quiet} (1.75 kHz): {:.0}; all {lumas:.0?}",
        lumas[tone],
        lumas[quiet]
    );
    x.key(&wid, "n");
    app.expect_line("N → whisper-128", PATIENCE, |l| {
        is_status_line(l) && field(l, "frontend") == "whisper-128"
    });
    x.key(&wid, "shift+n");
    x.key(&wid, "shift+n");
    app.expect_line("Shift+N twice → off", PATIENCE, |l| {
        is_status_line(l) && field(l, "frontend") == "off"
    });
    x.key(&wid, "n");
    app.expect_line("N → whisper", PATIENCE, |l| {
        is_status_line(l) && field(l, "frontend") == "whisper"
    });
    x.key(&wid, "e");
    let line = app.expect_line("E → the front-end's JSON", PATIENCE, |l| {
        l.starts_with("export: ") && l.contains("hopscope-frontend-whisper-")
    });
    quit(&x, &wid, &mut app);
    let json = line
        .strip_prefix("export: ")
        .and_then(|l| l.split(" (").next())
        .expect("a path");
    let back = hopscope::config::frontend::resolve(json, "--frontend").expect("loads back");
    assert_eq!(back.n_fft, 400);
    assert_eq!(back.bands(), 80);
}
