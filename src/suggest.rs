//! The one "did you mean" rule: which of some known names a wrong one most likely meant.
//!
//! Used for unknown config keys, unknown events ([`closest`]) and names the state does not
//! hold ([`closest_name`]), so that only a name close to the wrong one is ever offered.

/// The candidate closest to `wrong`, when one is close enough to be a likely typo of it.
///
/// Case is ignored, and lengths are counted in characters. A candidate is close when either
/// - it is at most one edit per 4 characters (or part of 4) of the longer of the two names away, where an edit
///   is an insertion, a deletion, a substitution or a swap of two neighbouring characters (so
///   `ulr` is one edit from `url`, `Replys` two from `Replies`); or
/// - one name holds the other whole, and the shorter has at least 4 characters and a third of
///   the length of the longer (`hooks` for `webhooks`, `reply` for `reply-received`).
///
/// Among close candidates the fewest edits win, then the most alike by Jaro-Winkler (which
/// favours a shared start), then the first given.
pub(crate) fn closest<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    best(wrong, candidates, true)
}

/// The webhook name closest to `wrong`, among names the state holds. A webhook's name is its
/// identity, so only a likely typo of it is offered: a name within the edit distance of
/// [`closest`], never one that merely holds the other whole (`Sent` is not `Email Sent`), and
/// never one with other numbers in it (`Hook 1` is not `Hook 12`).
pub(crate) fn closest_name<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let numbers = |s: &str| -> String { s.chars().filter(char::is_ascii_digit).collect() };
    let own = numbers(wrong);
    best(
        wrong,
        candidates.into_iter().filter(|c| numbers(c) == own),
        false,
    )
}

/// The closest of `candidates` by the rule of [`closest`]; `parts` admits containment.
fn best<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    parts: bool,
) -> Option<&'a str> {
    let wrong = wrong.to_lowercase();
    let mut best: Option<(usize, f64, &'a str)> = None;
    for candidate in candidates {
        let lower = candidate.to_lowercase();
        let distance = strsim::osa_distance(&wrong, &lower);
        let close = is_typo(&wrong, &lower, distance) || (parts && is_part(&wrong, &lower));
        if !close {
            continue;
        }
        let likeness = strsim::jaro_winkler(&wrong, &lower);
        let better = match best {
            None => true,
            Some((d, l, _)) => distance < d || (distance == d && likeness > l),
        };
        if better {
            best = Some((distance, likeness, candidate));
        }
    }
    best.map(|(_, _, candidate)| candidate)
}

/// At most one edit per 4 characters (or part of 4) of the longer name.
fn is_typo(a: &str, b: &str, distance: usize) -> bool {
    let longer = a.chars().count().max(b.chars().count());
    distance <= longer.div_ceil(4)
}

/// One name holds the other whole, and the shorter is not a mere fragment of it.
fn is_part(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let (s, l) = (short.chars().count(), long.chars().count());
    s >= 4 && s * 3 >= l && long.contains(short)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &["name", "url", "events", "headers"];

    #[test]
    fn a_swap_of_two_neighbours_is_one_edit() {
        assert_eq!(closest("ulr", KEYS.iter().copied()), Some("url"));
        assert_eq!(closest("nmae", KEYS.iter().copied()), Some("name"));
        assert_eq!(closest("evnets", KEYS.iter().copied()), Some("events"));
    }

    #[test]
    fn case_is_ignored_and_the_candidate_is_returned_as_spelt() {
        assert_eq!(
            closest("email sent", ["Replies", "Email Sent"]),
            Some("Email Sent")
        );
        assert_eq!(closest("URL", KEYS.iter().copied()), Some("url"));
        assert_eq!(closest("Hedaers", KEYS.iter().copied()), Some("headers"));
    }

    #[test]
    fn missing_and_extra_letters() {
        assert_eq!(
            closest("webhook", ["version", "webhooks"]),
            Some("webhooks")
        );
        assert_eq!(closest("hooks", ["version", "webhooks"]), Some("webhooks"));
        assert_eq!(closest("Replys", ["Bounces", "Replies"]), Some("Replies"));
    }

    #[test]
    fn a_name_held_whole_by_another_is_close_unless_a_mere_fragment() {
        assert_eq!(closest("hook", ["version", "webhooks"]), Some("webhooks"));
        assert_eq!(
            closest("Email Sent Webhook", ["Replies", "Email Sent"]),
            Some("Email Sent")
        );
        assert_eq!(closest("abcd", ["abcdefghijkl"]), Some("abcdefghijkl"));
        assert_eq!(closest("abcd", ["abcdefghijklm"]), None);
        assert_eq!(closest("abc", ["abcdef"]), None);
    }

    #[test]
    fn a_name_far_from_every_candidate_gets_nothing() {
        assert_eq!(closest("secret", KEYS.iter().copied()), None);
        assert_eq!(closest("Zebra", ["Replies", "Bounces", "Sent"]), None);
        assert_eq!(closest("", KEYS.iter().copied()), None);
        assert_eq!(closest("x", KEYS.iter().copied()), None);
        assert_eq!(closest("ulr", std::iter::empty()), None);
    }

    #[test]
    fn the_threshold_grows_with_the_length() {
        // Up to 4 characters: 1 edit; 5 to 8: 2; 9 to 12: 3.
        assert_eq!(closest("abc", ["abd"]), Some("abd"));
        assert_eq!(closest("abc", ["aed"]), None);
        assert_eq!(closest("abcdefgh", ["abxyefgh"]), Some("abxyefgh"));
        assert_eq!(closest("abcdefgh", ["axyzefgh"]), None);
        assert_eq!(
            closest("abcdefghijkl", ["abxyzfghijkl"]),
            Some("abxyzfghijkl")
        );
        assert_eq!(closest("abcdefghijkl", ["axyzwfghijkl"]), None);
        // A whole word replaced is not a typo, however long the rest.
        assert_eq!(
            closest("deployment-finished", ["prospect-finished", "email-sent"]),
            None
        );
    }

    #[test]
    fn ties_go_to_the_most_alike_then_the_first() {
        // One edit from both; Jaro-Winkler prefers the shared start.
        assert_eq!(closest("cat", ["bat", "cab"]), Some("cab"));
        assert_eq!(
            closest("task-update", ["bulk-task-updated", "task-updated"]),
            Some("task-updated")
        );
        assert_eq!(closest("ab", ["ab", "AB"]), Some("ab"));
        assert_eq!(closest("AB", ["ab", "AB"]), Some("ab"));
    }

    #[test]
    fn webhook_names_are_suggested_for_typos_only() {
        let names = ["Email Sent", "Hook 1", "Hook 12", "Replies"];
        assert_eq!(closest_name("Replys", names), Some("Replies"));
        assert_eq!(closest_name("hok 12", names), Some("Hook 12"));
        assert_eq!(closest_name("Hook 1", ["Hook 12", "Hook 2"]), None);
        assert_eq!(closest_name("Hook 13", ["Hook 12", "Hook 1"]), None);
        assert_eq!(closest_name("Sent", names), None);
        assert_eq!(closest_name("Email Sent Webhook", names), None);
        assert_eq!(closest("Sent", names), Some("Email Sent"));
    }

    #[test]
    fn non_ascii_names_are_counted_in_characters() {
        assert_eq!(closest("café", ["cafe", "thé"]), Some("cafe"));
        assert_eq!(closest("ÉTÉ", ["été"]), Some("été"));
    }
}
