//! `plugin-doctor`: launches a go-plugin plugin as a host would and runs every check it can,
//! each PASS, WARN, FAIL or SKIP with one line of evidence and, when it did not pass, what to
//! change. `--json` prints the same as one JSON document; the exit status is 1 when a check
//! failed and 2 when the doctor itself could not run.
mod args;
mod doctor;
mod handshake;
mod launch;
mod logs;
mod negotiation;
mod orphan;
mod probe;
mod report;
mod sys;

use std::io::IsTerminal;
use std::process::ExitCode;

use args::Invocation;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let options = match args::parse(&argv) {
        Ok(Invocation::Check(options)) => options,
        Ok(Invocation::Help) => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::OrphanHost(command)) => return orphan::host(&command),
        Err(err) => {
            eprint!("plugin-doctor: {err}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("plugin-doctor: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    let report = match runtime.block_on(doctor::run(&options)) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("plugin-doctor: {err}");
            return ExitCode::from(2);
        }
    };
    if options.json {
        println!("{:#}", report.to_json());
    } else {
        let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        print!("{}", report.to_text(colour));
    }
    if report.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
