//! The mel mode of the live column map (`ColumnMap::mel`, `mel_axis`).
//!
//! Oracles:
//! - equality: the offline path, `offline::MelStage` with `ValueScale::Db` (what
//!   `hopscope analyze --mel N --scale db` writes) fed the *power* row of the same frame,
//!   against the map fed the crate's *dBFS* row; the band each pixel shows is the rule
//!   "the band under the pixel's centre", `floor((y + ½)·N/height)`, evaluated here;
//! - levels: closed forms typed in here. A periodic-Hann bin-centred sine of peak 1 has
//!   calibrated bin powers 1 at `k0` and ¼ at `k0 ± 1` (|X| = N/4 and N/8, gain (4/N)²) and
//!   nothing elsewhere; the triangles are DSP.md §7's, with the mel formulas of
//!   `support::mel` (HTK, Slaney) and TF's `1127·ln(1 + f/700)` typed in below;
//! - the axis: band centres from those formulas, and `(i + ½)/N`.

use assert_no_alloc::{assert_no_alloc, reset_violation_count, violation_count};

use crate::support::mel::{htk, htk_inv, slaney, slaney_inv};
use crate::support::rng::Rng;
use hopscope::dsp::mel::{MelNorm, MelScale, MelSpec};
use hopscope::dsp::scale::{ValueScale, FLOOR_DB};
use hopscope::dsp::stft::{FrameTransform, StftParams};
use hopscope::dsp::window::WindowKind;
use hopscope::offline::MelStage;
use hopscope::render::freqmap::{mel_axis, ColumnMap, FreqAxis, FreqScale, Span};

const SR: u32 = 48_000;

fn spec(n_mels: usize, fmin: f64, fmax: f64, scale: MelScale, norm: MelNorm) -> MelSpec {
    let s = MelSpec {
        n_mels,
        fmin_hz: fmin,
        fmax_hz: fmax,
        scale,
        norm,
    };
    s.validate(SR).expect("valid spec");
    s
}

fn hann(n_fft: usize) -> StftParams {
    StftParams {
        fft_size: n_fft,
        win_length: n_fft,
        hop_size: n_fft / 4,
        window: WindowKind::Hann,
    }
}

/// One row of `frame` in `scale`, by the crate's own STFT.
fn row(params: StftParams, scale: ValueScale, frame: &[f32]) -> Vec<f32> {
    let mut tf = FrameTransform::new(params, scale);
    let mut out = vec![0.0; params.num_bins()];
    tf.process(frame, &mut out);
    out
}

/// TF's mel, typed in from DSP.md §7, and its inverse solved by hand.
fn tf_mel(hz: f64) -> f64 {
    1127.0 * (1.0 + hz / 700.0).ln()
}
fn tf_mel_inv(mel: f64) -> f64 {
    700.0 * ((mel / 1127.0).exp() - 1.0)
}

/// A mel formula and its inverse.
type MelPair = (fn(f64) -> f64, fn(f64) -> f64);

/// The `n + 2` band edges in Hz: `mel⁻¹(linspace(mel(fmin), mel(fmax), n + 2))`.
fn edges_hz(s: &MelSpec) -> Vec<f64> {
    let (fwd, inv): MelPair = match s.scale {
        MelScale::Htk => (htk, htk_inv),
        MelScale::Slaney => (slaney, slaney_inv),
        MelScale::Tf => (tf_mel, tf_mel_inv),
    };
    let (m0, m1) = (fwd(s.fmin_hz), fwd(s.fmax_hz));
    (0..s.n_mels + 2)
        .map(|j| inv(m0 + (m1 - m0) * j as f64 / (s.n_mels + 1) as f64))
        .collect()
}

/// The band pixel `y` of `height` shows: the stripe `[i·H/N, (i+1)·H/N)` holding the
/// pixel's centre `y + ½`.
fn band_under_centre(y: usize, height: usize, n: usize) -> usize {
    ((y as f64 + 0.5) * n as f64 / height as f64).floor() as usize
}

