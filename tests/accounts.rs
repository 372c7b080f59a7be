//! Several accounts in one run: a config per account with its own key (`apiKeyEnv`), state
//! and lock; one account failing does not stop the others; one global limit; the totals.

use std::time::Duration;

use crate::support::{output_text, stderr_text, Test, World};

const KEYS: [&str; 3] = ["key-acme-111", "key-bolt-222", "key-cora-333"];
const NAMES: [&str; 3] = ["acme", "bolt", "cora"];

/// `validate`'s verdicts on the three configs of [`world`]`(2)`.
/// `apply` over every account with one create in flight at a time.
const APPLY_ONE_AT_A_TIME: [&str; 6] = [
    "apply",
    "-c",
    "clients",
    "--auto-approve",
    "--parallelism",
    "1",
];

const ALL_VALID: &str = "clients/acme.yaml is valid: 2 webhooks.
clients/bolt.yaml is valid: 2 webhooks.
clients/cora.yaml is valid: 2 webhooks.
";

/// Three accounts (a sandbox key each) with `hooks` webhooks per config in `clients/`, and no
/// `SALESHANDY_API_KEY`: each config names its own variable.
fn world(hooks: usize) -> World {
    let w = World::builder().api_keys(&KEYS).no_key().build();
    std::fs::create_dir(w.path("clients")).unwrap();
    for name in NAMES {
        let mut text = format!(
            "version: 1\napiKeyEnv: {}_SALESHANDY_KEY\nwebhooks:\n",
            name.to_uppercase()
        );
        for i in 0..hooks {
            text.push_str(&format!("  - name: {name} hook {i}\n    url: https://{name}.example.org/{i}\n    events: [email-sent]\n"));
        }
        std::fs::write(w.path(&format!("clients/{name}.yaml")), text).unwrap();
    }
    w
}

/// `args` in `w` with every account's key variable set, bolt's to `bolt_key`.
fn accounts<I, S>(w: &World, args: I, bolt_key: &str) -> Test
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    w.test(args)
        .env("ACME_SALESHANDY_KEY", KEYS[0])
        .env("BOLT_SALESHANDY_KEY", bolt_key)
        .env("CORA_SALESHANDY_KEY", KEYS[2])
}

/// How many webhooks of `account` the server holds.
fn on_server(w: &World, account: &str) -> usize {
    w.sandbox
        .webhooks()
        .iter()
        .filter(|h| h.name.starts_with(account))
        .count()
}

fn by_account(w: &World) -> (usize, usize, usize) {
    (
        on_server(w, "acme"),
        on_server(w, "bolt"),
        on_server(w, "cora"),
    )
}

#[test]
fn one_wrong_key_fails_that_account_and_the_others_are_created() {
    let w = world(3);
    // One create in flight at a time over all accounts; which account's create goes next
    // varies, so the progress lines are compared as a set.
    let o = accounts(&w, APPLY_ONE_AT_A_TIME, "wrong-key")
        .status(1)
        .stdout_snapshot("accounts-apply-one-wrong-key")
        .stderr_unchecked()
        .run();
    let hooks =
        |account: &str| -> Vec<String> { (0..3).map(|i| format!("{account} hook {i}")).collect() };
    let mut progress = each("created", &[hooks("acme"), hooks("cora")].concat());
    progress.push(("failed".to_string(), "bolt hook 0".to_string()));
    progress.sort();
    assert_eq!(
        progress_in_any_order(&stderr_text(&o)),
        (progress, String::new())
    );
    assert_eq!(by_account(&w), (3, 0, 3));
    let text = output_text(&o);
    assert!(!text.contains("wrong-key") && !text.contains(KEYS[0]));
    // Each account has its own state; the refused one wrote none.
    for (name, exists) in [("acme", true), ("bolt", false), ("cora", true)] {
        assert_eq!(
            w.path(&format!("clients/{name}.state.json")).exists(),
            exists,
            "{name}"
        );
    }
    // With the key fixed, only the failed account's webhooks are created.
    accounts(&w, APPLY_ONE_AT_A_TIME, KEYS[1])
        .stdout_snapshot("accounts-apply-key-fixed")
        .stderr(
            "[1/3] created: bolt hook 0\n[2/3] created: bolt hook 1\n[3/3] created: bolt hook 2\n",
        )
        .run();
    assert_eq!(by_account(&w), (3, 3, 3));
    assert_eq!(w.sandbox.webhooks().len(), 9);
}

