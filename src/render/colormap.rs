//! Colormaps as 256-entry lookup tables, and the dB → colour mapping.

use std::fmt;
use std::str::FromStr;

/// A named colormap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColormapKind {
    /// Perceptually uniform, black → purple → cream (default).
    Magma,
    /// Perceptually uniform, purple → green → yellow.
    Viridis,
    /// Perceptually uniform, black → red → yellow.
    Inferno,
    /// Black → white.
    Grayscale,
    /// Rainbow-like with high contrast (Google Turbo).
    Turbo,
    /// Colour-vision-deficiency friendly, blue → yellow.
    Cividis,
}

/// Every colormap, in the order the `C` key cycles them.
pub const ALL_COLORMAPS: [ColormapKind; 6] = [
    ColormapKind::Magma,
    ColormapKind::Viridis,
    ColormapKind::Inferno,
    ColormapKind::Grayscale,
    ColormapKind::Turbo,
    ColormapKind::Cividis,
];

impl ColormapKind {
    /// The name used by `--colormap`.
    pub fn name(&self) -> &'static str {
        match self {
            ColormapKind::Magma => "magma",
            ColormapKind::Viridis => "viridis",
            ColormapKind::Inferno => "inferno",
            ColormapKind::Grayscale => "grayscale",
            ColormapKind::Turbo => "turbo",
            ColormapKind::Cividis => "cividis",
        }
    }

    /// The next colormap (wraps).
    pub fn next(&self) -> ColormapKind {
        let i = ALL_COLORMAPS
            .iter()
            .position(|c| c == self)
            .expect("every kind is listed");
        ALL_COLORMAPS[(i + 1) % ALL_COLORMAPS.len()]
    }

    fn eval(&self, t: f64) -> u32 {
        let c = match self {
            ColormapKind::Magma => colorous::MAGMA.eval_continuous(t),
            ColormapKind::Viridis => colorous::VIRIDIS.eval_continuous(t),
            ColormapKind::Inferno => colorous::INFERNO.eval_continuous(t),
            ColormapKind::Turbo => colorous::TURBO.eval_continuous(t),
            ColormapKind::Cividis => colorous::CIVIDIS.eval_continuous(t),
            ColormapKind::Grayscale => {
                let v = (t.clamp(0.0, 1.0) * 255.0).round() as u8;
                colorous::Color { r: v, g: v, b: v }
            }
        };
        rgb(c.r, c.g, c.b)
    }
}

impl fmt::Display for ColormapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ColormapKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let lower = if lower == "greyscale" || lower == "gray" || lower == "grey" {
            "grayscale".to_string()
        } else {
            lower
        };
        ALL_COLORMAPS
            .iter()
            .copied()
            .find(|c| c.name() == lower)
            .ok_or_else(|| {
                format!(
                    "unknown colormap '{s}': expected one of {}",
                    ALL_COLORMAPS.map(|c| c.name()).join(", ")
                )
            })
    }
}

/// Packs 8-bit channels as `0x00RRGGBB`.
pub const fn rgb(r: u8, g: u8, b: u8) -> u32 {
    ((r as u32) << 16) | ((g as u32) << 8) | b as u32
}

/// A 256-entry colour table: entry 0 is the floor, 255 the ceiling.
///
/// Thread: UI (or an offline worker). Allocates: no (inline array).
#[derive(Clone, Debug)]
pub struct Colormap {
    kind: ColormapKind,
    lut: [u32; 256],
}

impl Colormap {
    /// Builds the table of `kind`.
    pub fn new(kind: ColormapKind) -> Self {
        let mut lut = [0u32; 256];
        for (i, c) in lut.iter_mut().enumerate() {
            *c = kind.eval(i as f64 / 255.0);
        }
        Colormap { kind, lut }
    }

    /// Which colormap this is.
    pub fn kind(&self) -> ColormapKind {
        self.kind
    }

    /// The table.
    pub fn lut(&self) -> &[u32; 256] {
        &self.lut
    }

    /// The colour of `level_db` within `range`.
    #[inline]
    pub fn color(&self, level_db: f32, range: DbRange) -> u32 {
        self.lut[range.index(level_db)]
    }
}

/// The displayed dB range: the floor maps to the first colour, the ceiling to the last.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DbRange {
    /// Lowest displayed level, dBFS.
    pub floor_db: f32,
    /// Highest displayed level, dBFS.
    pub ceiling_db: f32,
}

impl DbRange {
    /// Default display range, −120..0 dBFS.
    pub const DEFAULT: DbRange = DbRange {
        floor_db: -120.0,
        ceiling_db: 0.0,
    };

    /// Table index of `level_db`: 0 at or below the floor, 255 at or above the ceiling
    /// (NaN maps to 0).
    #[inline]
    pub fn index(&self, level_db: f32) -> usize {
        let t = (level_db - self.floor_db) / (self.ceiling_db - self.floor_db);
        (t * 255.0 + 0.5).clamp(0.0, 255.0) as usize
    }
}
