//! Corrupt, truncated and lying files in every container `io::audio` reads through
//! symphonia (and our Opus layer): FLAC, MP3, Ogg Vorbis, Ogg Opus, AAC and ALAC in M4A,
//! AIFF, CAF (ALAC and PCM), Matroska (FLAC). The WAV reader has its own corpus
//! (`fuzz_wav`).
//!
//! Each fixture is made by ffmpeg from the seeded source (1 s of stereo at 48 kHz), then
//! damaged in four ways:
//! - truncated: in the header (1 byte to 4 KiB) and mid-stream (¼, ½, ¾, the last byte);
//! - flipped: bytes in the middle of the stream overwritten with random ones (a corrupt
//!   frame);
//! - lying: each 4-byte word of the header region (the first 1 KiB; for an M4A whose
//!   `moov` is at the end, that box) set to 0, 0x7FFFFFFF or 0xFFFFFFFF in turn (declared
//!   lengths, rates, channels, box and chunk sizes, table counts);
//! - garbage: the format's first bytes (its magic) followed by random bytes.
//!
//! Every case is read with `AudioReader` front to back in blocks, as the pipeline reads:
//! - nothing panics (a panic in a decoder is caught by `io::audio` and becomes an error);
//! - it gives `Ok` or a one-line error naming the file; never a hang (a watchdog aborts a
//!   case that runs for a minute) nor a runaway (more than [`MAX_OUTPUT_SAMPLES`]);
//! - the peak of live heap during the read stays within [`PEAK_PER_BYTE`] × the file size
//!   plus [`PEAK_BASE_BYTES`]: a lie cannot make the reader allocate what the file does
//!   not hold (measured alone in a process of its own, as `fuzz_wav` does);
//! - damage in the middle of the stream: where the format can tell (FLAC's frame CRC, in
//!   its own container or in Matroska; Ogg's page CRC) the file is read whole, the same
//!   number of frames as the intact file, the lost frames counted as an issue whose
//!   position lies near the damaged bytes (within two packets of where a decode of the
//!   intact file cut at those bytes ends, or where its decode first differs). A damaged
//!   Ogg page length in a file so small that symphonia's demuxer cannot take it as
//!   seekable is an error instead (`a_damaged_ogg_page_is_silence_of_its_length` has the
//!   file of realistic size). Where the container's sample table is apart
//!   from the data (M4A, CAF, AIFF), the length is kept too, and an issue the decoder
//!   reports lies near the damage. MP3 can only say so when its decoder fails: a frame
//!   whose header is hit is skipped by symphonia's demuxer unnoticed (the file comes out
//!   one frame short), and MP3 with no CRC decodes damaged data to noise.
//!
//! And a file of no known format (a PNG, a text file, zeros) is refused with one line
//! listing the formats read.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hopscope::io::audio::{AudioReader, SUPPORTED};

use crate::support::alloc::measure;
use crate::support::codecs::{ffmpeg, source_ints, write_wav, SR};
use crate::support::rng::Rng;
use crate::support::{alone, TempDir};

/// 1 s of stereo.
const FRAMES: usize = SR as usize;

/// Reading stops and the case fails past this many samples (20× the source).
const MAX_OUTPUT_SAMPLES: usize = 20 * FRAMES * 2;

/// Peak heap per byte of file: symphonia holds some boxes and tables whole (an M4A's
/// `moov`), our MP4 walker a few bytes; ×4 leaves room.
const PEAK_PER_BYTE: usize = 4;
/// What does not grow with the file: symphonia's probe and read buffers, a decoder's
/// tables and one packet's output, ours (the Opus decoders' scratch).
const PEAK_BASE_BYTES: usize = 8 << 20;

/// A fixture: its name (extension included) and bytes, and what the intact file reads as.
struct Fixture {
    name: &'static str,
    bytes: Vec<u8>,
    frames: u64,
    /// Where the header region ends (the lying words are written before it).
    header: std::ops::Range<usize>,
    /// What damage in the middle of its stream does.
    damage: Damage,
}

/// What damage in the middle of a fixture's stream must give.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Damage {
    /// A checksum per frame or page: an issue near the damage, the length kept.
    Detected,
    /// The length is kept (a sample table apart from the data); an issue, if any, near.
    LengthKept,
    /// MP3: an issue, if any, near; no frames added.
    Mp3,
}

