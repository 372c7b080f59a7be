//! Configs of up to 10 MB, shaped to cost the most memory (aliases of a large scalar, a flow
//! list of one-letter items, tens of thousands of webhooks or of broken entries), validate
//! within 200 MB or are refused with a clear error: the peak memory is what the kernel
//! measured for the process.

use crate::support::{bin_process, flat, BIN};

const MIB: usize = 1024 * 1024;

/// Starts the binary and reports its peak memory. A process's peak also counts the memory of
/// the one that started it, at the moment it did (the kernel carries it over `exec`), so the
/// binary is started by a small Python process rather than by this big test process: what it
/// reports is the binary's own, or Python's (a few MiB), whichever is larger.
const MEASURE: &str = "import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)";

/// Runs `validate` on `text`; its exit code, its first problem (code and message, unwrapped),
/// the last line of its standard error, and its peak resident memory in bytes.
fn validate(text: &str) -> (i32, String, String, usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("big.yaml"), text).expect("config");
    let tool = bin_process();
    let mut measured = std::process::Command::new("python3");
    measured
        .args([
            "-c",
            MEASURE,
            BIN,
            "validate",
            "--no-color",
            "-c",
            "big.yaml",
        ])
        .current_dir(dir.path());
    // The binary's hermetic environment, as every test runs it.
    for (name, value) in tool.get_envs() {
        match value {
            Some(v) => measured.env(name, v),
            None => measured.env_remove(name),
        };
    }
    let o = measured
        .output()
        .expect("python3 runs (the suite needs it for its S3 servers)");
    let stderr = String::from_utf8_lossy(&o.stderr);
    // Up to its snippet, or to its help when the line is too long to show.
    let head: Vec<&str> = stderr
        .lines()
        .take_while(|l| !l.trim_start().starts_with('╭') && !l.trim_start().starts_with("help:"))
        .collect();
    let first = flat(&head.join("\n"));
    let last = stderr.lines().last().unwrap_or_default().to_string();
    // ru_maxrss is in KiB on Linux.
    let kib: usize = String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .expect("the peak");
    (o.status.code().unwrap_or(-1), first, last, kib * 1024)
}

/// Webhook entries until the text reaches `size` bytes; `url` and `events` as given.
fn webhooks(size: usize, url: &str, events: &str) -> String {
    let mut t = String::from("version: 1\nwebhooks:\n");
    let mut i = 0;
    while t.len() < size {
        t.push_str(&format!(
            "  - name: hook {i}\n    url: {url}{i}\n    events: [{events}]\n"
        ));
        i += 1;
    }
    t
}

const TOO_LARGE: &str =
    "config::too_large the file is too large to read: its values would take more than 32 MiB";

fn assert_within(what: &str, peak: usize) {
    assert!(peak < 200 * MIB, "{what} peaked at {} MiB", peak / MIB);
}

#[test]
fn ten_megabytes_of_webhooks_are_refused_as_too_large_within_200_mb() {
    let (code, first, last, peak) = validate(&webhooks(
        10_000_000,
        "https://ingest.example.org/h/",
        "email-sent, email-opened",
    ));
    assert_eq!((code, first.as_str()), (1, TOO_LARGE));
    assert_eq!(last, "big.yaml is not valid: 1 error.");
    assert_within("10 MB of webhooks", peak);
}

#[test]
fn a_flow_list_of_five_million_items_is_refused_within_200_mb() {
    let text = format!(
        "version: 1\nwebhooks: []\nx: [{}]\n",
        vec!["a"; 4_900_000].join(",")
    );
    let (code, first, _, peak) = validate(&text);
    assert_eq!(
        (code, first),
        (
            1,
            format!("{TOO_LARGE} (at line 3, column 919289; the line is too long to show)")
        )
    );
    assert_within("a flow list", peak);
}

#[test]
fn aliases_of_large_scalars_are_refused_within_200_mb() {
    // 90 anchors of 100 KB, used 20,000 times: gigabytes if expanded.
    let mut text = String::from("version: 1\nwebhooks: []\n");
    for k in 0..90 {
        text.push_str(&format!("a{k}: &a{k} {}\n", "x".repeat(100_000)));
    }
    let uses: Vec<String> = (0..20_000).map(|k| format!("*a{}", k % 90)).collect();
    text.push_str(&format!("b: [{}]\n", uses.join(", ")));
    let (code, first, _, peak) = validate(&text);
    assert_eq!(
        (code, first),
        (
            1,
            format!("{TOO_LARGE} (at line 93, column 915; the line is too long to show)")
        )
    );
    assert_within("aliases", peak);
}

#[test]
fn a_config_of_three_megabytes_validates_within_200_mb() {
    let (code, _, last, peak) = validate(&webhooks(
        3_000_000,
        "https://ingest.example.org/h/",
        "email-sent, email-opened",
    ));
    assert_eq!(
        (code, last.as_str()),
        (0, ""),
        "valid: the verdict goes to standard output"
    );
    assert_within("3 MB of webhooks", peak);
}

#[test]
fn tens_of_thousands_of_broken_entries_show_the_first_200_and_count_the_rest() {
    let (code, first, last, peak) = validate(&webhooks(3_000_000, "ftp://bad/", "nope"));
    assert_eq!(code, 1);
    assert_eq!(
        first,
        "config::url_scheme `url` uses the scheme `ftp`; webhooks are delivered over https or http only"
    );
    assert_eq!(last, "big.yaml is not valid: 92992 errors.");
    assert_within("broken entries", peak);
}
