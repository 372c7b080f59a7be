//! Build script: records the git commit the binary is built from, for `--version`.
//!
//! Emits `SHW_GIT_COMMIT` (12 hex digits, or `unknown`). It never fails the build: without
//! git, outside a checkout, or in a checkout of some other repository that merely contains
//! this crate, the commit is `unknown`. Packagers can set `SHW_GIT_COMMIT` themselves.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=src/build.rs");
    println!("cargo:rerun-if-env-changed=SHW_GIT_COMMIT");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into()));
    let commit = match std::env::var("SHW_GIT_COMMIT") {
        Ok(given) if is_label(given.trim()) => given.trim().to_string(),
        _ => from_git(&root).unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=SHW_GIT_COMMIT={commit}");
}

/// The commit of HEAD when `root` is the top of a git checkout, and rerun-if-changed lines for
/// the files that move when HEAD does.
fn from_git(root: &Path) -> Option<String> {
    let top = git(root, &["rev-parse", "--show-toplevel"])?;
    // A crate unpacked inside another repository must not report that repository's commit.
    if std::fs::canonicalize(&top).ok()? != std::fs::canonicalize(root).ok()? {
        return None;
    }
    // HEAD names the branch; the branch's ref file (or packed-refs) names the commit. Ask git
    // for their paths: `.git` may be a file (worktrees, submodules). Only paths that exist are
    // watched, because Cargo reruns the script on every build for a missing one; a branch
    // whose ref is packed is watched through its directory, where a commit writes it loose.
    for name in ["HEAD", "packed-refs"] {
        if let Some(path) = git_path(root, name).filter(|p| p.is_file()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        if let Some(path) = git_path(root, &branch) {
            if let Some(existing) = path.ancestors().find(|p| p.exists()) {
                println!("cargo:rerun-if-changed={}", existing.display());
            }
        }
    }
    let commit = git(root, &["rev-parse", "--short=12", "HEAD"])?;
    commit
        .bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then_some(commit)
}

/// Runs git in `dir`; its trimmed standard output when it succeeds with some.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_string())
}

/// The path of a file in the git directory, absolute.
fn git_path(root: &Path, name: &str) -> Option<PathBuf> {
    git(root, &["rev-parse", "--git-path", name]).map(|p| root.join(p))
}

/// Whether a commit given by the environment is fit for one line of `--version`.
fn is_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
}
