//! Every container and codec `hopscope` reads (`io::audio`), decoded against independent
//! oracles: the lossless ones bit for bit against the source PCM, the lossy ones against
//! ffmpeg's decoders on the same file (Opus against libopus itself), gapless: the encoder
//! delay and padding gone as the file declares (MP3's LAME tag, Vorbis and Opus granule
//! positions and pre-skip, MP4's edit list or `iTunSMPB`). Seeking lands on the exact
//! frame in every format.

use std::path::Path;

use hopscope::io::audio::{read_all, AudioReader};

use crate::support::codecs::{self, ffmpeg, source_ints, write_wav, SR};
use crate::support::containers::{self as mp4, Mp4Box};
use crate::support::tempdir::TempDir;

/// 1.5 s of stereo.
const FRAMES: usize = 72_000;

fn decode(path: &Path) -> (hopscope::io::audio::AudioInfo, Vec<f32>) {
    let mut r = AudioReader::open(path, false).expect("open");
    let info = r.info().clone();
    let mut samples = Vec::new();
    while r.read(&mut samples).expect("read") > 0 {}
    assert!(r.issues().is_none(), "{}: {:?}", path.display(), r.issues());
    (info, samples)
}

fn as_f32(ints: &[i32], bits: u32) -> Vec<f32> {
    let full = (1i64 << (bits - 1)) as f32;
    ints.iter().map(|&v| v as f32 / full).collect()
}

#[test]
fn lossless_formats_decode_bit_for_bit() {
    let dir = TempDir::new("lossless");
    for bits in [16u32, 24] {
        let ints = source_ints(FRAMES, bits);
        let want = as_f32(&ints, bits);
        let wav = dir.join(&format!("src{bits}.wav"));
        write_wav(&wav, &ints, bits as u16);
        let codec = if bits == 16 { "pcm_s16be" } else { "pcm_s24be" };
        let cases: Vec<(String, Vec<&str>)> = vec![
            (format!("a{bits}.flac"), vec!["-c:a", "flac"]),
            (format!("a{bits}.m4a"), vec!["-c:a", "alac"]),
            (format!("a{bits}.caf"), vec!["-c:a", "alac"]),
            (
                format!("p{bits}.caf"),
                vec!["-c:a", if bits == 16 { "pcm_s16le" } else { "pcm_s24le" }],
            ),
            (format!("a{bits}.aiff"), vec!["-c:a", codec]),
            (format!("a{bits}.mkv"), vec!["-c:a", "flac"]),
        ];
        for (name, args) in cases {
            let path = dir.join(&name);
            ffmpeg(&wav, &args, &path);
            let (info, got) = decode(&path);
            assert_eq!((info.sample_rate_hz, info.channels), (SR, 2), "{name}");
            assert_eq!(got.len(), want.len(), "{name}: {}", info.format);
            let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            assert_eq!(diff, 0, "{name} ({}): {diff} samples differ", info.format);
        }
        // AIFC (sox writes the AIFF-C variant).
        let aifc = dir.join(&format!("a{bits}.aifc"));
        codecs::sox(&wav, &[], &aifc);
        let (info, got) = decode(&aifc);
        assert_eq!(got, want, "aifc: {}", info.format);
    }
}

#[test]
fn lossy_formats_match_ffmpeg_within_minus_90_db() {
    let dir = TempDir::new("lossy");
    let ints = source_ints(FRAMES, 16);
    let wav = dir.join("src.wav");
    write_wav(&wav, &ints, 16);
    for (name, args) in [
        ("a.mp3", vec!["-c:a", "libmp3lame", "-b:a", "192k"]),
        ("a.ogg", vec!["-c:a", "libvorbis", "-q:a", "5"]),
        ("a.m4a", vec!["-c:a", "aac", "-b:a", "192k"]),
    ] {
        let path = dir.join(name);
        ffmpeg(&wav, &args, &path);
        let (info, got) = decode(&path);
        let reference = codecs::ffmpeg_decode(&path);
        let (lag, err_db) = codecs::best_lag(&got, &reference, 4096);
        eprintln!(
            "{name} ({}): {} vs ffmpeg {} frames, lag {lag}, error {err_db:.1} dB, declared {:?}",
            info.format,
            got.len() / 2,
            reference.len() / 2,
            info.frames
        );
        assert!(err_db <= -90.0, "{name}: {err_db:.1} dB");
        // Gapless: the encoder delay and padding are gone, as the file declares. ffmpeg
        // 5.1 keeps AAC's padding (72704 frames: 72 packets of 1024 less the 1024 of
        // priming), although the edit list says 1.5 s from media time 1024: 72000.
        assert_eq!((lag, got.len() / 2), (0, FRAMES), "{name}");
        assert_eq!(info.frames, Some(FRAMES as u64), "{name}");
    }
}

