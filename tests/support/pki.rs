//! Certificates for the user-supplied TLS tests: a CA of our own and leaf certificates it signs
//! (SAN `localhost`), made with the `openssl` command as an operator would, and rustls
//! configurations from them. Unlike AutoMTLS's self-signed CA certificates, these verify with
//! stock WebPKI verifiers, in Rust and in Go.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use go_plugin::rustls;
use go_plugin::rustls::pki_types::pem::PemObject;
use go_plugin::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A CA, a server certificate and a client certificate, as PEM files in one directory.
#[derive(Debug)]
pub struct Pki {
    /// `ca.pem`.
    pub ca: PathBuf,
    /// `server.pem`, `server.key`.
    pub server: (PathBuf, PathBuf),
    /// `client.pem`, `client.key`.
    pub client: (PathBuf, PathBuf),
}

impl Pki {
    /// Makes the files in `dir`. Fails, saying so, when `openssl` is missing.
    pub fn generate(dir: &Path) -> Pki {
        let openssl = |args: &[&str]| {
            let output = Command::new("openssl")
                .args(args)
                .current_dir(dir)
                .output()
                .unwrap_or_else(|err| {
                    panic!(
                        "the TLS tests need the openssl command ({err}): install OpenSSL \
                         (Debian: apt-get install openssl) and rerun"
                    )
                });
            assert!(
                output.status.success(),
                "openssl {args:?} failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=test CA",
        ]);
        for name in ["server", "client"] {
            openssl(&[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &format!("{name}.key"),
                "-out",
                &format!("{name}.csr"),
                "-subj",
                &format!("/CN={name}"),
            ]);
            std::fs::write(
                dir.join(format!("{name}.ext")),
                format!(
                    "subjectAltName=DNS:localhost\nextendedKeyUsage={}\n",
                    if name == "server" {
                        "serverAuth"
                    } else {
                        "clientAuth"
                    }
                ),
            )
            .expect("write the extensions file");
            openssl(&[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{name}.pem"),
                "-days",
                "2",
                "-extfile",
                &format!("{name}.ext"),
            ]);
        }
        Pki {
            ca: dir.join("ca.pem"),
            server: (dir.join("server.pem"), dir.join("server.key")),
            client: (dir.join("client.pem"), dir.join("client.key")),
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn roots(ca: &Path) -> Result<rustls::RootCertStore, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        CertificateDer::pem_file_iter(ca).map_err(|err| format!("{}: {err}", ca.display()))?
    {
        roots
            .add(cert.map_err(|err| format!("{}: {err}", ca.display()))?)
            .map_err(|err| err.to_string())?;
    }
    Ok(roots)
}

fn chain_and_key(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|err| format!("{}: {err}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| format!("{}: {err}", cert.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|err| format!("{}: {err}", key.display()))?;
    Ok((chain, key))
}

/// A server configuration presenting `cert`/`key`, requiring a client certificate signed by
/// `client_ca` when given.
pub fn server_config(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Path>,
) -> Result<rustls::ServerConfig, String> {
    let (chain, key) = chain_and_key(cert, key)?;
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| err.to_string())?;
    let builder = match client_ca {
        Some(ca) => builder.with_client_cert_verifier(
            rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots(ca)?),
                provider(),
            )
            .build()
            .map_err(|err| err.to_string())?,
        ),
        None => builder.with_no_client_auth(),
    };
    builder
        .with_single_cert(chain, key)
        .map_err(|err| err.to_string())
}

/// A client configuration trusting `ca`, presenting `cert`/`key` when given.
pub fn client_config(
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> Result<rustls::ClientConfig, String> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| err.to_string())?
        .with_root_certificates(roots(ca)?);
    match identity {
        Some((cert, key)) => {
            let (chain, key) = chain_and_key(cert, key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|err| err.to_string())
        }
        None => Ok(builder.with_no_client_auth()),
    }
}
