//! The README's "Rehearse it" walk-through, run as written: every `sh` block of that section,
//! command by command, against a `sandbox --data` started by its first block, with the
//! transcript snapshotted and what the sandbox holds at each step checked.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::{self, bin_process, filters};

/// The commands of the README's "Rehearse it" section, in order.
fn walkthrough() -> Vec<String> {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let start = readme
        .find("\n## Rehearse it\n")
        .expect("a Rehearse it section");
    let section = &readme[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let mut commands = Vec::new();
    let mut in_block = false;
    for line in section[..end].lines() {
        match line {
            "```sh" => in_block = true,
            "```" => in_block = false,
            l if in_block && !l.trim().is_empty() => commands.push(l.to_string()),
            _ => {}
        }
    }
    commands
}

/// A command line split into words, as sh would for these lines (double quotes only).
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// The rehearsal: its directory, its sandbox and what every command printed.
struct Rehearsal {
    dir: tempfile::TempDir,
    server: Option<Child>,
    url: String,
    transcript: String,
}

impl Rehearsal {
    /// `sandbox list --format json` of the running sandbox: its webhooks, in creation order.
    fn webhooks(&self) -> Vec<Value> {
        let out = self
            .command(&["sandbox", "list", "--format", "json"])
            .output()
            .expect("sandbox list");
        assert!(out.status.success(), "sandbox list: {out:?}");
        let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        json["webhooks"].as_array().expect("webhooks").clone()
    }

    /// `GET /sandbox/faults` of the running sandbox, over a plain socket.
    fn pending_faults(&self) -> Value {
        use std::io::{Read, Write};
        let addr = self.url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).expect("connect to the sandbox");
        write!(
            s,
            "GET /sandbox/faults HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("request");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("answer");
        let body = answer.split("\r\n\r\n").nth(1).expect("a body");
        serde_json::from_str(body).expect("JSON")
    }

    /// The newest webhook's id of this name.
    fn id_of(&self, name: &str) -> String {
        self.webhooks()
            .iter()
            .rev()
            .find(|w| w["name"] == name)
            .and_then(|w| w["id"].as_str())
            .unwrap_or_else(|| panic!("no webhook named {name} in the sandbox"))
            .to_string()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = bin_process();
        c.current_dir(self.dir.path())
            .env("SALESHANDY_SANDBOX_URL", &self.url)
            .args(args);
        c
    }

    /// Runs one README line, as a user would, and records it and its output.
    fn run(&mut self, line: &str) {
        if line.starts_with("mkdir rehearsal && cp examples/webhooks.yaml rehearsal/") {
            std::fs::copy(
                "examples/webhooks.yaml",
                self.dir.path().join("webhooks.yaml"),
            )
            .expect("copy the example");
            self.transcript.push_str(&format!("$ {line}\n"));
            return;
        }
        if line == "kill %1" {
            return self.stop(line);
        }
        if let Some(serve) = line.strip_suffix(" &") {
            return self.serve(serve);
        }
        // `<id of NAME>` is what a user copies from `sandbox list`.
        let mut expanded = line.replace("http://127.0.0.1:8080", &self.url);
        while let Some(start) = expanded.find("<id of ") {
            let end = start + expanded[start..].find('>').expect("a closed placeholder");
            let id = self.id_of(&expanded[start + 7..end]);
            expanded.replace_range(start..=end, &id);
        }
        let mut words = words(&expanded).into_iter().peekable();
        let mut env = Vec::new();
        while let Some((name, value)) = words.peek().and_then(|w| w.split_once('=')) {
            env.push((name.to_string(), value.to_string()));
            words.next();
        }
        assert_eq!(
            words.next().as_deref(),
            Some("saleshandy-webhooks"),
            "{line}"
        );
        let args: Vec<String> = words.collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut c = self.command(&args);
        for (name, value) in env {
            c.env(name, value);
        }
        let out = c.output().expect("run the command");
        let stdout = String::from_utf8_lossy(&out.stdout);
        // Creates run four at a time: the order they end in (the progress lines) and so the
        // order the sandbox lists them in vary from run to run; the rest does not.
        let stdout = match args.first() == Some(&"sandbox") {
            true => sorted_rows(&stdout),
            false => stdout.into_owned(),
        };
        let stderr: String = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !is_progress(l))
            .map(|l| format!("{l}\n"))
            .collect();
        self.transcript.push_str(&format!(
            "$ {line}\n{stdout}{stderr}[exit {}]\n\n",
            out.status.code().unwrap_or(-1)
        ));
    }

    /// Starts the walk-through's sandbox, on a port of its own rather than 8080.
    fn serve(&mut self, line: &str) {
        let args: Vec<String> = words(line).into_iter().skip(1).collect();
        let mut c = bin_process();
        c.current_dir(self.dir.path())
            .args(&args)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("start the sandbox");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut printed = String::new();
        for _ in 0..5 {
            out.read_line(&mut printed).expect("the sandbox's banner");
        }
        let first = printed.lines().next().unwrap_or_default();
        self.url = first
            .strip_prefix("Saleshandy sandbox listening on ")
            .unwrap_or_else(|| panic!("no URL in {printed:?}"))
            .to_string();
        self.transcript
            .push_str(&format!("$ {line} &\n{printed}\n"));
        self.server = Some(child);
    }

    /// `kill %1`: SIGTERM to the sandbox, which stops cleanly.
    fn stop(&mut self, line: &str) {
        let mut child = self.server.take().expect("a sandbox to stop");
        let pid = child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(killed.expect("kill").success());
        let status = child.wait().expect("the sandbox ends");
        self.transcript.push_str(&format!(
            "$ {line}\n[sandbox exit {}]\n",
            status.code().unwrap_or(-1)
        ));
    }
}

