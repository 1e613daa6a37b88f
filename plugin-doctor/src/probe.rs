//! The gRPC checks on a running plugin: the services go-plugin's host calls (health,
//! `GRPCStdio`, `GRPCBroker`, `GRPCController`), what else it serves, a message over 4 MiB, and
//! AutoMTLS's refusal of strangers.

use std::time::{Duration, Instant};

use go_plugin::Channel;
use go_plugin::inspect::{self, AutoMtls, proto};
use go_plugin::{MAX_MESSAGE_SIZE, ReattachAddress, TlsConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::{Code, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::launch::Plugin;
use crate::report::Check;
use crate::sys;

/// How long one unary call may take.
const CALL: Duration = Duration::from_secs(5);

/// How long a streaming call gets to be refused; a stream still open after it was accepted.
const STREAM_VERDICT: Duration = Duration::from_millis(1500);

/// go-plugin's wait between `Shutdown` and SIGKILL (`Kill`, hard-coded).
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// The 5 MiB request: over grpc-go's (and grpcio's) 4 MiB default receive limit.
const BIG: usize = 5 * 1024 * 1024;

/// Whether a method exists, as far as a call could tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Presence {
    Present,
    Missing,
    Unknown,
}

fn health(channel: &Channel) -> HealthClient<Channel> {
    HealthClient::new(channel.clone())
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE)
}

async fn check_health(channel: &Channel, service: String) -> Result<i32, Status> {
    match tokio::time::timeout(CALL, health(channel).check(HealthCheckRequest { service })).await {
        Ok(result) => result.map(|response| response.into_inner().status),
        Err(_) => Err(Status::deadline_exceeded(format!(
            "no answer within {CALL:?}"
        ))),
    }
}

/// Whether something accepts connections at the handshake's address.
pub(crate) async fn reachable(address: &ReattachAddress) -> Check {
    const ID: &str = "handshake.address";
    let connect = async {
        match address {
            ReattachAddress::Unix(path) => sys::connect_unix(path).await,
            ReattachAddress::Tcp(address) => {
                let target = match address.strip_prefix(':') {
                    Some(port) => format!("127.0.0.1:{port}"),
                    None => address.clone(),
                };
                tokio::net::TcpStream::connect(target).await.map(drop)
            }
        }
    };
    let shown = match address {
        ReattachAddress::Unix(path) => path.display().to_string(),
        ReattachAddress::Tcp(address) => address.clone(),
    };
    match tokio::time::timeout(CALL, connect).await {
        Ok(Ok(())) => Check::pass(ID, format!("{shown} accepts connections")),
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::Unsupported => Check::fail(
            ID,
            format!("{shown}: {err}"),
            "listen on TCP on 127.0.0.1 and print `tcp`, as go-plugin's plugins do on this OS",
        ),
        Ok(Err(err)) => Check::fail(
            ID,
            format!("{shown}: {err}"),
            "listen before printing the handshake, on the address printed",
        ),
        Err(_) => Check::fail(
            ID,
            format!("{shown}: no connection within {CALL:?}"),
            "listen before printing the handshake, on the address printed",
        ),
    }
}

/// `health.serving`: Check("plugin") answers SERVING, as go-plugin's `Ping` wants.
pub(crate) async fn serving(channel: &Channel) -> Check {
    const ID: &str = "health.serving";
    let fix = "register grpc.health.v1.Health with service \"plugin\" SERVING (go-plugin's Ping calls it)";
    match check_health(channel, "plugin".to_owned()).await {
        Ok(status) if status == ServingStatus::Serving as i32 => Check::pass(
            ID,
            "grpc.health.v1.Health/Check {service: \"plugin\"}: SERVING",
        ),
        Ok(status) => Check::fail(
            ID,
            format!(
                "Check {{service: \"plugin\"}} answered {:?}",
                ServingStatus::try_from(status).unwrap_or(ServingStatus::Unknown)
            ),
            fix,
        ),
        Err(status) => Check::fail(
            ID,
            format!("Check {{service: \"plugin\"}}: {}", brief(&status)),
            fix,
        ),
    }
}