/// Two sines plus white noise (σ = 1e-3, so no bin sits at the dB floor).
fn test_frame(len: usize, stream: u64) -> Vec<f32> {
    let mut rng = Rng::new(stream);
    let tau = std::f64::consts::TAU;
    (0..len)
        .map(|n| {
            let t = n as f64 / f64::from(SR);
            (0.5 * (tau * 440.3 * t).sin()
                + 0.1 * (tau * 5123.7 * t + 0.3).sin()
                + 1e-3 * rng.gaussian()) as f32
        })
        .collect()
}

/// (1) The stripes equal the offline dB mel rows, pixel by pixel, for every convention.
///
/// Pixel `y` shows band `floor((y + ½)·N/height)`. With `height ≥ N` every band is shown
/// (stripes of `floor(H/N)` or `ceil(H/N)` pixels); with `height < N` only the bands
/// under a pixel centre are.
#[test]
fn mel_stripes_equal_offline_mel_stage_db_rows() {
    let conventions = [
        (MelScale::Slaney, MelNorm::Slaney, 0.0, 24_000.0),
        (MelScale::Htk, MelNorm::None, 0.0, 24_000.0),
        (MelScale::Htk, MelNorm::Slaney, 60.0, 16_000.0),
        (MelScale::Tf, MelNorm::None, 125.0, 7_600.0),
    ];
    let mut worst = 0.0f64;
    let mut compared = 0usize;
    let mut dead_seen = 0usize;
    // n_fft 1024 with 128 mels has dead bands (DSP.md §7 table: 0/1 at 0–24 kHz).
    for n_fft in [2048usize, 1024] {
        let params = hann(n_fft);
        let frame = test_frame(n_fft, n_fft as u64);
        let db = row(params, ValueScale::Db, &frame);
        assert!(
            db.iter().all(|&v| v > FLOOR_DB + 20.0),
            "noise keeps bins off the floor"
        );
        for (scale, norm, fmin, fmax) in conventions {
            for n_mels in [40usize, 64, 128] {
                let s = spec(n_mels, fmin, fmax, scale, norm);
                let stage = MelStage::new(s, SR, params, ValueScale::Db);
                let power = row(params, stage.input_scale(), &frame);
                let mut want = vec![0.0f32; n_mels];
                stage.apply(&power, &mut want);
                let dead = stage.filterbank.dead_bands();
                dead_seen += dead;
                // Only dead bands (no bin inside) sit at the floor; they must match too.
                assert_eq!(
                    want.iter().filter(|&&v| v <= FLOOR_DB).count(),
                    dead,
                    "{scale} {norm} {n_mels} @ {n_fft}"
                );
                for height in [n_mels, 3 * n_mels, 333, 100] {
                    let map = ColumnMap::mel(&s, height, n_fft, SR);
                    assert_eq!(map.height(), height);
                    assert_eq!(map.num_bins(), n_fft / 2 + 1);
                    assert_eq!(map.mel_spec(), Some(&s));
                    let mut got = vec![f32::NAN; height];
                    map.apply(&db, &mut got);
                    let mut stripe_len = vec![0usize; n_mels];
                    for (y, &g) in got.iter().enumerate() {
                        let band = band_under_centre(y, height, n_mels);
                        stripe_len[band] += 1;
                        let dev = (f64::from(g) - f64::from(want[band])).abs();
                        assert!(
                            dev <= 1e-3,
                            "{scale} {norm} {n_mels} bands, n_fft {n_fft}, height {height}: pixel {y} \
                             (band {band}) {g} dB, MelStage {} dB",
                            want[band]
                        );
                        worst = worst.max(dev);
                        compared += 1;
                    }
                    if height >= n_mels {
                        let (lo, hi) = (height / n_mels, height.div_ceil(n_mels));
                        assert!(
                            stripe_len.iter().all(|&l| (lo..=hi).contains(&l)),
                            "stripes of {lo}..={hi} px at height {height}: {stripe_len:?}"
                        );
                    } else {
                        assert_eq!(stripe_len.iter().filter(|&&l| l > 0).count(), height);
                    }
                }
            }
        }
    }
    assert!(dead_seen > 0, "the dead-band case was exercised");
    eprintln!("live mel vs MelStage: {compared} pixels, worst |Δ| = {worst:.3e} dB");
}

