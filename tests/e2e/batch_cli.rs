//! Issue 12 §4: `analyze` and `render` over several inputs and directories
//! (`-o DIR/`, `--recursive`, `--export` beside each output), end to end: which files are
//! taken, where their outputs go, each output equal to the one-file run of its input,
//! failures reported one per line while the others are written, the summary line and
//! the exit code; and the progress bar, drawn on a terminal only (a pty from `script`,
//! util-linux) and never into captured stderr.
//!
//! Oracles: the one-file form (`IN -o OUT.npy`, unchanged, tested since the start)
//! for each output's bytes; the framing formula `1 + (n − win)/hop` for the shapes; the
//! expected lists of files typed in.

use std::path::Path;
use std::process::Command;

use crate::support::{
    assert_one_line_error, read_npy, run_with_timeout, Outcome, TempDir, HOPSCOPE, PATIENCE,
};

/// A 16-bit WAV of a `hz` sine at half scale, `frames` frames of `channels` channels.
fn write_wav(path: &Path, rate: u32, channels: u16, frames: usize, hz: f64) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for n in 0..frames {
        let x = 0.5 * (2.0 * std::f64::consts::PI * hz * n as f64 / f64::from(rate)).sin();
        for _ in 0..channels {
            w.write_sample((x * 32767.0).round() as i16)
                .expect("sample");
        }
    }
    w.finalize().expect("finalize");
}

fn run(dir: &Path, args: &[&str]) -> Outcome {
    let mut cmd = Command::new(HOPSCOPE);
    cmd.current_dir(dir).args(args);
    run_with_timeout(cmd, PATIENCE)
}

