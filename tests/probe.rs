//! `plan --probe`: DNS, TCP, TLS and `HEAD` against local servers. Every address here is on
//! this machine (127.0.0.1 or `localhost`); the only other hosts named are checked offline,
//! before any traffic, and the tests prove they finish at once.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::bin;
use saleshandy_webhooks::probe::{probe, probe_blocking_with, Finding, ProbeOptions, Stage};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

const SECRET: &str = "s3cr3t";

/// What a local server saw.
#[derive(Default, Debug)]
struct Log {
    /// TCP connections accepted.
    connections: usize,
    /// TLS handshakes completed.
    handshakes: usize,
    /// The head (request line and headers) of each request.
    requests: Vec<String>,
    /// Bytes received after a request head: a body.
    body_bytes: usize,
    /// Requests whose connection the client has closed (so `body_bytes` counts all of them).
    closed: usize,
    in_flight: usize,
    max_in_flight: usize,
}

struct Server {
    port: u16,
    log: Arc<Mutex<Log>>,
}

impl Server {
    fn url(&self, scheme: &str, host: &str) -> String {
        format!(
            "{scheme}://{host}:{}/hooks/p4th?token={SECRET}#frag",
            self.port
        )
    }

    fn log<T>(&self, f: impl FnOnce(&Log) -> T) -> T {
        f(&self.log.lock().unwrap())
    }
}

/// How a local server answers.
#[derive(Clone, Copy)]
enum Answer {
    /// This status, after holding the request this long.
    Status(u16, Duration),
    /// Accept, then say nothing.
    Silence,
}

async fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// A plain HTTP server on 127.0.0.1.
async fn http_server(answer: Answer) -> Server {
    let (listener, port) = listener().await;
    let log = Arc::new(Mutex::new(Log::default()));
    let shared = Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            shared.lock().unwrap().connections += 1;
            tokio::spawn(serve(stream, answer, Arc::clone(&shared)));
        }
    });
    Server { port, log }
}

/// An HTTPS server on 127.0.0.1 with a fresh self-signed certificate for `localhost`.
async fn tls_server() -> Server {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let (listener, port) = listener().await;
    let log = Arc::new(Mutex::new(Log::default()));
    let shared = Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            shared.lock().unwrap().connections += 1;
            let (acceptor, shared) = (acceptor.clone(), Arc::clone(&shared));
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    shared.lock().unwrap().handshakes += 1;
                    serve(tls, Answer::Status(200, Duration::ZERO), shared).await;
                }
            });
        }
    });
    Server { port, log }
}

/// Reads one request head, answers it, then counts whatever else arrives until the client
/// closes the connection.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    answer: Answer,
    log: Arc<Mutex<Log>>,
) {
    let (status, hold) = match answer {
        Answer::Status(status, hold) => (status, hold),
        Answer::Silence => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 && buf.len() < 65536 => buf.extend_from_slice(&chunk[..n]),
            // A bare TCP connection (the probe's TCP stage) closes without a request.
            _ => return,
        }
    };
    {
        let mut log = log.lock().unwrap();
        log.requests
            .push(String::from_utf8_lossy(&buf[..head_end]).into_owned());
        log.in_flight += 1;
        log.max_in_flight = log.max_in_flight.max(log.in_flight);
    }
    tokio::time::sleep(hold).await;
    log.lock().unwrap().in_flight -= 1;
    let location = if (300..400).contains(&status) {
        "Location: /elsewhere\r\n"
    } else {
        ""
    };
    let response = format!(
        "HTTP/1.1 {status} Status\r\nContent-Length: 0\r\nConnection: close\r\n{location}\r\n"
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.flush().await;
    let mut body = buf.len() - head_end;
    while let Ok(Ok(n)) =
        tokio::time::timeout(Duration::from_secs(2), stream.read(&mut chunk)).await
    {
        if n == 0 {
            break;
        }
        body += n;
    }
    let mut log = log.lock().unwrap();
    log.body_bytes += body;
    log.closed += 1;
}

/// A port on 127.0.0.1 where nothing listens.
async fn refused_port() -> u16 {
    let (listener, port) = listener().await;
    drop(listener);
    port
}

fn local(parallelism: usize) -> ProbeOptions {
    ProbeOptions {
        allow_loopback: true,
        timeout: Duration::from_secs(5),
        parallelism,
    }
}

