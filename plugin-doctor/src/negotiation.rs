//! App protocol version negotiation: launches that offer several versions in either order, and
//! one that offers a version no plugin has.

use std::time::Duration;

use go_plugin::inspect;

use crate::handshake::{answered_version, go_list};
use crate::launch::{HostEnv, Plugin};
use crate::report::Check;

/// What a launch offering `offer` got back: the answered version, or why there was none.
async fn answer(
    command: &[String],
    env: &HostEnv,
    offer: &[u32],
    timeout: Duration,
) -> Result<(u32, String), String> {
    let env = HostEnv {
        versions: offer
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(","),
        ..env.clone()
    };
    let mut plugin = Plugin::launch(command, &env, timeout)
        .await
        .map_err(|err| format!("could not start: {err}"))?;
    let result = match &plugin.startup.line {
        Some(line) => answered_version(line)
            .map(|version| (version, line.clone()))
            .ok_or_else(|| format!("handshake {line:?} has no numeric version")),
        None => Err(format!(
            "no handshake: the plugin {}",
            plugin.startup.ended.as_deref().unwrap_or("printed none")
        )),
    };
    plugin.kill().await;
    result
}

/// A version no plugin has: well above every version offered.
pub(crate) fn unknown_version(versions: &[u32]) -> u32 {
    versions
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .saturating_add(100)
}

/// `version.negotiation`: offered the host's versions and an unknown one, in ascending and
/// descending order (go-plugin's host sends them in map order, i.e. any order), the plugin
/// answers the same version both times, one of the host's; with several host versions, the
/// highest it accepts alone.
pub(crate) async fn negotiation(
    command: &[String],
    env: &HostEnv,
    versions: &[u32],
    timeout: Duration,
) -> Check {
    const ID: &str = "version.negotiation";
    let unknown = unknown_version(versions);
    let mut ascending: Vec<u32> = versions.to_vec();
    ascending.push(unknown);
    let descending: Vec<u32> = ascending.iter().rev().copied().collect();
    let mut answers = Vec::new();
    for offer in [&ascending, &descending] {
        match answer(command, env, offer, timeout).await {
            Ok((version, _)) => answers.push(version),
            Err(why) => {
                return Check::fail(
                    ID,
                    format!("offered {}: {why}", join(offer)),
                    "answer every offer with a handshake",
                );
            }
        }
    }
    let offers = format!("offered {} and {}", join(&ascending), join(&descending));
    let fix = "answer the highest version in PLUGIN_PROTOCOL_VERSIONS that the plugin serves, whatever the order";
    if answers[0] != answers[1] {
        return Check::fail(
            ID,
            format!("{offers}: answered {} and {}", answers[0], answers[1]),
            fix,
        );
    }
    let chosen = answers[0];
    if chosen == unknown {
        return Check::fail(
            ID,
            format!(
                "{offers}: answered {unknown}, a version made up by the doctor (echoing the host's offer?)"
            ),
            fix,
        );
    }
    if !versions.contains(&chosen) {
        return Check::fail(
            ID,
            format!("{offers}: answered {chosen}, which was not offered"),
            fix,
        );
    }
    if versions.len() > 1 {
        let mut accepted = Vec::new();
        for version in versions {
            if let Ok((answered, _)) = answer(command, env, &[*version], timeout).await
                && answered == *version
            {
                accepted.push(*version);
            }
        }
        if let Some(highest) = accepted.iter().max()
            && *highest != chosen
        {
            return Check::fail(
                ID,
                format!(
                    "{offers}: answered {chosen}, though it also serves {highest} (it answered {highest} when offered only that)"
                ),
                fix,
            );
        }
        return Check::pass(
            ID,
            format!(
                "{offers}: answered {chosen} both times; alone it accepts {}",
                go_list(&accepted)
            ),
        );
    }
    Check::pass(ID, format!("{offers}: answered {chosen} both times"))
}

/// `version.mismatch`: offered only a version it does not have, the plugin still prints a
/// handshake with its own version, so that the host can say what is wrong (go-plugin's plugins
/// answer their lowest version).
pub(crate) async fn mismatch(
    command: &[String],
    env: &HostEnv,
    versions: &[u32],
    timeout: Duration,
) -> Check {
    const ID: &str = "version.mismatch";
    let unknown = unknown_version(versions);
    match answer(command, env, &[unknown], timeout).await {
        Ok((version, _)) if version == unknown => Check::fail(
            ID,
            format!(
                "offered only [{unknown}], a version made up by the doctor: answered {unknown}, hiding the mismatch"
            ),
            "answer with a version the plugin really serves (go-plugin answers its lowest) and let the host report the mismatch",
        ),
        Ok((_, line)) => {
            let host_says = match inspect::parse_handshake(&line, &[unknown], false) {
                Err(err) => err.to_string(),
                Ok(_) => "nothing".to_owned(),
            };
            Check::pass(
                ID,
                format!("offered only [{unknown}]: the host reports \"{host_says}\""),
            )
        }
        Err(why) => Check::warn(
            ID,
            format!(
                "offered only [{unknown}]: {why}; a go-plugin host then says \"Unrecognized remote plugin message\" instead of naming the versions"
            ),
            "print the handshake with the plugin's own (lowest) version, as go-plugin does, so the host reports the mismatch",
        ),
    }
}

fn join(versions: &[u32]) -> String {
    versions
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
