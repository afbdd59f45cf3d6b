//! The values of the enumerated flags, as clap parses them.
//!
//! Each `…Arg` enum mirrors one domain enum (`FreqScale`, `ValueScale`, `ColormapKind`,
//! `MelScale`, `MelNorm`, `NanPolicy`) and derives [`clap::ValueEnum`], so a bad value is
//! clap's one-line error listing the possible values, and `--help` lists them with what
//! each means. The mirrors keep `dsp`, `render` and `io` free of clap: only `cli` and
//! `main.rs` name it. `From` runs both ways with exhaustive matches,
//! so a variant added to a domain enum does not compile until its flag value exists.
//!
//! `--window` takes a parameter (`kaiser=BETA`), which a `ValueEnum` cannot: it has its
//! own parser, [`WindowParser`], with the same errors. `--host` lists the audio hosts
//! compiled in ([`host_parser`]).

use std::ffi::OsStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::ValueEnum;

use crate::dsp::mel::{MelNorm, MelScale};
use crate::dsp::scale::ValueScale;
use crate::dsp::window::{WindowKind, ALL_WINDOWS};
use crate::io::wav::NanPolicy;
use crate::render::colormap::ColormapKind;
use crate::render::freqmap::FreqScale;

/// `--freq-scale`: the frequency axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FreqScaleArg {
    /// Equal Hz per pixel.
    #[value(alias = "lin")]
    Linear,
    /// Equal ratio per pixel, from max(fmin, 20 Hz).
    Log,
    /// HTK mel, 2595·log10(1 + f/700) (torchaudio, librosa htk=True).
    #[value(name = "mel", alias = "mel-htk", alias = "htk")]
    MelHtk,
    /// Slaney mel, linear below 1 kHz and log above (librosa's default).
    #[value(alias = "slaney")]
    MelSlaney,
}

impl From<FreqScaleArg> for FreqScale {
    fn from(arg: FreqScaleArg) -> Self {
        match arg {
            FreqScaleArg::Linear => FreqScale::Linear,
            FreqScaleArg::Log => FreqScale::Log,
            FreqScaleArg::MelHtk => FreqScale::MelHtk,
            FreqScaleArg::MelSlaney => FreqScale::MelSlaney,
        }
    }
}

impl From<FreqScale> for FreqScaleArg {
    fn from(scale: FreqScale) -> Self {
        match scale {
            FreqScale::Linear => FreqScaleArg::Linear,
            FreqScale::Log => FreqScaleArg::Log,
            FreqScale::MelHtk => FreqScaleArg::MelHtk,
            FreqScale::MelSlaney => FreqScaleArg::MelSlaney,
        }
    }
}

/// `analyze --scale`: what the values of a row are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ValueScaleArg {
    /// Calibrated dBFS: a full-scale sine reads 0.
    #[value(alias = "dbfs")]
    Db,
    /// |X|, as np.abs(librosa.stft(...)).
    #[value(alias = "mag")]
    Magnitude,
    /// |X|², librosa's power spectrogram.
    Power,
}

impl From<ValueScaleArg> for ValueScale {
    fn from(arg: ValueScaleArg) -> Self {
        match arg {
            ValueScaleArg::Db => ValueScale::Db,
            ValueScaleArg::Magnitude => ValueScale::Magnitude,
            ValueScaleArg::Power => ValueScale::Power,
        }
    }
}

impl From<ValueScale> for ValueScaleArg {
    fn from(scale: ValueScale) -> Self {
        match scale {
            ValueScale::Db => ValueScaleArg::Db,
            ValueScale::Magnitude => ValueScaleArg::Magnitude,
            ValueScale::Power => ValueScaleArg::Power,
        }
    }
}

/// `--colormap`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColormapArg {
    /// Perceptually uniform, black → purple → cream.
    Magma,
    /// Perceptually uniform, purple → green → yellow.
    Viridis,
    /// Perceptually uniform, black → red → yellow.
    Inferno,
    /// Black → white.
    #[value(alias = "greyscale", alias = "gray", alias = "grey")]
    Grayscale,
    /// Rainbow-like with high contrast (Google Turbo).
    Turbo,
    /// Colour-vision-deficiency friendly, blue → yellow.
    Cividis,
}

