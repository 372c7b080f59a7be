//! Which file a state path really names, so that every path to one file shares one lock and
//! one journal.
//!
//! A symbolic link is followed to its target (a link to a state kept elsewhere is written
//! through, and stays a link); the lock, journal and temp files then sit beside the target,
//! where every path to it finds them. A state with several hard links has no such place (each
//! link's siblings differ, and an atomic rename would split the links), so it is refused.

use std::path::{Path, PathBuf};

use super::files::kind;
use crate::state::StateError;

/// How many links are followed before giving up, as the kernel does (`ELOOP`).
const MAX_LINKS: usize = 40;

/// The real path of the state `given` (shown as it was given): `given` with every symbolic
/// link of its last component followed; a path that does not exist yet is its own. Refuses
/// a state that is not a regular file, or has more than one hard link.
pub(super) fn resolve(given: &Path) -> Result<PathBuf, StateError> {
    let shown = || given.display().to_string();
    let read = |source| StateError::Read {
        path: shown(),
        source,
    };
    let mut path = given.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(path),
            Err(e) => return Err(read(e)),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            let target = std::fs::read_link(&path).map_err(read)?;
            path = match path.parent() {
                Some(dir) => dir.join(target),
                None => target,
            };
            continue;
        }
        if !ft.is_file() {
            return Err(StateError::NotRegular {
                path: shown(),
                kind: kind(ft),
            });
        }
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Err(StateError::HardLinks {
                path: shown(),
                links: meta.nlink(),
            });
        }
        return Ok(path);
    }
    Err(read(std::io::Error::from_raw_os_error(libc::ELOOP)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_followed_to_the_file_that_holds_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/real.json"), "{}").unwrap();
        std::os::unix::fs::symlink("sub/real.json", d.join("a.json")).unwrap();
        std::os::unix::fs::symlink("a.json", d.join("b.json")).unwrap();
        assert_eq!(resolve(&d.join("b.json")).unwrap(), d.join("sub/real.json"));
        // A dangling link names the file a first run will create.
        std::os::unix::fs::symlink("sub/new.json", d.join("c.json")).unwrap();
        assert_eq!(resolve(&d.join("c.json")).unwrap(), d.join("sub/new.json"));
        assert_eq!(resolve(&d.join("none.json")).unwrap(), d.join("none.json"));
    }

    #[test]
    fn hard_links_loops_and_directories_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("s.json"), "{}").unwrap();
        std::fs::hard_link(d.join("s.json"), d.join("t.json")).unwrap();
        assert!(matches!(
            resolve(&d.join("t.json")),
            Err(StateError::HardLinks { links: 2, .. })
        ));
        std::os::unix::fs::symlink("loop.json", d.join("loop.json")).unwrap();
        assert!(matches!(
            resolve(&d.join("loop.json")),
            Err(StateError::Read { .. })
        ));
        assert!(matches!(
            resolve(d),
            Err(StateError::NotRegular {
                kind: "a directory",
                ..
            })
        ));
    }
}
