//! A deterministic mutation test of the WAV reader and of `analyze`, in-process.
//!
//! A seeded generator writes valid WAVs in every layout hopscope reads — 8/16/24/32-bit
//! integer and 32-bit float PCM, WAVE_FORMAT_EXTENSIBLE with 12-in-16, 20-in-24 and
//! 24-in-32 bit containers (left-justified, as the format specifies), 1–8 channels, odd
//! rates from 1 Hz to 4 GHz, extra chunks of odd length (padded), NaN/±Inf/denormal
//! floats, 0–700 frames — and one of [`MUTATIONS`] is applied to each: truncation in every
//! region of the file, lying RIFF/fmt/data/chunk sizes, wrong header fields, flipped
//! bytes, an empty data chunk, an unsupported 64-bit float. [`CASES`] cases in all.
//!
//! For each case (the oracles are the generator and an independent reference parser,
//! [`reference`], written from the RIFF/WAVE layout, not from hopscope's reader):
//! - `read_wav` either returns exactly the reference's rate, channels and samples (bit
//!   for bit, NaN included), or a one-line error naming the file; a file the generator
//!   made valid must be read.
//! - `analyze` on the same file either writes an `.npy` of the framing formula's shape, or
//!   fails with one line: and it fails exactly when the reader did, the file holds NaN/Inf
//!   (`--nan error`), the channel does not exist or the signal is shorter than a window.
//! - Nothing panics; a watchdog aborts the run if one case takes longer than a minute.
//! - A counting global allocator (`support::alloc`, the `tests/it` binary's) records the
//!   peak of live heap bytes during each call: the reader stays within `READ_PER_BYTE ×
//!   file size + READ_BASE_BYTES`, `analyze` within `ANALYZE_PER_BYTE × file size +
//!   ANALYZE_BASE_BYTES` (constants below, with why) — a lying header cannot make either
//!   allocate what the file does not hold. The count covers every thread of the process,
//!   so the tests that measure run alone in a process of their own (`support::alone`).
//!
//! Distinct failures it found are named regression tests at the end of this file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hopscope::config::AnalyzeConfig;
use hopscope::dsp::scale::ValueScale;
use hopscope::dsp::stft::StftParams;
use hopscope::dsp::window::WindowKind;
use hopscope::io::wav::{read_wav, NanPolicy};
use hopscope::stream::ChannelSelect;

use crate::support::alloc::measure;
use crate::support::rng::Rng;
use crate::support::{alone, TempDir};

// ---------------------------------------------------------------- bounds

/// Reader: every decoded sample is an f32, 4 bytes for each file byte of an 8-bit file
/// (the worst case; 2 for 16-bit, 1 for 32-bit); plus one read buffer no larger than the
/// file (×1). 5 in all.
const READ_PER_BYTE: usize = 5;
/// The 4 KiB header buffer, the path and error strings (measured ≤ 6.3 KiB).
const READ_BASE_BYTES: usize = 16 << 10;
/// `analyze`: the decoded samples (×4 of an 8-bit file), the mono mix or channel
/// (×4/channels, ≤ ×2 when it is a copy), the `--center` padded copy (≤ ×4 with the
/// mono, whose pages it replaces only after) — 4 + 4 = 8 at any moment, plus the read
/// buffer (×1) while decoding.
const ANALYZE_PER_BYTE: usize = 9;
/// What does not grow with the file at these tiny n_fft (≤ 64): two row blocks of 512
/// rows (≤ 135 KiB), FFT plans and buffers per worker, the npy header and the writer's
/// buffer (no larger than the output), the writer thread's channels: measured ≤ 160 KiB.
const ANALYZE_BASE_BYTES: usize = 256 << 10;
/// The same for a file that is not RIFF/WAVE and goes to symphonia's probe (its read
/// buffers and a decoder's tables, whatever the file).
const PROBE_BASE_BYTES: usize = 4 << 20;

fn is_riff_wave(path: &Path) -> bool {
    let head = std::fs::read(path).unwrap_or_default();
    hopscope::io::wav::is_wav_magic(&head[..head.len().min(12)])
}

/// Cases run.
const CASES: usize = 21_000;

// ---------------------------------------------------------------- the generator

/// How samples are stored.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Enc {
    /// PCM (tag 1) integers of this many bits, or IEEE float (tag 3) when `float`.
    Plain { bits: u16, float: bool },
    /// WAVE_FORMAT_EXTENSIBLE: `valid` bits left-justified in `container` bytes.
    Ext {
        valid: u16,
        container: u16,
        float: bool,
    },
}

impl Enc {
    fn container(self) -> u16 {
        match self {
            Enc::Plain { bits, .. } => bits / 8,
            Enc::Ext { container, .. } => container,
        }
    }
    fn float(self) -> bool {
        match self {
            Enc::Plain { float, .. } | Enc::Ext { float, .. } => float,
        }
    }
    fn valid_bits(self) -> u16 {
        match self {
            Enc::Plain { bits, .. } => bits,
            Enc::Ext { valid, .. } => valid,
        }
    }
}

