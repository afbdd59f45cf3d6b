//! The frequency axis (`render::freqmap`), the bin → pixel column map, the colormaps
//! (`render::colormap`) and note names (`music`).
//!
//! Oracles:
//! - mel scales: the numeric table of ../shared/DSP.md §7 (librosa 0.11);
//! - axis fractions: the warps typed in again here (`support::mel::{htk, slaney}`, ln);
//! - `ColumnMap`: a naive per-pixel computation written here from the rule "a pixel that
//!   covers ≥ 1 bin centre shows the max of those bins; a pixel between two bin centres
//!   interpolates the two neighbours at its centre frequency";
//! - colormaps: matplotlib's published `_cm_listed.py` values (magma, inferno, viridis,
//!   cividis, turbo), converted to 8 bits with round(255·x);
//! - note names: equal temperament, cents = 1200·log2(f/f_note), computed by hand.

use crate::support::mel::{htk, htk_inv, slaney, slaney_inv, unwarp, warp};
use crate::support::rng::Rng;
use hopscope::dsp::mel::{hz_to_mel_htk, hz_to_mel_slaney, mel_htk_to_hz, mel_slaney_to_hz};
use hopscope::dsp::music::note_name;
use hopscope::render::colormap::{rgb, Colormap, ColormapKind, DbRange, ALL_COLORMAPS};
use hopscope::render::freqmap::{ColumnMap, FreqAxis, FreqScale, Span, LOG_FMIN_HZ};

const SCALES: [FreqScale; 4] = [
    FreqScale::Linear,
    FreqScale::Log,
    FreqScale::MelHtk,
    FreqScale::MelSlaney,
];

// ---------------------------------------------------------------- mel formulas

/// DSP.md §7: f, HTK mel, Slaney mel (6 decimals).
const MEL_TABLE: [(f64, f64, f64); 6] = [
    (100.0, 150.489102, 1.5),
    (500.0, 607.445920, 7.5),
    (1000.0, 999.985537, 15.0),
    (2000.0, 1521.359554, 25.081880),
    (4000.0, 2146.064528, 35.163760),
    (8000.0, 2840.023047, 45.245640),
];

#[test]
fn mel_scales_match_the_dsp_md_table() {
    for (hz, mel_htk, mel_slaney) in MEL_TABLE {
        let (h, s) = (hz_to_mel_htk(hz), hz_to_mel_slaney(hz));
        // The table has 6 decimals: half a unit of the last place, plus rounding slack.
        assert!((h - mel_htk).abs() <= 1e-6, "HTK {hz} Hz: {h} vs {mel_htk}");
        assert!(
            (s - mel_slaney).abs() <= 1e-6,
            "Slaney {hz} Hz: {s} vs {mel_slaney}"
        );
        // And the inverses return the frequency from the table's mel values.
        assert!(
            (mel_htk_to_hz(mel_htk) - hz).abs() <= 1e-5 * hz,
            "HTK inverse at {mel_htk}"
        );
        assert!(
            (mel_slaney_to_hz(mel_slaney) - hz).abs() <= 1e-5 * hz,
            "Slaney inverse at {mel_slaney}"
        );
    }
}

#[test]
fn mel_formulas_agree_with_the_written_out_formulas_and_round_trip() {
    let mut hz = 0.0;
    while hz <= 96_000.0 {
        let h = hz_to_mel_htk(hz);
        let s = hz_to_mel_slaney(hz);
        assert!((h - htk(hz)).abs() <= 1e-9 * h.max(1.0), "HTK {hz}");
        assert!((s - slaney(hz)).abs() <= 1e-9 * s.max(1.0), "Slaney {hz}");
        let tol = 1e-9 * hz.max(1.0);
        assert!((mel_htk_to_hz(h) - hz).abs() <= tol, "HTK round trip {hz}");
        assert!(
            (mel_slaney_to_hz(s) - hz).abs() <= tol,
            "Slaney round trip {hz}"
        );
        assert!((htk_inv(h) - hz).abs() <= tol && (slaney_inv(s) - hz).abs() <= tol);
        hz += 37.25;
    }
    // Slaney is continuous at 1 kHz (15 mel from both sides).
    assert!((hz_to_mel_slaney(999.999_999) - 15.0).abs() < 1e-7);
    // 1000/(200/3) is 14.999999999999998 in f64 (librosa's min_log_mel is the same).
    assert!((hz_to_mel_slaney(1000.0) - 15.0).abs() < 1e-12);
    assert!((hz_to_mel_slaney(1000.000001) - 15.0).abs() < 1e-7);
}

// ---------------------------------------------------------------- FreqAxis

fn axis(scale: FreqScale, fmin_hz: f64, fmax_hz: f64) -> FreqAxis {
    FreqAxis {
        scale,
        fmin_hz,
        fmax_hz,
    }
}

