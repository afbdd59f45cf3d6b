//! Mel scales and filterbanks (`dsp::mel`) against ../shared/DSP.md §7: the scale values
//! table, numeric filterbank samples of librosa `filters.mel`, TensorFlow
//! `linear_to_mel_weight_matrix` and torchaudio `melscale_fbanks`, and the dead-channel
//! table. Tolerance 1e-6 (the bar) unless DSP.md gives fewer digits.

use hopscope::dsp::mel::{hz_to_mel, mel_to_hz, MelFilterbank, MelNorm, MelScale, MelSpec};

fn bank(
    sr: u32,
    n_fft: usize,
    n_mels: usize,
    fmin: f64,
    fmax: f64,
    scale: MelScale,
    norm: MelNorm,
) -> (MelFilterbank, Vec<f32>) {
    let spec = MelSpec {
        n_mels,
        fmin_hz: fmin,
        fmax_hz: fmax,
        scale,
        norm,
    };
    spec.validate(sr).expect("valid spec");
    let fb = MelFilterbank::new(spec, sr, n_fft);
    let dense = fb.dense();
    (fb, dense)
}

fn close(got: f32, want: f64, tol: f64, what: &str) {
    assert!(
        (f64::from(got) - want).abs() <= tol,
        "{what}: got {got:.10}, want {want:.10} (tol {tol:e})"
    );
}

#[test]
fn mel_scales_match_the_table() {
    let hz = [100.0, 500.0, 1000.0, 2000.0, 4000.0, 8000.0];
    let rows: [(MelScale, [f64; 6]); 3] = [
        (
            MelScale::Htk,
            [
                150.489102,
                607.445920,
                999.985537,
                1521.359554,
                2146.064528,
                2840.023047,
            ],
        ),
        (
            MelScale::Tf,
            [
                150.489879,
                607.449056,
                999.990701,
                1521.367410,
                2146.075609,
                2840.037712,
            ],
        ),
        (
            MelScale::Slaney,
            [1.5, 7.5, 15.0, 25.081880, 35.163760, 45.245640],
        ),
    ];
    for (scale, want) in rows {
        for (&f, &m) in hz.iter().zip(&want) {
            let got = hz_to_mel(scale, f);
            assert!(
                (got - m).abs() <= 1e-6,
                "{scale} mel({f}) = {got}, want {m}"
            );
            let back = mel_to_hz(scale, got);
            assert!(
                (back - f).abs() <= 1e-9 * f,
                "{scale} round trip {f} -> {back}"
            );
        }
    }
}

#[test]
fn librosa_default_filterbank_samples() {
    // librosa.filters.mel(sr=16000, n_fft=512, n_mels=40): Slaney scale and norm, 0..8000 Hz.
    let (fb, w) = bank(
        16000,
        512,
        40,
        0.0,
        8000.0,
        MelScale::Slaney,
        MelNorm::Slaney,
    );
    let bins = fb.bins();
    assert_eq!((fb.n_mels(), bins), (40, 257));
    for (k, want) in [
        (1, 0.0057736),
        (2, 0.0115472),
        (3, 0.00986414),
        (4, 0.00409054),
    ] {
        close(w[k], want, 1e-7, &format!("row 0 bin {k}"));
    }
    close(w[0], 0.0, 0.0, "row 0 bin 0");
    let row20 = &w[20 * bins..21 * bins];
    let (peak_bin, peak) = row20
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .expect("non-empty");
    assert_eq!(peak_bin, 56, "row 20 peak");
    close(*peak, 0.00725979, 1e-8, "row 20 peak value");

    // librosa.filters.mel(sr=22050, n_fft=2048) (128 mels), row 0, bins 0..=5.
    let (_, w) = bank(
        22050,
        2048,
        128,
        0.0,
        11025.0,
        MelScale::Slaney,
        MelNorm::Slaney,
    );
    let want = [
        0.0,
        0.016182853208219942,
        0.032365706416439884,
        0.028990088037379964,
        0.012807234829160026,
        0.0,
    ];
    for (k, &v) in want.iter().enumerate() {
        close(
            w[k],
            v,
            1e-6 * v.max(1e-3),
            &format!("22050/2048 row 0 bin {k}"),
        );
    }
}

#[test]
fn tf_and_htk_filterbanks_with_the_same_edges() {
    // 16 kHz, n_fft 512, 40 mels, 125..7600 Hz.
    let (tf_fb, tf) = bank(16000, 512, 40, 125.0, 7600.0, MelScale::Tf, MelNorm::None);
    let (_, htk) = bank(16000, 512, 40, 125.0, 7600.0, MelScale::Htk, MelNorm::None);
    let bins = tf_fb.bins();
    for (k, want) in [(5, 0.66027941), (6, 0.70311228), (7, 0.08853641)] {
        close(tf[k], want, 1e-6, &format!("TF band 0 bin {k}"));
    }
    for (k, want) in [(5, 0.65394555), (6, 0.70896657), (7, 0.09082587)] {
        close(htk[k], want, 1e-6, &format!("librosa htk band 0 bin {k}"));
    }
    // TF's DC row is always zero.
    for i in 0..40 {
        assert_eq!(tf[i * bins], 0.0, "TF band {i} at DC");
    }
    let max_diff = tf
        .iter()
        .zip(&htk)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        (f64::from(max_diff) - 0.00704).abs() < 5e-5,
        "TF vs librosa htk max |diff| {max_diff}, DSP.md: 0.00704"
    );
}

