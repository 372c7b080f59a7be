//! Real S3-compatible servers on 127.0.0.1 for the remote-state tests: SeaweedFS and moto,
//! each started once per test binary and shared by its tests, which each take a fresh bucket.
//!
//! ```ignore
//! let server = s3(S3Kind::SeaweedFs);
//! let bucket = server.new_bucket();
//! let store = server.store(&bucket); // object_store, to read and write objects directly
//! world.cmd().envs(server.env()); // how the binary reaches it
//! ```
//!
//! The first call on a machine installs both servers ([`install`]). A server that cannot be
//! installed or started fails the test that asked for it, with the reason and its log's tail.
//! Servers run in their own process group and get `SIGKILL` when the test binary ends,
//! however it ends (`PR_SET_PDEATHSIG`); their files are under
//! `<target>/test-servers/run/<kind>-<pid>-<n>/` (and SeaweedFS's Unix sockets in /tmp),
//! removed by a later run once `<pid>` is gone.
//!
//! Neither server checks request signatures (checked: any access key and secret, and unsigned
//! requests, are accepted), so the credentials here are only what a client must send.

mod azurite;
pub mod install;
pub mod proxy;

pub use proxy::{ProxiedRequest, ProxyMode, StoreProxy};

use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use object_store::aws::{AmazonS3, AmazonS3Builder, S3ConditionalPut};
use object_store::client::{HttpClient, HttpConnector};
use object_store::{BackoffConfig, ClientOptions, RetryConfig};

/// The access key id every client sends (neither server checks it).
pub const ACCESS_KEY_ID: &str = "saleshandy-test";
/// The secret access key every client signs with (neither server checks it).
pub const SECRET_ACCESS_KEY: &str = "saleshandy-test-secret";
/// The region every client names (both servers accept any).
pub const REGION: &str = "us-east-1";

/// How long a server may take to answer after its start (SeaweedFS takes about 2.4 s).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The S3-compatible servers the tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum S3Kind {
    /// SeaweedFS (`weed server -s3`): master, volume, filer and S3 gateway in one process.
    SeaweedFs,
    /// moto's server, the AWS mock, in memory.
    Moto,
    /// Azurite, Azure Blob Storage's emulator (not S3: its clients speak the Azure API, and
    /// [`S3Server::store`] does not apply to it).
    Azurite,
}

impl S3Kind {
    /// A short name for paths and messages.
    pub fn name(self) -> &'static str {
        match self {
            S3Kind::SeaweedFs => "seaweedfs",
            S3Kind::Moto => "moto",
            S3Kind::Azurite => "azurite",
        }
    }
}

/// The started server of `kind` that every test of this binary shares. The first call
/// starts it (and installs it on a fresh machine); a failed start fails every caller.
pub fn s3(kind: S3Kind) -> &'static S3Server {
    static SEAWEEDFS: OnceLock<Result<S3Server, String>> = OnceLock::new();
    static MOTO: OnceLock<Result<S3Server, String>> = OnceLock::new();
    static AZURITE: OnceLock<Result<S3Server, String>> = OnceLock::new();
    let cell = match kind {
        S3Kind::SeaweedFs => &SEAWEEDFS,
        S3Kind::Moto => &MOTO,
        S3Kind::Azurite => &AZURITE,
    };
    match cell.get_or_init(|| S3Server::try_start(kind)) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

/// A running S3 server on 127.0.0.1, killed (its whole process group) when dropped; the
/// shared ones of [`s3`] live as long as the test binary.
pub struct S3Server {
    kind: S3Kind,
    port: u16,
    dir: PathBuf,
    child: Mutex<Child>,
    started_in: Duration,
    buckets: AtomicUsize,
}

impl S3Server {
    /// A private server of `kind` for a test that must stop it; most tests use [`s3`].
    pub fn start(kind: S3Kind) -> S3Server {
        Self::try_start(kind).unwrap_or_else(|message| panic!("{message}"))
    }

