//! NaN and ±Inf samples in a float WAV: `analyze`, `render` and `suggest` refuse the file
//! by default with one line naming the count and the first one's time, and with
//! `--nan zero` produce exactly what they produce for the same file with those samples
//! written as 0 (the oracle), plus one warning line with the count.

use std::path::Path;

use crate::support::{
    assert_one_line_error, hopscope_in, run_with_timeout, Outcome, TempDir, PATIENCE,
};

const RATE: u32 = 48_000;
const FRAMES: usize = 24_000;
/// (frame, channel, value) of the non-finite samples.
const BAD: [(usize, usize, f32); 3] = [
    (1_000, 1, f32::NAN),
    (2_000, 0, f32::INFINITY),
    (3_000, 1, f32::NEG_INFINITY),
];

fn write_stereo(path: &Path, zeroed: bool) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("wav");
    for n in 0..FRAMES {
        for c in 0..2 {
            let t = n as f32 / RATE as f32;
            let mut v = 0.4 * (2.0 * std::f32::consts::PI * (700.0 + 900.0 * c as f32) * t).sin();
            if let Some(&(_, _, bad)) = BAD.iter().find(|&&(f, ch, _)| f == n && ch == c) {
                v = if zeroed { 0.0 } else { bad };
            }
            w.write_sample(v).expect("sample");
        }
    }
    w.finalize().expect("finalize");
}

fn run(dir: &TempDir, args: &[&str]) -> Outcome {
    run_with_timeout(hopscope_in(dir.path(), args), PATIENCE)
}

fn inputs() -> TempDir {
    let dir = TempDir::new("nonfinite");
    write_stereo(&dir.join("bad.wav"), false);
    write_stereo(&dir.join("zeroed.wav"), true);
    dir
}

/// The three commands on `input`, each with `extra` flags; outputs named after `tag`.
fn commands(input: &str, tag: &str) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        s(&[
            "analyze",
            input,
            "-o",
            &format!("{tag}.npy"),
            "--n-fft",
            "512",
        ]),
        s(&[
            "render",
            input,
            "-o",
            &format!("{tag}.png"),
            "--n-fft",
            "512",
        ]),
        s(&["suggest", input, "--max-n-fft", "2048"]),
    ]
}

#[test]
fn non_finite_samples_are_refused_by_default() {
    let dir = inputs();
    // (extra flags, count, time of the first, its frame and channel)
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &[],
            "3 non-finite samples",
            "the first at 0.020833 s (frame 1000, channel 1)",
        ),
        (
            &["--channel", "0"],
            "1 non-finite sample ",
            "the first at 0.041667 s (frame 2000, channel 0)",
        ),
        (
            &["--channel", "1"],
            "2 non-finite samples",
            "the first at 0.020833 s (frame 1000, channel 1)",
        ),
    ];
    for (extra, count, first) in cases {
        for mut args in commands("bad.wav", "out") {
            args.extend(extra.iter().map(|a| a.to_string()));
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let before = dir.entries();
            let o = run(&dir, &args);
            let what = args.join(" ");
            assert_one_line_error(&what, &o);
            for text in [count, first, "--nan zero"] {
                assert!(o.stderr.contains(text), "{what}: no {text:?}: {}", o.stderr);
            }
            assert_eq!(dir.entries(), before, "{what}: wrote something");
        }
    }
}

#[test]
fn nan_zero_equals_the_file_with_zeros_written() {
    let dir = inputs();
    for (bad, good) in commands("bad.wav", "bad")
        .into_iter()
        .zip(commands("zeroed.wav", "good"))
    {
        let mut bad: Vec<&str> = bad.iter().map(String::as_str).collect();
        bad.extend(["--nan", "zero"]);
        let good: Vec<&str> = good.iter().map(String::as_str).collect();
        let (ob, og) = (run(&dir, &bad), run(&dir, &good));
        let what = bad.join(" ");
        assert_eq!(ob.code(), Some(0), "{what}: {}", ob.stderr);
        assert_eq!(og.code(), Some(0), "{}", og.stderr);
        let warning: Vec<&str> = ob.stderr.lines().collect();
        assert_eq!(warning.len(), 1, "{what}: {}", ob.stderr);
        assert!(
            warning[0].starts_with("hopscope: warning: 'bad.wav': 3 non-finite samples"),
            "{what}: {}",
            warning[0]
        );
        assert!(og.stderr.is_empty(), "{}", og.stderr);
        match bad[0] {
            "suggest" => {
                // Everything but the header line (file name, elapsed time).
                let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
                assert_eq!(body(&ob.stdout), body(&og.stdout), "{what}");
                assert!(ob.stdout.contains("best: n_fft="), "{}", ob.stdout);
            }
            "analyze" => {
                let (b, g) = (read(&dir, "bad.npy"), read(&dir, "good.npy"));
                assert_eq!(b, g, "{what}: the .npy differs from the zeroed file's");
            }
            _ => {
                // The title names the input file: compare the decoded plot rows below it.
                let (b, g) = (read(&dir, "bad.png"), read(&dir, "good.png"));
                assert_eq!(png_pixels(&b), png_pixels(&g), "{what}: pixels differ");
            }
        }
    }
}

fn read(dir: &TempDir, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).expect("output written")
}

/// Decoded RGB pixels (the palette expanded) below the title strip
/// (`chrome::MARGIN_TOP` rows naming the file).
fn png_pixels(bytes: &[u8]) -> Vec<u8> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0u8; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let stride = info.line_size;
    buf[hopscope::render::chrome::MARGIN_TOP * stride..info.buffer_size()].to_vec()
}