#[test]
fn slaney_norm_gives_unit_area_in_hz_and_no_norm_gives_peak_one() {
    // Oracle: a triangle of height 2/(f2 - f0) over [f0, f2] has area 1; sampled on a
    // fine grid (n_fft 65536 at 48 kHz) the Riemann sum is within 1 %.
    let sr = 48000;
    let n_fft = 65536;
    let (fb, w) = bank(
        sr,
        n_fft,
        64,
        0.0,
        24000.0,
        MelScale::Slaney,
        MelNorm::Slaney,
    );
    let df = f64::from(sr) / n_fft as f64;
    for i in 0..64 {
        let area: f64 = w[i * fb.bins()..(i + 1) * fb.bins()]
            .iter()
            .map(|&v| f64::from(v) * df)
            .sum();
        assert!((area - 1.0).abs() < 0.01, "band {i} area {area}");
    }
    let (fb, w) = bank(sr, n_fft, 64, 0.0, 24000.0, MelScale::Htk, MelNorm::None);
    for i in 0..64 {
        let peak = w[i * fb.bins()..(i + 1) * fb.bins()]
            .iter()
            .fold(0.0f32, |a, &b| a.max(b));
        assert!(peak > 0.99 && peak <= 1.0, "band {i} peak {peak}");
    }
}

#[test]
fn dead_channels_match_the_table() {
    // 48 kHz, 0..24 kHz: (n_fft, n_mels, Slaney dead, HTK dead).
    let table = [
        (256, 64, 7, 6),
        (256, 80, 12, 11),
        (256, 128, 34, 29),
        (256, 256, 109, 99),
        (512, 64, 0, 1),
        (512, 80, 0, 2),
        (512, 128, 13, 11),
        (512, 256, 67, 57),
        (1024, 64, 0, 0),
        (1024, 128, 0, 1),
        (1024, 256, 24, 22),
        (2048, 128, 0, 0),
        (2048, 256, 0, 2),
        (256, 40, 0, 1),
        (4096, 256, 0, 0),
    ];
    for (n_fft, n_mels, slaney, htk) in table {
        let (fb, _) = bank(
            48000,
            n_fft,
            n_mels,
            0.0,
            24000.0,
            MelScale::Slaney,
            MelNorm::Slaney,
        );
        assert_eq!(
            fb.dead_bands(),
            slaney,
            "slaney n_fft {n_fft} mels {n_mels}"
        );
        let (fb, _) = bank(
            48000,
            n_fft,
            n_mels,
            0.0,
            24000.0,
            MelScale::Htk,
            MelNorm::None,
        );
        assert_eq!(fb.dead_bands(), htk, "htk n_fft {n_fft} mels {n_mels}");
    }
}

#[test]
fn apply_is_the_matrix_product() {
    let (fb, w) = bank(
        22050,
        1024,
        60,
        30.0,
        9000.0,
        MelScale::Slaney,
        MelNorm::Slaney,
    );
    let spectrum: Vec<f32> = (0..fb.bins())
        .map(|k| ((k * 37 % 101) as f32) * 0.01)
        .collect();
    let mut got = vec![0.0f32; fb.n_mels()];
    fb.apply(&spectrum, &mut got);
    for i in 0..fb.n_mels() {
        let want: f64 = (0..fb.bins())
            .map(|k| f64::from(w[i * fb.bins() + k]) * f64::from(spectrum[k]))
            .sum();
        assert!(
            (f64::from(got[i]) - want).abs() <= 1e-6 * want.abs().max(1e-6),
            "band {i}: {} vs {want}",
            got[i]
        );
    }
}

#[test]
fn impossible_specs_are_rejected_with_the_option_named() {
    let ok = MelSpec::librosa(128, 48000);
    assert!(ok.validate(48000).is_ok());
    let cases = [
        (MelSpec { n_mels: 0, ..ok }, "--mel"),
        (
            MelSpec {
                fmax_hz: 30000.0,
                ..ok
            },
            "Nyquist",
        ),
        (
            MelSpec {
                fmin_hz: 5000.0,
                fmax_hz: 4000.0,
                ..ok
            },
            "fmin < fmax",
        ),
        (
            MelSpec {
                scale: MelScale::Tf,
                ..ok
            },
            "--mel-norm none",
        ),
    ];
    for (spec, needle) in cases {
        let e = spec.validate(48000).expect_err("invalid");
        assert!(e.contains(needle), "{spec:?}: {e}");
    }
}
