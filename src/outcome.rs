//! What a command ends with, and how the outcomes of several accounts combine.

use crate::interrupt::Signal;

/// What a command tells `main` to exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the command ran and found a failure it already reported.
    Failure,
    /// Exit 2: changes are present (only with `--detailed-exitcode`).
    Changes,
    /// Exit 130 (SIGINT) or 143 (SIGTERM): a signal stopped the run, which then reported
    /// what it had done.
    Interrupted(Signal),
}

impl Outcome {
    /// The outcome that matters more: an interruption over a failure over changes over
    /// success (a run cut short says so, whatever else it found).
    pub(crate) fn worse(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Interrupted(s), _) | (_, Outcome::Interrupted(s)) => Outcome::Interrupted(s),
            (Outcome::Failure, _) | (_, Outcome::Failure) => Outcome::Failure,
            (Outcome::Changes, _) | (_, Outcome::Changes) => Outcome::Changes,
            _ => Outcome::Success,
        }
    }

    /// The process's exit code.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failure => 1,
            Outcome::Changes => 2,
            Outcome::Interrupted(s) => s.exit_code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interruption_outweighs_a_failure_which_outweighs_changes() {
        let int = Outcome::Interrupted(Signal::Int);
        for o in [Outcome::Success, Outcome::Changes, Outcome::Failure, int] {
            assert_eq!(o.worse(int), int);
            assert_eq!(int.worse(o), int);
        }
        assert_eq!(Outcome::Changes.worse(Outcome::Failure), Outcome::Failure);
        assert_eq!(Outcome::Success.worse(Outcome::Changes), Outcome::Changes);
        assert_eq!(Outcome::Success.worse(Outcome::Success), Outcome::Success);
    }

    #[test]
    fn each_outcome_has_its_exit_code() {
        let codes = [
            Outcome::Success,
            Outcome::Failure,
            Outcome::Changes,
            Outcome::Interrupted(Signal::Int),
            Outcome::Interrupted(Signal::Term),
        ]
        .map(Outcome::exit_code);
        assert_eq!(codes, [0, 1, 2, 130, 143]);
    }
}
