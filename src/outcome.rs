//! What a command ends with, and how the outcomes of several accounts combine.

/// What a command tells `main` to exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the command ran and found a failure it already reported.
    Failure,
    /// Exit 2: changes are present (only with `--detailed-exitcode`).
    Changes,
}

impl Outcome {
    /// The outcome that matters more: a failure over changes over success.
    pub(crate) fn worse(self, other: Outcome) -> Outcome {
        match (self, other) {
            (Outcome::Failure, _) | (_, Outcome::Failure) => Outcome::Failure,
            (Outcome::Changes, _) | (_, Outcome::Changes) => Outcome::Changes,
            _ => Outcome::Success,
        }
    }
}