/// Calibrated bin powers of a peak-1 periodic-Hann sine on bin `k0` (closed form), and the
/// triangle of band `i` (DSP.md §7, linear in Hz) at bin `k`: the expected band level.
fn closed_form_band_db(s: &MelSpec, n_fft: usize, i: usize, k0: usize) -> f64 {
    let e = edges_hz(s);
    let (lo, c, hi) = (e[i], e[i + 1], e[i + 2]);
    let tri = |k: usize| {
        let f = k as f64 * f64::from(SR) / n_fft as f64;
        ((f - lo) / (c - lo)).min((hi - f) / (hi - c)).max(0.0)
    };
    let norm = match s.norm {
        MelNorm::None => 1.0,
        MelNorm::Slaney => 2.0 / (hi - lo),
    };
    10.0 * (norm * (tri(k0) + 0.25 * (tri(k0 - 1) + tri(k0 + 1)))).log10()
}

/// A full-scale sine on bin `k0`, one frame of `n_fft` samples.
fn bin_centred_sine(n_fft: usize, k0: usize) -> Vec<f32> {
    (0..n_fft)
        .map(|n| (std::f64::consts::TAU * (k0 * n) as f64 / n_fft as f64).cos() as f32)
        .collect()
}

/// (2) A known level in a known band: 10·log10(1 + 2·¼) = 1.761 dB minus what the
/// triangle costs at k0 and k0 ± 1 (HTK, no norm), and times 2/(f_{i+2} − f_i) with
/// Slaney's norm.
#[test]
fn bin_centred_sine_reads_the_closed_form_band_level() {
    let n_fft = 4096;
    let params = hann(n_fft);
    let hz_per_bin = f64::from(SR) / n_fft as f64;
    let ideal = 10.0 * 1.5f64.log10(); // 1.760_913 dB
    assert!((ideal - 1.761).abs() < 1e-3);
    let htk_none = spec(16, 0.0, 24_000.0, MelScale::Htk, MelNorm::None);
    let htk_slaney = MelSpec {
        norm: MelNorm::Slaney,
        ..htk_none
    };
    let slaney_slaney = spec(16, 0.0, 24_000.0, MelScale::Slaney, MelNorm::Slaney);
    let mut worst = 0.0f64;
    let mut worst_cost = 0.0f64;
    let height = 16 * 7;
    for band in [2usize, 5, 9, 13] {
        for s in [htk_none, htk_slaney, slaney_slaney] {
            let e = edges_hz(&s);
            let k0 = (e[band + 1] / hz_per_bin).round() as usize;
            let db = row(params, ValueScale::Db, &bin_centred_sine(n_fft, k0));
            // The closed-form premise, checked on the crate's STFT: 0 dB at k0, −6.02 at ±1.
            assert!(db[k0].abs() < 1e-4, "bin k0 {} dB", db[k0]);
            for k in [k0 - 1, k0 + 1] {
                assert!((f64::from(db[k]) - 10.0 * 0.25f64.log10()).abs() < 1e-4);
            }
            let map = ColumnMap::mel(&s, height, n_fft, SR);
            let mut col = vec![0.0f32; height];
            map.apply(&db, &mut col);
            let got = f64::from(col[band * 7 + 3]);
            let want = closed_form_band_db(&s, n_fft, band, k0);
            let dev = (got - want).abs();
            assert!(
                dev <= 1e-4,
                "{} {} band {band} (k0 {k0}): {got} dB, closed form {want} dB",
                s.scale,
                s.norm
            );
            worst = worst.max(dev);
            if s.norm == MelNorm::None {
                // Wide bands: the triangle is ≈ 1 over the main lobe. k0 is within ½ bin of
                // the centre, so each of the three weights is ≥ 1 − 1.5/h, h the shorter
                // half-width in bins: the cost is positive and at most −10·log10(1 − 1.5/h).
                let cost = ideal - want;
                let h = (e[band + 1] - e[band]).min(e[band + 2] - e[band + 1]) / hz_per_bin;
                let bound = -10.0 * (1.0 - 1.5 / h).log10();
                assert!(
                    cost > 0.0 && cost <= bound,
                    "band {band}: triangle costs {cost} dB, bound {bound} dB"
                );
                assert!((got - ideal).abs() <= cost + 1e-4);
                worst_cost = worst_cost.max(cost);
            } else {
                // The documented area normalisation, as a difference from the peak-1 level.
                let (lo, hi) = (e[band], e[band + 2]);
                let peak1 = closed_form_band_db(
                    &MelSpec {
                        norm: MelNorm::None,
                        ..s
                    },
                    n_fft,
                    band,
                    k0,
                );
                assert!((want - peak1 - 10.0 * (2.0 / (hi - lo)).log10()).abs() < 1e-9);
            }
        }
        // Same edges, so norm Slaney shifts the HTK band by exactly 10·log10(2/(f_{i+2} − f_i)).
        let e = edges_hz(&htk_none);
        let k0 = (e[band + 1] / hz_per_bin).round() as usize;
        let db = row(params, ValueScale::Db, &bin_centred_sine(n_fft, k0));
        let level = |s: &MelSpec| {
            let mut col = vec![0.0f32; 16];
            ColumnMap::mel(s, 16, n_fft, SR).apply(&db, &mut col);
            f64::from(col[band])
        };
        let shift = level(&htk_slaney) - level(&htk_none);
        let want = 10.0 * (2.0 / (e[band + 2] - e[band])).log10();
        assert!(
            (shift - want).abs() < 1e-4,
            "band {band}: {shift} dB, want {want} dB"
        );
    }
    eprintln!(
        "closed-form band levels: worst |Δ| = {worst:.3e} dB; triangle cost ≤ {worst_cost:.4} dB"
    );
}