#[test]
fn json_results_are_one_line_per_account() {
    let w = world(2);
    accounts(
        &w,
        [
            "apply",
            "-c",
            "clients",
            "--auto-approve",
            "--format",
            "json",
            "--parallelism",
            "1",
        ],
        "wrong-key",
    )
    .status(1)
    .stdout_json_snapshot("accounts-apply-json-one-wrong-key")
    .run();
    assert_eq!(by_account(&w), (2, 0, 2));
}

#[test]
fn a_missing_account_key_names_its_variable_and_spares_the_others() {
    let w = world(1);
    accounts(
        &w,
        [
            "apply",
            "-c",
            "clients/acme.yaml",
            "-c",
            "clients/bolt.yaml",
            "--auto-approve",
        ],
        "",
    )
    .status(1)
    .stdout_snapshot("accounts-apply-missing-key")
    .stderr_snapshot("accounts-apply-missing-key-stderr")
    .run();
    assert_eq!((on_server(&w, "acme"), on_server(&w, "bolt")), (1, 0));
    assert!(!w.path("clients/bolt.state.json").exists());
}

#[test]
fn accounts_run_at_once_under_one_global_limit() {
    let w = world(4);
    w.sandbox.set_latency(Duration::from_millis(150));
    // Two creates at once finish in either order: the progress lines are checked as a set.
    let o = accounts(
        &w,
        [
            "apply",
            "-c",
            "clients",
            "--auto-approve",
            "--parallelism",
            "2",
        ],
        KEYS[1],
    )
    .stdout_snapshot("accounts-apply-parallel")
    .stderr_unchecked()
    .run();
    let names: Vec<String> = NAMES
        .iter()
        .flat_map(|n| (0..4).map(move |i| format!("{n} hook {i}")))
        .collect();
    assert_eq!(
        progress_in_any_order(&stderr_text(&o)),
        (each("created", &names), String::new())
    );
    assert_eq!(w.sandbox.webhooks().len(), 12);
    let max = w.sandbox.max_in_flight_creates();
    assert_eq!(
        max, 2,
        "at most 2 creates in flight over all accounts (without the global limit up to 6)"
    );
}

/// The progress lines `[k/N] WORD: NAME` of `stderr` as sorted `(WORD, NAME)` pairs, after
/// checking that k counts up from 1 and N is the same on every line, and the rest of `stderr`. Accounts run at once, so their
/// lines interleave in an order no test can fix.
fn progress_in_any_order(stderr: &str) -> (Vec<(String, String)>, String) {
    let line = regex::Regex::new(r"^\[(\d+)/(\d+)\] ([a-z ()]+): (.+)$").expect("regex");
    let (mut progress, mut rest) = (Vec::new(), String::new());
    for l in stderr.lines() {
        match line.captures(l) {
            Some(c) => {
                let k: usize = c[1].parse().expect("a number");
                assert_eq!(k, progress.len() + 1, "progress counts up:\n{stderr}");
                progress.push((c[2].to_string(), c[3].to_string(), c[4].to_string()));
            }
            None => rest.push_str(&format!("{l}\n")),
        }
    }
    assert!(
        progress.windows(2).all(|p| p[0].0 == p[1].0),
        "every line counts to the same total:\n{stderr}"
    );
    let mut pairs: Vec<(String, String)> = progress.into_iter().map(|(_, w, n)| (w, n)).collect();
    pairs.sort();
    (pairs, rest)
}

/// `(word, name)` for each of `names`, sorted: what [`progress_in_any_order`] returns.
fn each(word: &str, names: &[String]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = names
        .iter()
        .map(|n| (word.to_string(), n.clone()))
        .collect();
    pairs.sort();
    pairs
}