    fn try_start(kind: S3Kind) -> Result<S3Server, String> {
        let bin = install::venv_bin();
        let run = install::test_servers_dir().join("run");
        remove_dead_runs(&run);
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        let n = STARTS.fetch_add(1, Ordering::Relaxed);
        let dir = run.join(format!("{}-{}-{n}", kind.name(), std::process::id()));
        // A free port may be taken by someone else before the server binds it: try again
        // with other ports when the server exits early.
        let mut last = String::new();
        for _ in 0..3 {
            remove_run(&dir);
            let data = dir.join("data");
            fs::create_dir_all(&data)
                .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
            let started = Instant::now();
            let (command, port) = match kind {
                S3Kind::SeaweedFs => seaweedfs_command(bin, &dir)?,
                S3Kind::Moto => moto_command(bin, &dir),
                S3Kind::Azurite => azurite_command(bin, &dir),
            };
            let log = dir.join("server.log");
            let child = spawn_in_own_group(command, &log)
                .map_err(|e| format!("cannot start the {} server: {e}", kind.name()))?;
            let mut server = S3Server {
                kind,
                port,
                dir: dir.clone(),
                child: Mutex::new(child),
                started_in: Duration::ZERO,
                buckets: AtomicUsize::new(0),
            };
            match server.wait_until_ready() {
                Ok(()) => {
                    server.started_in = started.elapsed();
                    return Ok(server);
                }
                Err(Ready::Exited(message)) => last = message,
                Err(Ready::TimedOut(message)) => return Err(message),
            }
        }
        Err(last)
    }

    pub fn kind(&self) -> S3Kind {
        self.kind
    }

