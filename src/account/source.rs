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
        crate::saved_plan::STDIN_NAME.to_string()
    } else {
        path.display().to_string()
    };
    Ok(SourceFile::new(name, text))
}

/// Reads a config and checks it: the text as read, and the config with every problem found.
/// Unreadable files are errors; problems in a readable one are in the [`Loaded`].
pub(crate) fn read_config(path: &Path) -> Result<(SourceFile, Loaded), Error> {
    read_config_with(path, config::UnsetEnv::Error)
}

/// [`read_config`] with the choice of what an unset `${VAR}` is (`validate` lists them).
pub(crate) fn read_config_with(
    path: &Path,
    unset: config::UnsetEnv,
) -> Result<(SourceFile, Loaded), Error> {
    let file = read_source(path)?;
    let loaded = config::load_with(file.text(), folder(path), &config::process_env, unset);
    Ok((file, loaded))
}

/// Where the config at `path` says its state is (`state:`), for commands that read the config
/// for nothing else (`state list`, `show`, `rm`, and the check that accounts do not share a
/// state). Every `${VAR}` reads as set, so that no secret is needed to know where the state is;
/// a config with errors is refused rather than guessed at. No config file: no `state:`.
pub(crate) fn configured_state(path: &Path) -> Result<Option<crate::store::Address>, Error> {
    let file = match read_source(path) {
        Err(Error::ReadConfig { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(None)
        }
        other => other?,
    };
    let loaded = config::load_in(file.text(), folder(path), &|_| Some("set".to_string()));
    let errors = loaded.errors();
    match loaded.config {
        Some(c) => Ok(c.state),
        None => Err(Error::ConfigInvalid {
            file: file.name().to_string(),
            errors,
        }),
    }
}

/// What a relative `state:` in the config at `path` is relative to: its folder; for standard
/// input or a bare file name, the current directory.
fn folder(path: &Path) -> Option<&Path> {
    path.parent()
        .filter(|d| path != Path::new("-") && !d.as_os_str().is_empty())
}
