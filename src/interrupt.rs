//! A graceful stop of `apply`'s creates on SIGINT or SIGTERM (Ctrl-C, a CI cancel).
//!
//! [`arm`] installs the process's handlers of both signals, the first time `apply` is about to
//! send creates (after the plan was shown and approved): every other command, and `apply`
//! before that point, keeps the default of dying at once. Once armed:
//!
//! - the first signal stops the run: no new create is sent, and the creates in flight get
//!   [`GRACE`] to answer, so that their results are recorded and printed;
//! - a second one (or the end of the grace) abandons the creates still in flight: each is
//!   recorded as `unknown`, then the state is saved and the lock released as usual;
//! - a third one ends the process at once.
//!
//! Ending at once is safe at any moment: every create's intent is durable in the journal
//! before its request, so the next command replays the journal and turns each request whose
//! answer was not recorded into an `unknown` entry. A handler cannot be uninstalled, so when
//! no graceful stop is running (before [`arm`] there is no handler; after [`Stop::finish`]
//! there is) a signal ends the process at once, as it would without one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use miette::Diagnostic;
use thiserror::Error;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

/// How long the creates in flight may still answer after the first signal. A cancelled GitHub
/// Actions job gets SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that: 5 s
/// leaves time to record and print the results before the SIGTERM. Shortened only by a test
/// clock ([`crate::clock`]).
pub(crate) const GRACE: Duration = Duration::from_secs(5);

/// The signals that stop a run, each with the exit code of a process it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Ctrl-C: exit 130.
    Int,
    /// A polite kill, as a CI runner's cancel sends: exit 143.
    Term,
}

impl Signal {
    /// `SIGINT` or `SIGTERM`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }

    /// 128 plus the signal's number, as a shell reports a process the signal ended.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Signal::Int => 130,
            Signal::Term => 143,
        }
    }
}

/// Where a run is in its graceful stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No graceful stop is running: a signal ends the process at once.
    Off,
    /// Creates are being sent, and no signal came yet.
    Sending,
    /// A first signal came: no new create; those in flight may still answer.
    Stopping(Signal),
    /// A second signal came, or the grace ran out: the creates in flight are abandoned.
    Abandoned(Signal),
}

impl Phase {
    fn signal(self) -> Option<Signal> {
        match self {
            Phase::Stopping(s) | Phase::Abandoned(s) => Some(s),
            Phase::Off | Phase::Sending => None,
        }
    }
}

/// What the watcher does about one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// End the process now, with this code.
    Exit(u8),
    /// Start the grace (the stop has begun).
    Grace,
    /// Nothing more: the creates in flight were abandoned.
    Abandoned,
}

/// Prints one line on standard error, above a progress bar if there is one.
pub(crate) type Notice = Arc<dyn Fn(&str) + Send + Sync>;

/// What every holder of a [`Stop`] shares.
struct Shared {
    phase: watch::Sender<Phase>,
    /// Requests sent and not yet answered nor abandoned.
    in_flight: AtomicUsize,
    notice: Mutex<Option<Notice>>,
    /// [`GRACE`] as this process waits it.
    grace: Duration,
}

/// A run's graceful stop, shared by every account of the run: whether a stop was asked for,
/// and futures that resolve when it is (or when the creates in flight are abandoned).
#[derive(Clone)]
pub(crate) struct Stop(Arc<Shared>);

/// A request counted as in flight until it is dropped.
pub(crate) struct InFlight<'a>(&'a Shared);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The signal handlers could not be installed.
#[derive(Debug, Error, Diagnostic)]
#[error("cannot watch for Ctrl-C and SIGTERM: {0}")]
#[diagnostic(
    code(apply::signals),
    help("apply stops gracefully on a signal, and could not set that up; nothing was sent. Check the system's limits on open files, then run again")
)]
pub(crate) struct InstallError(#[source] std::io::Error);

/// The stop of this process, its signal handlers installed on first use.
static WATCHED: Mutex<Option<Stop>> = Mutex::new(None);

/// Starts a graceful stop for the creates about to be sent: from now until
/// [`Stop::finish`], SIGINT and SIGTERM stop the run as the module doc says, with each line
/// for a person given to `notice`. Must be called from inside the runtime.
pub(crate) fn arm(notice: Notice) -> Result<Stop, InstallError> {
    let mut watched = WATCHED.lock().unwrap_or_else(|e| e.into_inner());
    let stop = match watched.as_ref() {
        Some(stop) => stop.clone(),
        None => {
            let int = signal(SignalKind::interrupt()).map_err(InstallError)?;
            let term = signal(SignalKind::terminate()).map_err(InstallError)?;
            let stop = Stop::new(crate::clock::wait(GRACE));
            tokio::spawn(watch_signals(stop.clone(), int, term));
            watched.insert(stop).clone()
        }
    };
    *stop.0.notice.lock().unwrap_or_else(|e| e.into_inner()) = Some(notice);
    stop.0.phase.send_replace(Phase::Sending);
    Ok(stop)
}

/// Handles every signal for the rest of the process's life.
async fn watch_signals(
    stop: Stop,
    mut int: tokio::signal::unix::Signal,
    mut term: tokio::signal::unix::Signal,
) {
    loop {
        let got = tokio::select! {
            Some(()) = int.recv() => Signal::Int,
            Some(()) = term.recv() => Signal::Term,
            // Both streams end only with the runtime, which lives as long as the process.
            else => return,
        };
        match stop.on_signal(got) {
            Step::Exit(code) => std::process::exit(i32::from(code)),
            Step::Grace => {
                let stop = stop.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(stop.0.grace).await;
                    stop.grace_over();
                });
            }
            Step::Abandoned => {}
        }
    }
}

