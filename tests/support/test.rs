//! The strict end-to-end check: one run of the binary with its inputs, and what it must print.
//!
//! By default a [`Test`] expects exit code 0, an empty standard output and an empty standard
//! error: a test states every line the user sees, so an unexpected line fails it. Outputs pass
//! through [`super::filters`] before they are compared, so expected texts write `[ID]`,
//! `[TIME]`, `[PORT]`, `[DIR]`, `[PID]`, `[HOST]`, `[DURATION]` for what varies.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use super::filters;

/// What one stream must hold.
enum Expect {
    /// Exactly this text, after filtering.
    Exact(String),
    /// The insta snapshot of this name (in `tests/snapshots`), after filtering.
    Snapshot(String),
    /// One JSON document equal to this value (unfiltered: compare the parsed value).
    Json(serde_json::Value),
    /// JSON documents, one a line (or one pretty document), each pretty-printed and
    /// filtered, as the insta snapshot of this name.
    JsonSnapshot(String),
    /// Not checked here: the test checks it itself from the returned [`Output`].
    Unchecked,
}

/// A run of the binary and everything it must do; see the module doc.
#[must_use = "a Test does nothing until .run()"]
pub struct Test {
    command: Command,
    /// The temp dir replaced by `[DIR]` in outputs.
    dir: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
    status: Option<i32>,
    stdout: Expect,
    stderr: Expect,
}

impl Test {
    /// `command` (already pointed at its world) with the default expectations.
    pub fn from_command(command: Command, dir: Option<PathBuf>) -> Test {
        Test {
            command,
            dir,
            stdin: None,
            status: Some(0),
            stdout: Expect::Exact(String::new()),
            stderr: Expect::Exact(String::new()),
        }
    }

    /// More arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.command.args(args);
        self
    }

    /// One more argument.
    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    /// A variable for this run.
    pub fn env(mut self, name: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// A variable removed for this run.
    pub fn env_remove(mut self, name: &str) -> Self {
        self.command.env_remove(name);
        self
    }

    /// What the binary reads on standard input (by default: nothing, at end of file).
    pub fn stdin(mut self, text: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(text.into());
        self
    }

    /// The exit code it must end with (default 0).
    pub fn status(mut self, code: i32) -> Self {
        self.status = Some(code);
        self
    }

    /// Standard output, exactly (after filtering).
    pub fn stdout(mut self, text: impl Into<String>) -> Self {
        self.stdout = Expect::Exact(text.into());
        self
    }

    /// Standard error, exactly (after filtering).
    pub fn stderr(mut self, text: impl Into<String>) -> Self {
        self.stderr = Expect::Exact(text.into());
        self
    }

    /// Standard output as the snapshot `name`.
    pub fn stdout_snapshot(mut self, name: &str) -> Self {
        self.stdout = Expect::Snapshot(name.to_string());
        self
    }

    /// Standard error as the snapshot `name`.
    pub fn stderr_snapshot(mut self, name: &str) -> Self {
        self.stderr = Expect::Snapshot(name.to_string());
        self
    }

    /// Standard output is one JSON document equal to `value`.
    pub fn stdout_json(mut self, value: serde_json::Value) -> Self {
        self.stdout = Expect::Json(value);
        self
    }

    /// Standard output is JSON (one document, or one a line), pretty-printed and filtered as
    /// the snapshot `name`: for JSON whose ids and times vary.
    pub fn stdout_json_snapshot(mut self, name: &str) -> Self {
        self.stdout = Expect::JsonSnapshot(name.to_string());
        self
    }

    /// Standard output is checked by the test itself, from what [`Test::run`] returns.
    pub fn stdout_unchecked(mut self) -> Self {
        self.stdout = Expect::Unchecked;
        self
    }

    /// Standard error is checked by the test itself, from what [`Test::run`] returns.
    pub fn stderr_unchecked(mut self) -> Self {
        self.stderr = Expect::Unchecked;
        self
    }

    /// Runs it to completion and asserts the exit code and both streams; returns the raw
    /// (unfiltered) output for further checks.
    #[track_caller]
    pub fn run(mut self) -> Output {
        self.command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("the binary starts");
        if let Some(input) = self.stdin.take() {
            let mut pipe = child.stdin.take().expect("piped stdin");
            // The binary may stop reading early (an error): a broken pipe is its answer.
            let _ = pipe.write_all(&input);
        }
        let output = child.wait_with_output().expect("the binary runs");
        let report = self.report(&output);
        if let Some(code) = self.status {
            assert_eq!(
                output.status.code(),
                Some(code),
                "exit code differs\n{report}"
            );
        }
        self.check("stdout", &self.stdout, &output.stdout, &report);
        self.check("stderr", &self.stderr, &output.stderr, &report);
        output
    }

    fn filtered(&self, bytes: &[u8]) -> String {
        filters::apply(&String::from_utf8_lossy(bytes), self.dir.as_deref())
    }

    /// The run, filtered and labelled, for failure messages.
    fn report(&self, output: &Output) -> String {
        format!(
            "--- command: {:?}\n--- exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.command,
            output.status.code(),
            self.filtered(&output.stdout),
            self.filtered(&output.stderr)
        )
    }

    #[track_caller]
    fn check(&self, stream: &str, expect: &Expect, bytes: &[u8], report: &str) {
        match expect {
            Expect::Exact(want) => {
                let got = self.filtered(bytes);
                if &got != want {
                    panic!(
                        "{stream} differs (- expected, + actual):\n{}\n{report}",
                        diff(want, &got)
                    );
                }
            }
            Expect::Snapshot(name) => {
                let got = self.filtered(bytes);
                snapshot(name, &got);
            }
            Expect::Json(want) => {
                let got: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_else(|e| {
                    panic!("{stream} is not one JSON document ({e})\n{report}")
                });
                if &got != want {
                    let pretty = |v: &serde_json::Value| {
                        serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
                    };
                    panic!(
                        "{stream} JSON differs (- expected, + actual):\n{}\n{report}",
                        diff(&pretty(want), &pretty(&got))
                    );
                }
            }
            Expect::JsonSnapshot(name) => {
                let text = String::from_utf8_lossy(bytes);
                let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&text)
                    .into_iter()
                    .collect::<Result<_, _>>()
                    .unwrap_or_else(|e| panic!("{stream} is not JSON ({e})\n{report}"));
                let pretty: String = docs
                    .iter()
                    .map(|d| serde_json::to_string_pretty(d).unwrap_or_default() + "\n")
                    .collect();
                snapshot(name, &filters::apply(&pretty, self.dir.as_deref()));
            }
            Expect::Unchecked => {}
        }
    }
}

/// Asserts `text` against the insta snapshot `name` in `tests/snapshots`. A name asserted
/// twice in one run must see the same text both times: otherwise updating the snapshots
/// would keep whichever came last, and the other assertion would fail only later.
#[track_caller]
pub fn snapshot(name: &str, text: &str) {
    static SEEN: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());
    {
        let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        match seen.get(name) {
            Some(earlier) if earlier != text => panic!(
                "snapshot `{name}` is asserted twice with different texts (- first, + now):\n{}",
                diff(earlier, text)
            ),
            Some(_) => {}
            None => {
                seen.insert(name.to_string(), text.to_string());
            }
        }
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// A line diff of two texts.
pub fn diff(want: &str, got: &str) -> String {
    similar::TextDiff::from_lines(want, got)
        .unified_diff()
        .context_radius(3)
        .to_string()
}
