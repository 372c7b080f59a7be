//! The sandbox's web page at `GET /`: each account's webhooks with their status and last
//! failure, as Saleshandy's Integrations page lists them, with the same actions (edit, pause,
//! resume, mark failed, delete) and a form to queue faults.
//!
//! Plain HTML with inline CSS: no script, nothing fetched from anywhere. Every value is
//! HTML-escaped, so nothing a request stored can become markup.

use std::fmt::Write;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::model::{Fault, StoredWebhook, Target};

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}code{background:#f3f3f3;padding:0 .2em}\
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.4em;\
text-align:left;vertical-align:top}.active{color:#17803d}.paused{color:#b45309}\
.failure{color:#b91c1c}form{display:inline;margin:0}details form{display:block}\
label{display:block;margin:.3em 0}input[type=text],textarea{width:30em}\
.error{background:#fee2e2;padding:1em}";

/// The whole page for these webhooks (every account's, in creation order) and waiting faults.
pub(super) fn render(webhooks: &[StoredWebhook], faults: &[(Target, Fault)]) -> String {
    let mut html = String::new();
    head(&mut html, "Saleshandy sandbox: webhooks");
    html.push_str("<h1>Saleshandy sandbox: webhooks</h1>\n");
    html.push_str(
        "<p>What Saleshandy's Integrations page would show. Changes here are what a person \
         would make in Saleshandy: <code>saleshandy-webhooks status</code> then reports them.</p>\n",
    );
    let mut accounts: Vec<&str> = Vec::new();
    for w in webhooks {
        if !accounts.contains(&w.api_key.as_str()) {
            accounts.push(&w.api_key);
        }
    }
    if accounts.is_empty() {
        html.push_str(
            "<p id=\"empty\">No webhooks yet: apply a config against this sandbox.</p>\n",
        );
    }
    for account in accounts {
        let of_account: Vec<&StoredWebhook> =
            webhooks.iter().filter(|w| w.api_key == account).collect();
        let active = of_account.iter().filter(|w| w.is_active()).count();
        let _ = writeln!(
            html,
            "<h2>Account <code>{}</code>: {} webhook{}, {active} active</h2>",
            esc(account),
            of_account.len(),
            if of_account.len() == 1 { "" } else { "s" },
        );
        html.push_str(
            "<table><thead><tr><th>Name</th><th>Id</th><th>URL</th><th>Events</th>\
             <th>Status</th><th>Last failure</th><th>Actions</th></tr></thead><tbody>\n",
        );
        for w in of_account {
            row(&mut html, w);
        }
        html.push_str("</tbody></table>\n");
    }
    faults_section(&mut html, faults);
    html.push_str("</body></html>\n");
    html
}

/// The page shown when an action from a form was refused: why, and the way back.
pub(super) fn refused(status: StatusCode, reason: &str) -> Response {
    let mut html = String::new();
    head(&mut html, "Saleshandy sandbox: refused");
    let _ = write!(
        html,
        "<p class=\"error\" id=\"error\">{}</p>\n<p><a href=\"/\">Back to the webhooks</a></p>\n\
         </body></html>\n",
        esc(reason)
    );
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn head(html: &mut String, title: &str) {
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\n"
    );
}

/// One webhook's row, its actions and its edit form.
fn row(html: &mut String, w: &StoredWebhook) {
    let id = esc(&w.id);
    let status = esc(w.status.as_str());
    let failure = match &w.last_failure {
        Some(f) => format!(
            "<span class=\"failure\">{} at {}: {}</span>",
            esc(&f.answer()),
            esc(&f.failed_at),
            esc(&f.message)
        ),
        None => "none".to_string(),
    };
    let _ = write!(
        html,
        "<tr id=\"webhook-{id}\"><td class=\"name\">{}</td><td><code>{id}</code></td>\
         <td class=\"url\">{}</td><td class=\"events\">{}</td>\
         <td class=\"status {status}\">{status}</td><td class=\"last-failure\">{failure}</td><td>",
        esc(&w.name),
        esc(&w.webhook_url),
        esc(&w.events.join(", ")),
    );
    let toggle = if w.is_active() { "pause" } else { "resume" };
    for action in [toggle, "fail", "delete"] {
        let label = match action {
            "pause" => "Pause",
            "resume" => "Resume",
            "fail" => "Mark failed",
            _ => "Delete",
        };
        let _ = write!(
            html,
            "<form method=\"post\" action=\"/sandbox/webhooks/{id}/{action}\">\
             <button type=\"submit\" class=\"{action}\">{label}</button></form> "
        );
    }
    let headers: String = w
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect();
    let _ = writeln!(
        html,
        "<details><summary>Edit</summary>\
         <form method=\"post\" action=\"/sandbox/webhooks/{id}/edit\" class=\"edit\">\
         <label>Name <input type=\"text\" name=\"name\" value=\"{}\"></label>\
         <label>URL <input type=\"text\" name=\"webhookUrl\" value=\"{}\"></label>\
         <label>Events <input type=\"text\" name=\"webhookEvent\" value=\"{}\"></label>\
         <label>Headers, one <code>Name: value</code> per line \
         <textarea name=\"headers\" rows=\"3\">{}</textarea></label>\
         <button type=\"submit\" class=\"save\">Save</button></form></details></td></tr>",
        esc(&w.name),
        esc(&w.webhook_url),
        esc(&w.events.join(", ")),
        esc(&headers),
    );
}

/// The faults waiting for the next creates, and the form that queues more.
fn faults_section(html: &mut String, faults: &[(Target, Fault)]) {
    html.push_str("<h2>Faults for the next creates</h2>\n");
    if faults.is_empty() {
        html.push_str("<p id=\"faults\">None waiting.</p>\n");
    } else {
        html.push_str("<ol id=\"faults\">");
        for (target, fault) in faults {
            let json = super::admin::fault_json(target, fault);
            let _ = write!(html, "<li><code>{}</code></li>", esc(&json.to_string()));
        }
        html.push_str("</ol>\n");
    }
    html.push_str(
        "<form method=\"post\" action=\"/sandbox/faults\" class=\"fault\">\
         <label>Fault <select name=\"fault\"><option>rate-limit</option>\
         <option>server-error</option><option>lost-answer</option><option>garbage-201</option>\
         <option>latency</option></select></label>\
         <label>How many <input type=\"text\" name=\"count\" value=\"1\"></label>\
         <label>Retry-After seconds (rate-limit) <input type=\"text\" name=\"retryAfter\"></label>\
         <label>Delay ms (latency) <input type=\"text\" name=\"delayMs\"></label>\
         <button type=\"submit\">Queue</button></form>\n",
    );
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped: safe in an element and in an attribute.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
