//! One run of every check, in report order: the run without the cookie, the main session (the
//! handshake, then the services over the connection, then `Shutdown`, then the logs), version
//! negotiation, multiplexing, SIGINT and the orphan check. Each launch is a fresh process.

use std::time::Duration;

use go_plugin::inspect::{self, AutoMtls};
use go_plugin::{Client, ClientConfig, HandshakeConfig};

use crate::args::Options;
use crate::handshake::{self, Asked};
use crate::launch::{HostEnv, Plugin, SocketDir};
use crate::probe::{self, Presence};
use crate::report::{Check, Report, Status};
use crate::{logs, negotiation, orphan, sys};

/// go-plugin's message for a plugin run without its cookie (its first line).
const NOT_A_PLUGIN: &str = "This binary is a plugin. These are not meant to be executed directly.";

/// How long the run without the cookie may take to exit.
const COOKIE_EXIT: Duration = Duration::from_secs(3);

/// How long after its first answer the plugin gets SIGINT.
const SIGINT_SETTLE: Duration = Duration::from_millis(100);

/// How long the plugin must survive SIGINT.
const SIGINT_WAIT: Duration = Duration::from_millis(500);

/// Runs every check on `options.command`.
pub(crate) async fn run(options: &Options) -> Result<Report, String> {
    let sockets = if sys::UNIX_SOCKETS {
        Some(
            SocketDir::create()
                .map_err(|err| format!("cannot create a socket directory: {err}"))?,
        )
    } else {
        None
    };
    let env = HostEnv {
        cookie: Some((options.cookie_key.clone(), options.cookie_value.clone())),
        versions: options
            .versions
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(","),
        client_cert: None,
        multiplex: false,
        socket_dir: sockets.as_ref().map(|dir| dir.path().to_path_buf()),
        cookie_key: options.cookie_key.clone(),
    };
    let command = &options.command;
    let timeout = options.start_timeout;
    let mut checks = vec![cookie(command, &env, timeout).await?];

    let identity = if options.auto_mtls {
        Some(
            AutoMtls::generate()
                .map_err(|err| format!("cannot make a client certificate: {err}"))?,
        )
    } else {
        None
    };
    let main_env = HostEnv {
        client_cert: identity
            .as_ref()
            .map(|identity| identity.certificate_pem().to_owned()),
        ..env.clone()
    };
    checks.extend(session(options, &main_env, identity.as_ref()).await?);

    checks.push(negotiation::negotiation(command, &env, &options.versions, timeout).await);
    checks.push(negotiation::mismatch(command, &env, &options.versions, timeout).await);
    checks.extend(multiplex(options, &env).await);
    checks.push(sigint(command, &main_env, identity.as_ref(), timeout).await);
    checks.push(orphan::check(command, &main_env, timeout).await);

    Ok(Report {
        command: command.clone(),
        setup: format!(
            "cookie {}={}, versions {}, AutoMTLS {}, multiplexing {}",
            options.cookie_key,
            options.cookie_value,
            handshake::go_list(&options.versions),
            if options.auto_mtls { "on" } else { "off" },
            if options.multiplex { "on" } else { "off" },
        ),
        checks,
    })
}

/// `cookie.missing`: without the cookie the plugin exits 1 with go-plugin's message on stderr
/// and prints nothing on stdout.
async fn cookie(command: &[String], env: &HostEnv, timeout: Duration) -> Result<Check, String> {
    const ID: &str = "cookie.missing";
    let env = HostEnv {
        cookie: None,
        ..env.clone()
    };
    let mut plugin = Plugin::launch(command, &env, timeout.min(COOKIE_EXIT))
        .await
        .map_err(|err| format!("cannot start {}: {err}", command[0]))?;
    let status = plugin.wait_exit(COOKIE_EXIT).await;
    let stdout = plugin
        .startup
        .line
        .clone()
        .or_else(|| plugin.startup.garbage.first().cloned());
    let stderr = plugin.finish().await;
    let said = stderr
        .iter()
        .map(|line| String::from_utf8_lossy(line).into_owned())
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    let fix = format!(
        "when the cookie variable is not set to its value, print go-plugin's three lines (\"{NOT_A_PLUGIN} …\") \
         on stderr and exit 1: users who run the plugin by hand learn what it is, and hosts recognise the text"
    );
    let check = match (status, stdout) {
        (None, _) => Check::warn(
            ID,
            format!("still running {COOKIE_EXIT:?} after a start without the cookie (killed)"),
            fix,
        ),
        (Some(_), Some(line)) => Check::warn(
            ID,
            format!(
                "started without the cookie, it printed {:?} on stdout",
                line
            ),
            fix,
        ),
        (Some(status), None) if status.code() == Some(1) && said == NOT_A_PLUGIN => Check::pass(
            ID,
            format!("exits 1 with go-plugin's message \"{said}\"; nothing on stdout"),
        ),
        (Some(status), None) => Check::warn(
            ID,
            format!(
                "exits ({status}) saying {:?}, not go-plugin's message",
                if said.is_empty() {
                    "nothing"
                } else {
                    said.as_str()
                }
            ),
            fix,
        ),
    };
    Ok(check)
}