/// The bottom edge shown: max(fmin, 20 Hz) on a log axis (typed in from the docs).
fn lo_of(a: &FreqAxis) -> f64 {
    if a.scale == FreqScale::Log {
        a.fmin_hz.max(20.0)
    } else {
        a.fmin_hz
    }
}

/// Oracle: position of `hz` on the axis.
fn frac_of(a: &FreqAxis, hz: f64) -> f64 {
    let (lo, hi) = (warp(a.scale, lo_of(a)), warp(a.scale, a.fmax_hz));
    (warp(a.scale, hz) - lo) / (hi - lo)
}

/// Oracle: frequency at `t` of the axis (ends exact).
fn hz_at(a: &FreqAxis, t: f64) -> f64 {
    if t <= 0.0 {
        return lo_of(a);
    }
    if t >= 1.0 {
        return a.fmax_hz;
    }
    let (lo, hi) = (warp(a.scale, lo_of(a)), warp(a.scale, a.fmax_hz));
    unwarp(a.scale, lo + t * (hi - lo))
}

const RANGES: [(f64, f64); 6] = [
    (0.0, 24_000.0),
    (0.0, 22_050.0),
    (100.0, 8_000.0),
    (5.0, 1_000.0),
    (3_000.0, 3_100.0),
    (1_000.0, 1_010.0),
];

#[test]
fn log_axis_starts_at_20_hz_or_fmin() {
    assert_eq!(LOG_FMIN_HZ, 20.0);
    assert_eq!(axis(FreqScale::Log, 0.0, 24_000.0).lo_hz(), 20.0);
    assert_eq!(axis(FreqScale::Log, 5.0, 24_000.0).lo_hz(), 20.0);
    assert_eq!(axis(FreqScale::Log, 50.0, 24_000.0).lo_hz(), 50.0);
    for s in [FreqScale::Linear, FreqScale::MelHtk, FreqScale::MelSlaney] {
        assert_eq!(axis(s, 0.0, 24_000.0).lo_hz(), 0.0, "{s}");
        assert_eq!(axis(s, 5.0, 24_000.0).lo_hz(), 5.0, "{s}");
    }
    // 20 Hz is the bottom of a log axis from 0 Hz: fraction 0.
    let a = axis(FreqScale::Log, 0.0, 24_000.0);
    assert_eq!(a.frac_to_hz(0.0), 20.0);
    assert!(a.hz_to_frac(20.0).abs() < 1e-15);
    // Half-way up 20..20000 Hz on a log axis is the geometric mean, 632.46 Hz.
    let b = axis(FreqScale::Log, 0.0, 20_000.0);
    assert!((b.frac_to_hz(0.5) - (20.0f64 * 20_000.0).sqrt()).abs() < 1e-9);
}

#[test]
fn axis_fractions_round_trip_are_monotonic_and_exact_at_the_ends() {
    for scale in SCALES {
        for (fmin, fmax) in RANGES {
            let a = axis(scale, fmin, fmax);
            let lo = lo_of(&a);
            assert_eq!(a.lo_hz(), lo, "{scale} {fmin}..{fmax}");
            assert_eq!(a.frac_to_hz(0.0), lo, "{scale} {fmin}..{fmax}: bottom");
            assert_eq!(a.frac_to_hz(1.0), fmax, "{scale} {fmin}..{fmax}: top");
            assert!(a.hz_to_frac(lo).abs() <= 1e-12, "{scale}: frac(lo)");
            assert!(
                (a.hz_to_frac(fmax) - 1.0).abs() <= 1e-12,
                "{scale}: frac(fmax)"
            );
            let mut prev = f64::NEG_INFINITY;
            for i in 0..=1000 {
                let t = i as f64 / 1000.0;
                let hz = a.frac_to_hz(t);
                assert!(hz > prev, "{scale} {fmin}..{fmax}: not increasing at {t}");
                prev = hz;
                assert!(
                    (hz - hz_at(&a, t)).abs() <= 1e-9 * fmax,
                    "{scale} {fmin}..{fmax}: frac_to_hz({t}) = {hz}, oracle {}",
                    hz_at(&a, t)
                );
                assert!(
                    (a.hz_to_frac(hz) - t).abs() <= 1e-9,
                    "{scale} {fmin}..{fmax}: round trip at {t}: {}",
                    a.hz_to_frac(hz)
                );
                let f = lo + (fmax - lo) * t;
                assert!(
                    (a.hz_to_frac(f) - frac_of(&a, f)).abs() <= 1e-9,
                    "{scale} {fmin}..{fmax}: hz_to_frac({f}) = {}, oracle {}",
                    a.hz_to_frac(f),
                    frac_of(&a, f)
                );
                assert!((a.frac_to_hz(a.hz_to_frac(f)) - f).abs() <= 1e-9 * fmax);
            }
        }
    }
}

