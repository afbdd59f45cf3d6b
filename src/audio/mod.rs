//! Audio input: the real-time callback, its counters, the cpal device layer, and the
//! supervisor that watches the stream and reopens it when it fails.

pub mod callback;
pub mod capture;
pub mod health;
#[allow(unsafe_code)]
pub mod quiet;
pub mod ring;
pub mod source;
pub mod stats;
pub mod supervisor;
pub mod watchdog;