impl From<ColormapArg> for ColormapKind {
    fn from(arg: ColormapArg) -> Self {
        match arg {
            ColormapArg::Magma => ColormapKind::Magma,
            ColormapArg::Viridis => ColormapKind::Viridis,
            ColormapArg::Inferno => ColormapKind::Inferno,
            ColormapArg::Grayscale => ColormapKind::Grayscale,
            ColormapArg::Turbo => ColormapKind::Turbo,
            ColormapArg::Cividis => ColormapKind::Cividis,
        }
    }
}

impl From<ColormapKind> for ColormapArg {
    fn from(kind: ColormapKind) -> Self {
        match kind {
            ColormapKind::Magma => ColormapArg::Magma,
            ColormapKind::Viridis => ColormapArg::Viridis,
            ColormapKind::Inferno => ColormapArg::Inferno,
            ColormapKind::Grayscale => ColormapArg::Grayscale,
            ColormapKind::Turbo => ColormapArg::Turbo,
            ColormapKind::Cividis => ColormapArg::Cividis,
        }
    }
}

/// `--mel-scale`: the mel formula and filterbank construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MelScaleArg {
    /// Slaney's Auditory Toolbox scale (librosa's default).
    #[value(alias = "librosa")]
    Slaney,
    /// HTK, 2595·log10(1 + f/700) (torchaudio, librosa htk=True).
    #[value(alias = "torch", alias = "torchaudio")]
    Htk,
    /// TensorFlow's 1127·ln(1 + f/700), triangles in mel, DC dropped
    /// (tf.signal.linear_to_mel_weight_matrix).
    #[value(alias = "tensorflow")]
    Tf,
}

impl From<MelScaleArg> for MelScale {
    fn from(arg: MelScaleArg) -> Self {
        match arg {
            MelScaleArg::Slaney => MelScale::Slaney,
            MelScaleArg::Htk => MelScale::Htk,
            MelScaleArg::Tf => MelScale::Tf,
        }
    }
}

impl From<MelScale> for MelScaleArg {
    fn from(scale: MelScale) -> Self {
        match scale {
            MelScale::Slaney => MelScaleArg::Slaney,
            MelScale::Htk => MelScaleArg::Htk,
            MelScale::Tf => MelScaleArg::Tf,
        }
    }
}

/// `--mel-norm`: the band normalisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MelNormArg {
    /// Each band's area is 1 in Hz (librosa's default).
    Slaney,
    /// Each band peaks at 1 (torchaudio, TF).
    #[value(alias = "null")]
    None,
}

impl From<MelNormArg> for MelNorm {
    fn from(arg: MelNormArg) -> Self {
        match arg {
            MelNormArg::Slaney => MelNorm::Slaney,
            MelNormArg::None => MelNorm::None,
        }
    }
}

impl From<MelNorm> for MelNormArg {
    fn from(norm: MelNorm) -> Self {
        match norm {
            MelNorm::Slaney => MelNormArg::Slaney,
            MelNorm::None => MelNormArg::None,
        }
    }
}

/// `--nan`: what to do with NaN and ±Inf samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NanPolicyArg {
    /// Refuse the file: one line with their count and the first one's time.
    Error,
    /// Set them to 0 and say how many.
    Zero,
}

impl From<NanPolicyArg> for NanPolicy {
    fn from(arg: NanPolicyArg) -> Self {
        match arg {
            NanPolicyArg::Error => NanPolicy::Error,
            NanPolicyArg::Zero => NanPolicy::Zero,
        }
    }
}

impl From<NanPolicy> for NanPolicyArg {
    fn from(policy: NanPolicy) -> Self {
        match policy {
            NanPolicy::Error => NanPolicyArg::Error,
            NanPolicy::Zero => NanPolicyArg::Zero,
        }
    }
}

/// `--window NAME[=PARAM]`: a name clap lists (unknown names get clap's "possible values"
/// error), then [`WindowKind`]'s own parse for the aliases and the parameter (whose errors
/// say what range it takes).
#[derive(Clone, Copy, Debug, Default)]
pub struct WindowParser;

