//! The `hopscope` binary: parse, run, one-line error, exit code.

use std::process::ExitCode;

use clap::Parser;
use hopscope::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help / --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!(
                "hopscope: error: {} (see --help)",
                one_line(&e.render().to_string())
            );
            return ExitCode::from(2);
        }
    };
    // analyze and render stop on SIGINT/SIGTERM/SIGHUP and remove their partial outputs.
    if matches!(cli.command, Some(Command::Analyze(_) | Command::Render(_))) {
        if let Err(e) = hopscope::io::interrupt::install() {
            eprintln!("hopscope: error: cannot install the signal handlers: {e}");
            return ExitCode::from(2);
        }
    }
    match hopscope::app::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hopscope: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Collapses clap's multi-line error into one line: the message plus its detail
/// lines (the missing arguments, tips), without the usage block.
fn one_line(rendered: &str) -> String {
    let parts: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match parts.split_first() {
        None => "invalid arguments".into(),
        Some((first, [])) => first.trim_start_matches("error: ").into(),
        // A list after "…:" (missing arguments), joined with commas.
        Some((first, rest)) if first.ends_with(':') => {
            format!(
                "{} {}",
                first.trim_start_matches("error: "),
                rest.join(", ")
            )
        }
        // "[possible values: …]" follows its value; tips follow after "; ".
        Some((first, rest)) => rest.iter().fold(
            first.trim_start_matches("error: ").to_string(),
            |line, detail| {
                let sep = if detail.starts_with('[') { " " } else { "; " };
                format!("{line}{sep}{detail}")
            },
        ),
    }
}
