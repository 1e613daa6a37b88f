//! The command line: `plugin-doctor [OPTIONS] -- PLUGIN_CMD [ARGS…]`. Pure.

use std::time::Duration;

/// The usage text, printed for `--help` and after a usage error.
pub(crate) const USAGE: &str = "\
usage: plugin-doctor [--cookie KEY=VALUE] [--versions 1,2] [--auto-mtls] [--multiplex]
                     [--timeout SECONDS] [--json] -- PLUGIN_CMD [ARGS...]

Launches PLUGIN_CMD as a go-plugin host would and checks what hosts rely on: the cookie,
the handshake line, health, controller, stdio, broker, logs, version negotiation, AutoMTLS,
multiplexing, signals, host death and message size. Exits 1 when a check fails.

  --cookie KEY=VALUE  the magic cookie (default BASIC_PLUGIN=hello, go-plugin's examples')
  --versions LIST     app protocol versions the host offers, comma-separated (default 1)
  --auto-mtls         offer a client certificate (PLUGIN_CLIENT_CERT) and check AutoMTLS
  --multiplex         also check gRPC broker multiplexing (PLUGIN_MULTIPLEX_GRPC)
  --timeout SECONDS   how long the plugin may take to print its handshake (default 20)
  --json              one JSON document on stdout instead of the report
";

/// What the user asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Options {
    pub(crate) cookie_key: String,
    pub(crate) cookie_value: String,
    /// Sorted, without duplicates, never empty.
    pub(crate) versions: Vec<u32>,
    pub(crate) auto_mtls: bool,
    pub(crate) multiplex: bool,
    pub(crate) start_timeout: Duration,
    pub(crate) json: bool,
    /// The plugin's program and arguments; never empty.
    pub(crate) command: Vec<String>,
}

/// What the command line says to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Invocation {
    Check(Options),
    Help,
    /// The short-lived host of the orphan check (see `orphan.rs`); not for users.
    OrphanHost(Vec<String>),
}

/// The hidden first argument that makes this binary the orphan check's intermediate host.
pub(crate) const ORPHAN_HOST: &str = "__orphan-host";

/// Reads the arguments after the program name.
pub(crate) fn parse(args: &[String]) -> Result<Invocation, String> {
    if args.first().map(String::as_str) == Some(ORPHAN_HOST) {
        let command = after_dashes(&args[1..])?;
        return Ok(Invocation::OrphanHost(command));
    }
    let mut options = Options {
        cookie_key: "BASIC_PLUGIN".to_owned(),
        cookie_value: "hello".to_owned(),
        versions: vec![1],
        auto_mtls: false,
        multiplex: false,
        start_timeout: Duration::from_secs(20),
        json: false,
        command: Vec::new(),
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| rest.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name {
            "--" => {
                options.command = rest.cloned().collect();
                break;
            }
            "-h" | "--help" => return Ok(Invocation::Help),
            "--json" => options.json = true,
            "--auto-mtls" => options.auto_mtls = true,
            "--multiplex" => options.multiplex = true,
            "--cookie" => {
                let cookie = value(name)?;
                let (key, value) = cookie
                    .split_once('=')
                    .filter(|(key, value)| !key.is_empty() && !value.is_empty())
                    .ok_or_else(|| format!("--cookie wants KEY=VALUE, not {cookie:?}"))?;
                options.cookie_key = key.to_owned();
                options.cookie_value = value.to_owned();
            }
            "--versions" => options.versions = versions(&value(name)?)?,
            "--timeout" => {
                let text = value(name)?;
                let seconds: f64 = text
                    .parse()
                    .ok()
                    .filter(|seconds: &f64| seconds.is_finite() && *seconds > 0.0)
                    .ok_or_else(|| format!("--timeout wants a number of seconds, not {text:?}"))?;
                options.start_timeout = Duration::from_secs_f64(seconds);
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}")),
            // The plugin command without `--`.
            _ => {
                options.command = std::iter::once(arg.clone()).chain(rest.cloned()).collect();
                break;
            }
        }
    }
    if options.command.is_empty() {
        return Err("no plugin command given (put it after --)".to_owned());
    }
    Ok(Invocation::Check(options))
}

fn after_dashes(args: &[String]) -> Result<Vec<String>, String> {
    match args.split_first() {
        Some((dashes, command)) if dashes == "--" && !command.is_empty() => Ok(command.to_vec()),
        _ => Err(format!("{ORPHAN_HOST} wants -- PLUGIN_CMD")),
    }
}

fn versions(text: &str) -> Result<Vec<u32>, String> {
    let mut versions = text
        .split(',')
        .map(|item| {
            item.trim()
                .parse::<u32>()
                .map_err(|_| format!("--versions wants integers like 1,2, not {item:?}"))
        })
        .collect::<Result<Vec<u32>, String>>()?;
    versions.sort_unstable();
    versions.dedup();
    Ok(versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn options(text: &str) -> Options {
        match parse(&args(text)) {
            Ok(Invocation::Check(options)) => options,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_go_plugins_examples() {
        let options = options("-- ./kv-plugin");
        assert_eq!(
            (options.cookie_key.as_str(), options.cookie_value.as_str()),
            ("BASIC_PLUGIN", "hello")
        );
        assert_eq!(options.versions, [1]);
        assert!(!options.json && !options.auto_mtls && !options.multiplex);
        assert_eq!(options.command, ["./kv-plugin"]);
    }

    #[test]
    fn every_option() {
        let options = options(
            "--cookie K=a=b --versions 3,1,3 --auto-mtls --multiplex --timeout=2.5 --json -- p -x --json",
        );
        assert_eq!(
            (options.cookie_key.as_str(), options.cookie_value.as_str()),
            ("K", "a=b")
        );
        assert_eq!(options.versions, [1, 3]);
        assert!(options.auto_mtls && options.multiplex && options.json);
        assert_eq!(options.start_timeout, Duration::from_millis(2500));
        assert_eq!(options.command, ["p", "-x", "--json"]);
    }

    #[test]
    fn command_without_dashes() {
        assert_eq!(options("--json p a").command, ["p", "a"]);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        for (text, wanted) in [
            ("--cookie nope -- p", "KEY=VALUE"),
            ("--versions 1,x -- p", "integers"),
            ("--timeout 0 -- p", "seconds"),
            ("--bogus -- p", "unknown option --bogus"),
            ("--json", "no plugin command"),
            ("--versions", "needs a value"),
        ] {
            let err = parse(&args(text)).unwrap_err();
            assert!(err.contains(wanted), "{text}: {err}");
        }
    }

    #[test]
    fn hidden_orphan_host() {
        assert_eq!(
            parse(&args("__orphan-host -- p a")),
            Ok(Invocation::OrphanHost(args("p a")))
        );
        assert!(parse(&args("__orphan-host p")).is_err());
    }
}
