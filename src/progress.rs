//! Progress of long runs on standard error: a bar on a terminal, plain lines otherwise (CI
//! logs get no control characters).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::execute::{Done, Progress};
use crate::terminal_text::printable_line;

/// Reports each finished item of `total`.
pub(crate) struct Reporter {
    bar: Option<ProgressBar>,
    total: usize,
    finished: AtomicUsize,
}

impl Reporter {
    /// A bar when standard error is a terminal, plain lines when not; nothing when `quiet`.
    pub(crate) fn new(total: usize, verb: &str, quiet: bool) -> Reporter {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(verb.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        Reporter {
            bar,
            total: if quiet { 0 } else { total },
            finished: AtomicUsize::new(0),
        }
    }

    /// Removes the bar, if any.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Prints a line on standard error above the bar (or plainly, without one), from any
    /// thread, for as long as the process lives.
    pub(crate) fn notice(&self) -> crate::interrupt::Notice {
        let bar = self.bar.clone();
        std::sync::Arc::new(move |line: &str| match &bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        })
    }

    /// Reports one finished item with a short word for its result.
    pub(crate) fn item(&self, name: &str, result: &str) {
        let n = self.finished.fetch_add(1, Ordering::SeqCst) + 1;
        match &self.bar {
            Some(bar) => bar.inc(1),
            None if self.total > 0 => {
                eprintln!("[{n}/{}] {result}: {}", self.total, printable_line(name))
            }
            None => {}
        }
    }
}

impl Progress for Reporter {
    fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn finished(&self, name: &str, done: &Done) {
        let word = match done {
            Done::Created { .. } if done.is_paused() => "created (paused)",
            Done::Created { .. } => "created",
            Done::Failed { .. } => "failed",
            Done::Unknown { .. } => "unknown",
            Done::NotSent => "not sent",
        };
        self.item(name, word);
    }
}
