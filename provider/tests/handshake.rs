//! The built plugin binary, launched the way Terraform launches it: go-plugin environment,
//! a P-521 self-signed CA certificate as client certificate (what Terraform generates),
//! then gRPC over mTLS on the socket from the handshake line. Checks the strictness too:
//! another certificate, or none, gets no answer.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use terraform_provider_lfm::protocol::proto::plugin::{
    grpc_controller_client::GrpcControllerClient, Empty,
};
use terraform_provider_lfm::protocol::proto::tfplugin6::{
    get_provider_schema, provider_client::ProviderClient,
};
use tokio::net::UnixStream;

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client certificate shaped like Terraform's: self-signed CA, P-521, client+server auth.
struct ClientIdentity {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

fn terraform_like_client_cert() -> ClientIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("P-521 key");
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "HashiCorp");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        cert_pem: cert.pem(),
        cert_der: cert.der().clone(),
        key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
    }
}

struct Plugin {
    child: Child,
    socket: PathBuf,
    server_cert: Vec<u8>,
}

impl Drop for Plugin {
    /// SIGTERM first (the plugin removes its socket), SIGKILL if it lingers.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn launch(client_cert_pem: &str) -> (Plugin, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-lfm"))
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", client_cert_pem)
        .env("TF_LOG", "INFO")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the plugin");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).expect("handshake line");
    let fields: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line {line:?}");
    assert_eq!(&fields[..3], &["1", "6", "unix"]);
    assert_eq!(fields[4], "grpc");
    assert!(
        !fields[5].ends_with('='),
        "certificate must be unpadded base64"
    );
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .expect("base64 cert");
    // Nothing else may follow on stdout: keep reading in the background and remember it.
    let socket = PathBuf::from(fields[3]);
    assert!(socket.exists());
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stdout.read_to_string(&mut rest);
        assert!(
            rest.is_empty(),
            "unexpected stdout after the handshake: {rest:?}"
        );
    });
    (
        Plugin {
            child,
            socket,
            server_cert,
        },
        line,
    )
}

/// Trusts exactly the server certificate from the handshake line, as go-plugin does.
#[derive(Debug)]
struct PinnedServer {
    der: Vec<u8>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(m, c, d, &self.algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(m, c, d, &self.algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

async fn channel(
    plugin: &Plugin,
    client: Option<&ClientIdentity>,
) -> Result<tonic::transport::Channel, String> {
    channel_with(plugin, client, rustls::DEFAULT_VERSIONS).await
}

async fn channel_with(
    plugin: &Plugin,
    client: Option<&ClientIdentity>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<tonic::transport::Channel, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = PinnedServer {
        der: plugin.server_cert.clone(),
        algorithms: provider.signature_verification_algorithms,
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match client {
        Some(id) => builder
            .with_client_auth_cert(
                vec![id.cert_der.clone()],
                PrivateKeyDer::Pkcs8(id.key_der.clone_key()),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let socket = plugin.socket.clone();
    tonic::transport::Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let (connector, socket) = (connector.clone(), socket.clone());
            async move {
                let stream = UnixStream::connect(&socket).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), stream)
                    .await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| format!("{e:?}"))
}

async fn get_schema(
    plugin: &Plugin,
    client: Option<&ClientIdentity>,
) -> Result<get_provider_schema::Response, String> {
    let channel = channel(plugin, client).await?;
    let mut client = ProviderClient::new(channel);
    let call = client.get_provider_schema(get_provider_schema::Request {});
    match tokio::time::timeout(Duration::from_secs(10), call).await {
        Ok(result) => result.map(|r| r.into_inner()).map_err(|e| e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}

#[tokio::test]
async fn terraform_client_cert_gets_the_schema_and_others_are_refused() {
    let terraform = terraform_like_client_cert();
    let (plugin, line) = launch(&terraform.cert_pem);
    assert!(line.starts_with("1|6|unix|/"));

    let schema = get_schema(&plugin, Some(&terraform))
        .await
        .expect("pinned client is served");
    assert!(schema.provider.is_some());

    let stranger = terraform_like_client_cert();
    assert!(
        get_schema(&plugin, Some(&stranger)).await.is_err(),
        "another certificate must be refused"
    );
    assert!(
        get_schema(&plugin, None).await.is_err(),
        "no certificate must be refused"
    );

    // Still serving the right client after rejecting others.
    assert!(get_schema(&plugin, Some(&terraform)).await.is_ok());
}

/// Terraform (Go) signs a TLS 1.2 handshake with its P-521 key too; that must verify.
#[tokio::test]
async fn tls12_with_a_p521_client_key_is_served() {
    let terraform = terraform_like_client_cert();
    let (plugin, _) = launch(&terraform.cert_pem);
    let channel = channel_with(&plugin, Some(&terraform), &[&rustls::version::TLS12])
        .await
        .expect("TLS 1.2 connect");
    let schema = ProviderClient::new(channel)
        .get_provider_schema(get_provider_schema::Request {})
        .await;
    assert!(schema.is_ok(), "{schema:?}");
}

#[tokio::test]
async fn controller_shutdown_ends_the_process_and_removes_the_socket() {
    let terraform = terraform_like_client_cert();
    let (mut plugin, _) = launch(&terraform.cert_pem);
    let channel = channel(&plugin, Some(&terraform)).await.unwrap();
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .expect("shutdown answered");
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = plugin.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "plugin did not exit after Shutdown"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    assert!(!plugin.socket.exists(), "socket left behind");
}

#[test]
fn without_the_cookie_it_says_it_is_a_plugin_and_exits_1() {
    let out = Command::new(env!("CARGO_BIN_EXE_terraform-provider-lfm"))
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("plugin for Terraform"));
}
