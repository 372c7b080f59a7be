//! How many planned creates came to each result: the one count behind every apply summary,
//! for one account and for the total of a run.

use std::fmt;

use super::Done;

/// Counts of an apply's results. `paused` are counted in `created` too: they exist.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tally {
    pub created: usize,
    pub paused: usize,
    pub failed: usize,
    pub unknown: usize,
    pub not_sent: usize,
}

impl Tally {
    /// The tally of one account's results.
    pub(crate) fn of<'a>(results: impl IntoIterator<Item = &'a Done>) -> Tally {
        let mut t = Tally::default();
        for done in results {
            match done {
                Done::Created { .. } => {
                    t.created += 1;
                    t.paused += usize::from(done.is_paused());
                }
                Done::Failed { .. } => t.failed += 1,
                Done::Unknown { .. } => t.unknown += 1,
                Done::NotSent => t.not_sent += 1,
            }
        }
        t
    }

    /// Adds another account's tally, for a run's total.
    pub(crate) fn add(&mut self, other: &Tally) {
        self.created += other.created;
        self.paused += other.paused;
        self.failed += other.failed;
        self.unknown += other.unknown;
        self.not_sent += other.not_sent;
    }

    /// Whether a planned create was not made for sure: it failed, is unknown or was not sent.
    pub(crate) fn fell_short(&self) -> bool {
        self.failed + self.unknown + self.not_sent > 0
    }
}

/// `2 created (1 paused), 0 failed, 1 unknown, 0 not sent`
impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} created ({} paused), {} failed, {} unknown, {} not sent",
            self.created, self.paused, self.failed, self.unknown, self.not_sent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(status: &str) -> Done {
        Done::Created {
            id: "a".into(),
            status: status.into(),
        }
    }

    #[test]
    fn each_result_is_counted_once_and_paused_ones_are_created_too() {
        let results = [
            created("active"),
            created("paused"),
            Done::Failed { reason: "x".into() },
            Done::Unknown { reason: "y".into() },
            Done::Unknown { reason: "z".into() },
            Done::NotSent,
        ];
        let t = Tally::of(&results);
        assert_eq!(
            t,
            Tally {
                created: 2,
                paused: 1,
                failed: 1,
                unknown: 2,
                not_sent: 1
            }
        );
        assert!(t.fell_short());
        assert_eq!(
            t.to_string(),
            "2 created (1 paused), 1 failed, 2 unknown, 1 not sent"
        );
    }

    #[test]
    fn totals_add_up_and_an_all_created_run_did_not_fall_short() {
        let one = Tally::of(&[created("active"), created("paused")]);
        assert!(!one.fell_short());
        let mut total = Tally::default();
        total.add(&one);
        total.add(&Tally::of(&[Done::NotSent]));
        assert_eq!(
            total.to_string(),
            "2 created (1 paused), 0 failed, 0 unknown, 1 not sent"
        );
        assert_eq!(Tally::of(&[]), Tally::default());
    }
}
