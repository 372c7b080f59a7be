//! The local store's file primitives: opening only regular files (never through a link, never
//! blocking on a FIFO), atomic replacement, the leftovers of killed writes, sibling paths.

use std::fs::{File, FileType, OpenOptions};
use std::path::{Path, PathBuf};

/// Why a path could not be opened as a regular file.
#[derive(Debug)]
pub(crate) enum Refused {
    /// It is something else: a link, a FIFO, a directory, a device.
    NotRegular(&'static str),
    Io(std::io::Error),
}

/// What a file type is, for messages.
pub(crate) fn kind(ft: FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a named pipe (FIFO)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// Opens `path` with `options` only if it is a regular file, or absent and `options` create
/// it (`Ok(None)`: absent and not created). It is checked before opening, so that a FIFO is
/// never opened for reading (which blocks until a writer comes); it is opened without
/// following a symbolic link and without blocking, so that a file swapped in between cannot
/// be followed or hang the run; and the opened file is checked again.
pub(crate) fn open_regular(
    path: &Path,
    options: &mut OpenOptions,
    creates: bool,
) -> Result<Option<File>, Refused> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => return Err(Refused::NotRegular(kind(m.file_type()))),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !creates => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Refused::Io(e)),
    }
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Refused::NotRegular("a symbolic link"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !creates => return Ok(None),
        Err(e) => return Err(Refused::Io(e)),
    };
    let m = file.metadata().map_err(Refused::Io)?;
    if !m.file_type().is_file() {
        return Err(Refused::NotRegular(kind(m.file_type())));
    }
    Ok(Some(file))
}

/// The directory a path's file is in.
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Replaces `path` with `bytes` so that a reader sees the old or the new file, never a mix,
/// even if the process dies midway. The file is created with mode 0600.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = dir_of(path);
    // tempfile creates the file with mode 0600.
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    // Make the rename itself durable.
    if let Ok(d) = File::open(dir) {
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
pub(crate) fn remove_stale_temps(path: &Path) {
    let prefix = temp_prefix(path);
    let Ok(entries) = std::fs::read_dir(dir_of(path)) else {
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
pub(crate) fn sibling(state: &Path, suffix: &str) -> PathBuf {
    let mut name = state
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "webhooks.state.json".into());
    name.push(suffix);
    state.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_a_link_and_a_directory_are_refused_without_opening() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("f");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let link = dir.path().join("l");
        std::fs::write(dir.path().join("t"), "x").unwrap();
        std::os::unix::fs::symlink("t", &link).unwrap();
        for (path, want) in [
            (&fifo, "a named pipe (FIFO)"),
            (&link, "a symbolic link"),
            (&dir.path().to_path_buf(), "a directory"),
        ] {
            match open_regular(path, OpenOptions::new().read(true), false) {
                Err(Refused::NotRegular(kind)) => assert_eq!(kind, want),
                other => panic!("{}: {other:?}", path.display()),
            }
        }
        let absent = dir.path().join("absent");
        assert!(matches!(
            open_regular(&absent, OpenOptions::new().read(true), false),
            Ok(None)
        ));
    }
}
