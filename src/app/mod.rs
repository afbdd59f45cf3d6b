//! What each command runs: dispatch here, live mode in `live` (its sources in
//! `source`, its status lines and exit summary in `status`), the offline commands
//! in `offline`.

mod frontends;
mod live;
mod offline;
mod progress;
mod source;
mod status;

pub use live::{run_live, INPUT_STOP_WAIT};
pub use offline::{run_latency, run_suggest};
pub use source::DEMO_FALLBACK_LABEL;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::config::LiveConfig;
use crate::error::Result;

/// Runs the command the user asked for: success, or (a batch of `analyze` or `render`
/// in which some file failed, each reported) failure.
///
/// # Errors
/// Every other failure, as one line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    crate::audio::quiet::install();
    let done = match &cli.command {
        Some(Command::Analyze(args)) => return offline::run_analyze(args),
        Some(Command::Render(args)) => return offline::run_render(args),
        Some(Command::Devices) => offline::run_devices(),
        Some(Command::Suggest(args)) => run_suggest(args),
        Some(Command::Latency(args)) => run_latency(args),
        Some(Command::Frontends(args)) => frontends::run_frontends(args),
        None => run_live(&LiveConfig::new(
            &cli.live,
            &cli.analysis,
            &cli.display,
            &cli.mel,
        )?),
    };
    done.map(|()| ExitCode::SUCCESS)
}