impl Drop for Rehearsal {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `[3/5] created: NAME`: a progress line.
fn is_progress(line: &str) -> bool {
    let re = regex::Regex::new(r"^\[\d+/\d+\] ").expect("regex");
    re.is_match(line)
}

/// `sandbox list`'s text with each account's webhook lines sorted.
fn sorted_rows(text: &str) -> String {
    let mut out = Vec::new();
    let mut rows: Vec<&str> = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        if line.starts_with("  ") && !line.starts_with("    ") {
            rows.push(line);
            continue;
        }
        rows.sort_by_key(|r| r.split_whitespace().nth(2).map(str::to_string));
        out.append(&mut rows);
        out.push(line);
    }
    out.pop();
    out.iter().map(|l| format!("{l}\n")).collect()
}

/// The webhooks of one account as (name, status, url) in creation order.
fn of_account(webhooks: &[Value], account: &str) -> Vec<(String, String, String)> {
    webhooks
        .iter()
        .filter(|w| w["account"] == account)
        .map(|w| {
            let s = |k: &str| w[k].as_str().unwrap_or_default().to_string();
            (s("name"), s("status"), s("webhookUrl"))
        })
        .collect()
}

fn names(list: &[(String, String, String)]) -> Vec<&str> {
    list.iter().map(|(n, _, _)| n.as_str()).collect()
}

