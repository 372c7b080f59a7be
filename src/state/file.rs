//! Writing the state safely: atomic replacement, leftovers of killed writes, default paths.

use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes` so that a reader sees the old or the new file, never a mix,
/// even if the process dies midway.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // tempfile creates the file with mode 0600.
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The prefix of [`atomic_write`]'s temp files for `path`: `.<file name>.`, so that a run
/// holding one state's lock can clear that state's leftovers and no other's.
fn temp_prefix(path: &Path) -> String {
    format!(
        ".{}.",
        path.file_name()
            .map_or_else(|| "state".into(), |n| n.to_string_lossy())
    )
}

/// Removes temp files that a killed [`atomic_write`] to `path` left behind. Call it only while
/// holding `path`'s lock, when no write to it can be in progress.
pub fn remove_stale_temps(path: &Path) {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = temp_prefix(path);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(&prefix) && name.ends_with(".tmp") && name.len() > prefix.len() + 4 {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A file beside the state: `<state file name><suffix>`, e.g. the lock or the journal.
pub fn sibling(state: &Path, suffix: &str) -> PathBuf {
    let mut name = state
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "webhooks.state.json".into());
    name.push(suffix);
    state.with_file_name(name)
}

/// The default state path: beside the config, `<config stem>.state.json`.
pub fn default_path(config: &Path) -> PathBuf {
    if config == Path::new("-") {
        return PathBuf::from("webhooks.state.json");
    }
    let stem = config
        .file_stem()
        .map_or_else(|| "webhooks".into(), |s| s.to_string_lossy().into_owned());
    config.with_file_name(format!("{stem}.state.json"))
}
