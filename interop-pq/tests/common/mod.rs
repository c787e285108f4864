//! What both test files share: rustls on aws-lc-rs configured like our
//! side (TLS 1.3, the test credentials), with the groups a test gives.

use std::sync::Arc;

use rustls::crypto::aws_lc_rs as aws;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tlspair::test_credentials as creds;

pub fn provider(
    groups: &[&'static dyn rustls::crypto::SupportedKxGroup],
) -> Arc<rustls::crypto::CryptoProvider> {
    let mut p = aws::default_provider();
    p.kx_groups = groups.to_vec();
    Arc::new(p)
}

pub fn rustls_client(
    groups: &[&'static dyn rustls::crypto::SupportedKxGroup],
) -> rustls::Connection {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(creds::CA_CERT)).unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(provider(groups))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    rustls::ClientConnection::new(Arc::new(cfg), ServerName::try_from("localhost").unwrap())
        .unwrap()
        .into()
}

pub fn rustls_server(
    groups: &[&'static dyn rustls::crypto::SupportedKxGroup],
) -> rustls::Connection {
    let cfg = rustls::ServerConfig::builder_with_provider(provider(groups))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(creds::SERVER_ECDSA_P256.cert)],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(creds::SERVER_ECDSA_P256.key)),
        )
        .unwrap();
    rustls::ServerConnection::new(Arc::new(cfg)).unwrap().into()
}