/// The main session: handshake, services, Shutdown, logs.
async fn session(
    options: &Options,
    env: &HostEnv,
    identity: Option<&AutoMtls>,
) -> Result<Vec<Check>, String> {
    let mut plugin = Plugin::launch(&options.command, env, options.start_timeout)
        .await
        .map_err(|err| format!("cannot start {}: {err}", options.command[0]))?;
    let lint = handshake::lint(
        &plugin.startup,
        Asked {
            versions: &options.versions,
            auto_mtls: options.auto_mtls,
            multiplex: false,
        },
    );
    let mut checks = vec![
        lint.stdout_clean,
        lint.line,
        lint.core_version,
        lint.app_version,
        lint.network,
    ];
    let Some(target) = lint.target else {
        checks.push(Check::skip("handshake.address", "no handshake line"));
        checks.extend([
            lint.protocol,
            lint.certificate,
            lint.multiplex_field,
            lint.time,
        ]);
        for id in [
            "health.serving",
            "controller.shutdown",
            "stdio.stream",
            "broker.stream",
            "services.list",
            "message.5mib",
            "mtls.strangers",
        ] {
            checks.push(Check::skip(id, "no handshake line to connect to"));
        }
        checks.extend(logs::checks(&plugin.finish().await));
        return Ok(checks);
    };
    checks.push(probe::reachable(&target.address).await);
    checks.extend([
        lint.protocol,
        lint.certificate,
        lint.multiplex_field,
        lint.time,
    ]);

    let tls = probe::session_tls(identity, target.cert.as_deref());
    let channel = inspect::dial(&target.address, tls.as_ref());
    checks.push(probe::serving(&channel).await);
    let stdio = probe::open_stdio(&channel).await;
    let broker = probe::open_broker(&channel).await;
    let listed = probe::reflection(&channel).await;
    let big = probe::big_message(&channel).await;
    let strangers = if options.auto_mtls {
        probe::strangers(&target.address, target.cert.as_deref()).await
    } else {
        Check::skip("mtls.strangers", "AutoMTLS not asked for (--auto-mtls)")
    };
    let health_present = checks
        .last()
        .is_some_and(|check| check.status == Status::Pass);
    let shutdown = probe::shutdown(&channel, &mut plugin).await;
    let controller_present = !shutdown.evidence.contains("Unimplemented");
    checks.push(shutdown);
    checks.push(probe::stdio_check(&stdio));
    checks.push(probe::broker_check(&broker));
    checks.push(probe::services_check(
        listed,
        &[
            ("grpc.health.v1.Health", health_present),
            ("plugin.GRPCBroker", broker.presence == Presence::Present),
            ("plugin.GRPCController", controller_present),
            ("plugin.GRPCStdio", stdio.presence == Presence::Present),
        ],
    ));
    checks.push(big);
    checks.push(strangers);
    drop((stdio, broker));
    checks.extend(logs::checks(&plugin.finish().await));
    Ok(checks)
}