#[test]
fn freq_scale_names_parse_and_cycle() {
    for (s, name) in SCALES.iter().zip(["linear", "log", "mel", "mel-slaney"]) {
        assert_eq!(s.name(), name);
        assert_eq!(s.to_string(), name);
        assert_eq!(name.parse::<FreqScale>(), Ok(*s));
        assert_eq!(name.to_uppercase().parse::<FreqScale>(), Ok(*s));
    }
    for (alias, s) in [
        ("lin", FreqScale::Linear),
        ("htk", FreqScale::MelHtk),
        ("mel-htk", FreqScale::MelHtk),
        ("slaney", FreqScale::MelSlaney),
    ] {
        assert_eq!(alias.parse::<FreqScale>(), Ok(s), "{alias}");
    }
    let err = "bark".parse::<FreqScale>().unwrap_err();
    assert!(
        err.contains("'bark'") && err.contains("mel-slaney"),
        "{err}"
    );
    assert_eq!(FreqScale::Linear.next(), FreqScale::Log);
    assert_eq!(FreqScale::Log.next(), FreqScale::MelHtk);
    assert_eq!(FreqScale::MelHtk.next(), FreqScale::MelSlaney);
    assert_eq!(FreqScale::MelSlaney.next(), FreqScale::Linear);
}

// ---------------------------------------------------------------- ColumnMap

/// Pixel `y`'s edges in fractional bins (clamped to the bins), from the oracle warps.
fn pixel_bins(a: &FreqAxis, y: usize, height: usize, hz_per_bin: f64, last: f64) -> (f64, f64) {
    let b = |t: f64| (hz_at(a, t) / hz_per_bin).clamp(0.0, last);
    (
        b(y as f64 / height as f64),
        b((y + 1) as f64 / height as f64),
    )
}

/// Every value the rule allows for pixel `y` (more than one only when a bin centre lies
/// within 1e-9 bins of a pixel edge, where either side may claim it).
fn naive_pixel(
    a: &FreqAxis,
    y: usize,
    height: usize,
    n_fft: usize,
    sr: u32,
    bins: &[f32],
) -> Vec<f32> {
    let last = (bins.len() - 1) as f64;
    let hz_per_bin = sr as f64 / n_fft as f64;
    let (b0, b1) = pixel_bins(a, y, height, hz_per_bin, last);
    let interp = || {
        let c = (hz_at(a, (y as f64 + 0.5) / height as f64) / hz_per_bin).clamp(0.0, last);
        let lo = c.floor().min(last - 1.0);
        let (x0, x1) = (bins[lo as usize] as f64, bins[lo as usize + 1] as f64);
        (x0 + (x1 - x0) * (c - lo)) as f32
    };
    let max_of = |k0: f64, k1: f64| -> Option<f32> {
        (k1 >= k0).then(|| {
            (k0 as usize..=k1 as usize)
                .map(|k| bins[k])
                .fold(f32::NEG_INFINITY, f32::max)
        })
    };
    let eps = 1e-9;
    let mut out = vec![];
    for (k0, k1) in [
        ((b0 - eps).ceil(), (b1 + eps).floor()),
        ((b0 + eps).ceil(), (b1 - eps).floor()),
    ] {
        out.push(max_of(k0.max(0.0), k1.min(last)).unwrap_or_else(interp));
    }
    out
}

struct Case {
    scale: FreqScale,
    fmin: f64,
    fmax: f64,
    height: usize,
    n_fft: usize,
    sr: u32,
}

fn cases() -> Vec<Case> {
    let mut v = vec![];
    for scale in SCALES {
        for (sr, fmin, fmax) in [
            (48_000, 0.0, 24_000.0),
            (44_100, 0.0, 22_050.0),
            (48_000, 100.0, 8_000.0),
            (48_000, 2_900.0, 3_100.0),
        ] {
            for (n_fft, height) in [(256, 300), (1024, 513), (4096, 200), (2048, 1025)] {
                v.push(Case {
                    scale,
                    fmin,
                    fmax,
                    height,
                    n_fft,
                    sr,
                });
            }
        }
    }
    v
}

