//! Mutual TLS between Terraform and the plugin, strict on both sides.
//!
//! - The server certificate is fresh for every launch (rcgen, ECDSA P-256, valid for
//!   `localhost`); Terraform learns it from the handshake line and trusts only it.
//! - The client certificate is pinned: Terraform passes its own in `PLUGIN_CLIENT_CERT`
//!   (a self-signed CA certificate with a P-521 key). A client must present exactly those
//!   DER bytes and prove it holds the key. rustls' stock verifier rejects such a certificate
//!   as a CA used as end entity, and ring cannot verify P-521 at all, so the verifier below
//!   compares bytes and delegates the signature checks to aws-lc-rs. Without this any local
//!   process could drive the provider with the user's AWS credentials.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, ServerConfig,
    SignatureScheme,
};

/// The plugin's own certificate and key, made at startup.
pub struct ServerIdentity {
    pub cert_der: CertificateDer<'static>,
    key_der: PrivatePkcs8KeyDer<'static>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("cannot generate the server certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate: {0}")]
    ClientCert(String),
    #[error("cannot build the TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A self-signed certificate for `localhost`, shaped like go-plugin's own (CA, server and
/// client auth usages), which Terraform's Go TLS stack accepts as both root and leaf.
pub fn generate_server_identity() -> Result<ServerIdentity, TlsSetupError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "terraform-provider-lfm");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params.self_signed(&key)?;
    Ok(ServerIdentity {
        cert_der: cert.der().clone(),
        key_der: PrivatePkcs8KeyDer::from(key.serialize_der()),
    })
}

/// The DER of the first certificate in `PLUGIN_CLIENT_CERT`.
pub fn parse_client_cert_pem(pem: &str) -> Result<CertificateDer<'static>, TlsSetupError> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| TlsSetupError::ClientCert(e.to_string()))
}

fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The server config: our identity, ALPN h2 (gRPC), and the pinned client certificate.
pub fn server_config(
    identity: &ServerIdentity,
    pinned_client_cert: CertificateDer<'static>,
) -> Result<ServerConfig, TlsSetupError> {
    let provider = crypto_provider();
    let verifier = PinnedClientCert {
        pinned: pinned_client_cert,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(
            vec![identity.cert_der.clone()],
            PrivateKeyDer::Pkcs8(identity.key_der.clone_key()),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Accepts exactly one client certificate, byte for byte (see the module docs).
#[derive(Debug)]
pub struct PinnedClientCert {
    pinned: CertificateDer<'static>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    /// No CA hints: Go's TLS client sends its certificate only if it was issued by a hinted
    /// CA, or unconditionally when the list is empty.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        if end_entity.as_ref() == self.pinned.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("rejected a TLS client: its certificate is not the one Terraform passed in PLUGIN_CLIENT_CERT");
            Err(Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    // Possession of the key: the handshake signature must verify with the pinned cert's key.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_identity_and_config_build() {
        let id = generate_server_identity().unwrap();
        let client = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let pinned = parse_client_cert_pem(&client.cert.pem()).unwrap();
        assert_eq!(pinned.as_ref(), client.cert.der().as_ref());
        let config = server_config(&id, pinned).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"h2".to_vec()]);
    }

    #[test]
    fn p521_is_among_the_verifiable_schemes() {
        let algorithms = crypto_provider().signature_verification_algorithms;
        assert!(algorithms
            .supported_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }

    #[test]
    fn only_the_pinned_certificate_passes() {
        let a = rcgen::generate_simple_self_signed(vec!["a".to_owned()]).unwrap();
        let b = rcgen::generate_simple_self_signed(vec!["b".to_owned()]).unwrap();
        let verifier = PinnedClientCert {
            pinned: a.cert.der().clone(),
            algorithms: crypto_provider().signature_verification_algorithms,
        };
        assert!(verifier
            .verify_client_cert(a.cert.der(), &[], UnixTime::now())
            .is_ok());
        assert!(matches!(
            verifier.verify_client_cert(b.cert.der(), &[], UnixTime::now()),
            Err(Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure
            ))
        ));
    }
}