    /// Where clients send requests: `http://127.0.0.1:PORT` (path-style buckets).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn region(&self) -> &'static str {
        REGION
    }

    pub fn access_key_id(&self) -> &'static str {
        ACCESS_KEY_ID
    }

    pub fn secret_access_key(&self) -> &'static str {
        SECRET_ACCESS_KEY
    }

    /// From the server's spawn to its first successful write.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The server's log (its standard output and error).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// The environment a process needs to reach this server as AWS tools read it, plus
    /// `NO_PROXY` so that a proxy set in the tests' environment never carries the traffic.
    pub fn env(&self) -> Vec<(String, String)> {
        match self.kind {
            S3Kind::Azurite => azurite_env(&self.endpoint()),
            _ => env_for(&self.endpoint()),
        }
    }

    /// Creates a fresh, empty bucket with a name no other test of this binary gets.
    pub fn new_bucket(&self) -> String {
        let n = self.buckets.fetch_add(1, Ordering::Relaxed);
        // Of one length whatever the pid, so that messages that quote it wrap the same way.
        let bucket = format!("test-{:08}-{n:04}", std::process::id());
        match self.create_bucket(&bucket) {
            Ok((200 | 201, _)) => bucket,
            Ok((status, body)) => panic!(
                "{}: creating bucket {bucket} answered {status}: {body}",
                self.kind.name()
            ),
            Err(e) => panic!(
                "{}: creating bucket {bucket}: {e}\n{}",
                self.kind.name(),
                log_tail(&self.log())
            ),
        }
    }

    /// Creates `bucket` (an Azure container on Azurite). Not in object_store: for S3, a plain
    /// PUT, unsigned (both S3 servers take it); for Azurite, signed with the emulator's key.
    fn create_bucket(&self, bucket: &str) -> std::io::Result<(u16, String)> {
        match self.kind {
            S3Kind::Azurite => azurite::create_container(self.port, bucket),
            _ => http_request(self.port, "PUT", &format!("/{bucket}"), b""),
        }
    }

    /// An object_store client of `bucket` on this server, with conditional puts by ETag.
    pub fn store(&self, bucket: &str) -> AmazonS3 {
        store_for(&self.endpoint(), bucket)
    }

    /// A [`StoreProxy`] in front of this server.
    pub fn proxy(&self) -> StoreProxy {
        StoreProxy::start(&self.endpoint())
    }

    fn wait_until_ready(&self) -> Result<(), Ready> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let name = self.kind.name();
        loop {
            if let Ok(Some(status)) = self.child.lock().unwrap().try_wait() {
                return Err(Ready::Exited(format!(
                    "the {name} server exited ({status}) before it answered on port {}\n{}",
                    self.port,
                    log_tail(&self.log())
                )));
            }
            // Ready once a bucket can be made and written to (SeaweedFS answers before its
            // filer and volume server are up); Azurite, once a container can be made.
            let probe = self.create_bucket("ready-probe").and_then(|r| {
                if self.kind == S3Kind::Azurite {
                    Ok((if r.0 == 201 { 200 } else { r.0 }, r.1))
                } else if r.0 == 200 {
                    http_request(self.port, "PUT", "/ready-probe/probe", b"ready")
                } else {
                    Ok(r)
                }
            });
            let last = match probe {
                Ok((200, _)) => return Ok(()),
                Ok((status, body)) => format!("answered {status}: {body}"),
                Err(e) => e.to_string(),
            };
            if Instant::now() > deadline {
                return Err(Ready::TimedOut(format!(
                    "the {name} server did not take a write on port {} within {READY_TIMEOUT:?} \
                     (last: {last})\n{}",
                    self.port,
                    log_tail(&self.log())
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap();
        unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = child.wait();
        remove_run(&self.dir);
    }
}

enum Ready {
    /// The server exited: perhaps a port was taken, so another try may work.
    Exited(String),
    TimedOut(String),
}

/// The file of a run dir that lists the server's Unix sockets outside it.
const SOCKETS: &str = "sockets";

/// Removes a run dir and the sockets it lists.
fn remove_run(dir: &Path) {
    for socket in fs::read_to_string(dir.join(SOCKETS))
        .unwrap_or_default()
        .lines()
    {
        if socket.starts_with("/tmp/seaweedfs-") && socket.ends_with(".sock") {
            let _ = fs::remove_file(socket);
        }
    }
    let _ = fs::remove_dir_all(dir);
}

/// `weed server` with all its ports free ones on 127.0.0.1 (iceberg and lance off), run in
/// `dir/data` with a `master.toml` that grows one volume per bucket instead of seven: each
/// bucket is a collection with volumes of its own, and the default 8 volumes would fill
/// after the first bucket (the second's first write then answers 500).
fn seaweedfs_command(bin: &Path, dir: &Path) -> Result<(Command, u16), String> {
    let data = dir.join("data");
    fs::write(
        data.join("master.toml"),
        "[master.volume_growth]\ncopy_1 = 1\n",
    )
    .map_err(|e| format!("cannot write master.toml: {e}"))?;
    let [master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc] =
        free_ports::<8>();
    // Its Unix sockets are always in /tmp: named here for `remove_dead_runs`.
    let sockets = [
        format!("master-grpc-{master_grpc}"),
        format!("volume-grpc-{volume_grpc}"),
        format!("filer-grpc-{filer_grpc}"),
        format!("filer-{filer}"),
        format!("s3-grpc-{s3_grpc}"),
        format!("s3-{s3}"),
    ]
    .map(|name| format!("/tmp/seaweedfs-{name}.sock\n"));
    fs::write(dir.join(SOCKETS), sockets.concat())
        .map_err(|e| format!("cannot write {SOCKETS}: {e}"))?;
    let mut c = Command::new(bin.join("weed"));
    c.current_dir(&data)
        // Keeps a developer's ~/.seaweedfs/*.toml out.
        .env("HOME", dir)
        // Its log files (glog writes them to the temp dir besides standard error).
        .env("TMPDIR", dir)
        .arg("server")
        .arg("-dir=.")
        .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
        .args(["-master.telemetry=false", "-volume.preStopSeconds=0"])
        // Leader at once: with the default raft bootstrap (about 1.9 s) the volume server's
        // first heartbeat often comes before there is a leader, and it retries only 5 s
        // later (ready in 8 s instead of 2.4 s).
        .arg("-master.peers=none")
        .args(["-volume.max=1000", "-master.volumeSizeLimitMB=64"])
        .arg(format!("-master.port={master}"))
        .arg(format!("-master.port.grpc={master_grpc}"))
        .arg(format!("-volume.port={volume}"))
        .arg(format!("-volume.port.grpc={volume_grpc}"))
        .arg(format!("-filer.port={filer}"))
        .arg(format!("-filer.port.grpc={filer_grpc}"))
        .arg("-s3")
        .arg(format!("-s3.port={s3}"))
        .arg(format!("-s3.port.grpc={s3_grpc}"))
        .args(["-s3.port.iceberg=0", "-s3.port.lance=0"]);
    Ok((c, s3))
}

/// `moto_server` on a free port of 127.0.0.1; it keeps everything in memory.
fn moto_command(bin: &Path, dir: &Path) -> (Command, u16) {
    let [port] = free_ports::<1>();
    let mut c = Command::new(bin.join("moto_server"));
    c.current_dir(dir.join("data")).env("HOME", dir).args([
        "-H",
        "127.0.0.1",
        "-p",
        &port.to_string(),
    ]);
    (c, port)
}

fn azurite_command(bin: &Path, dir: &Path) -> (Command, u16) {
    let [port] = free_ports::<1>();
    let mut c = Command::new(install::azurite_blob(bin));
    c.current_dir(dir.join("data"))
        .env("HOME", dir)
        .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
        .args(["--location", "."])
        .args(["--silent", "--skipApiVersionCheck", "--disableTelemetry"]);
    (c, port)
}

/// What a process needs to reach Azurite: the emulator's well-known account and key.
fn azurite_env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AZURE_STORAGE_USE_EMULATOR", "true"),
        ("AZURITE_BLOB_STORAGE_URL", endpoint),
        ("NO_PROXY", "127.0.0.1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `N` distinct ports free on 127.0.0.1 at the time of the call.
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binds 127.0.0.1:0"))
        .collect();
    std::array::from_fn(|i| listeners[i].local_addr().unwrap().port())
}

/// Spawns `command` in a process group of its own, with its output to `log`, from one
/// thread that lives as long as the test binary: `PR_SET_PDEATHSIG` fires when the thread
/// that forked the child ends, and a test's own thread ends with the test.
pub fn spawn_in_own_group(mut command: Command, log: &Path) -> std::io::Result<Child> {
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    let out = fs::File::create(log)?;
    command
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .process_group(0);
    let parent = std::process::id() as libc::pid_t;
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The test binary ended between fork and prctl: no signal would come.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        })
    };
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("s3-server-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("starts the spawner thread");
        Mutex::new(tx)
    });
    let (reply, answer) = mpsc::channel();
    spawner
        .lock()
        .unwrap()
        .send((command, reply))
        .expect("the spawner thread runs");
    answer.recv().expect("the spawner thread answers")
}