impl TypedValueParser for WindowParser {
    type Value = WindowKind;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<WindowKind, clap::Error> {
        let parse = |s: &str| s.parse::<WindowKind>();
        let text = value.to_string_lossy();
        let name = text.split_once('=').map_or(&*text, |(name, _)| name);
        match text.parse::<WindowKind>() {
            Ok(window) => Ok(window),
            // A known name with a bad parameter: the parse's message says what it takes.
            Err(_) if name.parse::<WindowKind>().is_ok() => parse.parse_ref(cmd, arg, value),
            // An unknown name: clap's "possible values" error (no listed name matches).
            Err(message) => Err(PossibleValuesParser::new(window_values())
                .parse_ref(cmd, arg, value)
                .err()
                .unwrap_or_else(|| {
                    clap::Error::raw(clap::error::ErrorKind::InvalidValue, message)
                })),
        }
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(window_values()))
    }
}

fn window_values() -> impl Iterator<Item = PossibleValue> {
    ALL_WINDOWS.iter().map(|w| {
        let help = match w {
            WindowKind::Rect => "Rectangular (boxcar)".to_string(),
            WindowKind::Hann => "Hann (hanning)".to_string(),
            WindowKind::Hamming => "Hamming".to_string(),
            WindowKind::Blackman => "Blackman".to_string(),
            WindowKind::BlackmanHarris => "4-term Blackman-Harris".to_string(),
            WindowKind::Flattop => "Flat top (amplitude-accurate)".to_string(),
            WindowKind::Kaiser { beta } => format!("Kaiser; kaiser=BETA, β {beta} by default"),
            WindowKind::Gaussian { sigma_frac } => format!(
                "Gaussian; gaussian=SIGMA, σ as a fraction of the window, {sigma_frac} by default"
            ),
        };
        PossibleValue::new(w.base_name()).help(help)
    })
}

