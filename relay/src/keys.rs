//! Small cryptographic helpers on `ring`: random values, SHA-256 and HMAC-SHA-256, as hex.

use ring::rand::{SecureRandom, SystemRandom};
use ring::{digest, hmac};

/// `n` random bytes from the operating system, as lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    hex(&random_bytes(n))
}

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0; n];
    // The system generator fails only where there is no usable entropy source at all; a relay
    // cannot run there, so this is an invariant, not an error to handle.
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random generator failed");
    bytes
}

/// SHA-256 of `data`, as lowercase hex.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

/// HMAC-SHA-256 of `data` under `key`, as lowercase hex.
pub(crate) fn hmac_hex(key: &hmac::Key, data: &[u8]) -> String {
    hex(hmac::sign(key, data).as_ref())
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Compares two strings in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_a_known_value() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn random_values_differ() {
        assert_eq!(random_hex(16).len(), 32);
        assert_ne!(random_hex(16), random_hex(16));
    }

    #[test]
    fn comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
