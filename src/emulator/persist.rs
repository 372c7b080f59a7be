//! The sandbox's data file (`sandbox --data FILE`, and the file beside a state that `--sandbox`
//! runs share): its webhooks survive a restart.
//!
//! The file is JSON lines: a header naming the format (and, while a `sandbox` command serves
//! it, the URL it listens on), then one line per change — `{"put": webhook}` or
//! `{"delete": id}` — appended before the change is answered, so a webhook the sandbox
//! answered for is in the file. Opening replays it and rewrites it compacted (a new file
//! renamed over the old one). It is created readable by its owner only: like Saleshandy's own
//! database it holds header values as they were sent.
//!
//! One sandbox at a time holds a file: an exclusive lock on it is kept while it serves, and a
//! second one is refused with the URL of the one serving it, when that is a `sandbox`
//! command. A file that is not a sandbox file, or that cannot be read, is never overwritten.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::{LastFailure, StoredWebhook, WebhookStatus};

/// The format's version, in the header line.
const FORMAT: u32 = 1;

/// Why a sandbox could not use its data file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot use the sandbox file `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` line {line} is not what a sandbox writes: {why}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error("the sandbox file `{}` is in use by another sandbox", path.display())]
    InUse {
        path: PathBuf,
        /// Where the `sandbox` command holding it listens, when one does.
        served_at: Option<String>,
    },
}

/// The first line of a data file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Header {
    saleshandy_sandbox: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    served_at: Option<String>,
}

/// One change, as a line of the file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
enum Change {
    Put(Box<Record>),
    Delete(String),
}

/// A stored webhook as the file holds it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Record {
    id: String,
    account: String,
    name: String,
    webhook_url: String,
    webhook_event: Vec<String>,
    headers: BTreeMap<String, String>,
    status: WebhookStatus,
    failed: bool,
    last_failure: Option<LastFailure>,
    created_at: String,
}

impl From<&StoredWebhook> for Record {
    fn from(w: &StoredWebhook) -> Record {
        Record {
            id: w.id.clone(),
            account: w.api_key.clone(),
            name: w.name.clone(),
            webhook_url: w.webhook_url.clone(),
            webhook_event: w.events.clone(),
            headers: w.headers.clone(),
            status: w.status.clone(),
            failed: w.failed,
            last_failure: w.last_failure.clone(),
            created_at: w.created_at.clone(),
        }
    }
}

impl From<Record> for StoredWebhook {
    fn from(r: Record) -> StoredWebhook {
        StoredWebhook {
            id: r.id,
            api_key: r.account,
            name: r.name,
            webhook_url: r.webhook_url,
            events: r.webhook_event,
            headers: r.headers,
            status: r.status,
            failed: r.failed,
            last_failure: r.last_failure,
            created_at: r.created_at,
        }
    }
}

/// A data file this sandbox holds (locked) and appends its changes to.
pub(super) struct DataFile {
    path: PathBuf,
    file: File,
}

impl DataFile {
    /// Locks and reads the file at `path` (a missing one is a new, empty sandbox), and rewrites
    /// it compacted with `served_at` in its header. Returns the webhooks it held, in order.
    pub(super) fn open(
        path: &Path,
        served_at: Option<&str>,
    ) -> Result<(DataFile, Vec<StoredWebhook>), DataError> {
        let io = |source| DataError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = lock(path)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        let webhooks = replay(path, &text)?;
        let mut data = DataFile {
            path: path.to_path_buf(),
            file,
        };
        data.compact(&webhooks, served_at).map_err(io)?;
        Ok((data, webhooks))
    }

    /// Appends a new or changed webhook.
    pub(super) fn put(&mut self, webhook: &StoredWebhook) -> std::io::Result<()> {
        self.append(&Change::Put(Box::new(Record::from(webhook))))
    }

    /// Appends the deletion of a webhook.
    pub(super) fn delete(&mut self, id: &str) -> std::io::Result<()> {
        self.append(&Change::Delete(id.to_owned()))
    }