/// A streaming call run as a host runs it: opened, then drained in the background for as long
/// as the returned handle lives.
pub(crate) struct Opened {
    pub(crate) presence: Presence,
    pub(crate) evidence: String,
    task: JoinHandle<()>,
}

impl Drop for Opened {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Opens `GRPCStdio.StreamStdio` and drains it.
pub(crate) async fn open_stdio(channel: &Channel) -> Opened {
    let mut client = proto::grpc_stdio_client::GrpcStdioClient::new(channel.clone())
        .max_decoding_message_size(MAX_MESSAGE_SIZE);
    let (verdict, outcome) = oneshot::channel();
    let task = tokio::spawn(async move {
        match client.stream_stdio(()).await {
            Ok(response) => {
                let _ = verdict.send(Ok(()));
                let mut stream = response.into_inner();
                while let Ok(Some(_)) = stream.message().await {}
            }
            Err(status) => {
                let _ = verdict.send(Err(status));
            }
        }
    });
    opened(task, outcome).await
}

/// Opens `GRPCBroker.StartStream` and keeps it open, sending nothing (a host with no brokered
/// services does the same).
pub(crate) async fn open_broker(channel: &Channel) -> Opened {
    let mut client = proto::grpc_broker_client::GrpcBrokerClient::new(channel.clone());
    let (verdict, outcome) = oneshot::channel();
    let task = tokio::spawn(async move {
        let requests = tokio_stream::pending::<proto::ConnInfo>();
        match client.start_stream(requests).await {
            Ok(response) => {
                let _ = verdict.send(Ok(()));
                let mut stream = response.into_inner();
                while let Ok(Some(_)) = stream.message().await {}
            }
            Err(status) => {
                let _ = verdict.send(Err(status));
            }
        }
    });
    opened(task, outcome).await
}

async fn opened(task: JoinHandle<()>, outcome: oneshot::Receiver<Result<(), Status>>) -> Opened {
    let (presence, evidence) = match tokio::time::timeout(STREAM_VERDICT, outcome).await {
        Ok(Ok(Ok(()))) => (Presence::Present, "stream opened".to_owned()),
        // grpc-go sends a streaming answer's headers with its first message: an open stream
        // with nothing to say yet is a served method.
        Err(_) => (
            Presence::Present,
            format!("stream held open, no error within {STREAM_VERDICT:?}"),
        ),
        Ok(Ok(Err(status))) if status.code() == Code::Unimplemented => {
            (Presence::Missing, brief(&status))
        }
        Ok(Ok(Err(status))) => (Presence::Unknown, brief(&status)),
        Ok(Err(_)) => (
            Presence::Unknown,
            "the call ended without an answer".to_owned(),
        ),
    };
    Opened {
        presence,
        evidence,
        task,
    }
}

/// `stdio.stream` from an opened `StreamStdio`.
pub(crate) fn stdio_check(opened: &Opened) -> Check {
    const ID: &str = "stdio.stream";
    match opened.presence {
        Presence::Present => Check::pass(
            ID,
            format!("plugin.GRPCStdio/StreamStdio: {}", opened.evidence),
        ),
        _ => Check::fail(
            ID,
            format!("plugin.GRPCStdio/StreamStdio: {}", opened.evidence),
            "serve plugin.GRPCStdio: go-plugin's host opens StreamStdio at once and mirrors the \
             plugin's stdout/stderr through it; without it, it logs \"stdio service not available\" \
             and output after the handshake is lost",
        ),
    }
}

/// `broker.stream` from an opened `StartStream`.
pub(crate) fn broker_check(opened: &Opened) -> Check {
    const ID: &str = "broker.stream";
    match opened.presence {
        Presence::Present => Check::pass(
            ID,
            format!("plugin.GRPCBroker/StartStream: {}", opened.evidence),
        ),
        _ => Check::fail(
            ID,
            format!("plugin.GRPCBroker/StartStream: {}", opened.evidence),
            "serve plugin.GRPCBroker: go-plugin's host opens StartStream on every connection; \
             callbacks and extra services (examples/bidirectional) need it",
        ),
    }
}

/// `message.5mib`: a 5 MiB health request (its service name is 5 MiB of `x`). A plugin that
/// receives it whole answers NotFound for the unknown service; one with gRPC's 4 MiB default
/// limit answers ResourceExhausted.
pub(crate) async fn big_message(channel: &Channel) -> Check {
    const ID: &str = "message.5mib";
    let started = Instant::now();
    let result = check_health(channel, "x".repeat(BIG)).await;
    let took = format!("{:.0?}", started.elapsed());
    match result {
        Ok(_) => Check::pass(
            ID,
            format!("a 5 MiB Health/Check request was received whole and answered in {took}"),
        ),
        Err(status) if status.code() == Code::NotFound => Check::pass(
            ID,
            format!(
                "a 5 MiB Health/Check request (5 MiB service name) was received whole: NotFound for that service, in {took}"
            ),
        ),
        Err(status) => Check::warn(
            ID,
            format!(
                "a 5 MiB Health/Check request (5 MiB service name): {}",
                brief(&status)
            ),
            "raise the server's receive limit (grpc.MaxRecvMsgSize / grpc.max_receive_message_length): \
             go-plugin's host sends up to 2 GiB, but gRPC servers take 4 MiB by default (vault#4957)",
        ),
    }
}

/// The services the plugin's server reflection lists (v1, then v1alpha), or `None` without it.
pub(crate) async fn reflection(channel: &Channel) -> Option<Vec<String>> {
    use tonic_reflection::pb::{v1, v1alpha};
    let v1_request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let call = client.server_reflection_info(tokio_stream::iter([v1_request]));
    if let Ok(Ok(response)) = tokio::time::timeout(CALL, call).await
        && let Ok(Ok(Some(message))) =
            tokio::time::timeout(CALL, response.into_inner().message()).await
        && let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
            message.message_response
    {
        return Some(
            list.service
                .into_iter()
                .map(|service| service.name)
                .collect(),
        );
    }
    let alpha_request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let call = client.server_reflection_info(tokio_stream::iter([alpha_request]));
    if let Ok(Ok(response)) = tokio::time::timeout(CALL, call).await
        && let Ok(Ok(Some(message))) =
            tokio::time::timeout(CALL, response.into_inner().message()).await
        && let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(
            list,
        )) = message.message_response
    {
        return Some(
            list.service
                .into_iter()
                .map(|service| service.name)
                .collect(),
        );
    }
    None
}

