//! Issue 12 §5 (c): WAV input that can be read only once, standard input (`-`), a pipe
//! (`/dev/stdin`, `<(…)`), a FIFO, is read exactly once and gives exactly the rows (and
//! the image) the same bytes give from a regular file. Before, the path was opened twice
//! and the length taken from the file system: a valid WAV through a pipe failed as
//! truncated, and `-` was a missing file.

use std::path::Path;
use std::process::Command;

use crate::support::image::decode_png;
use crate::support::{assert_one_line_error, run_with_timeout, TempDir, HOPSCOPE, PATIENCE};

/// A RIFF chunk, padded to an even length.
fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(body.len() as u32).to_le_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// A 16-bit mono WAV of a 1 kHz tone at −6.02 dBFS, 8 kHz, 1 s, with a 3-byte `LIST`
/// chunk (and its pad byte) before `data` and another chunk after it: what tagged files
/// look like.
fn tagged_wav() -> Vec<u8> {
    let rate = 8000u32;
    let data: Vec<u8> = (0..rate as usize)
        .flat_map(|n| {
            let x = 0.5 * (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / 8000.0).sin();
            ((x * 32767.0).round() as i16).to_le_bytes()
        })
        .collect();
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * 2).to_le_bytes());
    fmt.extend_from_slice(&2u16.to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    let mut body = b"WAVE".to_vec();
    body.extend(chunk(b"fmt ", &fmt));
    body.extend(chunk(b"LIST", b"abc"));
    body.extend(chunk(b"data", &data));
    body.extend(chunk(b"id3 ", b"tags after the data"));
    let mut wav = b"RIFF".to_vec();
    wav.extend_from_slice(&(body.len() as u32).to_le_bytes());
    wav.extend(body);
    wav
}

fn sh(dir: &Path, script: &str) -> crate::support::process::Outcome {
    let mut cmd = Command::new("sh");
    cmd.current_dir(dir).env("H", HOPSCOPE).args(["-c", script]);
    run_with_timeout(cmd, PATIENCE)
}

fn ok(what: &str, o: &crate::support::process::Outcome) {
    assert_eq!(o.code(), Some(0), "{what}: {}", o.stderr);
}

#[test]
fn stdin_pipes_and_fifos_give_the_rows_and_image_of_the_file() {
    let dir = TempDir::new("stdin-input");
    std::fs::write(dir.join("t.wav"), tagged_wav()).expect("write wav");
    ok("file", &sh(dir.path(), r#""$H" analyze t.wav -o file.npy"#));
    ok(
        "render file",
        &sh(
            dir.path(),
            r#""$H" render t.wav -o file.png --freq-scale log"#,
        ),
    );
    let cases = [
        (
            "'-' from a pipe",
            r#"cat t.wav | "$H" analyze - -o a.npy"#,
            "a.npy",
        ),
        (
            "'-' redirected",
            r#""$H" analyze - -o b.npy < t.wav"#,
            "b.npy",
        ),
        (
            "/dev/stdin from a pipe",
            r#"cat t.wav | "$H" analyze /dev/stdin -o c.npy"#,
            "c.npy",
        ),
        (
            "a FIFO",
            r#"mkfifo f && { cat t.wav > f & } && "$H" analyze f -o d.npy"#,
            "d.npy",
        ),
    ];
    let file = std::fs::read(dir.join("file.npy")).expect("file.npy");
    for (what, script, out) in cases {
        ok(what, &sh(dir.path(), script));
        let got = std::fs::read(dir.join(out)).expect("output");
        assert!(got == file, "{what}: rows differ from the file's");
    }
    ok(
        "render from a pipe",
        &sh(
            dir.path(),
            r#"cat t.wav | "$H" render - -o pipe.png --freq-scale log"#,
        ),
    );
    // The same pixels but the title line's, which names the source ('-' vs 't.wav').
    let (a, b) = (
        decode_png(&dir.join("file.png")),
        decode_png(&dir.join("pipe.png")),
    );
    assert_eq!((a.width, a.height), (b.width, b.height));
    let differ: Vec<usize> = (0..a.pixels.len())
        .filter(|&i| a.pixels[i] != b.pixels[i])
        .map(|i| i / a.width)
        .collect();
    assert!(!differ.is_empty(), "the title names the source");
    assert!(
        differ.iter().all(|&y| y < 20),
        "render: pixels below the title line differ (rows {:?})",
        &differ[..differ.len().min(5)]
    );
    // Suggest and live replay read it too; live finds the tone at its level.
    ok("suggest", &sh(dir.path(), r#"cat t.wav | "$H" suggest -"#));
    let live = sh(
        dir.path(),
        r#"cat t.wav | "$H" --headless --file - --duration 1"#,
    );
    ok("live --file -", &live);
    let last = live
        .stdout
        .lines()
        .rfind(|l| l.starts_with("status "))
        .unwrap_or_else(|| panic!("no status line: {}", live.stderr));
    let field = |k: &str| -> f64 {
        last.split_whitespace()
            .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {k}: {last}"))
            .parse()
            .expect("a number")
    };
    assert!((field("peak_hz") - 1000.0).abs() < 8.0, "{last}");
    assert!((field("peak_dbfs") + 6.02).abs() < 0.5, "{last}");
}

#[test]
fn an_empty_or_broken_stream_is_one_line_and_leaves_no_output() {
    let dir = TempDir::new("stdin-bad");
    std::fs::write(dir.join("t.wav"), tagged_wav()).expect("write wav");
    let o = sh(dir.path(), r#""$H" analyze - -o e.npy < /dev/null"#);
    assert_one_line_error("empty stdin", &o);
    assert!(o.stderr.contains("'-'"), "{}", o.stderr);
    let o = sh(
        dir.path(),
        r#"head -c 3000 t.wav | "$H" analyze - -o h.npy"#,
    );
    assert_one_line_error("truncated pipe", &o);
    assert!(o.stderr.contains("truncated"), "{}", o.stderr);
    for out in ["e.npy", "h.npy"] {
        assert!(!dir.join(out).exists(), "{out} left behind");
    }
}
