//! Damaged and unknown files of the formats symphonia reads, through the real binary:
//! where symphonia panics on a header (a debug build checks its arithmetic), the panic
//! is caught and quiet, and the run fails like any bad input — exit code 2, one line on
//! stderr naming the file, no output left; a corrupt FLAC frame is a warning and the run
//! goes on (the positive control). The in-process corpus is `tests/it/fuzz_formats.rs`.

use crate::support;
use crate::support::codecs::{ffmpeg, source_ints, write_wav};
use crate::support::{assert_one_line_error, hopscope_in, run_with_timeout, Outcome, TempDir};

fn analyze(dir: &TempDir, file: &str) -> Outcome {
    let args = ["analyze", file, "-o", "out.npy"];
    run_with_timeout(hopscope_in(dir.path(), &args), support::PATIENCE)
}

/// ffmpeg's `name` of 0.5 s of the source, with the big-endian word at `at` set to
/// `value` (if any).
fn fixture(dir: &TempDir, name: &str, args: &[&str], patch: Option<(usize, u32)>) {
    let wav = dir.join("src.wav");
    if !wav.exists() {
        write_wav(&wav, &source_ints(24_000, 16), 16);
    }
    let path = dir.join(name);
    ffmpeg(&wav, args, &path);
    if let Some((at, value)) = patch {
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[at..at + 4].copy_from_slice(&value.to_be_bytes());
        std::fs::write(&path, bytes).expect("write");
    }
}

#[test]
fn damaged_headers_fail_with_one_line_and_no_panic_message() {
    let dir = TempDir::new("damaged-formats");
    // AIFF's COMM: 65535 channels (symphonia multiplies them in 16 bits and panics).
    fixture(
        &dir,
        "channels.aiff",
        &["-c:a", "pcm_s16be"],
        Some((20, 0xFFFF_0000)),
    );
    // CAF's desc: 0xFFFFFFFF bytes per packet (symphonia panics), 2³¹ frames per packet
    // (symphonia's decoder would allocate 16 GB).
    fixture(
        &dir,
        "bytes.caf",
        &["-c:a", "pcm_s16le"],
        Some((36, 0xFFFF_FFFF)),
    );
    fixture(
        &dir,
        "frames.caf",
        &["-c:a", "pcm_s16le"],
        Some((40, 0x7FFF_FFFF)),
    );
    // Opus with channels of no defined meaning (mapping family 255).
    fixture(
        &dir,
        "family.opus",
        &["-c:a", "libopus", "-mapping_family", "255"],
        None,
    );
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[0; 64]);
    std::fs::write(dir.join("image.png"), png).expect("write");
    for (file, mention) in [
        ("channels.aiff", "channels.aiff"),
        ("bytes.caf", "bytes.caf"),
        ("frames.caf", "implausible header"),
        ("family.opus", "unsupported Opus channel mapping"),
        (
            "image.png",
            "unknown or unsupported format (supported: WAV, FLAC",
        ),
    ] {
        let before = dir.entries();
        let o = analyze(&dir, file);
        let what = format!("hopscope analyze {file}");
        assert_one_line_error(&what, &o);
        assert!(o.stderr.contains(file), "{what}: {}", o.stderr);
        assert!(o.stderr.contains(mention), "{what}: {}", o.stderr);
        assert!(!o.stderr.contains("RUST_BACKTRACE"), "{what}: {}", o.stderr);
        assert_eq!(dir.entries(), before, "{what}: output left");
    }
}

#[test]
fn a_corrupt_flac_frame_is_a_warning_and_the_run_goes_on() {
    let dir = TempDir::new("damaged-flac");
    fixture(&dir, "a.flac", &["-c:a", "flac"], None);
    let path = dir.join("a.flac");
    let mut bytes = std::fs::read(&path).expect("read");
    let at = bytes.len() * 2 / 3;
    for b in &mut bytes[at..at + 4] {
        *b ^= 0x5A;
    }
    std::fs::write(&path, bytes).expect("write");
    let o = analyze(&dir, "a.flac");
    assert_eq!(o.code(), Some(0), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("1 corrupt packet replaced by 4608 frames"),
        "{}",
        o.stderr
    );
    assert!(dir.join("out.npy").exists());
}