impl Stop {
    /// A stop no signal reaches yet, whose creates in flight get `grace` after the first.
    fn new(grace: Duration) -> Stop {
        Stop(Arc::new(Shared {
            phase: watch::Sender::new(Phase::Off),
            in_flight: AtomicUsize::new(0),
            notice: Mutex::new(None),
            grace,
        }))
    }

    /// The signal that stopped the run, if one did.
    pub(crate) fn signal(&self) -> Option<Signal> {
        self.0.phase.borrow().signal()
    }

    /// Resolves once a stop is asked for: no new create may be sent after it.
    pub(crate) async fn requested(&self) {
        self.until(|p| p.signal().is_some()).await;
    }

    /// Resolves once the creates in flight are abandoned (second signal, or the grace is
    /// over).
    pub(crate) async fn abandoned(&self) {
        self.until(|p| matches!(p, Phase::Abandoned(_))).await;
    }

    async fn until(&self, reached: impl FnMut(&Phase) -> bool) {
        let mut phase = self.0.phase.subscribe();
        if phase.wait_for(reached).await.is_err() {
            // The sender lives in `self`: it cannot be gone. Were it, no stop could come.
            std::future::pending::<()>().await;
        }
    }

    /// Counts a request as in flight, unless a stop was asked for: then nothing may be sent.
    /// Decided under the phase's lock, so the count a signal's message gives is exact.
    pub(crate) fn start(&self) -> Option<InFlight<'_>> {
        let phase = self.0.phase.borrow();
        if phase.signal().is_some() {
            return None;
        }
        self.0.in_flight.fetch_add(1, Ordering::SeqCst);
        Some(InFlight(&self.0))
    }

    /// Ends the graceful stop (a later signal ends the process at once) and says which
    /// signal, if any, stopped the run.
    pub(crate) fn finish(&self) -> Option<Signal> {
        self.0.phase.send_replace(Phase::Off).signal()
    }

    /// Moves to the next phase on `got` and says so; the line is printed before any waiting
    /// task is woken, so it comes before the results it explains.
    fn on_signal(&self, got: Signal) -> Step {
        let mut step = Step::Exit(got.exit_code());
        self.0.phase.send_if_modified(|phase| match *phase {
            Phase::Off => false,
            Phase::Sending => {
                self.say(&self.stopping_line(got));
                *phase = Phase::Stopping(got);
                step = Step::Grace;
                true
            }
            Phase::Stopping(first) => {
                self.say(&format!(
                    "Stopped waiting ({} again): {}; a third signal exits at once.",
                    got.name(),
                    self.abandoned_creates()
                ));
                *phase = Phase::Abandoned(first);
                step = Step::Abandoned;
                true
            }
            Phase::Abandoned(first) => {
                step = Step::Exit(first.exit_code());
                false
            }
        });
        step
    }

    /// The grace is over: the creates still in flight are abandoned (if the stop is still
    /// waiting for them).
    fn grace_over(&self) {
        self.0.phase.send_if_modified(|phase| match *phase {
            Phase::Stopping(first) => {
                if self.0.in_flight.load(Ordering::SeqCst) > 0 {
                    self.say(&format!(
                        "No answer within {}: {}.",
                        humantime::format_duration(self.0.grace),
                        self.abandoned_creates()
                    ));
                }
                *phase = Phase::Abandoned(first);
                true
            }
            _ => false,
        });
    }

    /// The first signal's line.
    fn stopping_line(&self, got: Signal) -> String {
        let again = match got {
            Signal::Int => "Press Ctrl-C again to stop waiting.",
            Signal::Term => "A second signal stops waiting.",
        };
        match self.0.in_flight.load(Ordering::SeqCst) {
            0 => format!(
                "Interrupted ({}): no new create will be sent; none is in flight.",
                got.name()
            ),
            n => format!(
                "Interrupted ({}): no new create will be sent; waiting up to {} for the {n} create{} in flight to answer. {again}",
                got.name(),
                humantime::format_duration(self.0.grace),
                plural(n)
            ),
        }
    }

    /// What becomes of the creates in flight when they are abandoned.
    fn abandoned_creates(&self) -> String {
        match self.0.in_flight.load(Ordering::SeqCst) {
            0 => "no create was in flight".to_string(),
            1 => "the create in flight is recorded as unknown".to_string(),
            n => format!("the {n} creates in flight are recorded as unknown"),
        }
    }

    fn say(&self, line: &str) {
        let notice = self.0.notice.lock().unwrap_or_else(|e| e.into_inner());
        match notice.as_ref() {
            Some(notice) => notice(line),
            None => eprintln!("{line}"),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stop that keeps its lines instead of printing them.
    fn quiet() -> (Stop, Arc<Mutex<Vec<String>>>) {
        let stop = Stop::new(GRACE);
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&lines);
        let notice: Notice = Arc::new(move |l: &str| kept.lock().unwrap().push(l.to_string()));
        *stop.0.notice.lock().unwrap() = Some(notice);
        stop.0.phase.send_replace(Phase::Sending);
        (stop, lines)
    }

    #[test]
    fn first_stops_second_abandons_third_exits_with_the_first_signals_code() {
        let (stop, lines) = quiet();
        let held = stop.start().expect("nothing asked for a stop yet");
        assert_eq!(stop.signal(), None);

        assert_eq!(stop.on_signal(Signal::Int), Step::Grace);
        assert_eq!(stop.signal(), Some(Signal::Int));
        assert!(stop.start().is_none(), "no new create after the signal");

        assert_eq!(stop.on_signal(Signal::Term), Step::Abandoned);
        assert_eq!(stop.on_signal(Signal::Term), Step::Exit(130));
        drop(held);
        assert_eq!(stop.finish(), Some(Signal::Int));
        assert_eq!(
            stop.on_signal(Signal::Term),
            Step::Exit(143),
            "no stop runs"
        );
        assert_eq!(
            *lines.lock().unwrap(),
            [
                "Interrupted (SIGINT): no new create will be sent; waiting up to 5s for the 1 create in flight to answer. Press Ctrl-C again to stop waiting.",
                "Stopped waiting (SIGTERM again): the create in flight is recorded as unknown; a third signal exits at once.",
            ]
        );
    }

    #[test]
    fn the_end_of_the_grace_abandons_only_a_stop_still_waiting() {
        let (stop, lines) = quiet();
        stop.grace_over();
        assert_eq!(stop.signal(), None, "no signal, nothing to abandon");
        let (a, b) = (stop.start(), stop.start());
        assert_eq!(stop.on_signal(Signal::Term), Step::Grace);
        stop.grace_over();
        assert_eq!(*stop.0.phase.borrow(), Phase::Abandoned(Signal::Term));
        drop((a, b));
        assert_eq!(
            lines.lock().unwrap()[1],
            "No answer within 5s: the 2 creates in flight are recorded as unknown."
        );
        assert_eq!(stop.finish(), Some(Signal::Term));
        stop.grace_over();
        assert_eq!(stop.signal(), None, "a late grace changes nothing");
    }

    #[test]
    fn a_stop_with_nothing_in_flight_says_so() {
        let (stop, lines) = quiet();
        assert_eq!(stop.on_signal(Signal::Int), Step::Grace);
        assert_eq!(
            lines.lock().unwrap()[0],
            "Interrupted (SIGINT): no new create will be sent; none is in flight."
        );
    }

    #[tokio::test]
    async fn waiters_wake_on_the_stop_and_on_abandonment() {
        let (stop, _) = quiet();
        let requested = tokio::spawn({
            let stop = stop.clone();
            async move { stop.requested().await }
        });
        let abandoned = tokio::spawn({
            let stop = stop.clone();
            async move { stop.abandoned().await }
        });
        stop.on_signal(Signal::Int);
        requested.await.expect("woken by the first signal");
        let mut abandoned = abandoned;
        let early = tokio::time::timeout(Duration::from_millis(50), &mut abandoned).await;
        assert!(early.is_err(), "a first signal abandons nothing");
        stop.on_signal(Signal::Int);
        abandoned.await.expect("woken by the second signal");
    }

    #[test]
    fn exit_codes_are_128_plus_the_signal_number() {
        assert_eq!(Signal::Int.exit_code(), 128 + libc::SIGINT as u8);
        assert_eq!(Signal::Term.exit_code(), 128 + libc::SIGTERM as u8);
    }
}