#[test]
fn read_all_equals_the_wav_reader_on_wav() {
    let dir = TempDir::new("wavsame");
    let ints = source_ints(4_000, 24);
    let wav = dir.join("a.wav");
    write_wav(&wav, &ints, 24);
    let a = read_all(&wav).expect("read_all");
    let b = hopscope::io::wav::read_wav(&wav).expect("read_wav");
    assert_eq!(a, b);
}

/// ffmpeg's AAC file of the source (moov after mdat, so its size can change), as boxes.
fn aac_fixture(dir: &TempDir) -> (std::path::PathBuf, Vec<Mp4Box>) {
    let wav = dir.join("src.wav");
    write_wav(&wav, &source_ints(FRAMES, 16), 16);
    let path = dir.join("a.m4a");
    ffmpeg(&wav, &["-c:a", "aac", "-b:a", "192k"], &path);
    let bytes = std::fs::read(&path).expect("read m4a");
    let boxes = mp4::parse_boxes(&bytes);
    let kinds: Vec<[u8; 4]> = boxes.iter().map(|b| b.kind).collect();
    let (mdat, moov) = (
        kinds.iter().position(|k| k == b"mdat"),
        kinds.iter().position(|k| k == b"moov"),
    );
    assert!(mdat < moov, "ffmpeg wrote moov before mdat: {kinds:?}");
    (path, boxes)
}

/// Writes `boxes` as `name` and decodes it.
fn decode_boxes(dir: &TempDir, name: &str, boxes: &[Mp4Box]) -> (Vec<f32>, Option<u64>) {
    let path = dir.join(name);
    std::fs::write(&path, mp4::write_boxes(boxes)).expect("write m4a");
    let (info, got) = decode(&path);
    (got, info.frames)
}

#[test]
fn aac_in_mp4_follows_the_edit_list_or_itunsmpb() {
    let dir = TempDir::new("aac-gapless");
    let (path, boxes) = aac_fixture(&dir);
    // What ffmpeg's muxer wrote: movie timescale 1000, one edit of 1.5 s from media time
    // 1024 (the encoder's priming), and 72 packets, the last one 320 frames long.
    let (_, gapless) = decode(&path);
    assert_eq!(gapless.len() / 2, FRAMES);
    // Without any gapless metadata: every decoded frame, priming and padding included.
    let mut bare = boxes.clone();
    mp4::find_mut(&mut bare, b"edts").expect("an edts box").kind = *b"free";
    let (whole, declared) = decode_boxes(&dir, "bare.m4a", &bare);
    assert_eq!(whole.len() / 2, 72 * 1024);
    assert_eq!(declared, Some(73_024), "the media duration (stts)");
    assert!(
        gapless == whole[1024 * 2..73_024 * 2],
        "the edit list cuts the whole decode"
    );

    // The same edit as version 1 (64-bit fields), in a moov with a 64-bit size header.
    let mut v1 = boxes.clone();
    mp4::find_mut(&mut v1, b"elst").expect("elst").body = mp4::elst_body(1, &[(1500, 1024)]);
    mp4::find_mut(&mut v1, b"moov").expect("moov").large = true;
    assert!(
        decode_boxes(&dir, "v1.m4a", &v1).0 == gapless,
        "elst version 1"
    );

    // iTunSMPB (iTunes' tag: priming, padding, length in hex) when there is no edit list.
    let mut tagged = bare.clone();
    mp4::find_mut(&mut tagged, b"moov")
        .and_then(|m| m.children.as_mut())
        .expect("moov children")
        .push(mp4::itunsmpb_udta(1024, 704, FRAMES as u64));
    let (got, declared) = decode_boxes(&dir, "smpb.m4a", &tagged);
    assert!(got == gapless, "iTunSMPB: {} frames", got.len() / 2);
    assert_eq!(declared, Some(FRAMES as u64));

    // Apple's encoder primes 2112 frames: an edit from there, of one second.
    let mut apple = boxes.clone();
    mp4::find_mut(&mut apple, b"elst").expect("elst").body = mp4::elst_body(0, &[(1000, 2112)]);
    let (got, declared) = decode_boxes(&dir, "apple.m4a", &apple);
    assert!(
        got == whole[2112 * 2..(2112 + 48_000) * 2],
        "{} frames",
        got.len() / 2
    );
    assert_eq!(declared, Some(48_000));
    // ffmpeg applies the same start (it keeps decoding past the edit's end).
    let reference = codecs::ffmpeg_decode(&dir.join("apple.m4a"));
    let err = codecs::relative_error_db(&got, &reference, 0);
    assert!(err <= -120.0, "against ffmpeg at lag 0: {err:.1} dB");

    // Several edits are not a gapless trim: the whole decode.
    let mut multi = boxes.clone();
    mp4::find_mut(&mut multi, b"elst").expect("elst").body =
        mp4::elst_body(0, &[(500, 1024), (500, 40_000)]);
    assert!(decode_boxes(&dir, "multi.m4a", &multi).0 == whole);
}

