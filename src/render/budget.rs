//! The size budget of a Markdown comment. GitHub takes at most 65,536 characters in a pull
//! request or issue comment, so every rendering meant for one (the plan's, the status report's)
//! is written into a [`Comment`]: it lists only the leading items that fit, keeps room for the
//! closing notes, and the renderer says how many it left out.

use std::fmt;

/// The most characters a Markdown rendering may have.
pub(crate) const LIMIT: usize = 65_000;
/// Room kept for the closing notes: this, or a quarter of a smaller limit.
const RESERVE: usize = 1_000;

/// Markdown being written within a size limit, counting its characters as it grows (so that
/// checking an item costs its own length, not the length of everything before it).
pub(crate) struct Comment {
    text: String,
    chars: usize,
    /// The most characters listed items may bring the text to: the limit less the reserve.
    room: usize,
}

impl Comment {
    /// An empty comment of at most `limit` characters.
    pub(crate) fn new(limit: usize) -> Comment {
        Comment {
            text: String::new(),
            chars: 0,
            room: limit.saturating_sub(RESERVE.min(limit / 4)),
        }
    }

    /// The characters written so far.
    pub(crate) fn chars(&self) -> usize {
        self.chars
    }

    /// How many of `items`, from the first, fit in the room left. Nothing is written.
    pub(crate) fn fitting(&self, items: &[String]) -> usize {
        let mut used = self.chars;
        items
            .iter()
            .take_while(|item| {
                used += item.chars().count();
                used <= self.room
            })
            .count()
    }

    /// Writes the leading `items` that fit in the room left, and says how many that was.
    pub(crate) fn push_fitting(&mut self, items: &[String]) -> usize {
        let shown = self.fitting(items);
        for item in &items[..shown] {
            self.push(item);
        }
        shown
    }

    /// Writes `text`, whatever room is left (headings, notes).
    pub(crate) fn push(&mut self, text: &str) {
        self.text.push_str(text);
        self.chars += text.chars().count();
    }

    pub(crate) fn into_text(self) -> String {
        self.text
    }
}

impl fmt::Write for Comment {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    fn items(n: usize, len: usize) -> Vec<String> {
        (0..n).map(|_| "é".repeat(len)).collect()
    }

    #[test]
    fn only_the_leading_items_that_fit_are_written() {
        // A limit of 100 keeps 25 for the notes: 75 characters of room.
        let mut c = Comment::new(100);
        c.push("0123456789");
        assert_eq!(c.fitting(&items(10, 20)), 3);
        assert_eq!(c.push_fitting(&items(10, 20)), 3);
        assert_eq!(c.chars(), 70);
        // Even an item that would fit after a larger one is not taken out of order.
        assert_eq!(c.fitting(&["x".repeat(10), "y".into()]), 0);
        assert_eq!(c.fitting(&["y".into(), "x".repeat(10)]), 1);
        let text = c.into_text();
        assert_eq!(text.chars().count(), 70);
        assert!(text.len() > 70, "characters are counted, not bytes");
    }

    #[test]
    fn the_reserve_is_a_thousand_characters_or_a_quarter_of_a_small_limit() {
        assert_eq!(Comment::new(LIMIT).fitting(&items(1, LIMIT - 1_000)), 1);
        assert_eq!(Comment::new(LIMIT).fitting(&items(1, LIMIT - 999)), 0);
        assert_eq!(Comment::new(400).fitting(&items(1, 300)), 1);
        assert_eq!(Comment::new(400).fitting(&items(1, 301)), 0);
        assert_eq!(Comment::new(0).fitting(&items(1, 1)), 0);
        assert_eq!(Comment::new(0).fitting(&items(3, 0)), 3);
    }

    #[test]
    fn written_text_is_counted_whatever_the_room() {
        let mut c = Comment::new(8);
        let _ = write!(c, "{}", "a".repeat(20));
        assert_eq!(c.chars(), 20);
        assert_eq!(c.push_fitting(&items(2, 1)), 0);
        assert_eq!(c.into_text(), "a".repeat(20));
    }

    /// Both Markdown renderings keep under the limit they are given, and say what they left
    /// out.
    #[test]
    fn the_status_report_stays_within_its_limit_and_says_what_it_left_out() {
        use crate::live::{Check, Health, Report};
        use crate::render::status_report::{markdown, markdown_within, Context};
        let checks = (0..3_000)
            .map(|i| Check {
                name: format!("Webhook number {i} with a fairly long descriptive name"),
                id: format!("{i:024x}"),
                url: "https://hooks.example.org/x".into(),
                health: Health::Deleted,
            })
            .collect();
        let report = Report::new(checks, &crate::state::State::new());
        let ctx = Context {
            state: "webhooks.state.json",
            endpoint: "https://open-api.saleshandy.com",
            checked_at: "2026-11-27T10:00:00Z",
            state_updated: false,
        };
        for (md, limit) in [
            (markdown(&report, &ctx), LIMIT),
            (markdown_within(&report, &ctx, LIMIT / 3), LIMIT / 3),
        ] {
            assert!(
                md.chars().count() <= limit,
                "{} > {limit}",
                md.chars().count()
            );
            assert!(md.contains("more webhooks left out"), "{limit}");
            assert!(md.contains("Details of"), "{limit}");
        }
    }
}
