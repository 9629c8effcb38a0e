//! `bgpctl`: the command line client of bgpd's control socket (and of any BIRD control socket).
//!
//! `bgpctl -s SOCKET show protocols` runs one command; without a command it reads commands
//! from standard input with a prompt. Replies print as `birdc` prints them: codes stripped,
//! continuation lines included, `0000` lines silent. Exit status: 1 when the socket cannot be
//! reached or closes early, 2 when the reply is an error (8xxx/9xxx). `--json` turns
//! `show protocols` and `show route` replies into JSON.
//!
//! Invoked as `birdcl` (a symlink), it behaves like BIRD's light client as Calico's liveness
//! probe uses it: the greeting text is printed first and an error reply still exits 0.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bgpd::control::client::{
    expand, protocols_json, routes_json, ClientError, Connection, ReplyLine,
};
use clap::Parser;

/// The default socket of `birdcl` (Debian's BIRD build) and of ours.
const BIRDCL_SOCKET: &str = "/run/bird/bird.ctl";
const BGPCTL_SOCKET: &str = "bgpd.ctl";

/// How long to wait for a reply line.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Parser)]
#[command(
    name = "bgpctl",
    version,
    about = "Client for bgpd's (and BIRD's) control socket"
)]
struct Args {
    /// Control socket path.
    #[arg(short = 's', long = "socket", value_name = "SOCKET")]
    socket: Option<PathBuf>,
    /// Print `show protocols` and `show route` replies as JSON.
    #[arg(long)]
    json: bool,
    /// Accepted for birdc compatibility (verbose: print reply codes).
    #[arg(short = 'v')]
    verbose: bool,
    /// The command (several words); none: interactive.
    command: Vec<String>,
}

/// Invoked as `birdcl`/`birdc` rather than `bgpctl`.
fn bird_mode() -> bool {
    std::env::args_os()
        .next()
        .and_then(|a| {
            Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().starts_with("birdc"))
        })
        .unwrap_or(false)
}

/// Prints a reply as birdc does; returns whether it was an error reply.
fn print_reply(lines: &[ReplyLine], verbose: bool, out: &mut impl Write) -> bool {
    for l in lines {
        if verbose && !l.async_msg {
            let _ = writeln!(
                out,
                "{:04}{}{}",
                l.code,
                if l.last { ' ' } else { '-' },
                l.text
            );
        } else if let Some(t) = l.printable() {
            let _ = writeln!(out, "{t}");
        }
    }
    lines.last().is_some_and(ReplyLine::is_error)
}

fn print_json(command: &str, lines: &[ReplyLine], out: &mut impl Write) -> bool {
    let words: Vec<String> = command.split_whitespace().map(str::to_lowercase).collect();
    let error = lines.last().is_some_and(ReplyLine::is_error);
    let value = if error {
        let last = lines.last().map(|l| (l.code, l.text.clone()));
        serde_json::json!({"error": {"code": last.as_ref().map(|l| l.0), "message": last.map(|l| l.1)}})
    } else if words.starts_with(&["show".into(), "protocols".into()]) {
        protocols_json(lines)
    } else if words.starts_with(&["show".into(), "route".into()]) {
        routes_json(lines)
    } else {
        let text: Vec<&str> = lines.iter().filter_map(ReplyLine::printable).collect();
        serde_json::json!({ "lines": text })
    };
    let _ = writeln!(out, "{value:#}");
    error
}

fn run(args: &Args) -> Result<bool, ClientError> {
    let bird = bird_mode();
    let default = if bird { BIRDCL_SOCKET } else { BGPCTL_SOCKET };
    let socket = args
        .socket
        .clone()
        .unwrap_or_else(|| PathBuf::from(default));
    let mut conn = Connection::connect(&socket, READ_TIMEOUT)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let greeting = conn.read_reply()?;
    if !args.json {
        print_reply(&greeting, args.verbose, &mut out);
    }
    if !args.command.is_empty() {
        let command = expand(&args.command.join(" "));
        let reply = conn.command(&command)?;
        let error = if args.json {
            print_json(&command, &reply, &mut out)
        } else {
            print_reply(&reply, args.verbose, &mut out)
        };
        // birdcl exits 0 whatever the reply; bgpctl reports errors in its status.
        return Ok(error && !bird);
    }
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let prompt = if bird { "bird> " } else { "bgpctl> " };
    let mut any_error = false;
    loop {
        if interactive {
            let _ = write!(out, "{prompt}");
            let _ = out.flush();
        }
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let command = expand(line.trim());
        let command = command.as_str();
        if command.is_empty() {
            continue;
        }
        if matches!(command, "quit" | "exit") {
            break;
        }
        let reply = conn.command(command)?;
        let error = if args.json {
            print_json(command, &reply, &mut out)
        } else {
            print_reply(&reply, args.verbose, &mut out)
        };
        any_error |= error;
        let _ = out.flush();
    }
    Ok(any_error && !interactive && !bird)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(2),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