/// Removes the run dirs of test binaries that have ended.
fn remove_dead_runs(run: &Path) {
    let Ok(entries) = fs::read_dir(run) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.split('-').nth(1))
            .and_then(|p| p.parse::<libc::pid_t>().ok());
        if let Some(pid) = pid {
            let gone = unsafe { libc::kill(pid, 0) } != 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if gone {
                remove_run(&entry.path());
            }
        }
    }
}

/// One HTTP/1.1 request to 127.0.0.1:`port`, unsigned, `Connection: close`: its status and
/// body. For readiness probes and bucket creation, where no runtime may be at hand.
fn http_request(
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| answer.strip_prefix("HTTP/1.0 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            std::io::Error::other(format!("not an HTTP answer: {:?}", truncate(&answer)))
        })?;
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    Ok((status, truncate(body).to_string()))
}

fn truncate(text: &str) -> &str {
    let end = text.char_indices().nth(500).map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// The last lines of a server's log, for a failure message.
fn log_tail(log: &str) -> String {
    format!("--- the server's log, last lines\n{}", tail(log, 30))
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// [`S3Server::env`] for any endpoint (a server's or a proxy's).
fn env_for(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
        ("AWS_REGION", REGION),
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ALLOW_HTTP", "true"),
        ("NO_PROXY", "127.0.0.1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// [`S3Server::store`] for any endpoint. Few, quick retries: a test against a stopped proxy
/// fails within a second instead of retrying for minutes.
fn store_for(endpoint: &str, bucket: &str) -> AmazonS3 {
    AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_bucket_name(bucket)
        .with_access_key_id(ACCESS_KEY_ID)
        .with_secret_access_key(SECRET_ACCESS_KEY)
        .with_region(REGION)
        .with_conditional_put(S3ConditionalPut::ETagMatch)
        .with_retry(RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(20),
                max_backoff: Duration::from_millis(200),
                base: 2.0,
            },
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
        })
        .with_http_connector(NoProxyConnector)
        .build()
        .expect("an S3 client of a 127.0.0.1 endpoint")
}

/// object_store's reqwest client without the system proxy (`HTTP_PROXY` and the like): the
/// tests' traffic stays on 127.0.0.1. For a test's own `AmazonS3Builder`.
#[derive(Debug)]
pub struct NoProxyConnector;

impl HttpConnector for NoProxyConnector {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        let client = reqwest::Client::builder().no_proxy().build().map_err(|e| {
            object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            }
        })?;
        Ok(HttpClient::new(client))
    }
}
