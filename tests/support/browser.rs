//! A real headless Chromium, driven over WebDriver, for tests of pages served on 127.0.0.1.
//!
//! [`browser`] starts ChromeDriver on a free loopback port and opens one Chromium session
//! through it; [`Browser`] and [`Element`] are a small blocking WebDriver client over
//! reqwest. Both programs are Debian's `chromium` and `chromium-driver`: those in `/usr/bin`
//! when both are there; otherwise kit `chromium` ([`super::tools::install_once`]), where
//! `apt-get download` fetches them and every dependency this machine lacks, and `dpkg-deb -x`
//! unpacks them: nothing is installed into the system. Chromium talks only to 127.0.0.1: its
//! background services are off and no host name but `localhost` resolves.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::Method;
use serde_json::{json, Value};

use super::object_servers::{spawn_in_own_group, tail};
use super::tools::{install_once, run};

/// The packages fetched even when the machine has some of them: Chromium runs from the kit.
const PACKAGES: &[&str] = &["chromium", "chromium-common", "chromium-driver"];

/// Chromium's flags: headless as root in a container, and no traffic of its own.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-sync",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-client-side-phishing-detection",
    "--disable-domain-reliability",
    "--disable-quic",
    "--no-pings",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
];

/// How long [`Browser::find`] waits for an element to appear (a page still being changed by
/// its scripts).
pub const FIND_WAIT: Duration = Duration::from_secs(2);

/// How long [`Element::click_to_leave`] waits for the browser to leave the page.
pub const LEAVE_WAIT: Duration = Duration::from_secs(10);

/// The W3C name of an element reference in WebDriver's JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Chromium and ChromeDriver are, and the environment they run in.
struct Chromium {
    chromedriver: PathBuf,
    binary: PathBuf,
    env: Vec<(&'static str, OsString)>,
}

/// Chromium and ChromeDriver, installing the kit first if `/usr/bin` lacks either. Panics (a
/// test failure) with what failed; never a skip.
fn chromium() -> &'static Chromium {
    static INSTALLED: OnceLock<Result<Chromium, String>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        let (system, driver) = (Path::new("/usr/bin/chromium"), "/usr/bin/chromedriver");
        if system.is_file() && Path::new(driver).is_file() {
            return Ok(Chromium {
                chromedriver: driver.into(),
                binary: system.into(),
                env: Vec::new(),
            });
        }
        let started = Instant::now();
        let mut fresh = false;
        let dir = install_once("chromium", &PACKAGES.join("\n"), |dir, log| {
            fresh = true;
            install(dir, log)
        })?;
        if fresh {
            eprintln!(
                "installed Chromium into {} in {:.1?}",
                dir.display(),
                started.elapsed()
            );
        }
        unpacked(&dir)
    });
    match installed {
        Ok(chromium) => chromium,
        Err(message) => panic!("installing Debian's chromium and chromium-driver: {message}"),
    }
}

/// The kit in `dir`: the packages' files under `root/`, found through `LD_LIBRARY_PATH` over
/// every unpacked dir holding a shared library and the kit's own `fonts.conf`.
fn unpacked(dir: &Path) -> Result<Chromium, String> {
    let root = dir.join("root");
    let mut libs = Vec::new();
    for top in ["lib", "usr/lib"] {
        library_dirs(&root.join(top), &mut libs);
    }
    if let Some(inherited) = std::env::var_os("LD_LIBRARY_PATH") {
        libs.extend(std::env::split_paths(&inherited));
    }
    let libs = std::env::join_paths(libs)
        .map_err(|e| format!("cannot put the kit's libraries in LD_LIBRARY_PATH: {e}"))?;
    Ok(Chromium {
        chromedriver: root.join("usr/bin/chromedriver"),
        binary: root.join("usr/lib/chromium/chromium"),
        env: vec![
            ("LD_LIBRARY_PATH", libs),
            ("FONTCONFIG_FILE", dir.join("fonts.conf").into()),
        ],
    })
}

