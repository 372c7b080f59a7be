//! `plan --probe`: DNS, TCP, TLS and `HEAD` against local servers. Every address here is on
//! this machine (127.0.0.1 or `localhost`); the only other hosts named are judged offline, at
//! the host stage, before any lookup or connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{output_text, World};
use saleshandy_webhooks::probe::{probe, Finding, ProbeOptions, Stage};
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
        // The whole request: the URL's path and query, no header of the webhook, no body
        // (no content-length, transfer-encoding or content-type), no authorization.
        let head = log.requests[0]
            .to_ascii_lowercase()
            .replace(&server.port.to_string(), "[PORT]");
        assert_eq!(
            head,
            format!(
                "head /hooks/p4th?token=s3cr3t http/1.1\r\naccept: */*\r\nuser-agent: saleshandy-webhooks/{} (probe)\r\nhost: 127.0.0.1:[PORT]\r\n\r\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert_eq!(log.closed, 1, "the probe closed its connection: {log:?}");
        assert_eq!(log.body_bytes, 0);
        // The TCP stage's connection, then the one HEAD went over.
        assert_eq!(log.connections, 2, "{log:?}");
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
    assert_eq!(
        f,
        Finding {
            name: "hook".into(),
            ok: false,
            detail: "connection refused".into(),
            stage: Stage::Tcp,
            status: None,
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_signed_certificate_is_not_ok_and_gets_no_request() {
    let server = tls_server().await;
    let f = one(&server.url("https", "localhost"), &local(8)).await;
    assert_eq!(
        f,
        Finding {
            name: "hook".into(),
            ok: false,
            detail: "TLS: certificate not trusted (unknown issuer, or self-signed)".into(),
            stage: Stage::Tls,
            status: None,
        }
    );
    server.log(|log| {
        assert_eq!(log.handshakes, 0, "{log:?}");
        assert!(log.requests.is_empty());
        assert!(log.connections >= 1, "the server was reached: {log:?}");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_are_judged_for_a_post_that_head_stands_in_for() {
    for (status, ok, detail) in [
        (503, false, "HTTP 503 to HEAD: a server error"),
        (500, false, "HTTP 500 to HEAD: a server error"),
        (
            302,
            false,
            "HTTP 302 to HEAD: the URL redirects, and webhook deliveries are usually not redirected",
        ),
        (
            404,
            true,
            "HTTP 404 to HEAD; the test delivery is a POST and may still be accepted",
        ),
        (
            405,
            true,
            "HTTP 405 to HEAD; the test delivery is a POST and may still be accepted",
        ),
        (
            501,
            true,
            "HTTP 501 to HEAD: the server does not implement HEAD; the test delivery is a POST",
        ),
        (204, true, "HTTP 204 to HEAD"),
    ] {
        let server = http_server(Answer::Status(status, Duration::ZERO)).await;
        let f = one(&server.url("http", "127.0.0.1"), &local(8)).await;
        assert_eq!(
            f,
            Finding {
                name: "hook".into(),
                ok,
                detail: detail.into(),
                stage: Stage::Http,
                status: Some(status),
            }
        );
        // A redirect is reported, not followed.
        assert_eq!(server.log(|l| l.requests.len()), 1, "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_times_out() {
    // The server holds the connection for 30 s: only the probe's own timeout ends it, and its
    // detail says so.
    let server = http_server(Answer::Silence).await;
    let options = ProbeOptions {
        timeout: Duration::from_millis(300),
        ..local(8)
    };
    let f = one(&server.url("http", "127.0.0.1"), &options).await;
    assert_eq!(
        f,
        Finding {
            name: "hook".into(),
            ok: false,
            detail: "timed out (300ms) waiting for the answer to HEAD".into(),
            stage: Stage::Http,
            status: None,
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded_and_order_kept() {
    let server = http_server(Answer::Status(200, Duration::from_millis(150))).await;
    let targets: Vec<(String, String)> = (0..20)
        .map(|i| (format!("hook {i}"), server.url("http", "127.0.0.1")))
        .collect();
    let findings = probe(&targets, &local(4)).await;
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
    assert_eq!(server.log(|l| l.requests.len()), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_detail_holds_any_part_of_a_url() {
    let ok = http_server(Answer::Status(200, Duration::ZERO)).await;
    let failing = http_server(Answer::Status(503, Duration::ZERO)).await;
    let silent = http_server(Answer::Silence).await;
    let tls = tls_server().await;
    let refused = refused_port().await;
    let cases: Vec<(String, Stage, &str)> = vec![
        (ok.url("http", "127.0.0.1"), Stage::Http, "HTTP 200 to HEAD"),
        (ok.url("http", "localhost"), Stage::Http, "HTTP 200 to HEAD"),
        (
            failing.url("http", "127.0.0.1"),
            Stage::Http,
            "HTTP 503 to HEAD: a server error",
        ),
        (
            silent.url("http", "localhost"),
            Stage::Http,
            "timed out (500ms) waiting for the answer to HEAD",
        ),
        (
            tls.url("https", "localhost"),
            Stage::Tls,
            "TLS: certificate not trusted (unknown issuer, or self-signed)",
        ),
        (
            tls.url("https", "127.0.0.1"),
            Stage::Tls,
            "TLS: certificate not trusted (unknown issuer, or self-signed)",
        ),
        (
            format!("http://127.0.0.1:{refused}/hooks/p4th?token={SECRET}"),
            Stage::Tcp,
            "connection refused",
        ),
        (
            format!("https://10.1.2.3/hooks/p4th?token={SECRET}"),
            Stage::Host,
            "Saleshandy cannot reach the host: it is a private address",
        ),
        (
            format!("https://user:{SECRET}@localhost:{refused}/p4th"),
            Stage::Tcp,
            "connection refused",
        ),
        (
            format!("gopher://localhost/p4th?token={SECRET}"),
            Stage::Url,
            "the URL is not `http` or `https`",
        ),
        (
            format!("not a url p4th {SECRET}"),
            Stage::Url,
            "the URL does not parse",
        ),
    ];
    let targets: Vec<(String, String)> = cases
        .iter()
        .enumerate()
        .map(|(i, (url, _, _))| (format!("hook {i}"), url.clone()))
        .collect();
    let options = ProbeOptions {
        timeout: Duration::from_millis(500),
        ..local(8)
    };
    let findings = probe(&targets, &options).await;
    let got: Vec<(String, Stage, String)> = findings
        .iter()
        .map(|f| (f.name.clone(), f.stage, f.detail.clone()))
        .collect();
    let want: Vec<(String, Stage, String)> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, stage, detail))| (format!("hook {i}"), *stage, detail.to_string()))
        .collect();
    assert_eq!(got, want);
    // Whatever the wording becomes, no part of a URL may appear in it.
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
async fn hosts_saleshandy_cannot_reach_fail_at_the_host_stage() {
    // Judged offline: the host stage comes before any lookup or connection.
    let cases = [
        (
            "https://10.1.2.3/hook?token=s3cr3t",
            "Saleshandy cannot reach the host: it is a private address",
        ),
        (
            "https://192.168.1.20/hook",
            "Saleshandy cannot reach the host: it is a private address",
        ),
        (
            "https://[fd00::1]/hook",
            "Saleshandy cannot reach the host: it is a unique local (private) address",
        ),
        (
            "https://printer.local/hook",
            "Saleshandy cannot reach the host: `.local` names resolve only on the local network (mDNS)",
        ),
        (
            "http://intranet/hook",
            "Saleshandy cannot reach the host: a name without a dot resolves only inside a private network",
        ),
    ];
    let targets: Vec<(String, String)> = cases
        .iter()
        .map(|(u, _)| (u.to_string(), u.to_string()))
        .collect();
    let findings = probe(&targets, &local(1)).await;
    let want: Vec<Finding> = cases
        .iter()
        .map(|(url, detail)| Finding {
            name: url.to_string(),
            ok: false,
            detail: detail.to_string(),
            stage: Stage::Host,
            status: None,
        })
        .collect();
    assert_eq!(findings, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_not_probed_unless_allowed() {
    let server = http_server(Answer::Status(200, Duration::ZERO)).await;
    for host in ["127.0.0.1", "localhost"] {
        let f = one(&server.url("http", host), &ProbeOptions::default()).await;
        assert_eq!(
            f,
            Finding {
                name: "hook".into(),
                ok: false,
                detail: "loopback: Saleshandy cannot reach this machine".into(),
                stage: Stage::Host,
                status: None,
            }
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.log(|l| l.connections), 0);
}

// ---------------------------------------------------------------------------------------------
// `plan --probe`

/// A webhook already created (public URL: unchanged, so not probed).
const EXISTING: &str = "version: 1
webhooks:
  - name: Existing
    url: https://ingest.example.org/existing
    events: [email-sent]
";

/// `plan --probe` end to end: only the webhooks to create are probed; loopback and private
/// hosts are reported as unreachable for Saleshandy with no traffic to them and no secret in
/// the output; the plan is still shown and succeeds.
#[test]
fn plan_probe_warns_about_hosts_saleshandy_cannot_reach_and_exits_0() {
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    server.set_nonblocking(true).unwrap();
    let port = server.local_addr().unwrap().port();
    let w = World::builder()
        .config(EXISTING)
        .env("PROBE_TOKEN", SECRET)
        .env("NO_COLOR", "1")
        .build();
    w.ok(&["apply", "--auto-approve"]);
    let requests = w.sandbox.requests().len();

    // Nothing to create: nothing to probe.
    w.plan()
        .arg("--probe")
        .stdout(
            "Plan for webhooks.yaml against webhooks.state.json

  1 unchanged webhook not shown (-v lists them).

Plan: 0 to create, 1 unchanged, 0 changed, 0 orphaned, 0 unknown.
",
        )
        .stderr("probe: 0 of 0 URL(s) to create answered.\n")
        .run();

    w.set_config(&format!(
        "{EXISTING}  - name: Local Hook
    url: http://127.0.0.1:{port}/hook?token=${{PROBE_TOKEN}}
    events: [email-sent]
  - name: Local Name
    url: http://localhost:{port}/hook
    events: [email-sent]
  - name: Office
    url: https://10.1.2.3/hook?token=${{PROBE_TOKEN}}
    events: [email-sent]
  - name: Printer
    url: https://printer.local/hook
    events: [email-sent]
  - name: Intranet
    url: https://intranet/hook
    events: [email-sent]
"
    ));
    let probed = w
        .plan()
        .arg("--probe")
        .stdout_snapshot("probe-plan")
        .stderr_snapshot("probe-plan-stderr")
        .run();
    assert!(
        !output_text(&probed).contains(SECRET),
        "a secret leaked:\n{}",
        output_text(&probed)
    );
    assert!(
        matches!(server.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the probe connected to a loopback URL"
    );
    assert_eq!(w.sandbox.requests().len(), requests, "plan is offline");

    // Without --probe: the same plan, and the config's warnings without the probe's lines.
    let stderr = crate::support::stderr_text(&probed);
    let without_probe: String = stderr
        .split_inclusive('\n')
        .filter(|l| !l.starts_with("probe: ") && !l.starts_with("warning: `"))
        .collect();
    assert_ne!(without_probe, stderr, "the probe printed its lines");
    w.plan()
        .stdout_snapshot("probe-plan")
        .stderr(w.filtered(&without_probe))
        .run();
}
