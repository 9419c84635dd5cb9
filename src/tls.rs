//! Which certificate authorities HTTPS trusts — Mozilla's roots bundled with the library by
//! default, the operating system's store, and your own CAs (a bank's TLS-inspecting proxy) —
//! and what a failed handshake is called.
//!
//! In the browser (wasm32) the browser's own TLS decides, so none of this applies there.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Which root certificates a [`Client`](crate::Client) trusts for HTTPS. CAs given with
/// [`ClientBuilder::add_ca_pem`](crate::ClientBuilder::add_ca_pem) or
/// [`add_ca_file`](crate::ClientBuilder::add_ca_file) are trusted in addition, whatever the choice.
///
/// ```
/// use safeconv::TrustRoots;
/// assert_eq!(TrustRoots::default(), TrustRoots::Bundled);
/// assert_eq!("native".parse::<TrustRoots>().unwrap(), TrustRoots::Native);
/// assert_eq!(TrustRoots::BundledAndNative.as_str(), "bundled-and-native");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TrustRoots {
    /// Mozilla's root store, compiled into the library (webpki-roots): the same on every
    /// platform and needing no set-up. The default.
    #[default]
    Bundled,
    /// The operating system's trust store, read when the client is built (rustls-native-certs):
    /// the system bundle on Linux (`SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured), the
    /// keychain on macOS, the certificate store on Windows. Where a bank's IT deploys its own CA
    /// to every machine, this trusts it with no file to ship. Not available on Android and iOS
    /// (building the client fails there): use [`TrustRoots::Bundled`] and add the CA.
    Native,
    /// Both the bundled roots and the operating system's store.
    BundledAndNative,
    /// Only the CAs you add: for a deployment that must trust its own CA and nothing else.
    /// Building fails unless at least one CA was added.
    AddedOnly,
}

impl TrustRoots {
    /// The name used in configuration files and on the command line: `bundled`, `native`,
    /// `bundled-and-native` or `added-only`.
    pub fn as_str(self) -> &'static str {
        match self {
            TrustRoots::Bundled => "bundled",
            TrustRoots::Native => "native",
            TrustRoots::BundledAndNative => "bundled-and-native",
            TrustRoots::AddedOnly => "added-only",
        }
    }

    const ALL: [TrustRoots; 4] = [
        TrustRoots::Bundled,
        TrustRoots::Native,
        TrustRoots::BundledAndNative,
        TrustRoots::AddedOnly,
    ];
}

impl fmt::Display for TrustRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TrustRoots {
    type Err = Error;

    /// Parses [`TrustRoots::as_str`]'s names (case-insensitive); anything else is
    /// [`Error::InvalidInput`] for the field `trust_roots`.
    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        TrustRoots::ALL
            .into_iter()
            .find(|roots| roots.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| {
                Error::invalid_input(
                    "trust_roots",
                    "must be bundled, native, bundled-and-native or added-only",
                )
            })
    }
}

/// A CA as given to the builder, read and checked when the client is built.
#[derive(Clone)]
pub(crate) enum CaSource {
    Pem(Vec<u8>),
    File(PathBuf),
}

impl fmt::Debug for CaSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaSource::Pem(bytes) => write!(f, "Pem({} bytes)", bytes.len()),
            CaSource::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// Checked trust settings: the roots choice and the added CAs, each a usable trust anchor (DER).
#[derive(Clone, Default, PartialEq)]
pub(crate) struct Trust {
    pub(crate) roots: TrustRoots,
    pub(crate) added: Vec<Vec<u8>>,
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trust")
            .field("roots", &self.roots)
            .field("added_cas", &self.added.len())
            .finish()
    }
}

