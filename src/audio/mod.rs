//! Audio input: the real-time callback, its counters, and the cpal device layer.

pub mod callback;
pub mod capture;
pub mod stats;
