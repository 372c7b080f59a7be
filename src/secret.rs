//! Values that may carry a secret from the environment, built so that they cannot be printed
//! or serialised in clear by accident.

use std::fmt;

/// A string from the config. A value that used `${NAME}` interpolation is [`Value::Secret`]:
/// its `Debug` and `Display` print `(secret)`, and it implements no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub enum Value {
    Plain(String),
    Secret(Secret),
}

/// A resolved secret. Only [`Secret::expose`] gives the clear text.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// What a secret prints as, everywhere.
pub(crate) const REDACTED: &str = "(secret)";

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The clear value. Call it only where the value must leave the process as intended: the
    /// create request, and the keyed fingerprint.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Value {
    pub fn is_secret(&self) -> bool {
        matches!(self, Value::Secret(_))
    }

    /// The clear value, for the create request only.
    pub fn expose(&self) -> &str {
        match self {
            Value::Plain(s) => s,
            Value::Secret(s) => s.expose(),
        }
    }

    /// What may be shown to a user: the value, or `(secret)`.
    pub(crate) fn shown(&self) -> &str {
        match self {
            Value::Plain(s) => s,
            Value::Secret(_) => REDACTED,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Plain(s) => fmt::Debug::fmt(s, f),
            Value::Secret(_) => f.write_str(REDACTED),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.shown())
    }
}

/// A keyed fingerprint of a secret: equal values under the same key give equal fingerprints,
/// and the value cannot be read back. The key is the state's lineage, so fingerprints from
/// different states cannot be compared, and no table of common values fits every state.
pub fn fingerprint(key: &str, secret: &Secret) -> String {
    // ring is already compiled for rustls (reqwest's TLS), so it costs nothing more to build.
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.as_bytes());
    let tag = ring::hmac::sign(&key, secret.expose().as_bytes());
    format!("hmac-sha256:{}", hex(tag.as_ref()))
}

/// The SHA-256 digest of `bytes`, in lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_depend_on_value_and_key_only() {
        let a = Secret::new("token-a".into());
        let fp = fingerprint("lineage-1", &a);
        assert!(fp.starts_with("hmac-sha256:") && fp.len() == 12 + 64);
        assert!(!fp.contains("token-a"));
        assert_eq!(fp, fingerprint("lineage-1", &Secret::new("token-a".into())));
        assert_ne!(fp, fingerprint("lineage-2", &a));
        assert_ne!(fp, fingerprint("lineage-1", &Secret::new("token-b".into())));
    }

    /// Fingerprints already stored in state files must never change: a known HMAC-SHA256
    /// answer (RFC 4231, test case 2).
    #[test]
    fn fingerprint_is_hmac_sha256() {
        assert_eq!(
            fingerprint("Jefe", &Secret::new("what do ya want for nothing?".into())),
            "hmac-sha256:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// The config digest of saved plans: known SHA-256 answers (FIPS 180-2, "abc" and "").
    #[test]
    fn sha256_hex_is_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn secrets_never_format_in_clear() {
        let v = Value::Secret(Secret::new("hunter2".into()));
        assert_eq!(
            format!("{v} {v:?} {:?}", Some(&v)),
            "(secret) (secret) Some((secret))"
        );
        assert_eq!(v.expose(), "hunter2");
    }
}