#[test]
fn plan_and_validate_take_several_configs() {
    let w = world(2);
    accounts(
        &w,
        ["plan", "-c", "clients", "--detailed-exitcode"],
        KEYS[1],
    )
    .status(2)
    .stdout_snapshot("accounts-plan-human")
    .stderr("3 accounts: 3 ok, 0 failed.\n")
    .run();

    let o = accounts(&w, ["plan", "-c", "clients", "--format", "json"], KEYS[1])
        .stdout_snapshot("accounts-plan-json")
        .stderr("3 accounts: 3 ok, 0 failed.\n")
        .run();
    let docs: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect();
    assert_eq!(docs.len(), 3);
    assert!(docs.iter().all(|d| d["summary"]["create"] == 2));

    accounts(&w, ["validate", "-c", "clients"], KEYS[1])
        .stdout(ALL_VALID)
        .stderr("3 accounts: 3 ok, 0 failed.\n")
        .run();
    accounts(
        &w,
        ["validate", "-c", "clients", "--format", "json"],
        KEYS[1],
    )
    .stdout("[]\n")
    .stderr("3 accounts: 3 ok, 0 failed.\n")
    .run();

    // Several `-c` are the same run as their directory.
    let each = [
        "-c",
        "clients/acme.yaml",
        "-c",
        "clients/bolt.yaml",
        "-c",
        "clients/cora.yaml",
    ];
    accounts(&w, ["plan"].iter().chain(&each), KEYS[1])
        .stdout_snapshot("accounts-plan-human")
        .stderr("3 accounts: 3 ok, 0 failed.\n")
        .run();
    accounts(&w, ["validate"].iter().chain(&each), KEYS[1])
        .stdout(ALL_VALID)
        .stderr("3 accounts: 3 ok, 0 failed.\n")
        .run();
}

#[test]
fn one_invalid_config_fails_its_account_and_the_others_go_on() {
    let w = world(2);
    std::fs::write(
        w.path("clients/bolt.yaml"),
        "version: 1\nwebhooks: [{name: x}]\n",
    )
    .unwrap();
    // One JSON list over every file.
    let o = accounts(
        &w,
        ["validate", "-c", "clients", "--format", "json"],
        KEYS[1],
    )
    .status(1)
    .stdout_snapshot("accounts-validate-json-one-invalid")
    .stderr("3 accounts: 2 ok, 1 failed.\n")
    .run();
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON list");
    let files: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["clients/bolt.yaml", "clients/bolt.yaml"]);

    accounts(&w, ["validate", "-c", "clients"], KEYS[1])
        .status(1)
        .stdout(
            "clients/acme.yaml is valid: 2 webhooks.\nclients/cora.yaml is valid: 2 webhooks.\n",
        )
        .stderr_snapshot("accounts-validate-human-one-invalid")
        .run();

    // The broken account fails, the others still plan.
    accounts(&w, ["plan", "-c", "clients"], KEYS[1])
        .status(1)
        .stdout_snapshot("accounts-plan-human-one-invalid")
        .stderr_snapshot("accounts-plan-human-one-invalid-stderr")
        .run();

    // And apply: the others are created.
    let o = accounts(&w, APPLY_ONE_AT_A_TIME, KEYS[1])
        .status(1)
        .stdout_snapshot("accounts-apply-one-invalid")
        .stderr_unchecked()
        .run();
    let (progress, rest) = progress_in_any_order(&stderr_text(&o));
    let created: Vec<String> = ["acme hook 0", "acme hook 1", "cora hook 0", "cora hook 1"]
        .map(String::from)
        .to_vec();
    assert_eq!(progress, each("created", &created));
    crate::support::snapshot("accounts-apply-one-invalid-stderr", &w.filtered(&rest));
    assert_eq!(by_account(&w), (2, 0, 2));
}

#[test]
fn per_account_options_are_refused_with_several_configs() {
    let w = world(1);
    for (args, what) in [
        (
            &["plan", "-c", "clients", "--state", "x.json"][..],
            "--state",
        ),
        (&["plan", "-c", "clients", "--out", "p.json"][..], "--out"),
        (&["apply", "p.json", "-c", "clients"][..], "a saved plan"),
    ] {
        accounts(&w, args, KEYS[1])
            .status(1)
            .stderr(format!(
                "config::many_configs

  × {what} works with one config, and this run has several
  help: run it once per config (-c FILE); each config has its own state beside it
"
            ))
            .run();
    }
    assert_eq!(w.sandbox.requests().len(), 0);
}

/// What `apply --format json` prints for `account` with nothing to create, on one line.
fn nothing_line(account: &str) -> String {
    format!(
        "{{\"format_version\":1,\"endpoint\":\"http://127.0.0.1:[PORT]\",\"state\":\"clients/{account}.state.json\",\"webhooks\":[]}}\n"
    )
}

/// What `apply --format json` prints for `account`'s one create, on one line.
fn created_line(account: &str) -> String {
    format!(
        "{{\"format_version\":1,\"endpoint\":\"http://127.0.0.1:[PORT]\",\"state\":\"clients/{account}.state.json\",\"webhooks\":[{{\"name\":\"{account} hook 0\",\"result\":\"created\",\"id\":\"[ID]\"}}]}}\n"
    )
}