/// `--host`: the audio hosts compiled in (whether one answers here is checked when live
/// mode opens it).
pub fn host_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(crate::audio::capture::host_names())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::render::colormap::ALL_COLORMAPS;
    use crate::render::freqmap::ALL_SCALES;

    /// Every spelling clap accepts, with the value it names.
    fn spellings<T: ValueEnum>() -> Vec<(String, T)> {
        T::value_variants()
            .iter()
            .flat_map(|v| {
                let pv = v.to_possible_value().expect("no variant is skipped");
                pv.get_name_and_aliases()
                    .map(|s| (s.to_string(), v.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The flag value of a domain value is its display name, and every alias clap takes
    /// means what the domain's own parse (used by `--compare` specs) says.
    #[test]
    fn freq_scale_and_colormap_flags_agree_with_the_domain_names() {
        for s in ALL_SCALES {
            let arg = FreqScaleArg::from(s);
            assert_eq!(arg.to_possible_value().unwrap().get_name(), s.name());
            assert_eq!(FreqScale::from(arg), s);
        }
        for (text, arg) in spellings::<FreqScaleArg>() {
            assert_eq!(FreqScale::from_str(&text), Ok(arg.into()), "{text}");
        }
        for c in ALL_COLORMAPS {
            let arg = ColormapArg::from(c);
            assert_eq!(arg.to_possible_value().unwrap().get_name(), c.name());
            assert_eq!(ColormapKind::from(arg), c);
        }
        for (text, arg) in spellings::<ColormapArg>() {
            assert_eq!(ColormapKind::from_str(&text), Ok(arg.into()), "{text}");
        }
    }

    #[test]
    fn value_mel_and_nan_flags_are_the_display_names() {
        for v in [ValueScale::Db, ValueScale::Magnitude, ValueScale::Power] {
            let arg = ValueScaleArg::from(v);
            assert_eq!(arg.to_possible_value().unwrap().get_name(), v.to_string());
            assert_eq!(ValueScale::from(arg), v);
        }
        for m in [MelScale::Slaney, MelScale::Htk, MelScale::Tf] {
            let arg = MelScaleArg::from(m);
            assert_eq!(arg.to_possible_value().unwrap().get_name(), m.to_string());
            assert_eq!(MelScale::from(arg), m);
        }
        for n in [MelNorm::Slaney, MelNorm::None] {
            let arg = MelNormArg::from(n);
            assert_eq!(arg.to_possible_value().unwrap().get_name(), n.to_string());
            assert_eq!(MelNorm::from(arg), n);
        }
        for p in [NanPolicy::Error, NanPolicy::Zero] {
            assert_eq!(NanPolicy::from(NanPolicyArg::from(p)), p);
        }
    }

    #[test]
    fn the_aliases_of_today_are_kept() {
        let ok = |text: &str, ignore_case| {
            (
                FreqScaleArg::from_str(text, ignore_case).ok(),
                ValueScaleArg::from_str(text, ignore_case).ok(),
                MelScaleArg::from_str(text, ignore_case).ok(),
            )
        };
        assert_eq!(ok("lin", false).0, Some(FreqScaleArg::Linear));
        assert_eq!(ok("htk", false).0, Some(FreqScaleArg::MelHtk));
        assert_eq!(ok("mel-htk", false).0, Some(FreqScaleArg::MelHtk));
        assert_eq!(ok("Slaney", true).0, Some(FreqScaleArg::MelSlaney));
        assert_eq!(ok("dbfs", false).1, Some(ValueScaleArg::Db));
        assert_eq!(ok("mag", false).1, Some(ValueScaleArg::Magnitude));
        assert_eq!(ok("torchaudio", false).2, Some(MelScaleArg::Htk));
        assert_eq!(ok("tensorflow", false).2, Some(MelScaleArg::Tf));
        assert_eq!(ok("librosa", false).2, Some(MelScaleArg::Slaney));
        assert_eq!(MelNormArg::from_str("null", false), Ok(MelNormArg::None));
        assert_eq!(
            ColormapArg::from_str("Grey", true),
            Ok(ColormapArg::Grayscale)
        );
    }

    #[test]
    fn window_names_are_the_base_names_and_parse_as_before() {
        let names: Vec<String> = window_values().map(|v| v.get_name().into()).collect();
        let expected: Vec<&str> = ALL_WINDOWS.iter().map(WindowKind::base_name).collect();
        assert_eq!(names, expected);
        let cmd = clap::Command::new("t");
        let parse = |s: &str| WindowParser.parse_ref(&cmd, None, OsStr::new(s));
        assert_eq!(parse("Hanning").unwrap(), WindowKind::Hann);
        assert_eq!(parse("boxcar").unwrap(), WindowKind::Rect);
        assert_eq!(parse("kaiser=5").unwrap(), WindowKind::Kaiser { beta: 5.0 });
        let unknown = parse("nosuch").unwrap_err();
        assert_eq!(unknown.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(unknown.to_string().contains("blackmanharris"), "{unknown}");
        let bad_param = parse("kaiser=abc").unwrap_err();
        assert_eq!(bad_param.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(bad_param.to_string().contains("0..=100"), "{bad_param}");
        assert_eq!(
            parse("hann=2").unwrap_err().kind(),
            clap::error::ErrorKind::ValueValidation
        );
    }
}

/// A time of `--start` / `--end`: seconds (`90`, `1.5`) or `[HH:]MM:SS[.frac]`.
///
/// # Errors
/// Anything else, negative or non-finite times, minutes or seconds fields of 60 or more.
pub fn parse_time(value: &str) -> Result<f64, String> {
    let bad = || {
        format!("'{value}' is not a time: expected seconds (90, 1.5) or [HH:]MM:SS[.frac] (1:30, 02:00:00)")
    };
    let fields: Vec<&str> = value.trim().split(':').collect();
    if fields.len() > 3 || fields.iter().any(|f| f.is_empty()) {
        return Err(bad());
    }
    let (last, whole) = fields.split_last().ok_or_else(bad)?;
    let seconds: f64 = last.parse().map_err(|_| bad())?;
    if !seconds.is_finite() || seconds < 0.0 || (!whole.is_empty() && seconds >= 60.0) {
        return Err(bad());
    }
    let mut total = 0.0;
    for (i, f) in whole.iter().enumerate() {
        let n: u64 = f.parse().map_err(|_| bad())?;
        if i > 0 && n >= 60 {
            return Err(bad());
        }
        total = total * 60.0 + n as f64;
    }
    Ok(total * 60.0 + seconds)
}

#[cfg(test)]
mod time_tests {
    use super::parse_time;

    #[test]
    fn times_are_seconds_or_clock_fields() {
        for (text, want) in [
            ("90", 90.0),
            ("1.5", 1.5),
            ("0", 0.0),
            ("1:30", 90.0),
            ("01:30.25", 90.25),
            ("02:00:00", 7200.0),
            ("1:02:03.5", 3723.5),
            ("100:00", 6000.0),
        ] {
            assert_eq!(parse_time(text), Ok(want), "{text}");
        }
        for text in [
            "", "-1", "1:60", "1:2:3:4", "a", "1::2", "inf", "NaN", "1:-5", "1:60:00",
        ] {
            assert!(parse_time(text).is_err(), "{text}");
        }
    }
}
