//! `bgpd`: the command line. Loads the configuration (a file, or the embedded default), sets up
//! logging, runs the daemon until SIGTERM/SIGINT.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use conf::{Config, ConfigErrors};
use tokio::signal::unix::{signal, SignalKind};
use tracing_subscriber::EnvFilter;

/// The BGP daemon for Calico nodes.
#[derive(Debug, Parser)]
#[command(name = "bgpd", version, about)]
struct Args {
    /// Configuration file (TOML); without it the embedded default is used.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Validate the configuration, print every error with file:line:column, and exit
    /// (0 when it is valid), like `bird -p`.
    #[arg(long)]
    check: bool,
    /// Log line format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Control socket path (overrides `control.socket` of the configuration).
    #[arg(short = 's', long = "socket", value_name = "SOCKET")]
    socket: Option<PathBuf>,
    /// Start in graceful-restart recovery, as BIRD's `-R` (calico-node starts BIRD so): the
    /// routes a previous run left in the kernel are kept, the graceful-restart capability
    /// carries the Restart State bit, and our routes are exported only once every peer with
    /// graceful restart has sent its End-of-RIB or the wait timer ran out.
    #[arg(short = 'R', long = "graceful-restart-recovery")]
    graceful_restart_recovery: bool,
    /// The recovery's wait timer in seconds (BIRD's `graceful restart wait`).
    #[arg(
        long = "graceful-restart-wait",
        value_name = "SECONDS",
        default_value_t = 240
    )]
    graceful_restart_wait: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn load(args: &Args) -> Result<Config, ConfigErrors> {
    match &args.config {
        Some(path) => Config::load(path),
        None => Config::embedded_default(),
    }
}

fn init_logging(format: LogFormat) {
    // RUST_LOG overrides the default level (info).
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: under calico-node's runit, stderr goes to svlogd's files.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().with_current_span(true).init(),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = load(&args);
    if args.check {
        return match config {
            Ok(c) => {
                for n in &c.notes {
                    eprintln!("{n}");
                }
                println!("configuration OK");
                ExitCode::SUCCESS
            }
            Err(errors) => {
                for e in &errors {
                    eprintln!("{e}");
                }
                eprintln!("{} error(s) in the configuration", errors.len());
                ExitCode::from(1)
            }
        };
    }
    let mut config = match config {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!(
                "bgpd: not started: {} error(s) in the configuration",
                errors.len()
            );
            return ExitCode::from(1);
        }
    };
    if let Some(s) = args.socket.clone() {
        config.control.socket = s;
    }
    init_logging(args.log_format);
    for n in &config.notes {
        tracing::warn!(event = "config_note", note = %n, "configuration note");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bgpd: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        let mut term = signal(SignalKind::terminate()).map_err(bgpd::Error::Signal)?;
        let mut int = signal(SignalKind::interrupt()).map_err(bgpd::Error::Signal)?;
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => tracing::info!(event = "signal", signal = "SIGTERM", "signal received"),
                _ = int.recv() => tracing::info!(event = "signal", signal = "SIGINT", "signal received"),
            }
        };
        let options = bgpd::daemon::Options {
            graceful_restart_recovery: args
                .graceful_restart_recovery
                .then(|| std::time::Duration::from_secs(args.graceful_restart_wait)),
        };
        bgpd::daemon::run_with_options(config, args.config.clone(), options, shutdown).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(event = "fatal", error = %e, "bgpd failed");
            eprintln!("bgpd: {e}");
            ExitCode::from(1)
        }
    }
}