/// Names under `dir`, relative, sorted (directories too, with a trailing '/').
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(at).expect("read dir") {
            let path = e.expect("entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .display()
                .to_string();
            if path.is_dir() {
                out.push(format!("{rel}/"));
                walk(root, &path, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// in/ a.wav (16 kHz, 1 s) B.WAV (8 kHz stereo, 0.5 s) notes.txt .hidden.wav
///     song.Flac (ffmpeg's FLAC of song-source.wav, beside in/: 16 kHz, 0.5 s)
///     sub/ c.wav (16 kHz, 0.75 s)
fn tree(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    write_wav(&dir.join("in/a.wav"), 16_000, 1, 16_000, 1000.0);
    write_wav(&dir.join("in/B.WAV"), 8_000, 2, 4_000, 500.0);
    write_wav(&dir.join("song-source.wav"), 16_000, 1, 8_000, 2000.0);
    crate::support::codecs::ffmpeg(
        &dir.join("song-source.wav"),
        &["-c:a", "flac", "-f", "flac"],
        &dir.join("in/song.Flac"),
    );
    write_wav(&dir.join("in/sub/c.wav"), 16_000, 1, 12_000, 250.0);
    write_wav(&dir.join("in/.hidden.wav"), 16_000, 1, 16_000, 1000.0);
    std::fs::write(dir.join("in/notes.txt"), "not audio").expect("write");
    dir
}

/// Asserts that `out` equals the one-file `analyze` of `input` (bytes), with `extra`.
fn same_as_one_file(dir: &TempDir, input: &str, out: &str, extra: &[&str]) {
    let reference = format!("ref-{}.npy", out.replace('/', "_"));
    let mut args = vec!["analyze", input, "-o", &reference];
    args.extend_from_slice(extra);
    let o = run(dir.path(), &args);
    assert_eq!(o.code(), Some(0), "{o:?}");
    let (a, b) = (
        std::fs::read(dir.join(out)).expect("batch output"),
        std::fs::read(dir.join(&reference)).expect("one-file output"),
    );
    assert!(a == b, "{out} differs from the one-file run of {input}");
}

#[test]
fn a_directory_is_mirrored_and_each_output_equals_the_one_file_run() {
    let dir = tree("batch-dir");
    let o = run(dir.path(), &["analyze", "in", "-o", "out/"]);
    assert_eq!(o.code(), Some(0), "{o:?}");
    assert_eq!(o.stderr, "", "no bar, no error: {o:?}");
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", o.stdout);
    assert!(
        lines[..3].iter().all(|l| l.starts_with("wrote out/")),
        "{}",
        o.stdout
    );
    // notes.txt, .hidden.wav and sub/ (no --recursive) are skipped.
    assert_eq!(lines[3], "3 files: 3 written, 0 failed (3 skipped)");
    assert_eq!(listing(&dir.join("out")), ["B.npy", "a.npy", "song.npy"]);
    // 1 + (16000 − 2048)/512 = 28 rows of 1025 bins; 1 + (4000 − 2048)/512 = 4.
    assert_eq!(read_npy(&dir.join("out/a.npy")).shape, [28, 1025]);
    assert_eq!(read_npy(&dir.join("out/B.npy")).shape, [4, 1025]);
    same_as_one_file(&dir, "in/a.wav", "out/a.npy", &[]);
    same_as_one_file(&dir, "in/B.WAV", "out/B.npy", &[]);
    same_as_one_file(&dir, "in/song.Flac", "out/song.npy", &[]);
    // FLAC is lossless: the rows of the WAV it was made from.
    same_as_one_file(&dir, "song-source.wav", "out/song.npy", &[]);

    // --recursive, into an existing directory given without the slash, other flags.
    std::fs::create_dir(dir.join("deep")).expect("mkdir");
    let flags = ["--n-fft", "512", "--hop", "160", "--scale", "magnitude"];
    let mut args = vec!["analyze", "in", "-o", "deep", "--recursive"];
    args.extend_from_slice(&flags);
    let o = run(dir.path(), &args);
    assert_eq!(o.code(), Some(0), "{o:?}");
    assert!(
        o.stdout
            .ends_with("4 files: 4 written, 0 failed (2 skipped)\n"),
        "{}",
        o.stdout
    );
    assert_eq!(
        listing(&dir.join("deep")),
        ["B.npy", "a.npy", "song.npy", "sub/", "sub/c.npy"]
    );
    // 1 + (12000 − 512)/160 = 72 rows of 257 bins.
    assert_eq!(read_npy(&dir.join("deep/sub/c.npy")).shape, [72, 257]);
    same_as_one_file(&dir, "in/sub/c.wav", "deep/sub/c.npy", &flags);
}

#[test]
fn failures_are_reported_one_per_line_and_the_others_written_exit_1() {
    let dir = TempDir::new("batch-fail");
    write_wav(&dir.join("in/good.wav"), 16_000, 1, 16_000, 1000.0);
    std::fs::write(dir.join("in/bad.wav"), b"RIFF....WAVEjunk").expect("write");
    write_wav(&dir.join("in/short.wav"), 16_000, 1, 100, 1000.0);
    let o = run(dir.path(), &["analyze", "in", "-o", "out/", "--export"]);
    assert_eq!(o.code(), Some(1), "{o:?}");
    assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    let mut errors: Vec<&str> = o.stderr.lines().collect();
    errors.sort();
    assert_eq!(errors.len(), 2, "{}", o.stderr);
    assert!(
        errors[0].starts_with("hopscope: error: in/bad.wav: "),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].starts_with("hopscope: error: in/short.wav: "),
        "{}",
        errors[1]
    );
    assert!(errors[1].contains("too short"), "{}", errors[1]);
    assert!(
        o.stdout
            .starts_with("wrote out/good.npy: 28 rows x 1025 bins"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.ends_with(
            "3 files: 1 written, 2 failed (0 skipped): failed in/bad.wav, in/short.wav\n"
        ),
        "{}",
        o.stdout
    );
    // The good file and its export; nothing of the failed ones, not even a temporary.
    assert_eq!(
        listing(&dir.join("out")),
        [
            "good.json",
            "good.keras.py",
            "good.librosa.py",
            "good.npy",
            "good.tf.py",
            "good.torch.py"
        ]
    );
}

#[test]
fn render_writes_each_png_and_its_export_beside_it() {
    let dir = tree("batch-render");
    write_wav(&dir.join("other/d.wav"), 16_000, 1, 16_000, 3000.0);
    let o = run(
        dir.path(),
        &[
            "render",
            "in/a.wav",
            "other/d.wav",
            "-o",
            "pngs/",
            "--export",
            "--n-fft",
            "1024",
        ],
    );
    assert_eq!(o.code(), Some(0), "{o:?}");
    assert!(o
        .stdout
        .ends_with("2 files: 2 written, 0 failed (0 skipped)\n"));
    let mut expect = Vec::new();
    for stem in ["a", "d"] {
        for ext in ["json", "keras.py", "librosa.py", "png", "tf.py", "torch.py"] {
            expect.push(format!("{stem}.{ext}"));
        }
    }
    assert_eq!(listing(&dir.join("pngs")), expect);
    for (input, stem) in [("in/a.wav", "a"), ("other/d.wav", "d")] {
        let one = format!("{stem}-one.png");
        let r = run(
            dir.path(),
            &["render", input, "-o", &one, "--n-fft", "1024"],
        );
        assert_eq!(r.code(), Some(0), "{r:?}");
        let batch = std::fs::read(dir.join(&format!("pngs/{stem}.png"))).expect("png");
        assert!(
            batch == std::fs::read(dir.join(&one)).expect("png"),
            "{stem}.png"
        );
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(&format!("pngs/{stem}.json"))).expect("json"),
        )
        .expect("JSON");
        assert_eq!(json["n_fft"], 1024);
        assert!(json["snippets"]["librosa"]
            .as_str()
            .is_some_and(|s| s.contains(&format!("\"{stem}.json\""))));
    }
}

#[test]
fn bad_combinations_are_one_line_errors_before_any_work() {
    let dir = tree("batch-errors");
    write_wav(&dir.join("in/sub/a.wav"), 16_000, 1, 16_000, 1000.0);
    let cases: &[(&[&str], &str)] = &[
        (
            &["analyze", "in/a.wav", "in/sub/a.wav", "-o", "out/"],
            "would both write",
        ),
        (&["analyze", "in", "-o", "out.npy"], "-o DIR/"),
        (
            &["analyze", "in/a.wav", "in/B.WAV", "-o", "out.npy"],
            "-o DIR/",
        ),
        (
            &["analyze", "-", "in/a.wav", "-o", "out/"],
            "only be the one input",
        ),
        (&["analyze", "-", "-o", "out/"], "no file name"),
        (
            &["analyze", "in", "-o", "out/", "--export", "p.json"],
            "--export without a path",
        ),
        (&["render", "in", "-o", "out.png"], "-o DIR/"),
    ];
    for (args, says) in cases {
        let o = run(dir.path(), args);
        assert_one_line_error(&format!("{args:?}"), &o);
        assert!(o.stderr.contains(says), "{args:?}: {}", o.stderr);
        assert!(!dir.join("out").exists() && !dir.join("out.npy").exists());
    }
}

#[test]
fn the_one_file_form_prints_what_it_always_did() {
    let dir = tree("batch-one");
    let o = run(dir.path(), &["analyze", "in/a.wav", "-o", "x.npy"]);
    assert_eq!(o.code(), Some(0), "{o:?}");
    assert_eq!(o.stderr, "");
    assert_eq!(o.stdout.lines().count(), 1, "{}", o.stdout);
    assert!(
        o.stdout.starts_with(
            "wrote x.npy: 28 rows x 1025 bins float32 (db) from in/a.wav (16000 Hz, 1 ch, 1.000 s) in "
        ),
        "{}",
        o.stdout
    );
    // --export without a path: x.json beside x.npy.
    let o = run(
        dir.path(),
        &["analyze", "in/a.wav", "-o", "y.npy", "--export"],
    );
    assert_eq!(o.code(), Some(0), "{o:?}");
    assert!(o.stdout.contains("\nexported y.json\n"), "{}", o.stdout);
    // A failure stays one line and exit code 2.
    let o = run(dir.path(), &["analyze", "in/notes.txt", "-o", "z.npy"]);
    assert_one_line_error("one bad file", &o);
}

/// Runs `script` (util-linux) to give `command` a terminal; what the terminal showed.
fn on_a_terminal(dir: &Path, command: &str) -> String {
    let typescript = dir.join("typescript");
    let mut cmd = Command::new("script");
    cmd.current_dir(dir)
        .env("H", HOPSCOPE)
        .env("HOPSCOPE_PROGRESS_DELAY_MS", "0")
        .args(["-qec", command])
        .arg(&typescript);
    let o = run_with_timeout(cmd, PATIENCE);
    assert_eq!(
        o.code(),
        Some(0),
        "script (util-linux) must run `{command}`: {o:?}"
    );
    let text = std::fs::read(&typescript).expect("typescript");
    String::from_utf8_lossy(&text).into_owned()
}

/// What `hopscope` is waiting for while the bar could show: standard input that comes
/// after a second, so the work certainly lasts longer than the bar's delay (0 here).
const SLOW: &str = r#"(sleep 1; cat in/a.wav) | "$H" analyze - -o slow.npy"#;

#[test]
fn the_progress_bar_shows_on_a_terminal_only_and_not_with_quiet() {
    let dir = tree("batch-bar");
    let shown = on_a_terminal(dir.path(), SLOW);
    assert!(shown.contains("0/1 files, 0:00 audio"), "{shown:?}");
    assert!(shown.contains("wrote slow.npy"), "{shown:?}");
    let quiet = on_a_terminal(dir.path(), &format!("{SLOW} --quiet"));
    assert!(quiet.contains("wrote slow.npy"), "{quiet:?}");
    assert!(!quiet.contains("files"), "--quiet: {quiet:?}");
    // stderr captured (a pipe), the same slow run and a batch: nothing on stderr at all.
    let mut cmd = Command::new("sh");
    cmd.current_dir(dir.path())
        .env("H", HOPSCOPE)
        .env("HOPSCOPE_PROGRESS_DELAY_MS", "0")
        .args(["-c", &format!(r#"{SLOW} && "$H" render in -o pngs/ -r"#)]);
    let o = run_with_timeout(cmd, PATIENCE);
    assert_eq!(o.code(), Some(0), "{o:?}");
    assert_eq!(o.stderr, "", "no bar when stderr is not a terminal");
    assert!(
        o.stdout
            .ends_with("4 files: 4 written, 0 failed (2 skipped)\n"),
        "{}",
        o.stdout
    );
}

/// A signal during a batch: the files written stay, the one in progress leaves nothing,
/// no other file starts; the summary line, then the one error line, exit code 2.
#[cfg(target_os = "linux")]
#[test]
fn a_signal_stops_a_batch_keeping_the_files_done() {
    use crate::support::live::LiveChild;
    let dir = TempDir::new("batch-signal");
    write_wav(&dir.join("in/a-short.wav"), 16_000, 1, 16_000, 1000.0);
    // 60 s at 48 kHz, hop 32: seconds of work for the debug binary.
    write_wav(&dir.join("in/b-long.wav"), 48_000, 1, 60 * 48_000, 1000.0);
    write_wav(&dir.join("in/c-short.wav"), 16_000, 1, 16_000, 1000.0);
    let mut cmd = Command::new(HOPSCOPE);
    cmd.current_dir(dir.path()).args([
        "analyze", "in", "-o", "out/", "--n-fft", "4096", "--hop", "32", "--mel", "40", "--export",
    ]);
    // One file at a time, so that c-short.wav certainly waits behind b-long.wav.
    cmd.env("RAYON_NUM_THREADS", "1");
    let mut app = LiveChild::spawn("hopscope batch", cmd);
    app.expect_line("a-short.wav written", PATIENCE, |l| {
        l.starts_with("wrote out/a-short.npy")
    });
    let started = std::time::Instant::now();
    let temporary = || {
        listing(&dir.join("out"))
            .iter()
            .any(|n| n.starts_with(".b-long.npy.tmp-"))
    };
    while !temporary() {
        assert!(started.elapsed() < PATIENCE, "b-long.wav never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    app.signal("INT");
    let status = app.wait_exit(PATIENCE).expect("exits");
    assert_eq!(status.code(), Some(2), "{}", app.dump());
    assert_eq!(
        app.stdout_lines().last().map(String::as_str),
        Some("3 files: 1 written, 0 failed (0 skipped)"),
        "{}",
        app.dump()
    );
    assert_eq!(
        app.stderr(),
        "hopscope: error: interrupted by SIGINT: stopped, and removed the partial outputs\n"
    );
    assert_eq!(
        listing(&dir.join("out")),
        [
            "a-short.json",
            "a-short.keras.py",
            "a-short.librosa.py",
            "a-short.npy",
            "a-short.tf.py",
            "a-short.torch.py"
        ]
    );
}
