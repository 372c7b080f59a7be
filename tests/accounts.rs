//! Several accounts in one run: a config per account with its own key (`apiKeyEnv`), state
//! and lock; one account failing does not stop the others; one global limit.

use std::process::Output;
use std::time::Duration;

use crate::support::{output_text, World};

const KEYS: [&str; 3] = ["key-acme-111", "key-bolt-222", "key-cora-333"];
const NAMES: [&str; 3] = ["acme", "bolt", "cora"];

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

impl World {
    fn run_accounts(&self, args: &[&str], bolt_key: &str) -> Output {
        self.cmd()
            .args(args)
            .env("ACME_SALESHANDY_KEY", KEYS[0])
            .env("BOLT_SALESHANDY_KEY", bolt_key)
            .env("CORA_SALESHANDY_KEY", KEYS[2])
            .output()
            .unwrap()
    }

    fn on_server(&self, account: &str) -> usize {
        self.sandbox
            .webhooks()
            .iter()
            .filter(|w| w.name.starts_with(account))
            .count()
    }
}

#[test]
fn one_wrong_key_fails_that_account_and_the_others_are_created() {
    let w = world(3);
    let o = w.run_accounts(&["apply", "-c", "clients", "--auto-approve"], "wrong-key");
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert_eq!(
        (
            w.on_server("acme"),
            w.on_server("bolt"),
            w.on_server("cora")
        ),
        (3, 0, 3)
    );
    let text = output_text(&o);
    assert!(text.contains("the API refused the key"), "{text}");
    assert!(text.contains("Total over 3 accounts (1 with failures): 6 created (0 paused), 1 failed, 0 unknown, 2 not sent."), "{text}");
    assert!(!text.contains("wrong-key") && !text.contains(KEYS[0]));
    // Each account has its own state; the refused one wrote none.
    for (name, exists) in [("acme", true), ("bolt", false), ("cora", true)] {
        assert_eq!(
            w.dir
                .path()
                .join(format!("clients/{name}.state.json"))
                .exists(),
            exists,
            "{name}"
        );
    }
    // With the key fixed, only the failed account's webhooks are created.
    let o = w.run_accounts(&["apply", "-c", "clients", "--auto-approve"], KEYS[1]);
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    assert_eq!(
        (
            w.on_server("acme"),
            w.on_server("bolt"),
            w.on_server("cora")
        ),
        (3, 3, 3)
    );
    assert_eq!(w.sandbox.webhooks().len(), 9);
}

#[test]
fn a_missing_account_key_names_its_variable_and_spares_the_others() {
    let w = world(1);
    let o = w.run_accounts(
        &[
            "apply",
            "-c",
            "clients/acme.yaml",
            "-c",
            "clients/bolt.yaml",
            "--auto-approve",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(1));
    let text = output_text(&o);
    assert!(
        text.contains(
            "`BOLT_SALESHANDY_KEY` (named by `apiKeyEnv` in `clients/bolt.yaml`) is not set"
        ),
        "{text}"
    );
    assert_eq!((w.on_server("acme"), w.on_server("bolt")), (1, 0));
}

#[test]
fn accounts_run_at_once_under_one_global_limit() {
    let w = world(4);
    w.sandbox.set_latency(Duration::from_millis(150));
    let o = w.run_accounts(
        &[
            "apply",
            "-c",
            "clients",
            "--auto-approve",
            "--parallelism",
            "2",
        ],
        KEYS[1],
    );
    assert_eq!(o.status.code(), Some(0), "{}", output_text(&o));
    assert_eq!(w.sandbox.webhooks().len(), 12);
    let max = w.sandbox.max_in_flight_creates();
    assert_eq!(
        max, 2,
        "at most 2 creates in flight over all accounts (without the global limit up to 6)"
    );
}

#[test]
fn plan_and_validate_take_several_configs() {
    let w = world(2);
    let o = w.run_accounts(&["plan", "-c", "clients", "--detailed-exitcode"], KEYS[1]);
    assert_eq!(o.status.code(), Some(2), "{}", output_text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("Total over 3 accounts: 6 to create, 0 unchanged"),
        "{}",
        output_text(&o)
    );

    let o = w.run_accounts(&["plan", "-c", "clients", "--format", "json"], KEYS[1]);
    let docs: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect();
    assert_eq!(docs.len(), 3);
    assert!(docs.iter().all(|d| d["summary"]["create"] == 2));

    std::fs::write(
        w.dir.path().join("clients/bolt.yaml"),
        "version: 1\nwebhooks: [{name: x}]\n",
    )
    .unwrap();
    let o = w.run_accounts(&["validate", "-c", "clients", "--format", "json"], KEYS[1]);
    assert_eq!(o.status.code(), Some(1));
    let list: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("one JSON list over every file");
    let files: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert!(
        files.iter().all(|f| f.ends_with("bolt.yaml")) && files.len() == 2,
        "{files:?}"
    );
    // The broken account fails, the others still plan.
    let o = w.run_accounts(&["plan", "-c", "clients"], KEYS[1]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        output_text(&o).contains("3 accounts: 2 ok, 1 failed."),
        "{}",
        output_text(&o)
    );
}

#[test]
fn per_account_options_are_refused_with_several_configs() {
    let w = world(1);
    for args in [
        &["plan", "-c", "clients", "--state", "x.json"][..],
        &["plan", "-c", "clients", "--out", "p.json"][..],
        &["apply", "p.json", "-c", "clients"][..],
    ] {
        let o = w.run_accounts(args, KEYS[1]);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            output_text(&o).contains("works with one config, and this run has several"),
            "{}",
            output_text(&o)
        );
    }
    assert_eq!(w.sandbox.requests().len(), 0);
}
