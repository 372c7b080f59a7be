//! The 19 webhook events Saleshandy accepts, and parsing of their names with suggestions.

use std::fmt;

macro_rules! events {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// A webhook event, as named in `webhookEvent` of the create request.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Event { $($variant),* }

        impl Event {
            /// Every accepted event, in the order of Saleshandy's API reference.
            pub const ALL: &'static [Event] = &[$(Event::$variant),*];

            /// The name the API uses.
            pub fn as_str(self) -> &'static str {
                match self { $(Event::$variant => $name),* }
            }
        }
    };
}

events! {
    EmailSent => "email-sent",
    EmailOpened => "email-opened",
    EmailLinkClicked => "email-link-clicked",
    ReplyReceived => "reply-received",
    EmailBounced => "email-bounced",
    ProspectUnsubscribed => "prospect-unsubscribed",
    ProspectFinished => "prospect-finished",
    ProspectOutcomeUpdated => "prospect-outcome-updated",
    SequencePaused => "sequence-paused",
    EmailAccountDisconnected => "email-account-disconnected",
    EmailAccountPaused => "email-account-paused",
    InboxAnalyserTestCompleted => "inbox-analyser-test-completed",
    TaskCreated => "task-created",
    TaskUpdated => "task-updated",
    BulkTaskUpdated => "bulk-task-updated",
    CallTaskUpdated => "call-task-updated",
    LinkedinTaskUpdated => "linkedin-task-updated",
    CustomTaskUpdated => "custom-task-updated",
    WhatsappTaskUpdated => "whatsapp-task-updated",
}

impl Event {
    /// Parses an event name exactly as the API spells it.
    pub(crate) fn parse(name: &str) -> Option<Event> {
        Event::ALL.iter().copied().find(|e| e.as_str() == name)
    }

    /// The accepted name closest to a wrong one, when one is close enough to be a likely typo.
    pub(crate) fn suggest(wrong: &str) -> Option<Event> {
        let normalised = wrong
            .trim()
            .to_ascii_lowercase()
            .replace(['_', ' ', '.'], "-");
        let name = crate::suggest::closest(&normalised, Event::ALL.iter().map(|e| e.as_str()))?;
        Event::parse(name)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_nineteen_distinct_names() {
        let mut names: Vec<_> = Event::ALL.iter().map(|e| e.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 19);
    }

    #[test]
    fn every_name_round_trips() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(*e));
        }
    }

    #[test]
    fn typos_get_the_intended_event() {
        assert_eq!(Event::suggest("email-open"), Some(Event::EmailOpened));
        assert_eq!(Event::suggest("email_sent"), Some(Event::EmailSent));
        assert_eq!(Event::suggest("Reply-Recieved"), Some(Event::ReplyReceived));
        assert_eq!(
            Event::suggest("inbox-analyzer-test-completed"),
            Some(Event::InboxAnalyserTestCompleted)
        );
        assert_eq!(Event::suggest("email-snet"), Some(Event::EmailSent));
        assert_eq!(Event::suggest("opened"), Some(Event::EmailOpened));
        assert_eq!(Event::suggest("deploy"), None);
        assert_eq!(Event::suggest("deployment-finished"), None);
        assert_eq!(Event::suggest("email\u{1b}[5m"), None);
    }

    /// Every event misspelt by one edit (a letter left out, doubled, or two swapped) gets
    /// itself back, never a neighbour such as `task-updated` for `bulk-task-updated`.
    #[test]
    fn one_edit_from_an_event_suggests_that_event() {
        for e in Event::ALL {
            let name: Vec<char> = e.as_str().chars().collect();
            for i in 0..name.len() {
                let mut dropped = name.clone();
                dropped.remove(i);
                let mut doubled = name.clone();
                doubled.insert(i, name[i]);
                let mut swapped = name.clone();
                if i + 1 < name.len() {
                    swapped.swap(i, i + 1);
                }
                for wrong in [dropped, doubled, swapped] {
                    let wrong: String = wrong.into_iter().collect();
                    assert_eq!(Event::suggest(&wrong), Some(*e), "{wrong}");
                }
            }
        }
    }
}
