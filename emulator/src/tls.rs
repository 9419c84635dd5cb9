//! HTTPS for the emulator: a throw-away test CA made at start-up, and a server certificate it
//! signs, so that clients run the real certificate and host-name checks against loopback.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The names a [`ServerCertificate::Loopback`] certificate is valid for.
const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];
/// The only name a [`ServerCertificate::OtherHost`] certificate is valid for (`.invalid` is
/// reserved: it never resolves).
pub const OTHER_HOST_NAME: &str = "safeconv-emulator.invalid";

/// Which server certificate an HTTPS emulator presents. Every one is signed by the emulator's
/// own test CA ([`Emulator::ca_pem`](crate::Emulator::ca_pem)), so a client that trusts that CA
/// fails only on the defect chosen here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ServerCertificate {
    /// Valid now for `127.0.0.1`, `::1` and `localhost`.
    #[default]
    Loopback,
    /// Valid now, but only for `safeconv-emulator.invalid`: a client connecting to
    /// `127.0.0.1` must refuse it (host-name check).
    OtherHost,
    /// For the loopback names, but expired in 2020: a client must refuse it (expiry check).
    Expired,
}

impl ServerCertificate {
    /// The name used on the command line (`--tls-certificate`).
    pub fn as_str(self) -> &'static str {
        match self {
            ServerCertificate::Loopback => "loopback",
            ServerCertificate::OtherHost => "other-host",
            ServerCertificate::Expired => "expired",
        }
    }
}

impl std::str::FromStr for ServerCertificate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        [
            ServerCertificate::Loopback,
            ServerCertificate::OtherHost,
            ServerCertificate::Expired,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
        .ok_or_else(|| format!("expected loopback, other-host or expired, got '{text}'"))
    }
}

/// The CA and the acceptor of one HTTPS emulator.
pub(crate) struct TestPki {
    pub(crate) ca_pem: String,
    pub(crate) acceptor: TlsAcceptor,
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestPki(..)")
    }
}

fn pki_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("cannot make the test certificates: {e}"))
}

impl TestPki {
    /// A new CA (its key lives only in this process) and a server certificate it signs. `label`
    /// makes the CA's name unique, so that a client trusting another emulator's CA sees an
    /// unknown issuer rather than a name match with a bad signature.
    pub(crate) fn generate(certificate: ServerCertificate, label: &str) -> io::Result<TestPki> {
        let ca_key = KeyPair::generate().map_err(pki_error)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(pki_error)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.distinguished_name.push(
            DnType::CommonName,
            format!("safeconv-emulator test CA {label}"),
        );
        ca.not_before = rcgen::date_time_ymd(2020, 1, 1);
        ca.not_after = rcgen::date_time_ymd(2100, 1, 1);
        let ca_cert = ca.self_signed(&ca_key).map_err(pki_error)?;
        let issuer = Issuer::new(ca, ca_key);

        let names: Vec<String> = match certificate {
            ServerCertificate::Loopback | ServerCertificate::Expired => {
                LOOPBACK_NAMES.iter().map(|n| n.to_string()).collect()
            }
            ServerCertificate::OtherHost => vec![OTHER_HOST_NAME.to_owned()],
        };
        let server_key = KeyPair::generate().map_err(pki_error)?;
        let mut server = CertificateParams::new(names).map_err(pki_error)?;
        server
            .distinguished_name
            .push(DnType::CommonName, "safeconv-emulator");
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        (server.not_before, server.not_after) = match certificate {
            ServerCertificate::Expired => (
                rcgen::date_time_ymd(2020, 1, 1),
                rcgen::date_time_ymd(2020, 1, 2),
            ),
            _ => (
                rcgen::date_time_ymd(2020, 1, 1),
                rcgen::date_time_ymd(2100, 1, 1),
            ),
        };
        let server_cert = server.signed_by(&server_key, &issuer).map_err(pki_error)?;

        let chain: Vec<CertificateDer<'static>> =
            vec![server_cert.der().clone(), ca_cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(pki_error)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(pki_error)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TestPki {
            ca_pem: ca_cert.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

/// The CA certificate on disk, for harnesses in other languages. A file the emulator chose
/// itself (in a directory of its own under the temp dir) is removed when the emulator goes.
#[derive(Debug)]
pub(crate) struct CaFile {
    path: PathBuf,
    owned_dir: Option<PathBuf>,
}

impl CaFile {
    /// Writes `pem` to `path`, or to a new `ca.pem` in a fresh temp directory.
    pub(crate) fn write(pem: &str, path: Option<&Path>, port: u16) -> io::Result<CaFile> {
        let (path, owned_dir) = match path {
            Some(path) => (path.to_owned(), None),
            None => {
                let dir = std::env::temp_dir()
                    .join(format!("safeconv-emulator-{}-{port}", std::process::id()));
                std::fs::create_dir_all(&dir)?;
                (dir.join("ca.pem"), Some(dir))
            }
        };
        std::fs::write(&path, pem).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot write the CA to {}: {e}", path.display()),
            )
        })?;
        Ok(CaFile { path, owned_dir })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        if let Some(dir) = &self.owned_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_names_round_trip() {
        for c in [
            ServerCertificate::Loopback,
            ServerCertificate::OtherHost,
            ServerCertificate::Expired,
        ] {
            assert_eq!(c.as_str().parse::<ServerCertificate>(), Ok(c));
        }
        assert!("valid".parse::<ServerCertificate>().is_err());
    }

    #[test]
    fn generates_a_ca_in_pem() {
        let pki = TestPki::generate(ServerCertificate::Loopback, "unit").unwrap();
        assert!(
            pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"),
            "{}",
            pki.ca_pem
        );
        assert!(!pki.ca_pem.contains("PRIVATE KEY"));
    }
}
