//! Every container and codec `hopscope` reads (`io::audio`), decoded against independent
//! oracles: the lossless ones bit for bit against the source PCM, the lossy ones against
//! ffmpeg's decoders on the same file, after aligning the encoder delay.

use std::path::Path;

use hopscope::io::audio::{read_all, AudioReader};

use crate::support::codecs::{self, ffmpeg, source_ints, write_wav, SR};
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
        if name != "a.m4a" {
            // Gapless: the encoder delay and padding are gone, as the file declares.
            assert_eq!((lag, got.len() / 2), (0, FRAMES), "{name}");
            assert_eq!(info.frames, Some(FRAMES as u64), "{name}");
        }
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