fn fixtures(dir: &TempDir) -> Vec<Fixture> {
    let wav = dir.join("src.wav");
    write_wav(&wav, &source_ints(FRAMES, 16), 16);
    // Ogg pages of 20 ms (ffmpeg's default is 1 s: the whole fixture in one page, where
    // real files have pages of about 4 KiB).
    let pages = ["-page_duration", "20000"];
    let specs: [(&'static str, Vec<&str>, Damage); 10] = [
        ("a.flac", vec!["-c:a", "flac"], Damage::Detected),
        (
            "a.mp3",
            vec!["-c:a", "libmp3lame", "-b:a", "128k"],
            Damage::Mp3,
        ),
        (
            "a.ogg",
            [vec!["-c:a", "libvorbis", "-q:a", "3"], pages.to_vec()].concat(),
            Damage::Detected,
        ),
        (
            "a.opus",
            [vec!["-c:a", "libopus", "-b:a", "64k"], pages.to_vec()].concat(),
            Damage::Detected,
        ),
        (
            "aac.m4a",
            vec!["-c:a", "aac", "-b:a", "128k"],
            Damage::LengthKept,
        ),
        ("alac.m4a", vec!["-c:a", "alac"], Damage::LengthKept),
        ("a.aiff", vec!["-c:a", "pcm_s16be"], Damage::LengthKept),
        ("alac.caf", vec!["-c:a", "alac"], Damage::LengthKept),
        ("pcm.caf", vec!["-c:a", "pcm_s16le"], Damage::LengthKept),
        ("a.mkv", vec!["-c:a", "flac"], Damage::Detected),
    ];
    specs
        .iter()
        .map(|(name, args, damage)| {
            let (name, damage) = (*name, *damage);
            let path = dir.join(name);
            ffmpeg(&wav, args, &path);
            let bytes = std::fs::read(&path).expect("read fixture");
            let frames = read_all_frames(&path).expect("the intact fixture reads");
            let header = header_region(name, &bytes);
            Fixture {
                name,
                bytes,
                frames,
                header,
                damage,
            }
        })
        .collect()
}

/// The first KiB, or an M4A's `moov` box when it comes after the media.
fn header_region(name: &str, b: &[u8]) -> std::ops::Range<usize> {
    if name.ends_with(".m4a") {
        let mut at = 0;
        while at + 8 <= b.len() {
            let size = u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize;
            if &b[at + 4..at + 8] == b"moov" {
                return at..at + size;
            }
            if size < 8 {
                break;
            }
            at += size;
        }
    }
    0..b.len().min(1024)
}

fn read_all_frames(path: &Path) -> Result<u64, String> {
    let (frames, error) = frames_until_error(path);
    error.map_or(Ok(frames), Err)
}

/// The frames read from `path` until its end or an error, and the error.
fn frames_until_error(path: &Path) -> (u64, Option<String>) {
    let mut r = match AudioReader::open(path, false) {
        Ok(r) => r,
        Err(e) => return (0, Some(e.to_string())),
    };
    let mut buf = Vec::new();
    let mut frames = 0u64;
    loop {
        buf.clear();
        match r.read(&mut buf) {
            Ok(0) => return (frames, None),
            Ok(n) => frames += n as u64,
            Err(e) => return (frames, Some(e.to_string())),
        }
    }
}

/// The first frame where the decode of `case` differs from the intact file's.
fn first_difference(f: &Fixture, case: &Case, path: &Path) -> u64 {
    let decode = |bytes: &[u8]| {
        std::fs::write(path, bytes).expect("write");
        let mut out = Vec::new();
        if let Ok(mut r) = AudioReader::open(path, false) {
            while matches!(r.read(&mut out), Ok(n) if n > 0) {}
        }
        out
    };
    let (intact, damaged) = (decode(&f.bytes), decode(&case.bytes));
    let at = intact.iter().zip(&damaged).position(|(a, b)| a != b);
    (at.unwrap_or(intact.len().min(damaged.len())) / 2) as u64
}

/// Where the bytes from `at` on start in frames: what a decode of the intact file cut
/// there reads before it ends.
fn frame_at_byte(f: &Fixture, at: usize, path: &Path) -> u64 {
    std::fs::write(path, &f.bytes[..at]).expect("write cut");
    frames_until_error(path).0
}

/// What reading a damaged file gave.
#[derive(Debug)]
enum Outcome {
    Read {
        frames: u64,
        /// (count, first frame) of the packets replaced by silence.
        issues: Option<(u64, u64)>,
    },
    Error(String),
}

/// Reads `path` front to back in blocks.
fn read_case(path: &Path) -> Result<Outcome, String> {
    let mut r = match AudioReader::open(path, false) {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Error(e.to_string())),
    };
    let channels = r.info().channels.max(1);
    let mut buf = Vec::new();
    let mut frames = 0u64;
    loop {
        buf.clear();
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if buf.len() != n * channels {
                    return Err(format!(
                        "read said {n} frames and gave {} samples",
                        buf.len()
                    ));
                }
                frames += n as u64;
                if frames as usize * channels > MAX_OUTPUT_SAMPLES {
                    return Err(format!("runaway: more than {frames} frames"));
                }
            }
            Err(e) => return Ok(Outcome::Error(e.to_string())),
        }
    }
    Ok(Outcome::Read {
        frames,
        issues: r.issues().map(|i| (i.count, i.first_frame)),
    })
}