const ENCODINGS: [Enc; 13] = [
    Enc::Plain {
        bits: 8,
        float: false,
    },
    Enc::Plain {
        bits: 16,
        float: false,
    },
    Enc::Plain {
        bits: 24,
        float: false,
    },
    Enc::Plain {
        bits: 32,
        float: false,
    },
    Enc::Plain {
        bits: 32,
        float: true,
    },
    Enc::Ext {
        valid: 8,
        container: 1,
        float: false,
    },
    Enc::Ext {
        valid: 16,
        container: 2,
        float: false,
    },
    Enc::Ext {
        valid: 12,
        container: 2,
        float: false,
    },
    Enc::Ext {
        valid: 20,
        container: 3,
        float: false,
    },
    Enc::Ext {
        valid: 24,
        container: 3,
        float: false,
    },
    Enc::Ext {
        valid: 24,
        container: 4,
        float: false,
    },
    Enc::Ext {
        valid: 32,
        container: 4,
        float: false,
    },
    Enc::Ext {
        valid: 32,
        container: 4,
        float: true,
    },
];

const RATES: [u32; 14] = [
    1, 3, 7, 8, 1000, 8000, 11_025, 12_345, 22_050, 44_100, 48_000, 96_000, 192_000, 1_536_000,
];

/// A generated file and where its parts are.
#[derive(Clone, Debug)]
struct Wav {
    bytes: Vec<u8>,
    /// Offset of the fmt chunk's header, of its body, and its body length.
    fmt_at: usize,
    fmt_len: usize,
    /// Offset of the data chunk's header and its body length.
    data_at: usize,
    data_len: usize,
    block_align: usize,
    container: usize,
    extensible: bool,
}

const SUB_PCM: [u8; 16] = [
    1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
];
const SUB_FLOAT: [u8; 16] = [
    3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
];

fn push_chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0); // RIFF pads every chunk to an even length
    }
}

/// One sample's bytes: mostly ordinary values, sometimes the extremes, and for floats
/// NaN, ±Inf, denormals, −0 and values far above full scale.
fn sample_bytes(rng: &mut Rng, enc: Enc) -> Vec<u8> {
    let c = usize::from(enc.container());
    if enc.float() {
        let v: f32 = match rng.below(40) {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => f32::from_bits(1 + rng.below(0x7f_ffff) as u32), // denormal
            4 => -0.0,
            5 => 1e30,
            _ => rng.range(-1.0, 1.0) as f32,
        };
        return v.to_le_bytes().to_vec();
    }
    let bits = u32::from(enc.valid_bits());
    let raw: i64 = match rng.below(10) {
        0 => -(1i64 << (bits - 1)),
        1 => (1i64 << (bits - 1)) - 1,
        _ => (rng.next_u64() >> (64 - bits)) as i64 - (1i64 << (bits - 1)),
    };
    // Left-justified in the container; 8-bit PCM is unsigned.
    let shifted = raw << (8 * c as u32 - bits);
    let stored = if c == 1 { shifted + 128 } else { shifted };
    stored.to_le_bytes()[..c].to_vec()
}

fn generate(rng: &mut Rng) -> Wav {
    let enc = ENCODINGS[rng.below(ENCODINGS.len())];
    let channels = 1 + rng.below(8);
    let container = usize::from(enc.container());
    let block_align = channels * container;
    let mut rate = RATES[rng.below(RATES.len())];
    if rng.below(20) == 0 && block_align == 1 {
        rate = u32::MAX; // 4.29 GHz: the byte rate still fits
    }
    let frames = match rng.below(4) {
        0 => rng.below(8),
        1 => rng.below(100),
        _ => 64 + rng.below(640),
    };
    let mut data = Vec::with_capacity(frames * block_align);
    for _ in 0..frames * channels {
        data.extend(sample_bytes(rng, enc));
    }
    let extensible = matches!(enc, Enc::Ext { .. });
    let mut fmt = Vec::new();
    let tag: u16 = match enc {
        Enc::Ext { .. } => 0xfffe,
        Enc::Plain { float: true, .. } => 3,
        Enc::Plain { .. } => 1,
    };
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&(channels as u16).to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&rate.wrapping_mul(block_align as u32).to_le_bytes());
    fmt.extend_from_slice(&(block_align as u16).to_le_bytes());
    fmt.extend_from_slice(&(8 * container as u16).to_le_bytes());
    if extensible {
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&enc.valid_bits().to_le_bytes());
        let mask: u32 = if channels <= 2 {
            (1 << channels) - 1
        } else {
            0
        };
        fmt.extend_from_slice(&mask.to_le_bytes());
        fmt.extend_from_slice(if enc.float() { &SUB_FLOAT } else { &SUB_PCM });
    } else if enc.float() && rng.below(2) == 0 {
        fmt.extend_from_slice(&0u16.to_le_bytes()); // WAVEFORMATEX's cbSize
    }
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF\0\0\0\0WAVE");
    if rng.below(4) == 0 {
        push_chunk(&mut b, b"JUNK", &vec![0u8; 2 * rng.below(20)]);
    }
    let fmt_at = b.len();
    push_chunk(&mut b, b"fmt ", &fmt);
    if enc.float() && rng.below(2) == 0 {
        push_chunk(&mut b, b"fact", &(frames as u32).to_le_bytes());
    }
    if rng.below(3) == 0 {
        let len = 1 + rng.below(30); // often odd: a pad byte follows
        push_chunk(&mut b, b"LIST", &vec![b'x'; len]);
    }
    let data_at = b.len();
    push_chunk(&mut b, b"data", &data);
    if rng.below(4) == 0 {
        push_chunk(&mut b, b"id3 ", &vec![7u8; 1 + rng.below(9)]);
    }
    let riff = (b.len() - 8) as u32;
    b[4..8].copy_from_slice(&riff.to_le_bytes());
    Wav {
        bytes: b,
        fmt_at,
        fmt_len: fmt.len(),
        data_at,
        data_len: data.len(),
        block_align,
        container,
        extensible,
    }
}