/// `services.list`: what the plugin serves, from reflection or, without it, from the probes.
pub(crate) fn services_check(listed: Option<Vec<String>>, probed: &[(&str, bool)]) -> Check {
    const ID: &str = "services.list";
    match listed {
        Some(mut services) => {
            services.sort();
            Check::pass(
                ID,
                format!("server reflection lists {}", services.join(", ")),
            )
        }
        None => {
            let found: Vec<&str> = probed
                .iter()
                .filter(|(_, present)| *present)
                .map(|(name, _)| *name)
                .collect();
            let found = if found.is_empty() {
                "none".to_owned()
            } else {
                found.join(", ")
            };
            Check::pass(
                ID,
                format!(
                    "no server reflection (optional; Go plugins have it); probed and found: {found}"
                ),
            )
        }
    }
}

/// `controller.shutdown`: `GRPCController.Shutdown` is answered and the process exits within
/// go-plugin's 2 s.
pub(crate) async fn shutdown(channel: &Channel, plugin: &mut Plugin) -> Check {
    const ID: &str = "controller.shutdown";
    let mut controller = proto::grpc_controller_client::GrpcControllerClient::new(channel.clone());
    let started = Instant::now();
    let answer = tokio::time::timeout(GRACE, controller.shutdown(proto::Empty {})).await;
    let left = GRACE.saturating_sub(started.elapsed());
    let exited = plugin.wait_exit(left).await;
    let took = started.elapsed();
    let missing = matches!(&answer, Ok(Err(status)) if status.code() == Code::Unimplemented);
    match (exited, missing) {
        (Some(status), false) => Check::pass(
            ID,
            format!(
                "plugin.GRPCController/Shutdown: the process exited {took:.0?} later ({status})"
            ),
        ),
        (Some(status), true) => Check::warn(
            ID,
            format!(
                "no plugin.GRPCController (Unimplemented), though the process exited {took:.0?} later ({status})"
            ),
            "serve plugin.GRPCController and exit on Shutdown: that is how go-plugin's host ends a plugin",
        ),
        (None, true) => {
            let refused = match &answer {
                Ok(Err(status)) => brief(status),
                _ => "Unimplemented".to_owned(),
            };
            Check::fail(
                ID,
                format!(
                    "plugin.GRPCController/Shutdown: {refused}; go-plugin's host waits 2 s and SIGKILLs (\"plugin failed to exit gracefully\")"
                ),
                "serve plugin.GRPCController and exit when Shutdown is called (go-plugin#167 is this bug in a Rust plugin)",
            )
        }
        (None, false) => Check::fail(
            ID,
            format!(
                "Shutdown {}, but the process still ran {GRACE:?} later; go-plugin's host SIGKILLs it then (\"plugin failed to exit gracefully\")",
                match &answer {
                    Ok(Ok(_)) => "answered".to_owned(),
                    Ok(Err(status)) => format!("failed ({})", brief(status)),
                    Err(_) => "got no answer".to_owned(),
                }
            ),
            "stop serving and exit the process once Shutdown has been answered (stop the server, \
             then return from main); go-plugin gives it 2 s (go-plugin#295)",
        ),
    }
}