/// One damaged file: its label and bytes, and where the damage starts (for flips).
struct Case {
    label: String,
    bytes: Vec<u8>,
    flipped_at: Option<usize>,
}

fn cases(f: &Fixture, rng: &mut Rng) -> Vec<Case> {
    let b = &f.bytes;
    let len = b.len();
    let mut out = Vec::new();
    for cut in [
        1, 3, 4, 8, 11, 12, 16, 27, 28, 32, 36, 44, 64, 100, 128, 256, 512, 1024, 4096,
    ]
    .into_iter()
    .chain([len / 4, len / 2, 3 * len / 4, len - 100, len - 1])
    .filter(|&c| c < len)
    {
        out.push(Case {
            label: format!("truncated to {cut} bytes"),
            bytes: b[..cut].to_vec(),
            flipped_at: None,
        });
    }
    // In the middle third, which is media data in every fixture (an M4A's moov is after).
    let (lo, hi) = (len / 3, 2 * len / 3);
    for i in 0..12 {
        let at = lo + rng.below(hi - lo);
        let n = [1, 2, 4, 16, 64, 256][i % 6];
        let mut bytes = b.clone();
        for byte in bytes.iter_mut().skip(at).take(n) {
            *byte = rng.next_u64() as u8;
        }
        out.push(Case {
            label: format!("{n} random bytes at {at}"),
            bytes,
            flipped_at: Some(at),
        });
    }
    for word in (f.header.start..f.header.end.saturating_sub(3)).step_by(4) {
        for value in [0u32, 0x7FFF_FFFF, 0xFFFF_FFFF] {
            let mut bytes = b.clone();
            bytes[word..word + 4].copy_from_slice(&value.to_be_bytes());
            out.push(Case {
                label: format!("word at {word} = {value:#x}"),
                bytes,
                flipped_at: None,
            });
        }
    }
    for magic in [4, 12, 64] {
        for size in [100, 5000, 70_000] {
            let mut bytes = b[..magic.min(len)].to_vec();
            bytes.extend((0..size).map(|_| rng.next_u64() as u8));
            out.push(Case {
                label: format!("{magic} bytes of magic and {size} random"),
                bytes,
                flipped_at: None,
            });
        }
    }
    out
}

/// Checks one case and returns what it read as; `Err` says what went wrong.
fn check(f: &Fixture, case: &Case, path: &Path) -> Result<Outcome, String> {
    std::fs::write(path, &case.bytes).map_err(|e| format!("write: {e}"))?;
    let caught = std::panic::catch_unwind(|| measure(|| read_case(path)));
    let (outcome, peak) = caught.map_err(|_| "panicked".to_string())?;
    let outcome = outcome?;
    let bound = PEAK_PER_BYTE * case.bytes.len() + PEAK_BASE_BYTES;
    if peak > bound {
        return Err(format!("peak heap {peak} B > {bound} B"));
    }
    match &outcome {
        Outcome::Error(msg) => {
            if msg.contains('\n') || !msg.contains(&path.display().to_string()) {
                return Err(format!("error not one line naming the file: {msg:?}"));
            }
        }
        &Outcome::Read { frames, issues } => {
            let Some(at) = case.flipped_at else {
                return Ok(outcome);
            };
            // Two packets of any codec here (FLAC's blocks are 4608 frames).
            let slack = 2 * 4608;
            let near = match frame_at_byte(f, at, path) {
                // The file cut there is not read at all (an M4A's moov or a CAF's packet
                // table comes after the data): where its decode first differs instead.
                0 => first_difference(f, case, path),
                n => n,
            };
            let placed = |first: u64| first + slack >= near && first <= near + slack;
            match (f.damage, issues) {
                (Damage::Detected, None) => {
                    return Err(format!("damage near frame {near}: no issue"));
                }
                (_, Some((_, first))) if !placed(first) => {
                    return Err(format!("damage near frame {near}: issue at {first}"));
                }
                _ => {}
            }
            let length_ok = match f.damage {
                Damage::Detected | Damage::LengthKept => frames == f.frames,
                Damage::Mp3 => frames <= f.frames,
            };
            if !length_ok {
                return Err(format!(
                    "{frames} frames read, the intact file {}",
                    f.frames
                ));
            }
        }
    }
    Ok(outcome)
}