// ---------------------------------------------------------------- mutations

/// The mutations, by name; `None` leaves the file valid.
const MUTATIONS: [&str; 12] = [
    "none",
    "none",
    "truncate",
    "riff size",
    "data size",
    "fmt size",
    "header field",
    "flip header bytes",
    "flip any bytes",
    "empty data",
    "chunk size",
    "float64",
];

fn put_u16(b: &mut [u8], at: usize, v: u16) {
    if at + 2 <= b.len() {
        b[at..at + 2].copy_from_slice(&v.to_le_bytes());
    }
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if at + 4 <= b.len() {
        b[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }
}

/// Applies mutation `m` to `w`; returns the bytes and a label.
fn mutate(rng: &mut Rng, w: &Wav, m: &str) -> (Vec<u8>, String) {
    let mut b = w.bytes.clone();
    let body = w.fmt_at + 8;
    let pick = |rng: &mut Rng, vs: &[u32]| vs[rng.below(vs.len())];
    let label = match m {
        "truncate" => {
            // One offset in each region, then anywhere.
            let data = w.data_at + 8;
            let cut = match rng.below(10) {
                0 => 0,
                1 => 1 + rng.below(11),
                2 => w.fmt_at + rng.below(8),
                3 => body + rng.below(w.fmt_len),
                4 => w.data_at + rng.below(8),
                5 => data,
                6 => data + rng.below(w.data_len.max(1)),
                7 => data + w.block_align * rng.below(w.data_len / w.block_align + 1),
                8 => data + w.container * rng.below(w.data_len / w.container + 1),
                _ => rng.below(b.len()),
            };
            b.truncate(cut.min(b.len()));
            format!("truncate at {cut}")
        }
        "riff size" => {
            let v = pick(rng, &[0, 4, 12, b.len() as u32 + 1000, u32::MAX]);
            put_u32(&mut b, 4, v);
            format!("riff size {v}")
        }
        "data size" => {
            let real = w.data_len as u32;
            let ba = w.block_align as u32;
            let v = pick(
                rng,
                &[
                    0,
                    real + 1,
                    real + ba,
                    real.saturating_sub(1),
                    real.saturating_sub(ba),
                    real.saturating_mul(2),
                    0x7fff_ffff,
                    0xffff_fff0,
                    u32::MAX,
                ],
            );
            put_u32(&mut b, w.data_at + 4, v);
            format!("data size {v} (real {real})")
        }
        "fmt size" => {
            let v = pick(rng, &[0, 2, 14, 15, 17, 18, 39, 41, 1000, u32::MAX]);
            put_u32(&mut b, w.fmt_at + 4, v);
            format!("fmt size {v}")
        }
        "header field" => {
            let (at, name, values): (usize, &str, &[u32]) = match rng.below(7) {
                0 => (body, "tag", &[0, 2, 3, 6, 7, 0x11, 0x55, 0xfffe, 0xffff]),
                1 => (body + 2, "channels", &[0, 1, 2, 9, 255, 65_535]),
                2 => (body + 4, "rate", &[0, 1, 2, 0x7fff_ffff, u32::MAX]),
                3 => (body + 8, "byte rate", &[0, 1, 12_345, u32::MAX]),
                4 => (body + 12, "block align", &[0, 1, 3, 5, 7, 65_535]),
                5 => (body + 14, "bits", &[0, 1, 7, 12, 20, 33, 64, 65_535]),
                _ if w.extensible => (body + 18, "valid bits", &[0, 1, 7, 12, 33, 65_535]),
                _ => (body + 14, "bits", &[4, 48]),
            };
            let v = pick(rng, values);
            if name == "rate" || name == "byte rate" {
                put_u32(&mut b, at, v);
            } else {
                put_u16(&mut b, at, v as u16);
            }
            format!("{name} {v}")
        }
        "flip header bytes" => {
            let end = (w.data_at + 8).min(b.len());
            let n = 1 + rng.below(3);
            let mut at = Vec::new();
            for _ in 0..n {
                let i = rng.below(end);
                b[i] ^= 1 << rng.below(8);
                at.push(i);
            }
            format!("flip header bytes {at:?}")
        }
        "flip any bytes" => {
            let n = 1 + rng.below(6);
            let mut at = Vec::new();
            for _ in 0..n {
                let i = rng.below(b.len());
                b[i] = rng.next_u64() as u8;
                at.push(i);
            }
            format!("set bytes {at:?}")
        }
        "empty data" => {
            let data = w.data_at + 8;
            b.drain(data..data + w.data_len + w.data_len % 2);
            put_u32(&mut b, w.data_at + 4, 0);
            "empty data".into()
        }
        "chunk size" => {
            // A chunk before the data claims more than the file holds.
            let v = pick(rng, &[1, 3, 0x7fff_ffff, u32::MAX]);
            let mut out = b[..12].to_vec();
            let mut junk = Vec::new();
            push_chunk(&mut junk, b"JUNK", &[0; 4]);
            put_u32(&mut junk, 4, v);
            out.extend(junk);
            out.extend_from_slice(&b[12..]);
            b = out;
            format!("JUNK size {v}")
        }
        "float64" => {
            // A 64-bit float file: unsupported, whatever its data.
            put_u16(&mut b, body, 3);
            put_u16(&mut b, body + 14, 64);
            let ba = (w.block_align * 2) as u16;
            let ch = u16::from_le_bytes([b[body + 2], b[body + 3]]);
            put_u16(&mut b, body + 12, ba);
            let rate = u32::from_le_bytes([b[body + 4], b[body + 5], b[body + 6], b[body + 7]]);
            put_u32(&mut b, body + 8, rate.wrapping_mul(u32::from(ba)));
            format!("float64 ({ch} ch)")
        }
        _ => "none".into(),
    };
    (b, label)
}

// ---------------------------------------------------------------- the reference parser

/// What a correct reader returns.
#[derive(Debug, PartialEq)]
struct Decoded {
    rate: u32,
    channels: usize,
    samples: Vec<f32>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Decodes `b` as the RIFF/WAVE layout defines it, or says why it cannot: chunks padded
/// to even lengths, the first `fmt ` before the first `data`, PCM/IEEE float/extensible,
/// containers of 1–4 bytes holding left-justified samples (scaled by the container's
/// full scale), 8-bit unsigned. The RIFF size, the byte rate and the fact chunk are
/// redundant and not checked. Every sample the data chunk declares must be present.
fn reference(b: &[u8]) -> Result<Decoded, String> {
    if b.get(..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WAVE") {
        return Err("not RIFF/WAVE".into());
    }
    let mut at = 12;
    let mut fmt: Option<(usize, usize)> = None;
    let data = loop {
        let id = b.get(at..at + 4).ok_or("no data chunk")?;
        let len = u32_at(b, at + 4).ok_or("cut chunk header")? as usize;
        match id {
            b"fmt " if fmt.is_none() => fmt = Some((at + 8, len)),
            b"data" => break (at + 8, len),
            _ => {}
        }
        at = at + 8 + len + len % 2;
    };
    let (f, flen) = fmt.ok_or("data before fmt")?;
    if flen < 16 || f + flen > b.len() {
        return Err("fmt chunk too short or cut".into());
    }
    let tag = u16_at(b, f).ok_or("cut")?;
    let channels = usize::from(u16_at(b, f + 2).ok_or("cut")?);
    let rate = u32_at(b, f + 4).ok_or("cut")?;
    let block_align = usize::from(u16_at(b, f + 12).ok_or("cut")?);
    let bits = u16_at(b, f + 14).ok_or("cut")?;
    let (float, valid) = match tag {
        1 => (false, bits),
        3 => (true, bits),
        0xfffe => {
            if flen < 40 || u16_at(b, f + 16) < Some(22) {
                return Err("short extensible fmt".into());
            }
            let sub = b.get(f + 24..f + 40).ok_or("cut")?;
            let float = match sub {
                s if s == SUB_PCM => false,
                s if s == SUB_FLOAT => true,
                _ => return Err("unknown subformat".into()),
            };
            let valid = u16_at(b, f + 18).ok_or("cut")?;
            (float, if valid == 0 { bits } else { valid })
        }
        _ => return Err(format!("format tag {tag}")),
    };
    if channels == 0 || rate == 0 || block_align == 0 || block_align % channels != 0 {
        return Err("zero channels, rate or block align".into());
    }
    let container = block_align / channels;
    let ok_layout = if float {
        container == 4 && bits == 32 && valid == 32
    } else {
        (1..=4).contains(&container)
            && usize::from(bits) == 8 * container
            && valid > 0
            && usize::from(valid) <= 8 * container
    };
    if !ok_layout {
        return Err(format!(
            "unsupported layout: {bits} bits in {container} bytes"
        ));
    }
    let (d, dlen) = data;
    if dlen == 0 {
        return Err("no samples".into());
    }
    if dlen % block_align != 0 {
        return Err("data not whole frames".into());
    }
    let bytes = b.get(d..d + dlen).ok_or("truncated data")?;
    let samples = bytes
        .chunks_exact(container)
        .map(|s| match (float, container) {
            (true, _) => f32::from_le_bytes([s[0], s[1], s[2], s[3]]),
            (_, 1) => ((f64::from(s[0]) - 128.0) / 128.0) as f32,
            _ => {
                // Left-justified into an i32, whose full scale is 2^31.
                let mut v = [0u8; 4];
                v[4 - container..].copy_from_slice(s);
                (f64::from(i32::from_le_bytes(v)) / 2_147_483_648.0) as f32
            }
        })
        .collect();
    Ok(Decoded {
        rate,
        channels,
        samples,
    })
}

// ---------------------------------------------------------------- checking one case

/// What the run saw, for the summary: how many reads and analyses succeeded, and the
/// largest peak per file byte (files of 8 KiB and more) and peak (files under 512 B).
struct Stats {
    read_ok: AtomicUsize,
    analyze_ok: AtomicUsize,
    read_per_byte_milli: AtomicUsize,
    analyze_per_byte_milli: AtomicUsize,
    read_small_peak: AtomicUsize,
    analyze_small_peak: AtomicUsize,
}

static STATS: Stats = Stats {
    read_ok: AtomicUsize::new(0),
    analyze_ok: AtomicUsize::new(0),
    read_per_byte_milli: AtomicUsize::new(0),
    analyze_per_byte_milli: AtomicUsize::new(0),
    read_small_peak: AtomicUsize::new(0),
    analyze_small_peak: AtomicUsize::new(0),
};

/// Records one peak of a call on a file of `file_len` bytes; `base` is the call's
/// constant term, so the per-byte figure is `(peak − base)/file_len`.
fn record(per_byte: &AtomicUsize, small: &AtomicUsize, peak: usize, base: usize, file_len: usize) {
    if file_len >= 8 << 10 {
        per_byte.fetch_max(
            peak.saturating_sub(base) * 1000 / file_len,
            Ordering::Relaxed,
        );
    } else if file_len < 512 {
        small.fetch_max(peak, Ordering::Relaxed);
    }
}

/// What went wrong in one case.
#[derive(Debug)]
struct Failure {
    case: usize,
    label: String,
    what: String,
}

fn same_samples(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn check_error_line(msg: &str, path: &Path) -> Result<(), String> {
    if msg.contains('\n') || msg.trim().is_empty() {
        return Err(format!("error is not one line: {msg:?}"));
    }
    if !msg.contains(&path.display().to_string()) {
        return Err(format!("error does not name the file: {msg}"));
    }
    Ok(())
}

/// The reader against the reference; returns what it decoded.
fn check_reader(
    path: &Path,
    file_len: usize,
    must_read: bool,
    want: &Result<Decoded, String>,
) -> Result<Option<Decoded>, String> {
    let (got, peak) = measure(|| read_wav(path));
    record(
        &STATS.read_per_byte_milli,
        &STATS.read_small_peak,
        peak,
        0,
        file_len,
    );
    if peak > READ_PER_BYTE * file_len + READ_BASE_BYTES {
        return Err(format!(
            "reader peak {peak} B > {READ_PER_BYTE} x {file_len} + {READ_BASE_BYTES}"
        ));
    }
    match (got, want) {
        (Ok(a), Ok(w)) => {
            if a.sample_rate_hz != w.rate || a.channels != w.channels {
                return Err(format!(
                    "read {} Hz {} ch, reference {} Hz {} ch",
                    a.sample_rate_hz, a.channels, w.rate, w.channels
                ));
            }
            if !same_samples(&a.samples, &w.samples) {
                let i = a
                    .samples
                    .iter()
                    .zip(&w.samples)
                    .position(|(x, y)| x.to_bits() != y.to_bits());
                return Err(format!(
                    "samples differ: {} read, {} expected, first difference at {i:?}",
                    a.samples.len(),
                    w.samples.len()
                ));
            }
            STATS.read_ok.fetch_add(1, Ordering::Relaxed);
            Ok(Some(Decoded {
                rate: a.sample_rate_hz,
                channels: a.channels,
                samples: a.samples,
            }))
        }
        (Ok(a), Err(why)) => Err(format!(
            "accepted a file the reference rejects ({why}): {} Hz {} ch {} samples",
            a.sample_rate_hz,
            a.channels,
            a.samples.len()
        )),
        (Err(e), _) => {
            let msg = e.to_string();
            check_error_line(&msg, path)?;
            if must_read {
                return Err(format!("rejected a valid file: {msg}"));
            }
            Ok(None)
        }
    }
}

/// The analysis parameters of case `case` (tiny n_fft so that 24 000 cases stay fast).
fn analyze_config(rng: &mut Rng, input: &Path, output: &Path, channels: usize) -> AnalyzeConfig {
    let fft_size = [16, 17, 24, 32, 64][rng.below(5)];
    let win_length = 1 + rng.below(fft_size);
    let params = StftParams {
        fft_size,
        win_length,
        hop_size: 1 + rng.below(win_length),
        window: [
            WindowKind::Hann,
            WindowKind::Rect,
            WindowKind::Kaiser { beta: 8.6 },
        ][rng.below(3)],
    };
    let channel = match rng.below(4) {
        0 => ChannelSelect::Mix,
        _ => ChannelSelect::Index(rng.below(channels.max(1) + 1)),
    };
    AnalyzeConfig {
        input: input.to_path_buf(),
        output: output.to_path_buf(),
        params,
        scale: [ValueScale::Db, ValueScale::Magnitude, ValueScale::Power][rng.below(3)],
        center: rng.below(2) == 0,
        channel,
        mel: None,
        export: None,
        nan: NanPolicy::Error,
        crop: Default::default(),
        params_from: None,
        frontend: None,
    }
}

/// `analyze` against what the decoded samples (or the reader's error) imply.
fn check_analyze(
    cfg: &AnalyzeConfig,
    file_len: usize,
    read: Option<&Decoded>,
) -> Result<(), String> {
    let _ = std::fs::remove_file(&cfg.output);
    let (got, peak) = measure(|| hopscope::offline::analyze::run(cfg));
    record(
        &STATS.analyze_per_byte_milli,
        &STATS.analyze_small_peak,
        peak,
        row_blocks_bytes(cfg),
        file_len,
    );
    // A file whose RIFF/WAVE magic a mutation broke is probed as every other format
    // (symphonia's probe and decoders: their own buffers, bounded but not by the file).
    let base = match is_riff_wave(&cfg.input) {
        true => ANALYZE_BASE_BYTES,
        false => PROBE_BASE_BYTES,
    };
    if peak > ANALYZE_PER_BYTE * file_len + base {
        return Err(format!(
            "analyze peak {peak} B > {ANALYZE_PER_BYTE} x {file_len} + {base}"
        ));
    }
    // An unreadable file: "cannot read WAV '…'" from the RIFF walker, or "cannot read '…'"
    // when its magic is gone and it is probed as another format; but a header that names
    // fewer channels than --channel is refused first (analyze streams, so it learns of a
    // truncation only at the end).
    let unreadable = || match (cfg.channel, hopscope::io::wav::read_header(&cfg.input)) {
        (ChannelSelect::Index(c), Ok(Some((_, channels)))) if c >= channels => "--channel",
        _ => "cannot read",
    };
    let expected_error = read.map_or(Some(unreadable()), |d| expected_analyze_error(cfg, d));
    match (got, expected_error) {
        (Ok(r), None) => {
            let d = read.expect("no expected error without samples");
            let len = d.samples.len() / d.channels;
            let p = cfg.params;
            // librosa's frame counts: n_fft-long frames over the signal padded by
            // n_fft//2 each side (center), or win_length-long ones over the signal.
            let rows = if cfg.center {
                1 + (len + 2 * (p.fft_size / 2) - p.fft_size) / p.hop_size
            } else {
                (len - p.win_length) / p.hop_size + 1
            };
            let bins = p.fft_size / 2 + 1;
            if (r.rows, r.bins) != (rows, bins) {
                return Err(format!(
                    "analyze reported {} x {}, expected {rows} x {bins}",
                    r.rows, r.bins
                ));
            }
            let shape = npy_shape(&cfg.output)?;
            if shape != (rows, bins)
                || file_size(&cfg.output) != npy_header_len(&cfg.output) + 4 * rows * bins
            {
                return Err(format!("the .npy is {shape:?}, expected ({rows}, {bins})"));
            }
            STATS.analyze_ok.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        (Err(e), Some(want)) => {
            let msg = e.to_string();
            check_error_line(&msg, &cfg.input).or_else(|m| {
                // A channel error names the flag, not the file.
                if msg.contains("--channel") && !msg.contains('\n') {
                    Ok(())
                } else {
                    Err(m)
                }
            })?;
            if !msg.contains(want) {
                return Err(format!("analyze failed with {msg:?}, expected {want:?}"));
            }
            if cfg.output.exists() {
                return Err("a failed analyze left its output".into());
            }
            Ok(())
        }
        (Ok(_), Some(want)) => Err(format!("analyze succeeded, expected an error ({want})")),
        (Err(e), None) => Err(format!("analyze failed: {e}")),
    }
}

/// The two row blocks `analyze` streams through (512 rows of `n_fft/2 + 1` f32 each) and
/// the samples of up to three blocks of hops plus a window: its allocations that depend on
/// the flags, not on the file.
fn row_blocks_bytes(cfg: &AnalyzeConfig) -> usize {
    let p = cfg.params;
    2 * 512 * (p.fft_size / 2 + 1) * 4 + (3 * 512 * p.hop_size + p.win_length) * 4
}

/// The error `analyze` must give for these samples, if any.
fn expected_analyze_error(cfg: &AnalyzeConfig, d: &Decoded) -> Option<&'static str> {
    if let ChannelSelect::Index(c) = cfg.channel {
        if c >= d.channels {
            return Some("--channel");
        }
    }
    let used = |i: usize| match cfg.channel {
        ChannelSelect::Index(c) if d.channels > 1 => i % d.channels == c,
        _ => true,
    };
    if d.samples
        .iter()
        .enumerate()
        .any(|(i, v)| used(i) && !v.is_finite())
    {
        return Some("non-finite sample");
    }
    let len = d.samples.len() / d.channels;
    if !cfg.center && len < cfg.params.win_length {
        return Some("too short");
    }
    None
}

fn file_size(p: &Path) -> usize {
    std::fs::metadata(p).map_or(0, |m| m.len() as usize)
}

fn npy_header_len(p: &Path) -> usize {
    let b = std::fs::read(p).unwrap_or_default();
    10 + b
        .get(8..10)
        .map_or(0, |h| usize::from(u16::from_le_bytes([h[0], h[1]])))
}

/// `(rows, cols)` from an `.npy` header.
fn npy_shape(p: &Path) -> Result<(usize, usize), String> {
    let b = std::fs::read(p).map_err(|e| format!("no .npy: {e}"))?;
    let h = String::from_utf8_lossy(&b[..npy_header_len(p).min(b.len())]).into_owned();
    let s = h.split("'shape': (").nth(1).ok_or("no shape")?;
    let dims: Vec<usize> = s
        .split(')')
        .next()
        .unwrap_or_default()
        .split(',')
        .filter_map(|d| d.trim().parse().ok())
        .collect();
    match dims[..] {
        [r, c] => Ok((r, c)),
        _ => Err(format!("shape {dims:?}")),
    }
}

// ---------------------------------------------------------------- the run

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
                eprintln!("fuzz_wav: case {now} has run for a minute: hang");
                std::process::abort();
            }
        }
    });
}

