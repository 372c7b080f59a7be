//! The plan as GitHub Actions workflow commands: each webhook's annotation sits on its `name`
//! line in the config, so a pull request shows what apply would do right on the diff.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{manual_step, one_line, summary_line};
use crate::planner::{Action, Plan};
use crate::report::{escape_data, escape_property};

/// Renders one command per webhook that is not unchanged, then a summary notice. `lines`
/// gives each config webhook's line; state-only entries are annotated on the file itself.
pub(crate) fn render(plan: &Plan, config: &str, lines: &HashMap<String, usize>) -> String {
    let mut out = String::new();
    for e in &plan.entries {
        let (level, title, text) = match e.action {
            Action::Unchanged => continue,
            Action::Create => (
                "notice",
                "create",
                format!(
                    "`{}` will be created: {}{}",
                    e.name,
                    e.desired.as_ref().map(one_line).unwrap_or_default(),
                    manual_step(e).map(|s| format!(". {s}")).unwrap_or_default()
                ),
            ),
            Action::Changed => (
                "warning",
                "changed: needs a person",
                format!(
                    "`{}` differs from Saleshandy. {}",
                    e.name,
                    manual_step(e).unwrap_or_default()
                ),
            ),
            Action::Orphaned => (
                "warning",
                "orphaned: needs a person",
                format!(
                    "`{}` is no longer in the config. {}",
                    e.name,
                    manual_step(e).unwrap_or_default()
                ),
            ),
            Action::Deleted => (
                "warning",
                "deleted: needs a person",
                format!(
                    "`{}` was deleted in Saleshandy. {}",
                    e.name,
                    manual_step(e).unwrap_or_default()
                ),
            ),
            Action::Unknown => (
                "warning",
                "unknown: needs a person",
                format!("`{}`: {}", e.name, manual_step(e).unwrap_or_default()),
            ),
        };
        let location = match lines.get(&e.name) {
            Some(line) => format!("file={},line={line}", escape_property(config)),
            None => format!("file={}", escape_property(config)),
        };
        let _ = writeln!(
            out,
            "::{level} {location},title={}::{}",
            escape_property(title),
            escape_data(&text)
        );
    }
    for w in super::warnings(plan) {
        let _ = writeln!(
            out,
            "::warning file={},title=saleshandy-webhooks plan::{}",
            escape_property(config),
            escape_data(&w)
        );
    }
    let _ = writeln!(
        out,
        "::notice title=saleshandy-webhooks plan::{}",
        escape_data(&summary_line(plan))
    );
    out
}