/// `mtls.strangers`: with AutoMTLS, a plain-text client and a client with a certificate the
/// plugin was not given are both refused.
pub(crate) async fn strangers(address: &ReattachAddress, plugin_cert: Option<&[u8]>) -> Check {
    const ID: &str = "mtls.strangers";
    let fix =
        "serve TLS only, requiring the client certificate from PLUGIN_CLIENT_CERT and no other";
    let plain = inspect::dial(address, None);
    let plain_answer = check_health(&plain, "plugin".to_owned()).await;
    let Some(cert) = plugin_cert else {
        return match plain_answer {
            Ok(_) => Check::fail(
                ID,
                "no certificate in the handshake, and a plain-text client's health check is answered",
                fix,
            ),
            Err(status) => Check::fail(
                ID,
                format!(
                    "no certificate in the handshake to pin; plain text: {}",
                    brief(&status)
                ),
                fix,
            ),
        };
    };
    let stranger = match AutoMtls::generate().and_then(|identity| identity.pinned_to(cert)) {
        Ok(tls) => tls,
        Err(err) => {
            return Check::skip(
                ID,
                format!("could not make a stranger's certificate: {err}"),
            );
        }
    };
    let stranger_answer = check_health(
        &inspect::dial(address, Some(&stranger)),
        "plugin".to_owned(),
    )
    .await;
    match (plain_answer, stranger_answer) {
        (Err(plain), Err(stranger)) => Check::pass(
            ID,
            format!(
                "plain text refused ({}); a stranger's certificate refused ({})",
                brief(&plain),
                brief(&stranger)
            ),
        ),
        (Ok(_), _) => Check::fail(ID, "a plain-text client's health check is answered", fix),
        (_, Ok(_)) => Check::fail(
            ID,
            "a client with a certificate the plugin was not given is answered",
            fix,
        ),
    }
}

/// TLS for the doctor's own connection: pinned to the plugin's certificate when AutoMTLS is on.
pub(crate) fn session_tls(
    identity: Option<&AutoMtls>,
    plugin_cert: Option<&[u8]>,
) -> Option<TlsConfig> {
    identity
        .zip(plugin_cert)
        .and_then(|(identity, cert)| identity.pinned_to(cert).ok())
}

/// A status in one line: its code and the start of its message.
pub(crate) fn brief(status: &Status) -> String {
    let message = status.message().lines().next().unwrap_or("");
    let message = match message.char_indices().nth(160) {
        Some((end, _)) => format!("{}…", &message[..end]),
        None => message.to_owned(),
    };
    if message.is_empty() {
        format!("{:?}", status.code())
    } else {
        format!("{:?}: {message}", status.code())
    }
}