#[test]
fn column_map_matches_the_naive_max_or_interpolate_rule_on_random_rows() {
    let mut rng = Rng::new(11);
    let mut worst = (0usize, String::new());
    for c in cases() {
        let a = axis(c.scale, c.fmin, c.fmax);
        let map = ColumnMap::new(&a, c.height, c.n_fft, c.sr);
        let n_bins = c.n_fft / 2 + 1;
        assert_eq!(map.num_bins(), n_bins);
        assert_eq!(map.height(), c.height);
        assert_eq!(map.spans().len(), c.height);
        let mut bad = vec![];
        for _ in 0..3 {
            let bins: Vec<f32> = (0..n_bins).map(|_| rng.range(-120.0, 0.0) as f32).collect();
            let mut out = vec![f32::NAN; c.height];
            map.apply(&bins, &mut out);
            for (y, &got) in out.iter().enumerate() {
                let allowed = naive_pixel(&a, y, c.height, c.n_fft, c.sr, &bins);
                if !allowed.iter().any(|v| (v - got).abs() <= 1e-3) {
                    bad.push(format!(
                        "y {y}: got {got} ({:?}), rule {allowed:?}",
                        map.spans()[y]
                    ));
                }
            }
        }
        let what = format!(
            "{} {}..{} Hz, sr {}, n_fft {}, height {}",
            c.scale, c.fmin, c.fmax, c.sr, c.n_fft, c.height
        );
        if bad.len() > worst.0 {
            worst = (bad.len(), format!("{what}: {}", bad[0]));
        }
        assert!(
            bad.is_empty(),
            "{what}: {} pixel values differ from the rule, e.g. {}",
            bad.len(),
            bad.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
        );
    }
}

#[test]
fn column_map_bins_increase_and_each_pixel_stays_within_its_frequency_range() {
    for c in cases() {
        let a = axis(c.scale, c.fmin, c.fmax);
        let map = ColumnMap::new(&a, c.height, c.n_fft, c.sr);
        let what = format!(
            "{} {}..{} n_fft {} h {}",
            c.scale, c.fmin, c.fmax, c.n_fft, c.height
        );
        // Span bins never go down the column.
        let firsts: Vec<u32> = map
            .spans()
            .iter()
            .map(|s| match *s {
                Span::Max { lo, hi } => {
                    assert!(hi >= lo, "{what}: {s:?}");
                    lo
                }
                Span::Interp { lo, frac } => {
                    assert!((0.0..=1.0).contains(&frac), "{what}: {s:?}");
                    lo
                }
            })
            .collect();
        assert!(
            firsts.windows(2).all(|w| w[0] <= w[1]),
            "{what}: bins go down"
        );
        // A ramp row (bin k holds k) reads back a bin position inside each pixel's range.
        let n_bins = c.n_fft / 2 + 1;
        let ramp: Vec<f32> = (0..n_bins).map(|k| k as f32).collect();
        let mut out = vec![0.0; c.height];
        map.apply(&ramp, &mut out);
        let hz_per_bin = c.sr as f64 / c.n_fft as f64;
        let last = (n_bins - 1) as f64;
        for (y, &v) in out.iter().enumerate() {
            let (b0, b1) = pixel_bins(&a, y, c.height, hz_per_bin, last);
            assert!(
                v as f64 >= b0 - 1e-3 && v as f64 <= b1 + 1e-3,
                "{what}: pixel {y} reads bin {v}, its range is bins {b0}..{b1}"
            );
        }
        assert!(
            out.windows(2).all(|w| w[0] <= w[1]),
            "{what}: ramp not monotonic"
        );
        // The bottom pixel covers fmin (lo_hz), the top pixel fmax.
        let (bottom, top) = (lo_of(&a) / hz_per_bin, c.fmax / hz_per_bin);
        let px = |k: usize| {
            let (b0, b1) = pixel_bins(&a, k, c.height, hz_per_bin, last);
            b1 - b0
        };
        assert!(
            (out[0] as f64 - bottom).abs() <= px(0).max(1.0) + 1e-3,
            "{what}: bottom pixel reads bin {}, fmin is bin {bottom}",
            out[0]
        );
        assert!(
            (out[c.height - 1] as f64 - top).abs() <= px(c.height - 1).max(1.0) + 1e-3,
            "{what}: top pixel reads bin {}, fmax is bin {top}",
            out[c.height - 1]
        );
    }
}