/// "Several accounts" is counted over the config files a run expands to, not over its `-c`
/// arguments: `-c clients` (three files) prints one compact line per account, also for an
/// account with nothing to create, and a directory of one file is one pretty document.
#[test]
fn json_is_one_line_per_account_whenever_several_are_in_play() {
    let w = world(1);
    accounts(
        &w,
        ["apply", "-c", "clients/acme.yaml", "--auto-approve"],
        KEYS[1],
    )
    .stdout_unchecked()
    .stderr_unchecked()
    .run();
    let apply_json = [
        "apply",
        "--auto-approve",
        "--format",
        "json",
        "--parallelism",
        "1",
        "-c",
    ];
    accounts(&w, apply_json.iter().chain(&["clients"]), KEYS[1])
        .stdout(nothing_line("acme") + &created_line("bolt") + &created_line("cora"))
        .run();
    // Nothing to create anywhere: still one line per account.
    accounts(&w, apply_json.iter().chain(&["clients"]), KEYS[1])
        .stdout(nothing_line("acme") + &nothing_line("bolt") + &nothing_line("cora"))
        .run();

    // A directory of one config is one account: one pretty document.
    std::fs::create_dir(w.path("solo")).unwrap();
    std::fs::write(
        w.path("solo/dora.yaml"),
        "version: 1\napiKeyEnv: ACME_SALESHANDY_KEY\nwebhooks:\n  - name: dora hook 0\n    url: https://dora.example.org/0\n    events: [email-sent]\n",
    )
    .unwrap();
    accounts(&w, apply_json.iter().chain(&["solo"]), KEYS[1])
        .stdout(
            "{
  \"format_version\": 1,
  \"endpoint\": \"http://127.0.0.1:[PORT]\",
  \"state\": \"solo/dora.state.json\",
  \"webhooks\": [
    {
      \"name\": \"dora hook 0\",
      \"result\": \"created\",
      \"id\": \"[ID]\"
    }
  ]
}
",
        )
        .run();
    accounts(&w, apply_json.iter().chain(&["solo"]), KEYS[1])
        .stdout(
            "{
  \"format_version\": 1,
  \"endpoint\": \"http://127.0.0.1:[PORT]\",
  \"state\": \"solo/dora.state.json\",
  \"webhooks\": []
}
",
        )
        .run();
    accounts(&w, ["plan", "--format", "json", "-c", "solo"], KEYS[1])
        .stdout_snapshot("accounts-plan-json-one-in-dir")
        .run();
    accounts(&w, ["status", "--format", "json", "-c", "solo"], KEYS[1])
        .stdout_snapshot("accounts-status-json-one-in-dir")
        .run();

    // Several `-c`, one of them a directory: one line per account in every command.
    let several = ["-c", "solo", "-c", "clients/bolt.yaml"];
    let dora = nothing_line("acme").replace("clients/acme", "solo/dora");
    accounts(&w, apply_json[..6].iter().chain(&several), KEYS[1])
        .stdout(dora + &nothing_line("bolt"))
        .run();
    accounts(
        &w,
        ["plan", "--format", "json"].iter().chain(&several),
        KEYS[1],
    )
    .stdout_snapshot("accounts-plan-json-dir-and-file")
    .stderr("2 accounts: 2 ok, 0 failed.\n")
    .run();
    accounts(
        &w,
        ["status", "--format", "json"].iter().chain(&several),
        KEYS[1],
    )
    .stdout_snapshot("accounts-status-json-dir-and-file")
    .stderr("2 accounts: 2 ok, 0 failed.\n")
    .run();
}

/// `acme.yaml` and `acme.yml` (or one file named twice) resolve to one state: the run is
/// refused before anything is read, sent or written, naming both configs and the state.
#[test]
fn two_configs_of_one_state_are_refused_naming_both() {
    let w = world(1);
    std::fs::copy(w.path("clients/acme.yaml"), w.path("clients/acme.yml")).unwrap();
    let refused = |first: &str, second: &str| {
        format!(
            "config::shared_state

  × `{first}` and `{second}` would share the state `clients/acme.state.json`
  help: each config is one account with a state of its own (`<config stem>.state.json` beside it): rename one of them, or leave the duplicate out of this run; nothing was done
"
        )
    };
    let by_dir = refused("clients/acme.yaml", "clients/acme.yml");
    for args in [
        &["apply", "-c", "clients", "--auto-approve"][..],
        &["plan", "-c", "clients"][..],
        &["status", "-c", "clients"][..],
    ] {
        accounts(&w, args, KEYS[1]).status(1).stderr(&by_dir).run();
    }
    let twice = [
        "apply",
        "--auto-approve",
        "-c",
        "clients/acme.yaml",
        "-c",
        "clients/./acme.yaml",
    ];
    accounts(&w, twice, KEYS[1])
        .status(1)
        .stderr(refused("clients/acme.yaml", "clients/./acme.yaml"))
        .run();
    assert_eq!(w.sandbox.requests().len(), 0);
    assert!(!w.path("clients/acme.state.json").exists());
}

