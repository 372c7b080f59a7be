//! Reading a config file (or standard input) and checking what it declares.

use std::io::Read;
use std::path::Path;

use crate::config::{self, Loaded};
use crate::error::Error;
use crate::report::SourceFile;

/// Reads the config file, or standard input for `-`.
pub(crate) fn read_source(path: &Path) -> Result<SourceFile, Error> {
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|source| Error::ReadConfig {
                path: path.to_path_buf(),
                source,
            })?;
        buf
    } else {
        std::fs::read(path).map_err(|source| Error::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::ConfigEncoding {
        path: path.to_path_buf(),
    })?;
    let name = if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    Ok(SourceFile::new(name, text))
}

/// Reads a config and checks it: the text as read, and the config with every problem found.
/// Unreadable files are errors; problems in a readable one are in the [`Loaded`].
pub(crate) fn read_config(path: &Path) -> Result<(SourceFile, Loaded), Error> {
    let file = read_source(path)?;
    // A relative `state:` is relative to the config's folder; for standard input, to here.
    let dir = path
        .parent()
        .filter(|d| path != Path::new("-") && !d.as_os_str().is_empty());
    let loaded = config::load_in(file.text(), dir, &config::process_env);
    Ok((file, loaded))
}