/// One case: generate, mutate, write, read, analyze.
fn run_case(case: usize, dir: &TempDir) -> Result<(), Failure> {
    let mut rng = Rng::new(0xF022 ^ case as u64);
    let wav = generate(&mut rng);
    let m = MUTATIONS[rng.below(MUTATIONS.len())];
    let (bytes, label) = mutate(&mut rng, &wav, m);
    let fail = |what: String| Failure {
        case,
        label: label.clone(),
        what,
    };
    let path: PathBuf = dir.join("case.wav");
    std::fs::write(&path, &bytes).map_err(|e| fail(format!("write: {e}")))?;
    let want = reference(&bytes);
    let must_read = m == "none" && wav.data_len > 0;
    if must_read && want.is_err() {
        return Err(fail(format!(
            "the generator made an invalid file: {want:?}"
        )));
    }
    let read = check_reader(&path, bytes.len(), must_read, &want).map_err(fail)?;
    let cfg = analyze_config(
        &mut rng,
        &path,
        &dir.join("out.npy"),
        want.as_ref().map_or(1, |d| d.channels),
    );
    check_analyze(&cfg, bytes.len(), read.as_ref()).map_err(fail)
}

#[test]
fn mutated_wavs_read_correctly_or_fail_with_one_line() {
    // The allocation peaks are measured over the whole process: alone in one.
    if !alone(
        module_path!(),
        "mutated_wavs_read_correctly_or_fail_with_one_line",
    ) {
        return;
    }
    static PROGRESS: AtomicU64 = AtomicU64::new(0);
    watchdog(&PROGRESS);
    let dir = TempDir::new("fuzz-wav");
    let started = Instant::now();
    let mut failures: Vec<Failure> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for case in 0..CASES {
        PROGRESS.store(case as u64, Ordering::Relaxed);
        if let Err(f) = run_case(case, &dir) {
            // One report per distinct failure (its text without numbers).
            let key: String = f.what.chars().filter(|c| !c.is_ascii_digit()).collect();
            if seen.insert(key) {
                failures.push(f);
            }
        }
    }
    PROGRESS.store(u64::MAX, Ordering::Relaxed);
    let get = |a: &AtomicUsize| a.load(Ordering::Relaxed);
    let (read_ok, analyze_ok) = (get(&STATS.read_ok), get(&STATS.analyze_ok));
    eprintln!(
        "fuzz_wav: {CASES} cases in {:.1} s: {read_ok} read, {analyze_ok} analysed; peak per file byte (files >= 8 KiB; analyze less its row blocks): reader {:.2}, analyze {:.2}; peak for files < 512 B: reader {} B, analyze {} B",
        started.elapsed().as_secs_f64(),
        get(&STATS.read_per_byte_milli) as f64 / 1000.0,
        get(&STATS.analyze_per_byte_milli) as f64 / 1000.0,
        get(&STATS.read_small_peak),
        get(&STATS.analyze_small_peak),
    );
    for f in &failures {
        eprintln!("case {} ({}): {}", f.case, f.label, f.what);
    }
    assert!(
        failures.is_empty(),
        "{} distinct failure(s), listed above",
        failures.len()
    );
    // The mix: a run where (nearly) everything failed would prove little.
    assert!(
        read_ok >= CASES / 4,
        "only {read_ok} of {CASES} files were read"
    );
    assert!(
        analyze_ok >= CASES / 8,
        "only {analyze_ok} of {CASES} analyses succeeded"
    );
}