async fn one(url: &str, options: &ProbeOptions) -> Finding {
    let mut findings = probe(&[("hook".to_string(), url.to_string())], options).await;
    assert_eq!(findings.len(), 1);
    findings.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answering_server_is_ok_by_address_and_by_localhost() {
    let server = http_server(Answer::Status(200, Duration::ZERO)).await;
    for host in ["127.0.0.1", "localhost"] {
        let f = one(&server.url("http", host), &local(8)).await;
        assert!(f.ok, "{f:?}");
        assert_eq!(
            (f.stage, f.status, f.detail.as_str()),
            (Stage::Http, Some(200), "HTTP 200 to HEAD")
        );
    }
    assert_eq!(server.log(|l| l.requests.len()), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_head_is_sent_with_no_body_and_no_payload() {
    let server = http_server(Answer::Status(200, Duration::ZERO)).await;
    let f = one(&server.url("http", "127.0.0.1"), &local(8)).await;
    assert!(f.ok, "{f:?}");
    // Wait for the server to see the connection close, so that any body was counted.
    for _ in 0..100 {
        if server.log(|l| l.closed) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.log(|log| {
        assert_eq!(log.requests.len(), 1, "{log:?}");
        let head = log.requests[0].to_ascii_lowercase();
        assert!(
            head.starts_with("head /hooks/p4th?token=s3cr3t http/1.1\r\n"),
            "{head}"
        );
        for absent in [
            "content-length",
            "transfer-encoding",
            "content-type",
            "authorization",
        ] {
            assert!(!head.contains(absent), "{absent} in {head}");
        }
        assert!(!log.requests.iter().any(|r| r.starts_with("POST")));
        assert_eq!(log.closed, 1, "the probe closed its connection: {log:?}");
        assert_eq!(log.body_bytes, 0);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_port_is_not_ok() {
    let port = refused_port().await;
    let f = one(
        &format!("http://127.0.0.1:{port}/hook?token={SECRET}"),
        &local(8),
    )
    .await;
    assert!(!f.ok);
    assert_eq!(
        (f.stage, f.detail.as_str()),
        (Stage::Tcp, "connection refused")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_certificate_is_not_ok_and_gets_no_request() {
    let server = tls_server().await;
    let f = one(&server.url("https", "localhost"), &local(8)).await;
    assert!(!f.ok, "{f:?}");
    assert_eq!(f.stage, Stage::Tls, "{f:?}");
    assert_eq!(
        f.detail,
        "TLS: certificate not trusted (unknown issuer, or self-signed)"
    );
    assert_eq!(f.status, None);
    server.log(|log| {
        assert_eq!(log.handshakes, 0, "{log:?}");
        assert!(log.requests.is_empty());
        assert!(log.connections >= 1, "the server was reached: {log:?}");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_are_judged_for_a_post_that_head_stands_in_for() {
    for (status, ok) in [
        (503, false),
        (500, false),
        (302, false),
        (404, true),
        (405, true),
        (501, true),
        (204, true),
    ] {
        let server = http_server(Answer::Status(status, Duration::ZERO)).await;
        let f = one(&server.url("http", "127.0.0.1"), &local(8)).await;
        assert_eq!(f.ok, ok, "{status}: {f:?}");
        assert_eq!((f.stage, f.status), (Stage::Http, Some(status)));
        assert!(
            f.detail.starts_with(&format!("HTTP {status} to HEAD")),
            "{}",
            f.detail
        );
        // A redirect is reported, not followed.
        assert_eq!(server.log(|l| l.requests.len()), 1, "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_times_out() {
    let server = http_server(Answer::Silence).await;
    let options = ProbeOptions {
        timeout: Duration::from_millis(300),
        ..local(8)
    };
    let started = Instant::now();
    let f = one(&server.url("http", "127.0.0.1"), &options).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!f.ok);
    assert_eq!(f.stage, Stage::Http);
    assert!(f.detail.starts_with("timed out (300ms)"), "{}", f.detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded_and_order_kept() {
    let server = http_server(Answer::Status(200, Duration::from_millis(150))).await;
    let targets: Vec<(String, String)> = (0..20)
        .map(|i| (format!("hook {i}"), server.url("http", "127.0.0.1")))
        .collect();
    let started = Instant::now();
    let findings = probe(&targets, &local(4)).await;
    let elapsed = started.elapsed();
    assert_eq!(
        findings.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
        targets.iter().map(|t| t.0.clone()).collect::<Vec<_>>()
    );
    assert!(findings.iter().all(|f| f.ok), "{findings:?}");
    let max = server.log(|l| l.max_in_flight);
    assert!(
        (2..=4).contains(&max),
        "at most 4 at once, and more than one: {max}"
    );
    // 20 requests held 150 ms each, 4 at a time: at least 5 rounds.
    assert!(elapsed >= Duration::from_millis(700), "{elapsed:?}");
    assert_eq!(server.log(|l| l.requests.len()), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_detail_holds_any_part_of_a_url() {
    let ok = http_server(Answer::Status(200, Duration::ZERO)).await;
    let failing = http_server(Answer::Status(503, Duration::ZERO)).await;
    let silent = http_server(Answer::Silence).await;
    let tls = tls_server().await;
    let refused = refused_port().await;
    let targets: Vec<(String, String)> = [
        ok.url("http", "127.0.0.1"),
        ok.url("http", "localhost"),
        failing.url("http", "127.0.0.1"),
        silent.url("http", "localhost"),
        tls.url("https", "localhost"),
        tls.url("https", "127.0.0.1"),
        format!("http://127.0.0.1:{refused}/hooks/p4th?token={SECRET}"),
        format!("https://10.1.2.3/hooks/p4th?token={SECRET}"),
        format!("https://user:{SECRET}@localhost:{refused}/p4th"),
        format!("gopher://localhost/p4th?token={SECRET}"),
        format!("not a url p4th {SECRET}"),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, url)| (format!("hook {i}"), url))
    .collect();
    let options = ProbeOptions {
        timeout: Duration::from_millis(500),
        ..local(8)
    };
    let findings = probe(&targets, &options).await;
    assert_eq!(findings.len(), targets.len());
    let ports = [ok.port, failing.port, silent.port, tls.port, refused].map(|p| p.to_string());
    for f in &findings {
        for part in [
            SECRET,
            "token",
            "p4th",
            "frag",
            "user",
            "127.0.0.1",
            "localhost",
            "10.1.2.3",
            "hooks",
            "gopher",
        ] {
            assert!(!f.detail.contains(part), "`{part}` in {f:?}");
        }
        for port in &ports {
            assert!(!f.detail.contains(port.as_str()), "port {port} in {f:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_saleshandy_cannot_reach_fail_at_once_without_traffic() {
    // Checked offline: none of these is ever resolved or connected to.
    let targets: Vec<(String, String)> = [
        "https://10.1.2.3/hook?token=s3cr3t",
        "https://192.168.1.20/hook",
        "https://[fd00::1]/hook",
        "https://printer.local/hook",
        "http://intranet/hook",
    ]
    .iter()
    .map(|u| (u.to_string(), u.to_string()))
    .collect();
    let started = Instant::now();
    let findings = probe(&targets, &local(1)).await;
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    for f in &findings {
        assert!(!f.ok, "{f:?}");
        assert_eq!(f.stage, Stage::Host, "{f:?}");
        assert!(
            f.detail.starts_with("Saleshandy cannot reach the host: "),
            "{f:?}"
        );
    }
    assert_eq!(
        findings[0].detail,
        "Saleshandy cannot reach the host: it is a private address"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_not_probed_unless_allowed() {
    let server = http_server(Answer::Status(200, Duration::ZERO)).await;
    for host in ["127.0.0.1", "localhost"] {
        let f = one(&server.url("http", host), &ProbeOptions::default()).await;
        assert!(!f.ok);
        assert_eq!(
            (f.stage, f.detail.as_str()),
            (
                Stage::Host,
                "loopback: Saleshandy cannot reach this machine"
            )
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.log(|l| l.connections), 0);
}

/// The blocking wrapper `plan` uses runs its own runtime, even when called from inside one.
#[test]
fn blocking_wrapper_works_outside_and_inside_a_runtime() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let targets = vec![("hook".to_string(), format!("http://127.0.0.1:{port}/"))];
    let options = local(2);
    let outside = probe_blocking_with(&targets, &options);
    let inside = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(async { probe_blocking_with(&targets, &options) });
    for findings in [outside, inside] {
        assert_eq!(findings.len(), 1);
        assert_eq!(
            (findings[0].stage, findings[0].detail.as_str()),
            (Stage::Tcp, "connection refused")
        );
    }
}

/// `plan --probe` end to end: a webhook to a local server is reported as unreachable for
/// Saleshandy, with no traffic to the server and no secret in the output, and the plan succeeds.
#[test]
fn plan_probe_warns_about_a_loopback_url_and_exits_0() {
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    server.set_nonblocking(true).unwrap();
    let port = server.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("webhooks.yaml");
    let mut file = std::fs::File::create(&config).unwrap();
    write!(
        file,
        "version: 1\nwebhooks:\n  - name: Local Hook\n    url: http://127.0.0.1:{port}/hook?token=${{PROBE_TOKEN}}\n    events: [email-sent]\n"
    )
    .unwrap();
    drop(file);

    let run = |probe: bool| {
        let mut cmd = bin();
        cmd.arg("plan")
            .arg("-c")
            .arg(&config)
            .env("PROBE_TOKEN", SECRET)
            .env("NO_COLOR", "1");
        if probe {
            cmd.arg("--probe");
        }
        cmd.output().unwrap()
    };
    let out = run(true);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "warning: `Local Hook`: loopback: Saleshandy cannot reach this machine. Saleshandy's test delivery would likely fail, and the webhook be created paused."
        ),
        "{stderr}"
    );
    assert!(
        stdout.contains("Local Hook"),
        "the plan is still shown: {stdout}"
    );
    assert!(
        !stdout.contains(SECRET) && !stderr.contains(SECRET),
        "a secret leaked:\n{stdout}\n{stderr}"
    );
    assert!(
        matches!(server.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the probe connected to a loopback URL"
    );

    let out = run(false);
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("test delivery would likely fail"));
}
