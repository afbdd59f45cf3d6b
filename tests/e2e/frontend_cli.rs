//! `hopscope frontends` and `analyze --frontend` as a user runs them: the listing, a
//! built-in's JSON loaded back (`--frontend PATH.json`) giving the very same bytes, the
//! whole-input clamp of Whisper checked on the written rows, and one-line errors for
//! flags that conflict, a wrong rate, a short input and a broken JSON.

use std::path::Path;

use crate::support::npy::read_npy;
use crate::support::process::{assert_one_line_error, hopscope_in, run_with_timeout};
use crate::support::{TempDir, PATIENCE};

fn tone_wav(path: &Path, rate: u32, seconds: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    let n = (seconds * f64::from(rate)) as usize;
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        // A 1 kHz tone that stops halfway: the silence hits Whisper's clamp.
        let v = if t < seconds / 2.0 {
            0.5 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()
        } else {
            0.0
        };
        w.write_sample((v * 32767.0) as i16).expect("sample");
    }
    w.finalize().expect("finish");
}

fn run(dir: &Path, args: &[&str]) -> crate::support::process::Outcome {
    run_with_timeout(hopscope_in(dir, args), PATIENCE)
}

#[test]
fn frontends_lists_every_built_in_and_its_json_loads_back_to_the_same_rows() {
    let dir = TempDir::new("frontend-cli");
    let o = run(dir.path(), &["frontends"]);
    assert_eq!(o.code(), Some(0), "{}", o.stderr);
    for name in [
        "whisper",
        "whisper-128",
        "yamnet",
        "vggish",
        "kaldi-fbank",
        "kaldi-fbank-80",
        "ast",
        "python-speech-features",
        "tf-tutorial",
        "keras-mel",
        "torchaudio-mel",
    ] {
        assert!(
            o.stdout
                .lines()
                .any(|l| l.starts_with(&format!("{name}  "))),
            "{name} listed:\n{}",
            o.stdout
        );
    }
    assert!(o.stdout.contains("80 × 3000 per 30 s"), "{}", o.stdout);
    let o = run(dir.path(), &["frontends", "whisper", "--json"]);
    assert_eq!(o.code(), Some(0), "{}", o.stderr);
    std::fs::write(dir.path().join("w.json"), &o.stdout).expect("write json");
    tone_wav(&dir.path().join("t.wav"), 16_000, 2.0);
    for (fe, out) in [("whisper", "a.npy"), ("w.json", "b.npy")] {
        let o = run(
            dir.path(),
            &["analyze", "--frontend", fe, "t.wav", "-o", out],
        );
        assert_eq!(o.code(), Some(0), "{}", o.stderr);
    }
    let (a, b) = (
        std::fs::read(dir.path().join("a.npy")).expect("a"),
        std::fs::read(dir.path().join("b.npy")).expect("b"),
    );
    assert_eq!(a, b, "the JSON is the built-in, exactly");
    // 2 s at hop 160, last frame dropped: 200 rows of 80 bands. The clamp is over the whole
    // input: the silent half sits exactly at (max − 8 + 4)/4, the tone's band at the max.
    let npy = read_npy(&dir.path().join("a.npy"));
    assert_eq!(npy.shape, vec![200, 80]);
    let max = npy.data.iter().copied().fold(f32::MIN, f32::max);
    let min = npy.data.iter().copied().fold(f32::MAX, f32::min);
    assert!(
        (min - (max - 2.0)).abs() < 1e-6,
        "min {min} = max {max} − 8/4"
    );
    let silent_row = &npy.data[190 * 80..191 * 80];
    assert!(silent_row.iter().all(|&v| (v - min).abs() < 1e-6));
}