fn library_dirs(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut holds_library = false;
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            library_dirs(&entry.path(), found);
        } else if entry.file_name().to_string_lossy().contains(".so") {
            holds_library = true;
        }
    }
    if holds_library {
        found.push(dir.to_path_buf());
    }
}

/// Fills the kit's (empty) `dir`: asks apt which packages installing Chromium would add
/// (without recommends), downloads them with [`PACKAGES`], unpacks them into `root/` and
/// checks that both programs start.
fn install(dir: &Path, log: &Path) -> Result<(), String> {
    let update = || {
        let mut c = Command::new("apt-get");
        c.args(["update", "-qq"]);
        run(c, "apt-get update", log)
    };
    let plan_log = dir.join("apt-plan.log");
    let plan = || {
        let mut c = Command::new("apt-get");
        c.args([
            "install",
            "--simulate",
            "--no-install-recommends",
            "chromium",
        ])
        .arg("chromium-driver");
        run(
            c,
            "apt-get install --simulate chromium chromium-driver",
            &plan_log,
        )?;
        fs::read_to_string(&plan_log)
            .map_err(|e| format!("cannot read {}: {e}", plan_log.display()))
    };
    // On a machine whose package lists were never fetched, apt knows no chromium.
    let plan = plan().or_else(|_| update().and_then(|()| plan()))?;
    let mut packages: Vec<String> = plan
        .lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("Inst ")?.split_whitespace();
            let name = words.next()?;
            let version = words.find_map(|word| word.strip_prefix('('))?;
            Some(format!("{name}={version}"))
        })
        .collect();
    for package in PACKAGES {
        if !packages
            .iter()
            .any(|p| p.split('=').next() == Some(package))
        {
            packages.push(package.to_string());
        }
    }
    let debs = dir.join("debs");
    fs::create_dir_all(&debs).map_err(|e| format!("cannot create {}: {e}", debs.display()))?;
    let download = || {
        let mut c = Command::new("apt-get");
        c.arg("download").args(&packages).current_dir(&debs);
        run(c, &format!("apt-get download {}", packages.join(" ")), log)
    };
    // A package list older than the mirror names files it no longer has.
    download().or_else(|_| update().and_then(|()| download()))?;
    let root = dir.join("root");
    let mut files: Vec<PathBuf> = fs::read_dir(&debs)
        .map_err(|e| format!("cannot list {}: {e}", debs.display()))?
        .flatten()
        .map(|entry| entry.path())
        .collect();
    files.sort();
    for deb in &files {
        let mut unpack = Command::new("dpkg-deb");
        unpack.arg("-x").arg(deb).arg(&root);
        run(unpack, &format!("dpkg-deb -x {}", deb.display()), log)?;
    }
    fs::remove_dir_all(&debs).map_err(|e| format!("cannot remove {}: {e}", debs.display()))?;
    // The unpacked fonts and the system's, with the system's aliases where it has them.
    let fonts = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"urn:fontconfig:fonts.dtd\">\n\
         <fontconfig>\n  <dir>{root}/usr/share/fonts</dir>\n  <dir>/usr/share/fonts</dir>\n  \
         <include ignore_missing=\"yes\">/etc/fonts/conf.d</include>\n  \
         <cachedir>{dir}/fontconfig-cache</cachedir>\n</fontconfig>\n",
        root = root.display(),
        dir = dir.display(),
    );
    let conf = dir.join("fonts.conf");
    fs::write(&conf, fonts).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
    let kit = unpacked(dir)?;
    for (program, name) in [
        (&kit.binary, "chromium"),
        (&kit.chromedriver, "chromedriver"),
    ] {
        let mut version = Command::new(program);
        version.arg("--version").envs(kit.env.iter().cloned());
        run(version, &format!("{name} --version"), log)?;
    }
    Ok(())
}

