//! Every fixture under tests/fixtures states what loading it must report, as trailing
//! `# expect: SEVERITY CODE LINE:COLUMN` lines; the rendered human diagnostics of each are
//! snapshot-tested.

use std::path::{Path, PathBuf};

use saleshandy_webhooks::config::{self, Loaded};
use saleshandy_webhooks::report::{self, Record, SourceFile};

const SECRET: &str = "s3cr3t-token-value";

fn env(name: &str) -> Option<String> {
    (name == "TOKEN").then(|| SECRET.to_string())
}

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new("tests/fixtures").join(dir))
        .unwrap_or_else(|e| panic!("tests/fixtures/{dir}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> (SourceFile, Loaded) {
    let text = std::fs::read_to_string(path).expect("fixture readable");
    let file = SourceFile::new(path.display().to_string(), text);
    let loaded = config::load(file.text(), &env);
    (file, loaded)
}

fn expected(file: &SourceFile) -> Vec<String> {
    file.text()
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(str::to_string)
        .collect()
}

fn actual(file: &SourceFile, loaded: &Loaded) -> Vec<String> {
    loaded
        .problems
        .iter()
        .map(|p| {
            let r = Record::new(p, file);
            format!("{} {} {}:{}", r.severity, r.code, r.line, r.column)
        })
        .collect()
}

#[test]
fn bad_fixtures_report_exactly_their_expected_problems() {
    let files = fixtures("bad");
    assert!(files.len() >= 25, "only {} bad fixtures", files.len());
    for path in files {
        let (file, loaded) = load(&path);
        let want = expected(&file);
        assert!(!want.is_empty(), "{}: no `# expect:` line", path.display());
        assert_eq!(actual(&file, &loaded), want, "{}", path.display());
        assert!(
            loaded.config.is_none(),
            "{}: an invalid file produced a config",
            path.display()
        );
    }
}

#[test]
fn warning_fixtures_load_with_their_warnings() {
    for path in fixtures("warn") {
        let (file, loaded) = load(&path);
        assert_eq!(
            actual(&file, &loaded),
            expected(&file),
            "{}",
            path.display()
        );
        assert!(
            loaded.config.is_some(),
            "{}: warnings must not fail loading",
            path.display()
        );
    }
}

#[test]
fn good_fixtures_and_examples_load_cleanly() {
    let mut files = fixtures("good");
    files.extend(["examples/webhooks.yaml", "examples/with-secrets.yaml"].map(PathBuf::from));
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        let loaded = config::load(&text, &|n| {
            (n == "TOKEN" || n == "CRM_TOKEN").then(|| "x".into())
        });
        assert!(
            loaded.problems.is_empty(),
            "{}: {:?}",
            path.display(),
            loaded.problems
        );
        assert!(loaded.config.is_some(), "{}", path.display());
    }
}

#[test]
fn rendered_diagnostics_match_snapshots() {
    for dir in ["bad", "warn"] {
        for path in fixtures(dir) {
            let (file, loaded) = load(&path);
            let rendered: String = loaded
                .problems
                .iter()
                .map(|p| report::human(p, &file, false) + "\n")
                .collect();
            assert!(
                !rendered.contains(SECRET),
                "{}: secret in output",
                path.display()
            );
            let name = format!(
                "{dir}-{}",
                path.file_stem().unwrap_or_default().to_string_lossy()
            );
            insta::assert_snapshot!(name, rendered);
        }
    }
}

#[test]
fn the_model_keeps_secrets_secret() {
    let (_, loaded) = load(Path::new("tests/fixtures/good/secret-header.yaml"));
    let config = loaded.config.expect("valid");
    let header = &config.webhooks[0].headers[0];
    assert!(header.value.is_secret());
    assert_eq!(header.value.expose(), format!("Bearer {SECRET}"));
    assert!(!format!("{config:?}").contains(SECRET));
}
