//! HTTPS with rustls. The certificate is held behind a swappable resolver so SIGHUP
//! (`systemctl reload atrium`) loads a renewed certificate without dropping connections; a
//! reload that fails keeps the previous certificate and logs why.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::config::TlsConfig;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate (tls.cert, ATRIUM_TLS__CERT)")]
    NoCertificate { path: PathBuf },
    #[error("{path} holds no PEM private key (tls.key, ATRIUM_TLS__KEY)")]
    NoKey { path: PathBuf },
    #[error("the private key in {path} is not usable: {detail}")]
    BadKey { path: PathBuf, detail: String },
    #[error("TLS setup failed: {0}")]
    Rustls(#[from] rustls::Error),
}

fn load(cfg: &TlsConfig) -> Result<CertifiedKey, Error> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Error::Read {
            path: p.to_path_buf(),
            source: e,
        })
    };
    let cert_pem = read(&cfg.cert)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut cert_pem.as_slice())
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(Error::NoCertificate {
            path: cfg.cert.clone(),
        });
    }
    let key_pem = zeroize::Zeroizing::new(read(&cfg.key)?);
    let key = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .map_err(|e| Error::BadKey {
            path: cfg.key.clone(),
            detail: e.to_string(),
        })?
        .ok_or_else(|| Error::NoKey {
            path: cfg.key.clone(),
        })?;
    let signer =
        rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| Error::BadKey {
            path: cfg.key.clone(),
            detail: e.to_string(),
        })?;
    Ok(CertifiedKey::new(certs, signer))
}

/// Serves whatever certificate was loaded last.
#[derive(Debug)]
pub struct ReloadableCert {
    cfg: TlsConfig,
    current: ArcSwap<CertifiedKey>,
}

impl ReloadableCert {
    pub fn new(cfg: &TlsConfig) -> Result<Arc<Self>, Error> {
        let first = load(cfg)?;
        Ok(Arc::new(Self {
            cfg: cfg.clone(),
            current: ArcSwap::from_pointee(first),
        }))
    }

    /// Re-read the files; on failure keep serving the previous certificate.
    pub fn reload(&self) -> Result<(), Error> {
        let next = load(&self.cfg)?;
        self.current.store(Arc::new(next));
        Ok(())
    }
}

impl ResolvesServerCert for ReloadableCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The rustls server configuration around a reloadable certificate.
pub fn server_config(cert: Arc<ReloadableCert>) -> Result<rustls::ServerConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(cert);
    Ok(cfg)
}