/// Aborts the process if the case counter stops moving for a minute (a hang).
fn watchdog(progress: &'static AtomicU64) {
    std::thread::spawn(move || {
        let mut last = (u64::MAX, Instant::now());
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let now = progress.load(Ordering::Relaxed);
            if now == u64::MAX {
                return;
            }
            if now != last.0 {
                last = (now, Instant::now());
            } else if last.1.elapsed() > Duration::from_secs(60) {
                eprintln!("fuzz_formats: case {now} has run for a minute: hang");
                std::process::abort();
            }
        }
    });
}

#[test]
fn damaged_files_of_every_format_read_or_fail_with_one_line() {
    // The heap peaks are measured over the whole process: alone in one.
    if !alone(
        module_path!(),
        "damaged_files_of_every_format_read_or_fail_with_one_line",
    ) {
        return;
    }
    static PROGRESS: AtomicU64 = AtomicU64::new(0);
    watchdog(&PROGRESS);
    let dir = TempDir::new("fuzz-formats");
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut counted = 0;
    for (k, f) in fixtures(&dir).iter().enumerate() {
        let mut rng = Rng::new(0xF0F0 + k as u64);
        let (mut ok, mut errors, mut with_issues) = (0, 0, 0);
        let path: PathBuf = dir.join(&format!("case-{}", f.name));
        for case in cases(f, &mut rng) {
            PROGRESS.store(counted, Ordering::Relaxed);
            counted += 1;
            match check(f, &case, &path) {
                Ok(Outcome::Read {
                    issues: Some(_), ..
                }) => with_issues += 1,
                Ok(Outcome::Read { .. }) => ok += 1,
                Ok(Outcome::Error(_)) => errors += 1,
                Err(what) => {
                    if let Some(keep) = std::env::var_os("FUZZ_FORMATS_KEEP") {
                        let name = format!("{}-{}", failures.len(), f.name);
                        let _ = std::fs::write(Path::new(&keep).join(name), &case.bytes);
                    }
                    failures.push(format!("{} {}: {what}", f.name, case.label))
                }
            }
        }
        eprintln!(
            "{}: {} bytes, {} frames: {ok} read clean, {with_issues} with issues, {errors} refused",
            f.name,
            f.bytes.len(),
            f.frames
        );
    }
    PROGRESS.store(u64::MAX, Ordering::Relaxed);
    eprintln!(
        "fuzz_formats: {counted} cases in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for f in &failures {
        eprintln!("{f}");
    }
    assert!(
        failures.is_empty(),
        "{} failure(s), listed above",
        failures.len()
    );
}

#[test]
fn a_file_of_no_known_format_is_refused_naming_those_read() {
    let dir = TempDir::new("unknown-format");
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend_from_slice(&[0; 64]);
    for (name, bytes) in [
        ("image.png", png),
        (
            "notes.txt",
            b"hello, this is text and not audio\n".repeat(40),
        ),
        ("zeros.bin", vec![0u8; 4096]),
        ("short.dat", b"ab".to_vec()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).expect("write");
        let e = AudioReader::open(&path, false)
            .err()
            .unwrap_or_else(|| panic!("{name} was read"))
            .to_string();
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(
            e.contains(&format!(
                "unknown or unsupported format (supported: {SUPPORTED})"
            )),
            "{name}: {e}"
        );
    }
}