/// libopus's decoding of `path` (not ffmpeg's native Opus decoder, which ffmpeg picks by
/// default), in float (ffmpeg's libopus wrapper gives 16-bit integers unless asked).
fn libopus_decode(path: &Path) -> Vec<f32> {
    codecs::ffmpeg_decode_with(
        path,
        &["-request_sample_fmt", "flt", "-c:a", "libopus"],
        &[],
    )
}

#[test]
fn ogg_opus_matches_libopus_within_minus_120_db() {
    let dir = TempDir::new("opus");
    let wav = dir.join("src.wav");
    write_wav(&wav, &source_ints(FRAMES, 16), 16);
    let mono = dir.join("mono.wav");
    ffmpeg(&wav, &["-ac", "1"], &mono);
    let surround = dir.join("six.wav");
    ffmpeg(&wav, &["-ac", "6"], &surround);
    let libopus = |b: &'static str| vec!["-c:a", "libopus", "-b:a", b];
    let cases: Vec<(&str, &Path, Vec<&str>, usize)> = vec![
        ("celt.opus", &wav, libopus("128k"), 2),
        ("silk.opus", &wav, libopus("12k"), 2),
        (
            "voip.opus",
            &mono,
            [libopus("16k"), vec!["-application", "voip"]].concat(),
            1,
        ),
        (
            "long.opus",
            &wav,
            [libopus("64k"), vec!["-frame_duration", "60"]].concat(),
            2,
        ),
        (
            "short.opus",
            &wav,
            [libopus("96k"), vec!["-frame_duration", "2.5"]].concat(),
            2,
        ),
        // 5.1: four streams (two coupled) per packet, channels in Vorbis order.
        (
            "six.opus",
            &surround,
            [libopus("256k"), vec!["-mapping_family", "1"]].concat(),
            6,
        ),
    ];
    for (name, src, args, channels) in cases {
        let path = dir.join(name);
        ffmpeg(src, &args, &path);
        let (info, got) = decode(&path);
        let reference = libopus_decode(&path);
        let err_db = codecs::relative_error_db(&got, &reference, 0);
        eprintln!(
            "{name} ({}, {} ch): {} vs libopus {} frames, error {err_db:.1} dB",
            info.format,
            info.channels,
            got.len() / channels,
            reference.len() / channels
        );
        assert_eq!((info.sample_rate_hz, info.channels), (48_000, channels));
        // Gapless: the pre-skip and the last page's end trim applied, as libopus's do.
        assert_eq!(got.len(), FRAMES * channels, "{name}");
        assert_eq!(reference.len(), FRAMES * channels, "{name}: libopus");
        assert_eq!(info.frames, Some(FRAMES as u64), "{name}");
        assert!(err_db <= -120.0, "{name}: {err_db:.1} dB");
    }

    // The header's output gain (−6 dB) is applied, as libopus applies it.
    let path = dir.join("celt.opus");
    let mut bytes = std::fs::read(&path).expect("read");
    let head = mp4::ogg_body(&bytes, 0);
    assert_eq!(&bytes[head..head + 8], b"OpusHead");
    bytes[head + 16..head + 18].copy_from_slice(&(-6i16 * 256).to_le_bytes());
    let first = mp4::ogg_pages(&bytes)[0];
    mp4::ogg_fix_crc(&mut bytes, first.0, first.1);
    let quiet = dir.join("quiet.opus");
    std::fs::write(&quiet, &bytes).expect("write");
    let (_, loud) = decode(&path);
    let (_, got) = decode(&quiet);
    let err_db = codecs::relative_error_db(&got, &libopus_decode(&quiet), 0);
    assert!(err_db <= -120.0, "gain: {err_db:.1} dB");
    let g = 10f32.powf(-6.0 / 20.0);
    assert!(got
        .iter()
        .zip(&loud)
        .all(|(q, l)| (q - l * g).abs() <= 1e-6));

    // Families 255 (channels without a meaning) and 2 (ambisonics): symphonia's Ogg
    // demuxer takes neither; one line naming the file and what is read.
    let raw = dir.join("raw.opus");
    ffmpeg(&wav, &["-c:a", "libopus", "-mapping_family", "255"], &raw);
    let mut bytes = std::fs::read(&raw).expect("read");
    let head = mp4::ogg_body(&bytes, 0);
    bytes[head + 18] = 2;
    let first = mp4::ogg_pages(&bytes)[0];
    mp4::ogg_fix_crc(&mut bytes, first.0, first.1);
    let ambisonic = dir.join("ambisonic.opus");
    std::fs::write(&ambisonic, &bytes).expect("write");
    for (path, family) in [(&raw, 255), (&ambisonic, 2)] {
        let e = AudioReader::open(path, false)
            .err()
            .expect("refused")
            .to_string();
        assert!(
            !e.contains('\n') && e.contains(&path.display().to_string()),
            "{e}"
        );
        let want = format!("unsupported Opus channel mapping (family {family}, 2 channels");
        assert!(e.contains(&want), "{e}");
    }
}

