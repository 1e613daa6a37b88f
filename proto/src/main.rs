//! `cargo run -p plugin-proto` regenerates `plugin-runtime/src/generated/`;
//! `cargo run -p plugin-proto -- --check` only reports whether the checked-in files are stale.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::{env, fs, io};

const USAGE: &str = "usage: cargo run -p plugin-proto [-- --check]";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.as_slice() {
        [] => regenerate(),
        [flag] if flag == "--check" => check(),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("plugin-proto: {error}");
            ExitCode::FAILURE
        }
    }
}

fn regenerate() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let out_dir = plugin_proto::generated_dir();
    for file in plugin_proto::generate(&out_dir)? {
        println!("wrote {}", display(&out_dir.join(file)));
    }
    Ok(ExitCode::SUCCESS)
}

fn check() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let scratch = ScratchDir::new()?;
    let files = plugin_proto::generate(&scratch.0)?;
    let checked_in = plugin_proto::generated_dir();
    let drift = plugin_proto::compare(&scratch.0, &files, &checked_in)?;
    if drift.is_empty() {
        println!("{} is up to date", display(&checked_in));
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("generated code is stale: run `cargo run -p plugin-proto`");
    for drift in drift {
        eprintln!("  {drift}");
    }
    Ok(ExitCode::FAILURE)
}

/// Shows a path without the `proto/..` detour that [`plugin_proto::generated_dir`] takes.
fn display(path: &Path) -> String {
    fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}

/// A fresh directory under the system temp dir, removed on drop.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> io::Result<Self> {
        let path = env::temp_dir().join(format!("plugin-proto-check-{}", std::process::id()));
        // A leftover from a crashed run with a recycled pid would mix old files in.
        match fs::remove_dir_all(&path) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        fs::create_dir(&path)?;
        Ok(Self(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir is harmless.
        let _ = fs::remove_dir_all(&self.0);
    }
}
