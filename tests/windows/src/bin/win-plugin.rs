//! The plugin `win-host` starts: the `Tester` interface, served as any plugin of ours is, or in
//! debug mode (`win-plugin --debug`) for the reattach test. `win-plugin sleep` is the child and
//! grandchild `spawn_tree` starts: `sleep` starts another `sleep` when given `child`.

use std::process::ExitCode;
use std::time::Duration;

use go_plugin::{PluginError, ServeConfig, serve};
use windows_tests::{HANDSHAKE, Tester, TesterPlugin};

struct Plugin;

impl Tester for Plugin {
    async fn echo(&self, text: String) -> Result<String, PluginError> {
        Ok(text)
    }

    async fn say(&self, text: String) -> Result<(), PluginError> {
        println!("stdout: {text}");
        eprintln!("stderr: {text}");
        tracing::info!(text = %text, "said");
        Ok(())
    }

    async fn spawn_tree(&self) -> Result<String, PluginError> {
        let exe = std::env::current_exe()?;
        let mut child = std::process::Command::new(exe)
            .args(["sleep", "child"])
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        // The child prints its own child's pid once it has started it.
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        }
        Ok(format!("{} {}", child.id(), line.trim()))
    }
}

fn sleep(args: &[String]) -> ExitCode {
    if args.first().map(String::as_str) == Some("child") {
        let Ok(exe) = std::env::current_exe() else {
            return ExitCode::FAILURE;
        };
        match std::process::Command::new(exe).arg("sleep").spawn() {
            Ok(grandchild) => println!("{}", grandchild.id()),
            Err(_) => return ExitCode::FAILURE,
        }
    }
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("sleep") {
        return sleep(&args[1..]);
    }
    let config = ServeConfig::new(HANDSHAKE)
        .plugin(TesterPlugin::server(Plugin))
        .debug(go_plugin::debug_requested());
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("win-plugin: {err}");
            ExitCode::FAILURE
        }
    }
}
