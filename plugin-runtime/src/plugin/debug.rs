//! Debug mode: a plugin run by hand (under a debugger, in a terminal) that a host reattaches to,
//! as terraform-plugin-go's `-debug` does. The phases of `serve` without the cookie check, the
//! handshake and the stdio redirect; the reattach configuration is announced instead.

use std::ffi::OsString;
use std::fmt;
use std::io::Write;

use super::{ServeConfig, Services, Signals, listen, run};
use crate::error::Error;
use crate::net::listener::Listener;
use crate::protocol::handshake::{self, PROTOCOL_GRPC};
use crate::protocol::reattach::{ReattachAddress, ReattachConfig};

type Announce = Box<dyn FnOnce(&ReattachConfig) + Send>;

/// How a plugin in debug mode tells the user where it is.
#[derive(Default)]
pub(super) struct Debug {
    announce: Option<Announce>,
}

impl fmt::Debug for Debug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Debug")
            .field("custom_announcement", &self.announce.is_some())
            .finish()
    }
}

impl Debug {
    pub(super) fn announcing(announce: impl FnOnce(&ReattachConfig) + Send + 'static) -> Self {
        Debug {
            announce: Some(Box::new(announce)),
        }
    }
}

/// Whether `args` hold `-debug` or `--debug`, or `env` (`GO_PLUGIN_DEBUG`) is set non-empty.
pub(super) fn requested(args: impl IntoIterator<Item = OsString>, env: Option<OsString>) -> bool {
    env.is_some_and(|value| !value.is_empty())
        || args
            .into_iter()
            .any(|arg| arg == "-debug" || arg == "--debug")
}

pub(super) async fn serve(config: ServeConfig, debug: Debug) -> Result<(), Error> {
    let own_versions: Vec<u32> = if config.versions.is_empty() {
        vec![config.handshake.protocol_version]
    } else {
        config.versions.keys().copied().collect()
    };
    let version = match std::env::var("PLUGIN_PROTOCOL_VERSIONS") {
        Ok(offered) if !offered.is_empty() => {
            handshake::negotiate_version(Some(&offered), &own_versions).0
        }
        _ => own_versions.iter().copied().max().unwrap_or_default(),
    };
    if config.logging {
        // A person reads these: text, not the hclog JSON a host parses.
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("debug")),
            )
            .try_init();
    }

    let tls = match &config.tls {
        Some(tls) => super::own_tls(tls)?,
        None => Default::default(),
    };
    let listener = listen(config.transport).await?;
    let (services, _stdio) = Services::new(&config, version, tls, false).await;
    let signals = Signals::install(true)?;
    let reattach = ReattachConfig {
        protocol: PROTOCOL_GRPC.to_owned(),
        protocol_version: version,
        address: address(&listener),
        pid: std::process::id(),
        test: true,
    };
    match debug.announce {
        Some(announce) => announce(&reattach),
        None => print_reattach(&reattach)?,
    }
    run(listener, services, None, signals).await
}

fn address(listener: &Listener) -> ReattachAddress {
    match listener {
        #[cfg(unix)]
        Listener::Unix { .. } => {
            ReattachAddress::Unix(std::path::PathBuf::from(listener.address()))
        }
        Listener::Tcp { .. } => ReattachAddress::Tcp(listener.address()),
    }
}

fn print_reattach(reattach: &ReattachConfig) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    write!(
        stdout,
        "Plugin started in debug mode. A host can attach to it with this reattach \
         configuration:\n\n\t{}\n\n",
        reattach.to_json()
    )
    .and_then(|()| stdout.flush())
    .map_err(|err| Error::io("failed to print the reattach configuration", err))
}

#[cfg(test)]
mod tests {
    use super::requested;

    #[test]
    fn debug_is_asked_for_by_flag_or_variable() {
        let args = |list: &[&str]| list.iter().map(Into::into).collect::<Vec<_>>();
        assert!(requested(args(&["-debug"]), None));
        assert!(requested(args(&["serve", "--debug"]), None));
        assert!(requested(args(&[]), Some("1".into())));
        assert!(!requested(args(&["-debugger"]), None));
        assert!(!requested(args(&[]), Some("".into())));
        assert!(!requested(args(&[]), None));
    }
}