impl Trust {
    /// Reads and checks every added CA, so that a bad one fails `build()` naming its field.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn check(roots: TrustRoots, sources: &[CaSource]) -> Result<Trust> {
        let mut added = Vec::new();
        for source in sources {
            let (field, bytes, origin) = match source {
                CaSource::Pem(bytes) => ("ca_pem", std::borrow::Cow::Borrowed(bytes), None),
                CaSource::File(path) => {
                    let bytes = std::fs::read(path).map_err(|e| {
                        Error::invalid_input(
                            "ca_file",
                            format!("cannot read {}: {e}", path.display()),
                        )
                    })?;
                    ("ca_file", std::borrow::Cow::Owned(bytes), Some(path))
                }
            };
            let certificates = native::parse_certificates(&bytes).map_err(|reason| {
                let reason = match origin {
                    Some(path) => format!("{}: {reason}", path.display()),
                    None => reason,
                };
                Error::invalid_input(field, reason)
            })?;
            added.extend(certificates);
        }
        if roots == TrustRoots::AddedOnly && added.is_empty() {
            return Err(Error::invalid_input(
                "trust_roots",
                "added-only needs at least one CA (ca_pem or ca_file)",
            ));
        }
        Ok(Trust { roots, added })
    }

    /// The browser's TLS decides on wasm32: any setting but the default is refused rather than
    /// silently ignored.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn check(roots: TrustRoots, sources: &[CaSource]) -> Result<Trust> {
        let browser = "is not available in the browser, which uses its own TLS and trust store";
        if let Some(source) = sources.first() {
            let field = match source {
                CaSource::Pem(_) => "ca_pem",
                CaSource::File(_) => "ca_file",
            };
            return Err(Error::invalid_input(field, browser));
        }
        if roots != TrustRoots::Bundled {
            return Err(Error::invalid_input("trust_roots", browser));
        }
        Ok(Trust::default())
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::{client_config, describe_failure};

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::sync::Arc;

    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use rustls::{CertificateError, RootCertStore};

    use super::{Trust, TrustRoots};
    use crate::error::{Error, Result};

    /// The certificates of a PEM text (one or more `CERTIFICATE` blocks; other blocks, such as
    /// keys, are skipped), or a single DER certificate, each checked as a trust anchor.
    pub(super) fn parse_certificates(bytes: &[u8]) -> std::result::Result<Vec<Vec<u8>>, String> {
        // DER starts with an ASN.1 SEQUENCE; PEM is text.
        let certificates: Vec<CertificateDer<'static>> = if bytes.first() == Some(&0x30) {
            vec![CertificateDer::from(bytes.to_vec())]
        } else {
            CertificateDer::pem_slice_iter(bytes)
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| format!("not readable as PEM ({e})"))?
        };
        if certificates.is_empty() {
            return Err(
                "no certificate found (expected PEM with -----BEGIN CERTIFICATE-----, or DER)"
                    .to_owned(),
            );
        }
        let mut store = RootCertStore::empty();
        for (number, certificate) in certificates.iter().enumerate() {
            store
                .add(certificate.clone())
                .map_err(|e| format!("certificate {} is not usable as a CA ({e})", number + 1))?;
        }
        Ok(certificates.into_iter().map(|c| c.to_vec()).collect())
    }

    /// rustls with the `ring` provider and the chosen roots (see Cargo.toml for why `ring`).
    pub(crate) fn client_config(trust: &Trust) -> Result<rustls::ClientConfig> {
        let mut roots = RootCertStore::empty();
        if matches!(
            trust.roots,
            TrustRoots::Bundled | TrustRoots::BundledAndNative
        ) {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if matches!(
            trust.roots,
            TrustRoots::Native | TrustRoots::BundledAndNative
        ) {
            add_native_roots(&mut roots)?;
        }
        for der in &trust.added {
            // Checked when the configuration was built.
            let _ = roots.add(CertificateDer::from(der.as_slice()));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }

    fn add_native_roots(roots: &mut RootCertStore) -> Result<()> {
        let found = rustls_native_certs::load_native_certs();
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        tracing::debug!(
            added,
            ignored,
            errors = found.errors.len(),
            "read the operating system's trust store"
        );
        if added > 0 {
            return Ok(());
        }
        let why = match found.errors.first() {
            Some(error) => format!(" ({error})"),
            None if cfg!(any(target_os = "android", target_os = "ios")) => {
                " (it cannot be read on this platform: use bundled roots and add your CA)"
                    .to_owned()
            }
            None => String::new(),
        };
        Err(Error::invalid_input(
            "trust_roots",
            format!("the operating system's trust store has no usable certificate{why}"),
        ))
    }

    /// What failed in a TLS handshake with `peer`, in words, without the certificates.
    pub(crate) fn describe_failure(error: &rustls::Error, peer: &str) -> String {
        let reason = match error {
            rustls::Error::InvalidCertificate(reason) => reason,
            other => return format!("the TLS handshake with {peer} failed ({other})"),
        };
        match reason {
            CertificateError::UnknownIssuer => format!(
                "the certificate of {peer} has an unknown issuer: no CA this client trusts signed \
                 it (behind a TLS-inspecting proxy, add the proxy's CA or trust the operating \
                 system's store)"
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("the certificate of {peer} has expired")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!(
                    "the certificate of {peer} is not valid yet (is this machine's clock right?)"
                )
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!("the certificate presented by {peer} is not valid for that host name")
            }
            CertificateError::Revoked => format!("the certificate of {peer} has been revoked"),
            other => format!("the certificate of {peer} was refused ({other})"),
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    fn field_and_reason(result: Result<Trust>) -> (String, String) {
        match result {
            Err(Error::InvalidInput { field, reason }) => (field, reason),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn names_round_trip() {
        for roots in TrustRoots::ALL {
            assert_eq!(roots.as_str().parse::<TrustRoots>().unwrap(), roots);
        }
        assert_eq!(
            " Native ".parse::<TrustRoots>().unwrap(),
            TrustRoots::Native
        );
        let error = "system".parse::<TrustRoots>().unwrap_err();
        assert!(matches!(error, Error::InvalidInput { ref field, .. } if field == "trust_roots"));
    }

    #[test]
    fn bad_pem_names_the_field() {
        let bad = |bytes: &[u8]| {
            field_and_reason(Trust::check(
                TrustRoots::Bundled,
                &[CaSource::Pem(bytes.to_vec())],
            ))
        };
        let (field, reason) = bad(b"hello");
        assert_eq!(field, "ca_pem");
        assert!(reason.contains("no certificate found"), "{reason}");
        let (_, reason) = bad(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assert!(reason.contains("no certificate found"), "{reason}");
        let (_, reason) = bad(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assert!(
            reason.contains("certificate 1 is not usable as a CA"),
            "{reason}"
        );
        let (_, reason) = bad(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n");
        assert!(reason.contains("PEM"), "{reason}");
        // DER that is not a certificate.
        let (_, reason) = bad(&[0x30, 0x03, 0x02, 0x01, 0x01]);
        assert!(reason.contains("not usable as a CA"), "{reason}");
    }

    #[test]
    fn a_missing_file_names_the_field_and_the_path() {
        let (field, reason) = field_and_reason(Trust::check(
            TrustRoots::Bundled,
            &[CaSource::File("/nonexistent/bank-ca.pem".into())],
        ));
        assert_eq!(field, "ca_file");
        assert!(reason.contains("/nonexistent/bank-ca.pem"), "{reason}");
    }

    #[test]
    fn added_only_needs_a_ca() {
        let (field, _) = field_and_reason(Trust::check(TrustRoots::AddedOnly, &[]));
        assert_eq!(field, "trust_roots");
        assert_eq!(
            Trust::check(TrustRoots::Bundled, &[]).unwrap(),
            Trust::default()
        );
    }

    #[test]
    fn the_bundled_roots_are_there_by_default() {
        client_config(&Trust::default()).unwrap();
    }

    #[test]
    fn failures_are_named_without_certificates() {
        let text = |e: rustls::CertificateError| {
            describe_failure(&rustls::Error::InvalidCertificate(e), "api.signicat.com")
        };
        assert!(text(rustls::CertificateError::UnknownIssuer).contains("unknown issuer"));
        assert!(text(rustls::CertificateError::Expired).contains("has expired"));
        assert!(
            text(rustls::CertificateError::NotValidForName)
                .contains("not valid for that host name")
        );
        let other = describe_failure(
            &rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
            "api.signicat.com",
        );
        assert!(
            other.starts_with("the TLS handshake with api.signicat.com failed"),
            "{other}"
        );
    }
}