/// One Chromium session through its own ChromeDriver, both ended on drop.
pub struct Browser {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT`, where ChromeDriver listens.
    driver_url: String,
    /// The session's id, once it is open.
    session: Option<String>,
    driver: Child,
    log: PathBuf,
    /// Chromium's profile and ChromeDriver's log; removed after both have ended.
    home: tempfile::TempDir,
}

/// A new headless Chromium, its window 1280x900, with a fresh profile, ready for
/// [`Browser::goto`].
pub fn browser() -> Browser {
    let kit = chromium();
    let home = tempfile::tempdir().expect("a temp dir for Chromium's profile");
    let log = home.path().join("chromedriver.log");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port();
    // Without --allowed-ips ChromeDriver listens on loopback only and takes local clients.
    let mut command = Command::new(&kit.chromedriver);
    command
        .arg(format!("--port={port}"))
        .envs(kit.env.iter().cloned());
    let driver = spawn_in_own_group(command, &log)
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", kit.chromedriver.display()));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the WebDriver client");
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("an HTTP client");
    let mut browser = Browser {
        runtime,
        http,
        driver_url: format!("http://127.0.0.1:{port}"),
        session: None,
        driver,
        log,
        home,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !browser
        .call(Method::GET, "/status", None)
        .is_ok_and(|s| s["ready"] == true)
    {
        if Instant::now() > deadline || browser.driver.try_wait().is_ok_and(|s| s.is_some()) {
            browser.fail("ChromeDriver did not become ready");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let profile = browser.home.path().join("profile");
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let options = json!({ "binary": kit.binary, "args": args });
    let capabilities = json!({ "capabilities": { "alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": options,
        "timeouts": { "implicit": 0, "pageLoad": 30000, "script": 10000 },
    }}});
    let created = browser.call(Method::POST, "/session", Some(capabilities));
    match created.as_ref().map(|v| v["sessionId"].as_str()) {
        Ok(Some(id)) => browser.session = Some(id.to_string()),
        _ => browser.fail(&format!("cannot start a Chromium session: {created:?}")),
    }
    browser
}

impl Browser {
    /// Opens `url` and waits until it has loaded.
    pub fn goto(&self, url: &str) {
        self.command(Method::POST, "/url", Some(json!({ "url": url })));
    }

    /// The address of the page shown, after any redirect.
    pub fn current_url(&self) -> String {
        self.string(Method::GET, "/url")
    }

    /// The page's `<title>`.
    pub fn title(&self) -> String {
        self.string(Method::GET, "/title")
    }

    /// The page's DOM, serialized as HTML.
    pub fn page_source(&self) -> String {
        self.string(Method::GET, "/source")
    }

    /// The first element that the CSS selector `css` matches, waiting up to [`FIND_WAIT`] for
    /// one to appear; panics with the page's source when none does.
    pub fn find(&self, css: &str) -> Element<'_> {
        let query = json!({ "using": "css selector", "value": css });
        let deadline = Instant::now() + FIND_WAIT;
        match loop {
            match self.session_call(Method::POST, "/element", Some(query.clone())) {
                Err(e) if e.contains("no such element") && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                found => break found,
            }
        } {
            Ok(found) => self.element(&found, css),
            Err(e) => panic!(
                "no element matches {css:?} on {}: {e}\n--- the page's source, first lines\n{}",
                self.current_url(),
                self.page_source()
                    .lines()
                    .take(60)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
        }
    }

    /// Every element that the CSS selector `css` matches now, in document order (none is no
    /// error, and no wait).
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let query = json!({ "using": "css selector", "value": css });
        let found = self.command(Method::POST, "/elements", Some(query));
        let found = found.as_array().expect("a list of elements");
        found.iter().map(|e| self.element(e, css)).collect()
    }

    /// What the JavaScript function body `script` returns, run in the page shown.
    pub fn execute(&self, script: &str) -> Value {
        self.try_execute(script)
            .unwrap_or_else(|e| panic!("WebDriver script {script:?}: {e}"))
    }

    fn try_execute(&self, script: &str) -> Result<Value, String> {
        let body = json!({ "script": script, "args": [] });
        self.session_call(Method::POST, "/execute/sync", Some(body))
    }

    /// Writes a PNG of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) {
        let png = base64::engine::general_purpose::STANDARD
            .decode(self.string(Method::GET, "/screenshot"))
            .expect("a base64 screenshot");
        fs::write(path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    fn element(&self, found: &Value, css: &str) -> Element<'_> {
        let id = found[ELEMENT_KEY].as_str().expect("an element reference");
        Element {
            browser: self,
            id: id.to_string(),
            css: css.to_string(),
        }
    }

    fn string(&self, method: Method, path: &str) -> String {
        let value = self.command(method, path, None);
        value
            .as_str()
            .unwrap_or_else(|| panic!("{path}: not a string: {value}"))
            .to_string()
    }

    /// A command of this session; panics with WebDriver's error.
    fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let what = format!("{method} {path}");
        self.session_call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {what}: {e}"))
    }

    fn session_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let id = self.session.as_deref().expect("an open session");
        self.call(method, &format!("/session/{id}{path}"), body)
    }

    /// One request to ChromeDriver and the `value` of its answer. Sent from a thread of its
    /// own, so that a `#[tokio::test]` can call it too.
    fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.driver_url);
        let send = async {
            let mut request = self.http.request(method, &url);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let answer = request.send().await.map_err(|e| e.to_string())?;
            let status = answer.status();
            let mut answer: Value = answer.json().await.map_err(|e| e.to_string())?;
            let value = answer["value"].take();
            if status.is_success() {
                Ok(value)
            } else {
                Err(format!("{status}: {} {}", value["error"], value["message"]))
            }
        };
        std::thread::scope(|s| s.spawn(|| self.runtime.block_on(send)).join())
            .expect("the WebDriver request's thread")
    }

    /// Panics with ChromeDriver's output; the drop that follows ends it.
    fn fail(&self, what: &str) -> ! {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        panic!(
            "{what}\n--- ChromeDriver's output, last lines\n{}",
            tail(&log, 40)
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.session.is_some() {
            let _ = self.session_call(Method::DELETE, "", None);
        }
        unsafe { libc::kill(-(self.driver.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

/// An element of the page shown, found by [`Browser::find`] or [`Browser::find_all`].
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
    /// The selector it was found by, for error messages.
    css: String,
}

impl Element<'_> {
    /// Clicks it as a person would (scrolled into view first). What the click starts, a
    /// form's submission say, may still be under way on return: see [`Element::click_to_leave`].
    pub fn click(&self) {
        self.command(Method::POST, "/click", Some(json!({})));
    }

    /// Clicks it and waits, up to [`LEAVE_WAIT`], until another page has loaded in place of
    /// the one shown: for a button that submits a form, or a link.
    pub fn click_to_leave(&self) {
        // Every document has its own time origin; errors are a navigation under way.
        let loaded = "return document.readyState === 'complete' ? performance.timeOrigin : null";
        let before = self.browser.execute(loaded);
        self.click();
        let deadline = Instant::now() + LEAVE_WAIT;
        loop {
            let now = self.browser.try_execute(loaded);
            if now
                .as_ref()
                .is_ok_and(|now| !now.is_null() && *now != before)
            {
                return;
            }
            if Instant::now() > deadline {
                panic!("a click on {:?} led to no new page: {now:?}", self.css);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its rendered text, as a person sees it (hidden text left out).
    pub fn text(&self) -> String {
        self.command(Method::GET, "/text", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The value of its attribute `name`; `None` when it has none.
    pub fn attr(&self, name: &str) -> Option<String> {
        let value = self.command(Method::GET, &format!("/attribute/{name}"), None);
        value.as_str().map(str::to_string)
    }

    /// The current value of its property `name` (a field's `value` after typing, say).
    pub fn property(&self, name: &str) -> Value {
        self.command(Method::GET, &format!("/property/{name}"), None)
    }

    /// Types `text` into it, as keystrokes.
    pub fn send_keys(&self, text: &str) {
        self.command(Method::POST, "/value", Some(json!({ "text": text })));
    }

    /// Empties a form field.
    pub fn clear(&self) {
        self.command(Method::POST, "/clear", Some(json!({})));
    }

    fn command(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let what = format!("{method} {path} on {:?}", self.css);
        let path = format!("/element/{}{path}", self.id);
        self.browser
            .session_call(method, &path, body)
            .unwrap_or_else(|e| panic!("WebDriver {what}: {e}"))
    }
}