// ---------------------------------------------------------------- regressions: each distinct failure the run found

/// A RIFF file of `chunks` (each padded to an even length).
fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut b = b"RIFF\0\0\0\0WAVE".to_vec();
    for (id, body) in chunks {
        push_chunk(&mut b, id, body);
    }
    let len = (b.len() - 8) as u32;
    b[4..8].copy_from_slice(&len.to_le_bytes());
    b
}

/// A `fmt ` body: PCM (tag 1) or, with `valid`, WAVE_FORMAT_EXTENSIBLE PCM with that
/// many valid bits.
fn fmt_body(channels: u16, rate: u32, container: u16, valid: Option<u16>) -> Vec<u8> {
    let align = channels * container;
    let mut f = Vec::new();
    f.extend_from_slice(&(if valid.is_some() { 0xfffe_u16 } else { 1 }).to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    f.extend_from_slice(&align.to_le_bytes());
    f.extend_from_slice(&(8 * container).to_le_bytes());
    if let Some(valid) = valid {
        f.extend_from_slice(&22u16.to_le_bytes());
        f.extend_from_slice(&valid.to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&SUB_PCM);
    }
    f
}

/// Writes `bytes` and reads them back.
fn read_bytes(bytes: &[u8]) -> hopscope::error::Result<hopscope::io::wav::WavAudio> {
    let dir = TempDir::new("fuzz-regression");
    let path = dir.join("r.wav");
    std::fs::write(&path, bytes).expect("write");
    read_wav(&path)
}

/// hound 3.5 skipped an odd-length chunk without its pad byte, so a valid file with
/// an odd `LIST` chunk before the data read as "file is empty or its header is truncated".
#[test]
fn an_odd_length_chunk_before_the_data_is_skipped_with_its_pad_byte() {
    let data: Vec<u8> = [1000i16, -2000, 32767, -32768]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let bytes = riff(&[
        (b"fmt ", fmt_body(1, 8000, 2, None)),
        (b"LIST", b"abcde".to_vec()),
        (b"data", data),
    ]);
    let audio = read_bytes(&bytes).expect("a valid file");
    assert_eq!(
        audio.samples,
        vec![1000.0 / 32768.0, -2000.0 / 32768.0, 32767.0 / 32768.0, -1.0]
    );
}

/// WAVE_FORMAT_EXTENSIBLE stores valid bits left-justified in the container: 24 valid
/// bits in 4 bytes read 256 times too small through hound, and 16-in-24, 20-in-24 or 12-in-16
/// files were refused as "unsupported" (or "truncated").
#[test]
fn valid_bits_are_left_justified_in_an_extensible_container() {
    for (container, valid) in [(4u16, 24u16), (3, 16), (3, 20), (2, 12), (4, 32)] {
        let shift = 8 * u32::from(container) - u32::from(valid);
        let full = (1i64 << (valid - 1)) as f64;
        let raw = [
            1i64 << (valid - 2),
            -(1i64 << (valid - 1)),
            12_345 >> (32 - valid),
        ];
        let data: Vec<u8> = raw
            .iter()
            .flat_map(|&v| (v << shift).to_le_bytes()[..usize::from(container)].to_vec())
            .collect();
        let bytes = riff(&[
            (b"fmt ", fmt_body(1, 44_100, container, Some(valid))),
            (b"data", data),
        ]);
        let audio =
            read_bytes(&bytes).unwrap_or_else(|e| panic!("{valid} bits in {container} bytes: {e}"));
        let want: Vec<f32> = raw.iter().map(|&v| (v as f64 / full) as f32).collect();
        assert_eq!(audio.samples, want, "{valid} bits in {container} bytes");
        assert_eq!(audio.samples[0], 0.5, "a half-scale sample reads 0.5");
    }
}

/// A `fmt ` chunk claiming 1000 bytes in a file of 100 hides the data chunk inside it;
/// hound read 16 bytes, took the next bytes for the data chunk and returned samples.
#[test]
fn a_fmt_chunk_claiming_more_than_the_file_holds_is_refused() {
    let mut bytes = riff(&[
        (b"fmt ", fmt_body(2, 48_000, 2, None)),
        (b"data", vec![1u8; 64]),
    ]);
    bytes[16..20].copy_from_slice(&1000u32.to_le_bytes());
    let e = read_bytes(&bytes).expect_err("the fmt chunk runs past the end");
    let msg = e.to_string();
    assert!(msg.contains("truncated") && msg.contains("fmt "), "{msg}");
}

/// The reader used to allocate a 256 Ki-sample read buffer (up to 1 MiB) for any file:
/// 270 KB for a 120-byte one. Now every buffer is bounded by what the file holds.
#[test]
fn reading_a_tiny_file_allocates_little() {
    // The allocation peak is measured over the whole process: alone in one.
    if !alone(module_path!(), "reading_a_tiny_file_allocates_little") {
        return;
    }
    let bytes = riff(&[
        (b"fmt ", fmt_body(1, 8000, 4, None)),
        (b"data", vec![0u8; 16]),
    ]);
    let dir = TempDir::new("fuzz-tiny");
    let path = dir.join("tiny.wav");
    std::fs::write(&path, &bytes).expect("write");
    let (audio, peak) = measure(|| read_wav(&path));
    assert_eq!(audio.expect("valid").samples, vec![0.0; 4]);
    assert!(
        peak <= READ_PER_BYTE * bytes.len() + READ_BASE_BYTES,
        "{peak} B to read {} B",
        bytes.len()
    );
}

/// A chunk id of control characters (a newline) was printed raw, splitting the error
/// over two lines.
#[test]
fn a_garbled_chunk_id_stays_on_one_line() {
    let mut bytes = riff(&[(b"fmt ", fmt_body(1, 8000, 2, None))]);
    bytes.extend_from_slice(b"ta\n\x01");
    bytes.extend_from_slice(&0xffff_0000_u32.to_le_bytes());
    let msg = read_bytes(&bytes).expect_err("garbage").to_string();
    assert!(!msg.contains('\n'), "{msg:?}");
    assert!(msg.contains(r"ta\n\x01"), "the id is shown escaped: {msg}");
}

/// With `--center`, an odd n_fft, a window shorter than it and a signal a multiple of
/// the hop long, `analyze` wrote one row more than librosa's `1 + (L + 2·(n_fft//2) −
/// n_fft)//hop` (librosa 0.11 gives 25 frames for n_fft 17, win 16, hop 4, L = 100;
/// tests/python/parity.py checks the values at n_fft 1025).
#[test]
fn centred_frames_of_an_odd_n_fft_follow_librosa() {
    let dir = TempDir::new("fuzz-odd-center");
    let data: Vec<u8> = (0..100i16).flat_map(|n| (n * 300).to_le_bytes()).collect();
    let path = dir.join("l100.wav");
    std::fs::write(
        &path,
        riff(&[(b"fmt ", fmt_body(1, 8000, 2, None)), (b"data", data)]),
    )
    .expect("write");
    let cfg = AnalyzeConfig {
        input: path,
        output: dir.join("o.npy"),
        params: StftParams {
            fft_size: 17,
            win_length: 16,
            hop_size: 4,
            window: WindowKind::Hann,
        },
        scale: ValueScale::Magnitude,
        center: true,
        channel: ChannelSelect::Mix,
        mel: None,
        export: None,
        nan: NanPolicy::Error,
        crop: Default::default(),
        params_from: None,
        frontend: None,
    };
    let report = hopscope::offline::analyze::run(&cfg).expect("analyze");
    assert_eq!((report.rows, report.bins), (25, 9));
    assert_eq!(npy_shape(&cfg.output), Ok((25, 9)));
}
