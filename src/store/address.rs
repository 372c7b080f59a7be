//! Where a state is kept, as `--state` or a config's `state:` names it: a local path, or an
//! object-store URL (`s3://BUCKET/KEY`, `az://CONTAINER/KEY`). Parsing is pure; opening is [`crate::store::open`]'s.

use std::fmt;
use std::path::{Path, PathBuf};

/// A state's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A file on this machine.
    Local(PathBuf),
    /// An object in an S3 bucket (AWS S3 or an S3-compatible store with conditional writes).
    S3 { bucket: String, key: String },
    /// A blob in an Azure Blob Storage container (the account comes from the environment).
    Azure { container: String, key: String },
}

/// Why a location was refused; the text says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressError(pub String);

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddressError {}

impl Address {
    /// Parses `text`: `s3://BUCKET/KEY`, `az://CONTAINER/KEY`, or anything without `://` as a local path (relative
    /// to `base` when it is relative and `base` is given).
    pub fn parse(text: &str, base: Option<&Path>) -> Result<Address, AddressError> {
        let Some((scheme, rest)) = text.split_once("://") else {
            if text.is_empty() {
                return Err(AddressError("the state location is empty".into()));
            }
            let path = Path::new(text);
            return Ok(Address::Local(match base {
                Some(base) if path.is_relative() => base.join(path),
                _ => path.to_path_buf(),
            }));
        };
        match scheme {
            "s3" => s3(rest),
            "az" => azure(rest),
            "azure" | "abfs" | "abfss" => Err(AddressError(format!(
                "write an Azure Blob Storage state as `az://CONTAINER/KEY`, not `{scheme}://`"
            ))),
            "gs" => Err(AddressError(
                "`gs://` (Google Cloud Storage) is not supported: its conditional writes could not be tested for this tool; keep the state on S3 or an S3-compatible store (`s3://BUCKET/KEY`), on Azure Blob Storage (`az://CONTAINER/KEY`), or in a local file".into(),
            )),
            "file" => Err(AddressError(
                "write a local state as a plain path (`prod.state.json`), not a `file://` URL".into(),
            )),
            other => Err(AddressError(format!(
                "`{other}://` is not a state location this tool knows: use `s3://BUCKET/KEY`, `az://CONTAINER/KEY` or a local path"
            ))),
        }
    }

    /// The local file, if the state is one.
    pub fn local(&self) -> Option<&Path> {
        match self {
            Address::Local(p) => Some(p),
            Address::S3 { .. } | Address::Azure { .. } => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Local(p) => write!(f, "{}", p.display()),
            Address::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Address::Azure { container, key } => write!(f, "az://{container}/{key}"),
        }
    }
}

/// `BUCKET/KEY` of an `s3://` URL.
fn s3(rest: &str) -> Result<Address, AddressError> {
    let usage = "write it as `s3://BUCKET/KEY`, e.g. `s3://acme-infra/saleshandy/prod.state.json`";
    let Some((bucket, key)) = rest.split_once('/') else {
        return Err(AddressError(format!(
            "`s3://{rest}` names no object key: {usage}"
        )));
    };
    if !valid_bucket(bucket) {
        return Err(AddressError(format!(
            "`{bucket}` is not an S3 bucket name (3 to 63 lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit): {usage}"
        )));
    }
    Ok(Address::S3 {
        bucket: bucket.to_string(),
        key: valid_key("s3", rest, key, usage)?,
    })
}

/// `CONTAINER/KEY` of an `az://` URL.
fn azure(rest: &str) -> Result<Address, AddressError> {
    let usage = "write it as `az://CONTAINER/KEY`, e.g. `az://infra/saleshandy/prod.state.json`";
    let Some((container, key)) = rest.split_once('/') else {
        return Err(AddressError(format!(
            "`az://{rest}` names no blob: {usage}"
        )));
    };
    let valid = (3..=63).contains(&container.len())
        && container
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !container.starts_with('-')
        && !container.ends_with('-')
        && !container.contains("--");
    if !valid {
        return Err(AddressError(format!(
            "`{container}` is not an Azure container name (3 to 63 lowercase letters, digits and single `-`, starting and ending with a letter or digit): {usage}"
        )));
    }
    Ok(Address::Azure {
        container: container.to_string(),
        key: valid_key("az", rest, key, usage)?,
    })
}

/// The object key of `scheme://rest`: not a folder, and no empty, `.` or `..` segment.
fn valid_key(scheme: &str, rest: &str, key: &str, usage: &str) -> Result<String, AddressError> {
    if key.is_empty() || key.ends_with('/') {
        return Err(AddressError(format!(
            "`{scheme}://{rest}` names a folder, not an object: {usage}"
        )));
    }
    if key.contains(['?', '#'])
        || key.chars().any(char::is_control)
        || key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(AddressError(format!(
            "the object key `{key}` has an empty, `.` or `..` segment, a `?`, a `#` or a control character: {usage}"
        )));
    }
    Ok(key.to_string())
}

/// S3's bucket naming rules (the common subset every S3-compatible store accepts).
fn valid_bucket(b: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(b.chars().next())
        && edge(b.chars().last())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_and_paths() {
        assert_eq!(
            Address::parse("s3://acme-infra/sh/prod.state.json", None),
            Ok(Address::S3 {
                bucket: "acme-infra".into(),
                key: "sh/prod.state.json".into()
            })
        );
        assert_eq!(
            Address::parse("prod.state.json", Some(Path::new("infra"))),
            Ok(Address::Local("infra/prod.state.json".into()))
        );
        assert_eq!(
            Address::parse("/abs/p.json", Some(Path::new("infra"))),
            Ok(Address::Local("/abs/p.json".into()))
        );
        assert_eq!(
            Address::parse("s3://b-1/k", None).unwrap().to_string(),
            "s3://b-1/k"
        );
        assert_eq!(
            Address::parse("az://infra-1/sh/p.json", None),
            Ok(Address::Azure {
                container: "infra-1".into(),
                key: "sh/p.json".into()
            })
        );
    }

    #[test]
    fn refusals_say_what_to_write() {
        for (text, starts) in [
            ("s3://bucket", "`s3://bucket` names no object key"),
            ("s3://bucket/", "`s3://bucket/` names a folder"),
            ("s3://Bucket/k", "`Bucket` is not an S3 bucket name"),
            ("s3://ab/k", "`ab` is not an S3 bucket name"),
            ("s3://b-1/a//k", "the object key `a//k` has an empty"),
            ("s3://b-1/../k", "the object key `../k` has an empty"),
            ("az://c/k", "`c` is not an Azure container name"),
            ("az://my--c/k", "`my--c` is not an Azure container name"),
            ("az://infra", "`az://infra` names no blob"),
            ("az://infra/k/", "`az://infra/k/` names a folder"),
            (
                "azure://infra/k",
                "write an Azure Blob Storage state as `az://CONTAINER/KEY`",
            ),
            (
                "gs://b/k",
                "`gs://` (Google Cloud Storage) is not supported",
            ),
            ("file:///x", "write a local state as a plain path"),
            ("http://x/y", "`http://` is not a state location"),
            ("", "the state location is empty"),
        ] {
            let e = Address::parse(text, None).unwrap_err();
            assert!(e.0.starts_with(starts), "{text}: {e}");
        }
    }
}