/// A single-bin impulse (0 dB on −120 dB) must show at full level on the pixel whose
/// frequency range holds that bin's centre frequency, and nowhere brighter.
#[test]
fn single_bin_impulse_lands_on_the_pixel_that_holds_its_centre_frequency() {
    let (n_fft, sr, height) = (1024, 48_000u32, 400);
    let hz_per_bin = sr as f64 / n_fft as f64;
    let mut failures = vec![];
    for scale in [
        FreqScale::Linear,
        FreqScale::Log,
        FreqScale::MelHtk,
        FreqScale::MelSlaney,
    ] {
        let a = axis(scale, 0.0, 24_000.0);
        let map = ColumnMap::new(&a, height, n_fft, sr);
        for k in [1usize, 2, 3, 5, 10, 21, 50, 100, 213, 300, 400, 511] {
            let f = k as f64 * hz_per_bin;
            if f < lo_of(&a) {
                continue;
            }
            let mut bins = vec![-120.0f32; n_fft / 2 + 1];
            bins[k] = 0.0;
            let mut out = vec![0.0; height];
            map.apply(&bins, &mut out);
            let t = frac_of(&a, f) * height as f64;
            let y = (t.floor() as usize).min(height - 1);
            // On an edge (to 1e-9 px) either neighbour may hold it.
            let candidates: Vec<usize> = if (t - t.round()).abs() < 1e-9 && t.round() >= 1.0 {
                vec![t.round() as usize - 1, (t.round() as usize).min(height - 1)]
            } else {
                vec![y]
            };
            let peak = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let at = candidates
                .iter()
                .map(|&c| out[c])
                .fold(f32::NEG_INFINITY, f32::max);
            if peak != 0.0 || at != 0.0 {
                failures.push(format!(
                    "{scale} bin {k} ({f:.1} Hz): pixel {candidates:?} reads {at} dB, brightest {peak} dB at {:?} ({:?})",
                    out.iter().position(|&v| v == peak),
                    map.spans()[y]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} impulses lost level:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Default `hopscope render` geometry: n_fft/2 + 1 pixels over 0..nyquist. Every bin
/// centre falls in its own pixel, so an all-distinct row must come back with every bin
/// value present (no bin is smeared into its neighbours).
#[test]
fn one_pixel_per_bin_shows_every_bin_value() {
    for n_fft in [256usize, 2048] {
        let n_bins = n_fft / 2 + 1;
        let a = axis(FreqScale::Linear, 0.0, 24_000.0);
        let map = ColumnMap::new(&a, n_bins, n_fft, 48_000);
        let row: Vec<f32> = (0..n_bins)
            .map(|k| -(((k * 7919) % n_bins) as f32) / 10.0)
            .collect();
        let mut out = vec![0.0; n_bins];
        map.apply(&row, &mut out);
        let missing: Vec<usize> = (0..n_bins)
            .filter(|&k| !out.iter().any(|&v| v == row[k]))
            .collect();
        assert!(
            missing.is_empty(),
            "n_fft {n_fft}: {} of {n_bins} bin values never shown, e.g. bins {:?}",
            missing.len(),
            &missing[..missing.len().min(8)]
        );
    }
}

#[test]
#[should_panic(expected = "row width must match the map")]
fn apply_rejects_a_row_of_the_wrong_width() {
    let map = ColumnMap::new(&axis(FreqScale::Linear, 0.0, 24_000.0), 10, 256, 48_000);
    map.apply(&[0.0; 128], &mut [0.0; 10]);
}

#[test]
#[should_panic(expected = "column height must match the map")]
fn apply_rejects_a_column_of_the_wrong_height() {
    let map = ColumnMap::new(&axis(FreqScale::Linear, 0.0, 24_000.0), 10, 256, 48_000);
    map.apply(&[0.0; 129], &mut [0.0; 11]);
}

// ---------------------------------------------------------------- colormaps

fn channels(c: u32) -> [i32; 3] {
    [
        (c >> 16) as i32 & 255,
        (c >> 8) as i32 & 255,
        c as i32 & 255,
    ]
}

/// matplotlib float triple → 8-bit (round(255·x)).
fn mpl(r: f64, g: f64, b: f64) -> u32 {
    let q = |x: f64| (x * 255.0).round() as u8;
    rgb(q(r), q(g), q(b))
}

#[test]
fn colormap_endpoints_match_matplotlib() {
    // (kind, LUT index, matplotlib value, allowed per-channel difference).
    let expected = [
        // magma: _magma_data[0], [128], [255] = #000004, #b73779, #fcfdbf.
        (ColormapKind::Magma, 0, mpl(0.001462, 0.000466, 0.013866), 0),
        (
            ColormapKind::Magma,
            255,
            mpl(0.987053, 0.991438, 0.749504),
            0,
        ),
        (
            ColormapKind::Magma,
            128,
            mpl(0.716387, 0.214982, 0.475290),
            2,
        ),
        // viridis: #440154, #21918c, #fde725.
        (
            ColormapKind::Viridis,
            0,
            mpl(0.267004, 0.004874, 0.329415),
            0,
        ),
        (
            ColormapKind::Viridis,
            255,
            mpl(0.993248, 0.906157, 0.143936),
            0,
        ),
        (
            ColormapKind::Viridis,
            128,
            mpl(0.127568, 0.566949, 0.550556),
            2,
        ),
        // inferno: #000004, #bc3754, #fcffa4.
        (
            ColormapKind::Inferno,
            0,
            mpl(0.001462, 0.000466, 0.013866),
            0,
        ),
        (
            ColormapKind::Inferno,
            255,
            mpl(0.988362, 0.998364, 0.644924),
            0,
        ),
        (
            ColormapKind::Inferno,
            128,
            mpl(0.735683, 0.215906, 0.330245),
            2,
        ),
        // cividis: _cividis_data[0] = (0, 0.135112, 0.304751) = #00224e. colorous' cividis
        // is d3's polynomial fit (checked in full below) and starts at #002051, 3 units
        // off in blue: ±3 here, documented. (Its top, #fde945, is 13 units from
        // matplotlib's #fee838, so only the bottom is compared with matplotlib.)
        (ColormapKind::Cividis, 0, mpl(0.0, 0.135112, 0.304751), 3),
        (ColormapKind::Grayscale, 0, 0x000000, 0),
        (ColormapKind::Grayscale, 255, 0xffffff, 0),
    ];
    assert_eq!(mpl(0.001462, 0.000466, 0.013866), 0x000004);
    assert_eq!(mpl(0.987053, 0.991438, 0.749504), 0xfcfdbf);
    assert_eq!(mpl(0.267004, 0.004874, 0.329415), 0x440154);
    assert_eq!(mpl(0.993248, 0.906157, 0.143936), 0xfde725);
    assert_eq!(mpl(0.988362, 0.998364, 0.644924), 0xfcffa4);
    assert_eq!(mpl(0.0, 0.135112, 0.304751), 0x00224e);
    let mut report = vec![];
    for (kind, i, want, tol) in expected {
        let got = Colormap::new(kind).lut()[i];
        let diff = channels(got)
            .iter()
            .zip(channels(want))
            .map(|(a, b)| (a - b).abs())
            .max()
            .unwrap();
        report.push(format!(
            "{kind}[{i}] = #{got:06x} (matplotlib #{want:06x}, max diff {diff}, allowed {tol}){}",
            if diff > tol { " FAIL" } else { "" }
        ));
    }
    eprintln!("{}", report.join("\n"));
    assert!(!report.iter().any(|l| l.ends_with("FAIL")), "{report:#?}");
}

/// d3-scale-chromatic's published polynomials (`interpolateCividis`, `interpolateTurbo`),
/// which colorous ports; t in [0, 1] → 8-bit channels (clamped, rounded).
fn d3_poly(kind: ColormapKind, t: f64) -> u32 {
    let c = |v: f64| v.round().clamp(0.0, 255.0) as u8;
    match kind {
        ColormapKind::Cividis => rgb(
            c(-4.54 - t * (35.34 - t * (2381.73 - t * (6402.7 - t * (7024.72 - t * 2710.57))))),
            c(32.49 + t * (170.73 + t * (52.82 - t * (131.46 - t * (176.58 - t * 67.37))))),
            c(81.24 + t * (442.36 - t * (2482.43 - t * (6167.24 - t * (6614.94 - t * 2475.67))))),
        ),
        ColormapKind::Turbo => rgb(
            c(34.61
                + t * (1172.33 - t * (10793.56 - t * (33300.12 - t * (38394.49 - t * 14825.05))))),
            c(23.31 + t * (557.33 + t * (1225.33 - t * (3574.96 - t * (1073.77 + t * 707.56))))),
            c(27.2 + t * (3211.1 - t * (15327.97 - t * (27814.0 - t * (22569.18 - t * 6838.66))))),
        ),
        _ => unreachable!("only the polynomial maps"),
    }
}

/// Cividis and Turbo are d3's polynomial fits (colorous rounds down, hence ±1). Note:
/// Turbo's ends differ from matplotlib's table (#30123b / #7a0403) by up to 32 units.
#[test]
fn cividis_and_turbo_follow_the_d3_polynomials_everywhere() {
    for kind in [ColormapKind::Cividis, ColormapKind::Turbo] {
        let lut = Colormap::new(kind);
        for (i, &got) in lut.lut().iter().enumerate() {
            let want = d3_poly(kind, i as f64 / 255.0);
            let diff = channels(got)
                .iter()
                .zip(channels(want))
                .map(|(a, b)| (a - b).abs())
                .max()
                .unwrap();
            assert!(diff <= 1, "{kind}[{i}] = #{got:06x}, d3 #{want:06x}");
        }
    }
}

#[test]
fn grayscale_is_the_identity_ramp_and_every_lut_has_256_entries() {
    let g = Colormap::new(ColormapKind::Grayscale);
    for (i, &c) in g.lut().iter().enumerate() {
        let v = i as u8;
        assert_eq!(c, rgb(v, v, v), "grayscale[{i}]");
    }
    for kind in ALL_COLORMAPS {
        let cm = Colormap::new(kind);
        assert_eq!(cm.kind(), kind);
        assert!(
            cm.lut().iter().all(|&c| c <= 0x00ff_ffff),
            "{kind}: 0x00RRGGBB"
        );
        // Not a constant table.
        assert_ne!(cm.lut()[0], cm.lut()[255], "{kind}");
    }
    assert_eq!(rgb(0x12, 0x34, 0x56), 0x0012_3456);
}

#[test]
fn db_range_index_maps_floor_to_0_ceiling_to_255_and_clamps() {
    let r = DbRange {
        floor_db: -120.0,
        ceiling_db: 0.0,
    };
    assert_eq!(r.index(-120.0), 0);
    assert_eq!(r.index(0.0), 255);
    assert_eq!(r.index(-500.0), 0);
    assert_eq!(r.index(f32::NEG_INFINITY), 0);
    assert_eq!(r.index(f32::NAN), 0);
    assert_eq!(r.index(12.0), 255);
    assert_eq!(r.index(f32::INFINITY), 255);
    let mid = r.index(-60.0);
    assert!(mid == 127 || mid == 128, "midpoint → {mid}");
    // Everywhere: round(255·(v − floor)/(ceiling − floor)), clamped (± 1 at exact halves).
    for r in [
        r,
        DbRange {
            floor_db: -90.0,
            ceiling_db: -30.0,
        },
        DbRange {
            floor_db: 10.0,
            ceiling_db: 15.0,
        },
    ] {
        let span = (r.ceiling_db - r.floor_db) as f64;
        let mut v = r.floor_db as f64 - 20.0;
        while v <= r.ceiling_db as f64 + 20.0 {
            let want = (255.0 * (v - r.floor_db as f64) / span)
                .round()
                .clamp(0.0, 255.0);
            let got = r.index(v as f32) as f64;
            assert!(
                (got - want).abs() <= 1.0,
                "{r:?}: {v} dB → {got}, expected {want}"
            );
            v += 0.0731;
        }
        // Monotonic.
        let idx: Vec<usize> = (0..2000)
            .map(|i| r.index(r.floor_db - 10.0 + i as f32 * (span as f32 + 20.0) / 2000.0))
            .collect();
        assert!(idx.windows(2).all(|w| w[0] <= w[1]), "{r:?}");
    }
    assert_eq!(DbRange::DEFAULT, r);
    let cm = Colormap::new(ColormapKind::Viridis);
    for v in [-130.0, -120.0, -61.3, -0.5, 0.0, 3.0] {
        assert_eq!(cm.color(v, r), cm.lut()[r.index(v)]);
    }
}

#[test]
fn colormap_names_parse_cycle_and_reject_unknown_names() {
    let names = [
        "magma",
        "viridis",
        "inferno",
        "grayscale",
        "turbo",
        "cividis",
    ];
    assert_eq!(ALL_COLORMAPS.len(), names.len());
    for (kind, name) in ALL_COLORMAPS.iter().zip(names) {
        assert_eq!(kind.name(), name);
        assert_eq!(kind.to_string(), name);
        assert_eq!(name.parse::<ColormapKind>(), Ok(*kind));
        assert_eq!(name.to_uppercase().parse::<ColormapKind>(), Ok(*kind));
    }
    for alias in ["gray", "grey", "greyscale", "Grey"] {
        assert_eq!(
            alias.parse::<ColormapKind>(),
            Ok(ColormapKind::Grayscale),
            "{alias}"
        );
    }
    for bad in ["jet", "", "magma2"] {
        let err = bad.parse::<ColormapKind>().unwrap_err();
        assert!(err.contains(&format!("'{bad}'")), "{err}");
        for name in names {
            assert!(err.contains(name), "{err} should list {name}");
        }
    }
    let mut k = ColormapKind::Magma;
    for i in 1..=ALL_COLORMAPS.len() {
        k = k.next();
        assert_eq!(k, ALL_COLORMAPS[i % ALL_COLORMAPS.len()]);
    }
}

// ---------------------------------------------------------------- note names

#[test]
fn note_names_and_cents() {
    // Cents by hand: 1200·log2(f / note), note = 440·2^((midi − 69)/12).
    let cents = |f: f64, midi: f64| 1200.0 * (f / (440.0 * 2f64.powf((midi - 69.0) / 12.0))).log2();
    assert!((cents(445.0, 69.0) - 19.56).abs() < 0.01);
    // 1000 Hz: B5 = 987.767 Hz, C6 = 1046.502 Hz → B5 +21.3 cents (not C6 −78.7).
    assert!((cents(1000.0, 83.0) - 21.31).abs() < 0.01);
    assert!((cents(1000.0, 84.0) + 78.69).abs() < 0.01);
    for (hz, name) in [
        (440.0, "A4 +0c"),
        (261.6256, "C4 +0c"),
        (27.5, "A0 +0c"),
        (4186.01, "C8 +0c"),
        (445.0, "A4 +20c"),
        (1000.0, "B5 +21c"),
        (880.0, "A5 +0c"),
        (466.1638, "A#4 +0c"),
        (16.3516, "C0 +0c"),
        (8.1758, "C-1 +0c"),
        (435.0, "A4 -20c"),
        (452.0, "A4 +47c"),
    ] {
        assert_eq!(note_name(hz).as_deref(), Some(name), "{hz} Hz");
    }
    for bad in [0.0, 0.5, -440.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(note_name(bad), None, "{bad}");
    }
}

// ---------------------------------------------------------------- live time ticks

/// Checks a tick placement over columns of age `ages[x]` (`NaN`: no column, and none
/// further left) against the rules, written out again: every label is a multiple of the
/// step, at a column at least that old whose right neighbour is younger; labels never
/// closer than the gap (which is wider than any label); values grow leftwards.
fn check_ticks(ages: &[f64], step_s: f64, decimals: usize) -> Vec<(usize, f64)> {
    use hopscope::render::chrome::{place_time_ticks, time_label_gap_px};
    use hopscope::render::text::text_width;
    let width = ages.len();
    let max_age = ages
        .iter()
        .copied()
        .filter(|a| a.is_finite())
        .fold(0.0, f64::max);
    let gap = time_label_gap_px(max_age, decimals);
    let mut ticks = Vec::new();
    let age = |x: usize| Some(ages[x]).filter(|a| a.is_finite());
    place_time_ticks(width, step_s, gap, age, |x, t| ticks.push((x, t)));
    for (i, &(x, t)) in ticks.iter().enumerate() {
        let k = (t / step_s).round();
        assert!((t - k * step_s).abs() < 1e-9 && k >= 1.0, "{t} not a step");
        assert!(
            ages[x] >= t - 1e-9,
            "tick {t} at a column of age {}",
            ages[x]
        );
        if x + 1 < width {
            assert!(ages[x + 1] < t, "tick {t} not at the first column that old");
        }
        let label = format!("-{t:.decimals$}s");
        assert!(
            text_width(&label, 1) + 4 <= gap,
            "{label} wider than the gap {gap}"
        );
        if i > 0 {
            let (px, pt) = ticks[i - 1];
            assert!(px - x >= gap, "labels {pt} at {px} and {t} at {x} overlap");
            assert!(t > pt);
        }
    }
    ticks
}

#[test]
fn live_time_ticks_on_even_columns_fall_every_step() {
    // 1280 columns of 1/128 s (10 s on screen), step 1 s: ticks at exactly 128 px apart.
    let ages: Vec<f64> = (0..1280).map(|x| (1279 - x) as f64 / 128.0).collect();
    let ticks = check_ticks(&ages, 1.0, 0);
    assert_eq!(ticks.len(), 9);
    for (i, &(x, t)) in ticks.iter().enumerate() {
        assert_eq!(t, (i + 1) as f64);
        assert_eq!(x, 1279 - 128 * (i + 1));
    }
    // 23 ms on screen (hop 1 at 48 kHz, one row a column): 5 ms steps, 240 px apart.
    let ages: Vec<f64> = (0..1100).map(|x| (1099 - x) as f64 / 48000.0).collect();
    let ticks = check_ticks(&ages, 0.005, 3);
    assert_eq!(ticks.len(), 4);
    assert_eq!(ticks[0].0, 1099 - 240);
}

#[test]
fn live_time_ticks_never_overlap_when_column_times_jump() {
    // Columns whose times jump unevenly (rows dropped, gaps): the old loop placed
    // one tick per column whenever a step was passed, so `-0.07s` landed on `-0.06s`.
    let mut rng = Rng::new(41);
    for case in 0..200 {
        let width = 200 + rng.below(1400);
        let mut ages = vec![f64::NAN; width];
        let mut age = 0.0;
        let filled = width - rng.below(width / 2 + 1);
        let typical = rng.range(1e-5, 0.05);
        for x in (width - filled..width).rev() {
            ages[x] = age;
            age += match rng.below(10) {
                0 => typical * rng.range(5.0, 200.0), // a jump past several steps
                1 => 0.0,                             // the same instant twice
                _ => typical * rng.range(0.1, 2.0),
            };
        }
        let (step, decimals) = hopscope::render::chrome::time_step(age * 110.0 / filled as f64);
        let ticks = check_ticks(&ages, step, decimals);
        assert!(
            !ticks.is_empty() || age < 2.0 * step,
            "case {case}: no tick over {age} s at step {step}"
        );
    }
}