/// (3a) `mel_axis`: band i's centre at (i + ½)/N, the midpoints between centres at the
/// stripe boundaries i/N, the scale HTK for HTK and TF, Slaney for Slaney.
#[test]
fn mel_axis_puts_band_centres_in_the_middle_of_their_stripes() {
    let mut worst = 0.0f64;
    for (scale, norm, axis_scale) in [
        (MelScale::Slaney, MelNorm::Slaney, FreqScale::MelSlaney),
        (MelScale::Htk, MelNorm::None, FreqScale::MelHtk),
        (MelScale::Tf, MelNorm::None, FreqScale::MelHtk),
    ] {
        for (fmin, fmax) in [(0.0, 24_000.0), (50.0, 12_000.0), (1_500.0, 8_000.0)] {
            for n in [1usize, 16, 40, 128] {
                let s = spec(n, fmin, fmax, scale, norm);
                let axis: FreqAxis = mel_axis(&s);
                assert_eq!(axis.scale, axis_scale);
                assert_eq!(axis.lo_hz(), axis.fmin_hz);
                let e = edges_hz(&s);
                for i in 0..n {
                    let frac = axis.hz_to_frac(e[i + 1]);
                    let dev = (frac - (i as f64 + 0.5) / n as f64).abs();
                    assert!(dev <= 1e-9, "{scale} {n} band {i}: centre at {frac}");
                    worst = worst.max(dev);
                    let back = axis.frac_to_hz((i as f64 + 0.5) / n as f64);
                    assert!((back / e[i + 1] - 1.0).abs() < 1e-9);
                }
                // The mel midpoints between neighbouring centres are the stripe boundaries.
                let fwd = |f: f64| match scale {
                    MelScale::Slaney => slaney(f),
                    _ => htk(f),
                };
                let inv = |m: f64| match scale {
                    MelScale::Slaney => slaney_inv(m),
                    _ => htk_inv(m),
                };
                for i in 0..=n {
                    let (a, b) = (fwd(e[i]), fwd(e[i + 1]));
                    let boundary = inv(0.5 * (a + b));
                    let frac = axis.hz_to_frac(boundary);
                    assert!(
                        (frac - i as f64 / n as f64).abs() <= 1e-9,
                        "{scale} {n}: boundary {i} at {frac}"
                    );
                }
            }
        }
    }
    eprintln!("mel_axis: worst |hz_to_frac(centre_i) − (i+½)/N| = {worst:.3e}");
}