/// `multiplex.handshake` and `multiplex.session`, when asked: the line answers `true` when
/// `PLUGIN_MULTIPLEX_GRPC` is set, and our runtime's host, multiplexing, can ping the plugin.
async fn multiplex(options: &Options, env: &HostEnv) -> [Check; 2] {
    if !options.multiplex {
        return [
            Check::skip(
                "multiplex.handshake",
                "multiplexing not asked for (--multiplex)",
            ),
            Check::skip(
                "multiplex.session",
                "multiplexing not asked for (--multiplex)",
            ),
        ];
    }
    let env = HostEnv {
        multiplex: true,
        client_cert: None,
        ..env.clone()
    };
    let field = match Plugin::launch(&options.command, &env, options.start_timeout).await {
        Ok(mut plugin) => {
            let lint = handshake::lint(
                &plugin.startup,
                Asked {
                    versions: &options.versions,
                    auto_mtls: false,
                    multiplex: true,
                },
            );
            plugin.kill().await;
            Check {
                id: "multiplex.handshake",
                ..lint.multiplex_field
            }
        }
        Err(err) => Check::fail(
            "multiplex.handshake",
            format!("could not start: {err}"),
            "make the command runnable",
        ),
    };

    const ID: &str = "multiplex.session";
    // The runtime wants a 'static handshake: the cookie lives for the rest of this short run.
    let key: &'static str = Box::leak(options.cookie_key.clone().into_boxed_str());
    let value: &'static str = Box::leak(options.cookie_value.clone().into_boxed_str());
    let mut command = std::process::Command::new(&options.command[0]);
    command.args(&options.command[1..]);
    if let Some(dir) = &env.socket_dir {
        command.env("PLUGIN_UNIX_SOCKET_DIR", dir);
    }
    let config = ClientConfig::new(
        HandshakeConfig::new(options.versions[0], key, value),
        command,
    )
    .versions(options.versions.iter().copied())
    .grpc_broker_multiplex(true)
    .auto_mtls(options.auto_mtls)
    .start_timeout(options.start_timeout);
    let session = match Client::start(config).await {
        Ok(client) => {
            let ping = client.ping().await;
            client.kill().await;
            match ping {
                Ok(()) => Check::pass(
                    ID,
                    "a multiplexing host (this runtime's) pinged the plugin over one yamux session",
                ),
                Err(err) => Check::fail(
                    ID,
                    format!("multiplexed Ping failed: {err}"),
                    "serve gRPC on yamux streams of the one connection (go-plugin's grpcmux)",
                ),
            }
        }
        Err(err) => Check::fail(
            ID,
            format!(
                "a multiplexing host could not start it: {}",
                err.to_string().lines().next().unwrap_or("")
            ),
            "with PLUGIN_MULTIPLEX_GRPC set, serve yamux on the socket and answer `true` in field 7 (go-plugin v1.6)",
        ),
    };
    [field, session]
}

/// `signal.sigint`: the plugin survives SIGINT, as go-plugin's plugins do (a terminal's Ctrl-C
/// reaches the whole process group; the host decides what happens).
async fn sigint(
    command: &[String],
    env: &HostEnv,
    identity: Option<&AutoMtls>,
    timeout: Duration,
) -> Check {
    const ID: &str = "signal.sigint";
    if let Err(why) = sys::CAN_INTERRUPT {
        return Check::skip(ID, why);
    }
    let mut plugin = match Plugin::launch(command, env, timeout).await {
        Ok(plugin) => plugin,
        Err(err) => return Check::skip(ID, format!("could not start: {err}")),
    };
    let Some(target) = handshake::lint(
        &plugin.startup,
        Asked {
            versions: &[],
            auto_mtls: identity.is_some(),
            multiplex: false,
        },
    )
    .target
    else {
        plugin.kill().await;
        return Check::skip(ID, "no handshake line");
    };
    // Only once it serves: go-plugin's own plugins start ignoring SIGINT just after printing
    // the handshake, and a Ctrl-C in that instant is not what this check is about.
    let tls = probe::session_tls(identity, target.cert.as_deref());
    let channel = inspect::dial(&target.address, tls.as_ref());
    let before = probe::serving(&channel).await;
    tokio::time::sleep(SIGINT_SETTLE).await;
    plugin.interrupt();
    let exited = plugin.wait_exit(SIGINT_WAIT).await;
    let check = match exited {
        Some(status) => Check::warn(
            ID,
            format!("exited on SIGINT ({status}), sent once it answered a first call"),
            "ignore SIGINT, as go-plugin's plugins do: Ctrl-C in a terminal reaches the plugin too, and the \
             host must be the one to end it (with Shutdown)",
        ),
        None => {
            let after = probe::serving(&channel).await;
            let serving = if before.status == Status::Pass && after.status == Status::Pass {
                " and SERVING"
            } else {
                ""
            };
            Check::pass(
                ID,
                format!("still running{serving} {SIGINT_WAIT:?} after SIGINT"),
            )
        }
    };
    plugin.kill().await;
    check
}