/// What the walk-through's state records: name → id.
fn recorded(dir: &Path, state: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dir.join(state)).expect("the state");
    let json: Value = serde_json::from_str(&text).expect("JSON");
    let mut out: Vec<(String, String)> = json["webhooks"]
        .as_object()
        .expect("webhooks")
        .iter()
        .map(|(n, r)| (n.clone(), r["id"].as_str().unwrap_or_default().to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn the_readme_walkthrough_rehearses_every_workflow_against_the_sandbox() {
    let commands = walkthrough();
    let mut r = Rehearsal {
        dir: tempfile::tempdir().expect("tempdir"),
        server: None,
        url: String::new(),
        transcript: String::new(),
    };
    let step = |r: &mut Rehearsal, line: &str| {
        let i = commands
            .iter()
            .position(|c| c == line)
            .unwrap_or_else(|| panic!("the README no longer has `{line}`"));
        r.run(&commands[i]);
    };
    // The walk-through is run line by line as the README has it; between its blocks, what the
    // sandbox holds is checked against what the text says.
    let mut ran = 0;
    let mut run_until = |r: &mut Rehearsal, last: &str| {
        while ran < commands.len() {
            let line = commands[ran].clone();
            ran += 1;
            step(r, &line);
            if line.starts_with(last) {
                return;
            }
        }
        panic!("the README has no `{last}` after the earlier steps");
    };

    run_until(&mut r, "saleshandy-webhooks sandbox list");
    let all = [
        "Email Sent to Warehouse",
        "Prospect Lifecycle",
        "Engagement to CRM",
        "Deliverability Alerts",
        "Task Activity",
    ];
    let mut created = names(&of_account(&r.webhooks(), "sandbox-api-key"))
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    created.sort();
    let mut want: Vec<String> = all.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(
        created, want,
        "the apply created the five in the served sandbox"
    );
    let ids_before = recorded(r.dir.path(), "webhooks.state.json");

    run_until(&mut r, "saleshandy-webhooks status --sandbox");
    let live = of_account(&r.webhooks(), "sandbox-api-key");
    let find = |name: &str| live.iter().find(|(n, _, _)| n == name).cloned();
    assert_eq!(
        find("Engagement to CRM").map(|w| w.2),
        Some("https://crm.example.org/api/v2/engagement".to_string())
    );
    assert_eq!(
        find("Prospect Lifecycle").map(|w| w.1),
        Some("paused".into())
    );
    assert_eq!(find("Task Activity"), None, "deleted");

    run_until(&mut r, "saleshandy-webhooks apply --sandbox --auto-approve");
    // The lost answer's create happened: the sandbox holds it, the state does not.
    let task = r.id_of("Task Activity");
    let state = std::fs::read_to_string(r.dir.path().join("webhooks.state.json")).unwrap();
    let state: Value = serde_json::from_str(&state).unwrap();
    assert!(state["unknown"]["Task Activity"].is_object(), "{state}");

    run_until(&mut r, "saleshandy-webhooks plan");
    let mut want_ids: Vec<(String, String)> = ids_before
        .iter()
        .filter(|(n, _)| n != "Task Activity")
        .cloned()
        .collect();
    want_ids.push(("Task Activity".into(), task));
    want_ids.sort();
    assert_eq!(recorded(r.dir.path(), "webhooks.state.json"), want_ids);

    run_until(
        &mut r,
        "saleshandy-webhooks sandbox list --account sandbox-burst",
    );
    // The 429s were all answered: the sandbox holds no fault still waiting.
    assert_eq!(r.pending_faults(), serde_json::json!({ "pending": [] }));
    run_until(&mut r, "kill %1");
    assert_eq!(ran, commands.len(), "every command of the walk-through ran");

    // The burst: each of the five created once, in the account of its own key (the data file
    // has a line for every change, so each id is counted once).
    let mut burst: Vec<String> = created_in(r.dir.path())
        .into_iter()
        .filter(|(_, account, _)| account == "sandbox-burst")
        .map(|(_, _, name)| name)
        .collect();
    burst.sort();
    let mut all_sorted = all.to_vec();
    all_sorted.sort();
    assert_eq!(burst, all_sorted, "each created exactly once");
    assert_eq!(
        recorded(r.dir.path(), "burst.state.json").len(),
        5,
        "the burst's state records all five"
    );

    let transcript = named_ids(&r);
    let text = filters::apply(&transcript, Some(r.dir.path()));
    support::snapshot("rehearsal-walkthrough", &text);
}

/// The transcript with every id shown as the name of its webhook (and its account when it is
/// not the default one), so the snapshot says which webhook each line is about.
fn named_ids(r: &Rehearsal) -> String {
    let mut text = r.transcript.clone();
    let mut seen: Vec<String> = Vec::new();
    for (id, account, name) in created_in(r.dir.path()) {
        let mut label = match account.as_str() {
            "sandbox-api-key" => name,
            account => format!("{name}@{account}"),
        };
        let n = seen.iter().filter(|l| **l == label).count();
        seen.push(label.clone());
        if n > 0 {
            label = format!("{label} #{}", n + 1);
        }
        text = text.replace(&id, &format!("[id of {label}]"));
    }
    text
}

/// Every webhook the sandbox's data file says was created, deleted ones included, in
/// creation order: (id, account, name as created).
fn created_in(dir: &Path) -> Vec<(String, String, String)> {
    let data = std::fs::read_to_string(dir.join("webhooks.sandbox.json")).expect("data file");
    let mut created: Vec<(String, String, String)> = Vec::new();
    for line in data.lines().skip(1) {
        let change: Value = serde_json::from_str(line).expect("a JSON line");
        let put = &change["put"];
        let s = |k: &str| put[k].as_str().unwrap_or_default().to_string();
        if put.is_object() && !created.iter().any(|(id, _, _)| *id == s("id")) {
            created.push((s("id"), s("account"), s("name")));
        }
    }
    created
}

/// The sandbox's own commands never reach anything but a sandbox on this machine: a real API
/// URL is refused before any request.
#[test]
fn the_sandbox_commands_refuse_an_address_off_this_machine() {
    for (url, why) in [
        (
            "https://open-api.saleshandy.com",
            "a sandbox is served over plain http",
        ),
        (
            "http://10.0.0.8:8080",
            "it is not on this machine (127.0.0.1, ::1 or localhost)",
        ),
    ] {
        support::test(["sandbox", "pause", "0123456789abcdef01234567", "--sandbox-url", url])
            .env("NO_COLOR", "1")
            .status(1)
            .stderr(format!(
                "sandbox::not_local\n\n  × `{url}` is not a sandbox address: {why}\n  help: the sandbox's own commands work only on a sandbox on this machine, e.g. --sandbox-url http://127.0.0.1:[PORT]; they can never reach Saleshandy\n"
            ))
            .run();
    }
}

/// A sandbox file that does not exist is named, not made: nothing is created.
#[test]
fn a_missing_sandbox_file_is_refused_and_not_created() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = bin_process();
    c.current_dir(dir.path()).env("NO_COLOR", "1").args([
        "sandbox",
        "list",
        "--data",
        "typo.sandbox.json",
    ]);
    crate::support::Test::from_command(c, Some(dir.path().to_path_buf()))
        .status(1)
        .stderr("sandbox::missing\n\n  × there is no sandbox file `typo.sandbox.json`\n  help: `apply --sandbox` keeps its sandbox's webhooks in the file beside its state, and `sandbox --data FILE` in FILE; check the path (nothing was created), or point the command at a running sandbox (--api-url, --sandbox-url)\n")
        .run();
    assert!(!dir.path().join("typo.sandbox.json").exists());
}