    /// Where the file is.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    fn append(&mut self, change: &Change) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(change)?;
        line.push(b'\n');
        // One write of the whole line: a crash leaves at most a torn last line, never
        // acknowledged, which the next open drops.
        self.file.write_all(&line)?;
        self.file.flush()
    }

    /// Writes the header and one line per webhook to a new locked file, then renames it over
    /// the old one and appends to it from now on.
    fn compact(
        &mut self,
        webhooks: &[StoredWebhook],
        served_at: Option<&str>,
    ) -> std::io::Result<()> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut new = tempfile::Builder::new()
            .prefix(".sandbox-")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)?;
        // Locked before it is visible: a sandbox that opens the new file waits for this one.
        new.as_file().try_lock().map_err(std::io::Error::other)?;
        let header = Header {
            saleshandy_sandbox: FORMAT,
            served_at: served_at.map(str::to_owned),
        };
        let mut text = serde_json::to_string(&header)?;
        text.push('\n');
        for webhook in webhooks {
            text.push_str(&serde_json::to_string(&Change::Put(Box::new(
                Record::from(webhook),
            )))?);
            text.push('\n');
        }
        new.write_all(text.as_bytes())?;
        new.as_file().sync_all()?;
        let mut file = new.persist(&self.path).map_err(|e| e.error)?;
        file.seek(SeekFrom::End(0))?;
        self.file = file;
        Ok(())
    }
}

/// Opens and locks the file at `path`, creating it (owner-only) when missing. A file another
/// sandbox holds is refused with where that one serves.
fn lock(path: &Path) -> Result<File, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    // A holder renames a compacted file over the path: the lock taken must be on the file the
    // path names now, so a lock on a replaced file is let go and taken again.
    for _ in 0..8 {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(io)?;
        if !file.metadata().map_err(io)?.is_file() {
            return Err(io(std::io::Error::other("it is not a regular file")));
        }
        if let Err(e) = file.try_lock() {
            return match e {
                std::fs::TryLockError::WouldBlock => Err(DataError::InUse {
                    path: path.to_path_buf(),
                    served_at: served_at(&mut file),
                }),
                std::fs::TryLockError::Error(e) => Err(io(e)),
            };
        }
        let held = file.metadata().map_err(io)?;
        match std::fs::metadata(path) {
            Ok(now) if now.ino() == held.ino() && now.dev() == held.dev() => return Ok(file),
            _ => continue,
        }
    }
    Err(io(std::io::Error::other(
        "it kept being replaced while it was opened",
    )))
}

/// The URL in the header of a file another sandbox holds, when it names one.
fn served_at(file: &mut File) -> Option<String> {
    let mut first = String::new();
    let mut buf = [0u8; 512];
    let n = file.read(&mut buf).ok()?;
    first.push_str(std::str::from_utf8(&buf[..n]).ok()?.lines().next()?);
    let header: Header = serde_json::from_str(&first).ok()?;
    header
        .served_at
        .filter(|url| crate::host::is_loopback_url(url))
}

/// The webhooks a file's text holds, in creation order.
fn replay(path: &Path, text: &str) -> Result<Vec<StoredWebhook>, DataError> {
    let invalid = |line: usize, why: String| DataError::Invalid {
        path: path.to_path_buf(),
        line,
        why,
    };
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines = text.split_inclusive('\n').enumerate();
    let header = lines.next().map(|(_, l)| l).unwrap_or_default();
    match serde_json::from_str::<Header>(header.trim_end()) {
        Ok(h) if h.saleshandy_sandbox == FORMAT => {}
        Ok(h) => {
            return Err(invalid(
                1,
                format!(
                    "format {} is not this version's ({FORMAT})",
                    h.saleshandy_sandbox
                ),
            ))
        }
        Err(_) => {
            return Err(invalid(
                1,
                "it does not start with a sandbox header; the file was left as it is".into(),
            ))
        }
    }
    let mut order: Vec<String> = Vec::new();
    let mut by_id: BTreeMap<String, StoredWebhook> = BTreeMap::new();
    for (i, line) in lines {
        let torn = !line.ends_with('\n');
        let change = match serde_json::from_str::<Change>(line.trim_end()) {
            Ok(change) => change,
            // A last line cut short was never answered for: dropped.
            Err(_) if torn => break,
            Err(e) => return Err(invalid(i + 1, e.to_string())),
        };
        match change {
            Change::Put(record) => {
                check(&record).map_err(|why| invalid(i + 1, why))?;
                if !by_id.contains_key(&record.id) {
                    order.push(record.id.clone());
                }
                by_id.insert(record.id.clone(), (*record).into());
            }
            Change::Delete(id) => {
                by_id.remove(&id);
            }
        }
    }
    Ok(order.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// What the sandbox itself guarantees of a webhook it stored.
fn check(record: &Record) -> Result<(), String> {
    if record.id.len() != 24
        || !record
            .id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "the id `{}` is not 24 lowercase hexadecimal characters",
            crate::server_text::one_line(&record.id)
        ));
    }
    if record.account.trim().is_empty() {
        return Err(format!("webhook {} names no account", record.id));
    }
    Ok(())
}
