//! TLS towards clients: rustls with the certificate chain and key from `gateway.tls`, ALPN
//! `h2` then `http/1.1`.

use std::sync::Arc;

use corsguard::gateway::TlsSettings;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::error::Error;

/// Loads the PEM files and builds the acceptor. The crypto provider is chosen explicitly
/// (aws-lc-rs) so that no process-wide default has to be installed.
pub(crate) fn acceptor(tls: &TlsSettings) -> Result<TlsAcceptor, Error> {
    let cert_err = |reason: String| Error::Tls {
        file: tls.cert.clone(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| cert_err(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| cert_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(cert_err("no CERTIFICATE block found".into()));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| Error::Tls {
        file: tls.key.clone(),
        reason: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| cert_err(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Tls {
            file: tls.key.clone(),
            reason: format!("certificate and key do not fit together: {e}"),
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
