//! Signal processing shared by live and offline paths.

pub mod entropy;
pub mod frontend;
pub mod latency;
pub mod mel;
pub mod music;
pub mod noise;
pub mod resample;
pub mod scale;
pub mod stats;
pub mod stft;
pub mod window;