/// `seek(f)` then reading gives the samples of a decode from the start from frame `f`,
/// bit for bit, in every format; a target past the end lands at the end.
#[test]
fn seek_lands_on_the_exact_frame_in_every_format() {
    let dir = TempDir::new("seek");
    let ints = source_ints(FRAMES, 16);
    let wav = dir.join("src.wav");
    write_wav(&wav, &ints, 16);
    let mut files = vec![wav.clone()];
    for (name, args) in [
        ("a.flac", vec!["-c:a", "flac"]),
        ("alac.m4a", vec!["-c:a", "alac"]),
        ("alac.caf", vec!["-c:a", "alac"]),
        ("pcm.caf", vec!["-c:a", "pcm_s16le"]),
        ("a.aiff", vec!["-c:a", "pcm_s16be"]),
        ("a.mkv", vec!["-c:a", "flac"]),
        ("a.mp3", vec!["-c:a", "libmp3lame", "-b:a", "192k"]),
        ("low.mp3", vec!["-c:a", "libmp3lame", "-b:a", "32k"]),
        ("a.ogg", vec!["-c:a", "libvorbis", "-q:a", "5"]),
        // Vorbis in Matroska: timestamps in ms, the first a few ms in.
        ("a.webm", vec!["-c:a", "libvorbis", "-q:a", "5"]),
        ("aac.m4a", vec!["-c:a", "aac", "-b:a", "192k"]),
        ("a.opus", vec!["-c:a", "libopus", "-b:a", "128k"]),
    ] {
        let path = dir.join(name);
        ffmpeg(&wav, &args, &path);
        files.push(path);
    }
    // Packet boundaries of every codec, and the ends.
    let targets = [
        0, 1, 575, 576, 1023, 1024, 1152, 2047, 4095, 4096, 30_001, 71_999, 72_000, 90_000,
    ];
    for path in &files {
        let (info, whole) = decode(path);
        let ch = info.channels;
        let frames = (whole.len() / ch) as u64;
        let mut reader = AudioReader::open(path, false).expect("open");
        // In order, then backwards, on one reader.
        for &f in targets.iter().chain(targets.iter().rev()) {
            reader.seek(f).expect("seek");
            let at = f.min(frames);
            assert_eq!(reader.position(), at, "{}: seek({f})", path.display());
            let mut got = Vec::new();
            while got.len() < 3000 * ch && reader.read(&mut got).expect("read") > 0 {}
            let n = got.len().min(3000 * ch);
            let want = &whole[at as usize * ch..(at as usize * ch + 3000 * ch).min(whole.len())];
            assert_eq!(
                n,
                want.len(),
                "{} ({}): samples after seek({f})",
                path.display(),
                info.format
            );
            let diff = got[..n].iter().zip(want).filter(|(a, b)| a != b).count();
            assert_eq!(
                diff,
                0,
                "{} ({}): seek({f}): {diff} samples differ",
                path.display(),
                info.format
            );
        }
    }
}

/// Decodes `path` whole, corrupt packets and all: samples and issues.
fn decode_damaged(path: &Path) -> (Vec<f32>, Option<hopscope::io::audio::DecodeIssues>) {
    let mut r = AudioReader::open(path, false).expect("open");
    let mut samples = Vec::new();
    while r.read(&mut samples).expect("read") > 0 {}
    (samples, r.issues().cloned())
}