/// (3b) A tone at band i's centre lights the stripe `mel_axis` puts at that frequency, and
/// bands three or more away (triangles disjoint from band i's) read ≥ 60 dB below it.
#[test]
fn a_tone_lights_its_own_stripe_and_far_bands_stay_60_db_below() {
    let n_fft = 4096;
    let params = hann(n_fft);
    let (n, height) = (40usize, 400usize);
    let mut closest_far = f64::INFINITY;
    for (scale, norm) in [
        (MelScale::Slaney, MelNorm::Slaney),
        (MelScale::Htk, MelNorm::None),
        (MelScale::Tf, MelNorm::None),
    ] {
        let s = spec(n, 0.0, 24_000.0, scale, norm);
        let axis = mel_axis(&s);
        let map = ColumnMap::mel(&s, height, n_fft, SR);
        let e = edges_hz(&s);
        for band in [6usize, 15, 27, 36] {
            let f = e[band + 1];
            let frame: Vec<f32> = (0..n_fft)
                .map(|t| {
                    (0.5 * (std::f64::consts::TAU * f * t as f64 / f64::from(SR)).sin()) as f32
                })
                .collect();
            let db = row(params, ValueScale::Db, &frame);
            let mut col = vec![0.0f32; height];
            map.apply(&db, &mut col);
            let (peak_y, &peak) = col
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .expect("non-empty column");
            let y_axis = (axis.hz_to_frac(f) * height as f64).floor() as usize;
            assert_eq!(
                band_under_centre(peak_y, height, n),
                band,
                "{scale}: peak stripe"
            );
            assert_eq!(
                col[y_axis], peak,
                "{scale}: the axis puts {f} Hz in the lit stripe"
            );
            for (y, &v) in col.iter().enumerate() {
                let j = band_under_centre(y, height, n);
                if j.abs_diff(band) >= 3 {
                    let below = f64::from(peak - v);
                    assert!(
                        below >= 60.0,
                        "{scale} tone in band {band}: band {j} only {below} dB below"
                    );
                    closest_far = closest_far.min(below);
                }
            }
        }
    }
    eprintln!("far bands: at least {closest_far:.1} dB below the tone's band");
}

/// Mode bookkeeping: `spans()` stays one per pixel and can never look like the identity
/// map (`offline::is_identity` skips `apply` for it), the axis map has no mel spec, maps
/// are `Clone + Send + Sync`, and `apply` allocates nothing.
#[test]
fn mel_map_bookkeeping_and_no_allocation() {
    fn shareable<T: Clone + Send + Sync + PartialEq + std::fmt::Debug>() {}
    shareable::<ColumnMap>();
    let n_fft = 256;
    let bins = n_fft / 2 + 1;
    let s = spec(64, 0.0, 24_000.0, MelScale::Htk, MelNorm::None);
    // height == num_bins: the identity test looks at the spans.
    let map = ColumnMap::mel(&s, bins, n_fft, SR);
    assert_eq!(map.spans().len(), bins);
    assert_ne!(map.spans()[0], Span::Max { lo: 0, hi: 0 });
    assert!(!map.spans().iter().enumerate().all(|(y, sp)| *sp
        == Span::Max {
            lo: y as u32,
            hi: y as u32
        }));
    let linear = ColumnMap::new(
        &FreqAxis {
            scale: FreqScale::Linear,
            fmin_hz: 0.0,
            fmax_hz: 24_000.0,
        },
        bins,
        n_fft,
        SR,
    );
    assert_eq!(linear.mel_spec(), None);
    assert_ne!(linear, map);
    let copy = map.clone();
    assert_eq!(copy, map);

    let db = row(hann(n_fft), ValueScale::Db, &test_frame(n_fft, 7));
    let mut out = vec![0.0f32; bins];
    let mut again = vec![0.0f32; bins];
    map.apply(&db, &mut out); // warm-up
    reset_violation_count();
    assert_no_alloc(|| copy.apply(&db, &mut again));
    assert_eq!(violation_count(), 0, "ColumnMap::apply (mel) allocated");
    assert_eq!(out, again);
}