/// A directory of configs often holds other YAML: hidden files (`.pre-commit-config.yaml`) are
/// left out, and a file without a top-level `webhooks` key is skipped with a note; one that
/// YAML cannot read is still an account whose errors are reported.
#[test]
fn a_directory_run_skips_hidden_files_and_other_yaml() {
    let w = world(2);
    std::fs::write(
        w.path("clients/.pre-commit-config.yaml"),
        "repos:\n  - repo: local\n",
    )
    .unwrap();
    std::fs::write(
        w.path("clients/docker-compose.yaml"),
        "version: \"3.8\"\nservices:\n  web:\n    image: nginx\n",
    )
    .unwrap();
    std::fs::write(w.path("clients/empty.yml"), "").unwrap();
    accounts(&w, ["validate", "-c", "clients"], KEYS[1])
        .stdout(ALL_VALID)
        .stderr("Note: skipped clients/docker-compose.yaml: it has no top-level `webhooks` key, so it is not a webhooks config.\nNote: skipped clients/empty.yml: it has no top-level `webhooks` key, so it is not a webhooks config.\n3 accounts: 3 ok, 0 failed.\n")
        .run();
    // A file named explicitly is read as a config, whatever it holds.
    w.test(["validate", "-c", "clients/docker-compose.yaml"])
        .status(1)
        .stderr_snapshot("accounts-explicit-non-config")
        .run();
    // A file YAML cannot read is kept: it may be a config with a typo.
    std::fs::write(
        w.path("clients/dora.yaml"),
        "version: 1\nwebhooks:\n\t- name: x\n",
    )
    .unwrap();
    accounts(&w, ["validate", "-c", "clients"], KEYS[1])
        .status(1)
        .stdout(ALL_VALID)
        .stderr_snapshot("accounts-directory-broken-yaml-kept")
        .run();
    // Only other YAML: the directory holds no config.
    let other = w.path("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("docker-compose.yml"), "services: {}\n").unwrap();
    w.test(["validate", "-c", "other"])
        .status(1)
        .stderr_snapshot("accounts-directory-no-config")
        .run();
}

/// With several accounts and nothing to do, every command's `--format json` is still one
/// compact document per account per line, its keys in the order of the single-account
/// document (`validate`: one list).
#[test]
fn json_with_nothing_to_do_is_one_compact_line_per_account_in_every_command() {
    let w = world(1);
    fn all<'a>(args: &[&'a str]) -> Vec<&'a str> {
        let mut a = args.to_vec();
        a.extend(["--format", "json", "-c", "clients"]);
        a
    }
    accounts(&w, all(&["apply", "--auto-approve"]), KEYS[1])
        .stdout_unchecked()
        .run();
    // Everything created: nothing left to do anywhere.
    accounts(&w, all(&["apply", "--auto-approve"]), KEYS[1])
        .stdout(nothing_line("acme") + &nothing_line("bolt") + &nothing_line("cora"))
        .run();
    for command in ["plan", "status"] {
        let o = accounts(&w, all(&[command]), KEYS[1])
            .stdout_snapshot(&format!("accounts-{command}-json-nothing-to-do"))
            .stderr("3 accounts: 3 ok, 0 failed.\n")
            .run();
        let text = String::from_utf8(o.stdout).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{command}: {text}");
        for line in lines {
            let doc: serde_json::Value = serde_json::from_str(line).expect("one document a line");
            assert_eq!(doc["format_version"], 1, "{command}: {line}");
            assert!(
                line.starts_with("{\"format_version\":1,"),
                "{command}: {line}"
            );
        }
    }
    accounts(&w, all(&["validate"]), KEYS[1])
        .stdout("[]\n")
        .stderr("3 accounts: 3 ok, 0 failed.\n")
        .run();
}