#[test]
fn a_corrupt_flac_frame_is_silence_of_its_block_in_every_container() {
    let dir = TempDir::new("flac-damage");
    let wav = dir.join("src.wav");
    write_wav(&wav, &source_ints(FRAMES, 16), 16);
    for name in ["a.flac", "a.mkv"] {
        let path = dir.join(name);
        ffmpeg(&wav, &["-c:a", "flac"], &path);
        let (intact, _) = decode_damaged(&path);
        let mut bytes = std::fs::read(&path).expect("read");
        let at = bytes.len() / 2;
        for b in &mut bytes[at..at + 4] {
            *b ^= 0x5A;
        }
        let damaged = dir.join(&format!("damaged-{name}"));
        std::fs::write(&damaged, &bytes).expect("write");
        let (got, issues) = decode_damaged(&damaged);
        let issues = issues.expect("the damage is counted");
        // ffmpeg's FLAC blocks are 4608 frames: one of them, in the middle.
        assert_eq!(
            (issues.count, issues.frames),
            (1, 4608),
            "{name}: {issues:?}"
        );
        let first = issues.first_frame as usize;
        assert_eq!(first % 4608, 0, "{name}: {issues:?}");
        let middle = FRAMES / 2;
        assert!(first.abs_diff(middle) < FRAMES / 5, "{name}: {issues:?}");
        // The rest bit for bit, the block silent, the length kept.
        assert_eq!(got.len(), intact.len(), "{name}");
        let block = first * 2..(first + 4608) * 2;
        assert!(got[block.clone()].iter().all(|&s| s == 0.0), "{name}");
        assert!(got[..block.start] == intact[..block.start], "{name}");
        assert!(got[block.end..] == intact[block.end..], "{name}");
    }
}

#[test]
fn a_damaged_ogg_page_is_silence_of_its_length() {
    let dir = TempDir::new("ogg-damage");
    // 10 s (so that symphonia's demuxer seeks in the file, as for real files), pages
    // of 100 ms.
    let long = 10 * SR as usize;
    let wav = dir.join("src.wav");
    write_wav(&wav, &source_ints(long, 16), 16);
    for (name, codec) in [("a.opus", "libopus"), ("a.ogg", "libvorbis")] {
        let path = dir.join(name);
        ffmpeg(
            &wav,
            &["-c:a", codec, "-b:a", "128k", "-page_duration", "100000"],
            &path,
        );
        let (intact, _) = decode_damaged(&path);
        assert_eq!(intact.len(), long * 2, "{name}");
        let bytes = std::fs::read(&path).expect("read");
        let pages = mp4::ogg_pages(&bytes);
        let (page_at, page_len) = pages[pages.len() / 2];
        let body = mp4::ogg_body(&bytes, page_at);
        // A byte in the page's body (its CRC fails), then one in its segment table (its
        // lengths are wrong too).
        for (what, at) in [("body", page_at + page_len / 2), ("lacing", body - 2)] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x5A;
            let file = dir.join(&format!("{what}-{name}"));
            std::fs::write(&file, &damaged).expect("write");
            let (got, issues) = decode_damaged(&file);
            let issues = issues.unwrap_or_else(|| panic!("{name} {what}: no issue"));
            eprintln!("{name}, damaged {what}: {issues:?}");
            assert_eq!(got.len(), intact.len(), "{name} {what}: length kept");
            // The lost page holds about 100 ms (its granule position less the one before
            // it); the silence of its length comes
            // one page late: symphonia gives the next page's packets the lost one's
            // times (it counts on from the last page read), the page after puts them
            // right, and that is where the timestamps jump.
            let granule = |page: (usize, usize)| {
                u64::from_le_bytes(bytes[page.0 + 6..page.0 + 14].try_into().expect("8 bytes"))
            };
            let lost = granule(pages[pages.len() / 2]) - granule(pages[pages.len() / 2 - 1]);
            let lost = lost as usize;
            let first = issues.first_frame as usize;
            assert_eq!(
                (issues.count, issues.frames),
                (1, lost as u64),
                "{name} {what}"
            );
            let diff = got.iter().zip(&intact).position(|(a, b)| a != b);
            let changed = diff.expect("the damage shows") / 2;
            assert!(
                changed.abs_diff(long / 2) < long / 10,
                "{name} {what}: {changed}"
            );
            assert!(
                first >= changed && first <= changed + 2 * lost,
                "{name} {what}"
            );
        }
    }
}