#[test]
fn front_end_mistakes_are_one_line_errors_and_write_nothing() {
    let dir = TempDir::new("frontend-cli-errors");
    tone_wav(&dir.path().join("t.wav"), 16_000, 1.0);
    tone_wav(&dir.path().join("short.wav"), 16_000, 0.01);
    std::fs::write(
        dir.path().join("bad.json"),
        "{\"schema\": \"spectrogram-export/1\"}",
    )
    .expect("write");
    let cases: [(&str, &[&str]); 6] = [
        (
            "headless",
            &[
                "--headless",
                "--demo",
                "--duration",
                "1",
                "--frontend",
                "whisper",
            ],
        ),
        (
            "unknown name",
            &["analyze", "--frontend", "wisper", "t.wav", "-o", "o.npy"],
        ),
        (
            "STFT flag beside it",
            &[
                "analyze",
                "--frontend",
                "whisper",
                "--n-fft",
                "512",
                "t.wav",
                "-o",
                "o.npy",
            ],
        ),
        (
            "too short",
            &[
                "analyze",
                "--frontend",
                "yamnet",
                "short.wav",
                "-o",
                "o.npy",
            ],
        ),
        (
            "broken JSON",
            &["analyze", "--frontend", "bad.json", "t.wav", "-o", "o.npy"],
        ),
        ("frontends NAME unknown", &["frontends", "nope"]),
    ];
    for (what, args) in cases {
        let o = run(dir.path(), args);
        if what == "STFT flag beside it" {
            // clap's own usage error (exit 2, several lines): the conflict is named.
            assert_eq!(o.code(), Some(2), "{what}");
            assert!(
                o.stderr.contains("cannot be used with"),
                "{what}: {}",
                o.stderr
            );
        } else {
            assert_one_line_error(what, &o);
        }
        assert!(!dir.path().join("o.npy").exists(), "{what}: no output");
    }
    let o = run(
        dir.path(),
        &["analyze", "--frontend", "bad.json", "t.wav", "-o", "o.npy"],
    );
    assert!(
        o.stderr.contains("bad.json"),
        "names the file: {}",
        o.stderr
    );
}

/// `render --frontend whisper --width 200` of a 1 kHz tone that stops halfway: the image
/// has the plot size asked (200 columns, 4 px per band), and in the tone's half the band
/// holding 1 kHz is drawn far brighter than a band two octaves below it; in the silent
/// half both sit at Whisper's clamp floor, the same colour.
#[test]
fn render_draws_the_front_end_with_the_tone_in_its_band() {
    use hopscope::dsp::frontend::presets;
    use hopscope::render::chrome::Layout;

    let dir = TempDir::new("frontend-render");
    tone_wav(&dir.path().join("t.wav"), 48_000, 4.0);
    let o = run(
        dir.path(),
        &[
            "render",
            "--frontend",
            "whisper",
            "--width",
            "200",
            "t.wav",
            "-o",
            "t.png",
        ],
    );
    assert_eq!(o.code(), Some(0), "{}", o.stderr);
    assert!(o.stdout.contains("front-end whisper"), "{}", o.stdout);
    let img = crate::support::image::decode_png(&dir.path().join("t.png"));
    let spec = presets::by_name("whisper").expect("built in");
    let bands = spec.bands();
    let layout = Layout::for_plot(200, bands * 4);
    assert_eq!((img.width, img.height), (layout.width, layout.height));
    let band_of = |hz: f64| {
        (0..bands)
            .min_by(|&a, &b| {
                (spec.band_hz(a) - hz)
                    .abs()
                    .total_cmp(&(spec.band_hz(b) - hz).abs())
            })
            .expect("bands")
    };
    let p = layout.plot;
    let y_of = |band: usize| p.y + (bands - 1 - band) * 4 + 2;
    let brightness = |x: usize, y: usize| {
        let c = img.at(x, y);
        ((c >> 16) & 0xff) + ((c >> 8) & 0xff) + (c & 0xff)
    };
    let (tone, low) = (band_of(1000.0), band_of(250.0));
    let x_tone = p.x + p.w / 4;
    let x_silent = p.x + 3 * p.w / 4;
    assert!(
        brightness(x_tone, y_of(tone)) > brightness(x_tone, y_of(low)) + 200,
        "the tone's band is bright"
    );
    assert_eq!(
        img.at(x_silent, y_of(tone)),
        img.at(x_silent, y_of(low)),
        "silence: both at the clamp floor"
    );
}
