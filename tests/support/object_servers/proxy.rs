//! A proxy on 127.0.0.1 in front of an S3 server, for fault tests: it forwards each HTTP/1.1
//! request (body buffered), records what it forwarded, and can be switched at run time to
//! strip the conditions of requests or to go down.
//!
//! The `Host` header is forwarded unchanged (`127.0.0.1:<proxy port>`), so a SigV4
//! signature made for the proxy's address would still verify upstream; neither server here
//! checks signatures anyway (see [`super`]). Path, query and every other end-to-end header
//! are forwarded as received; hop-by-hop headers (`Connection`, `Transfer-Encoding`, ...) are
//! the proxy's own on each side.

use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, StatusCode};
use axum::response::Response;
use object_store::aws::AmazonS3;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with what it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyMode {
    /// Forwards every request as received.
    Forward,
    /// Forwards requests without `If-Match` and `If-None-Match`: a store that ignores
    /// conditions.
    StripConditions,
    /// Down: every connection is reset (RST) when the proxy reads from it, new and kept-alive
    /// ones alike, before any request on it is forwarded; clients see a reset, no answer.
    Down,
    /// Forwards every request, but answers each conditional PUT (except the start-of-run
    /// conditions probe) with a 503 instead of the server's answer: the write happened and
    /// its answer was lost, and the client's retries fare no better.
    LoseConditionalAnswers,
}

/// A request the proxy forwarded to the server, as the client sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxiedRequest {
    pub method: String,
    /// The path as sent, e.g. `/bucket/key` (path-style).
    pub path: String,
    pub query: Option<String>,
    /// The client's `If-Match`; not forwarded when `mode` is [`ProxyMode::StripConditions`].
    pub if_match: Option<String>,
    /// The client's `If-None-Match`; not forwarded when `mode` is
    /// [`ProxyMode::StripConditions`].
    pub if_none_match: Option<String>,
    /// The mode it was forwarded in.
    pub mode: ProxyMode,
    /// The server's status code, or 502 when the server could not be reached.
    pub status: u16,
}

impl ProxiedRequest {
    /// Whether it carried `If-Match` or `If-None-Match` from the client.
    pub fn conditional(&self) -> bool {
        self.if_match.is_some() || self.if_none_match.is_some()
    }
}

/// A running proxy: its own runtime, stopped when dropped.
pub struct StoreProxy {
    port: u16,
    shared: Arc<Shared>,
    rt: Option<tokio::runtime::Runtime>,
}

struct Shared {
    upstream: String,
    mode: AtomicU8,
    requests: Mutex<Vec<ProxiedRequest>>,
    client: reqwest::Client,
}

impl Shared {
    fn mode(&self) -> ProxyMode {
        match self.mode.load(Ordering::SeqCst) {
            0 => ProxyMode::Forward,
            1 => ProxyMode::StripConditions,
            3 => ProxyMode::LoseConditionalAnswers,
            _ => ProxyMode::Down,
        }
    }
}

impl StoreProxy {
    /// A proxy in [`ProxyMode::Forward`] to `upstream` (`http://127.0.0.1:PORT`), listening
    /// on a port of its own on 127.0.0.1 when this returns.
    pub fn start(upstream: &str) -> StoreProxy {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binds");
        listener.set_nonblocking(true).expect("non-blocking");
        let port = listener.local_addr().expect("has an address").port();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            mode: AtomicU8::new(0),
            requests: Mutex::new(Vec::new()),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a reqwest client"),
        });
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("store-proxy")
            .enable_all()
            .build()
            .expect("a runtime");
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let gate = shared.clone();
        rt.spawn(async move {
            let listener = GatedListener {
                inner: TcpListener::from_std(listener).expect("a tokio listener"),
                shared: gate,
            };
            axum::serve(listener, app).await.expect("the proxy serves");
        });
        StoreProxy {
            port,
            shared,
            rt: Some(rt),
        }
    }

    /// `http://127.0.0.1:PORT` of the proxy.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Switches the mode; requests read from now on are handled in the new one.
    pub fn set_mode(&self, mode: ProxyMode) {
        let value = match mode {
            ProxyMode::Forward => 0,
            ProxyMode::StripConditions => 1,
            ProxyMode::Down => 2,
            ProxyMode::LoseConditionalAnswers => 3,
        };
        self.shared.mode.store(value, Ordering::SeqCst);
    }

    pub fn mode(&self) -> ProxyMode {
        self.shared.mode()
    }

    /// Every request forwarded so far, in the order their answers came.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many forwarded requests had this method and path.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// Forgets the requests recorded so far.
    pub fn clear(&self) {
        self.shared.requests.lock().unwrap().clear();
    }

    /// [`super::S3Server::env`] with this proxy as the endpoint.
    pub fn env(&self) -> Vec<(String, String)> {
        super::env_for(&self.endpoint())
    }

    /// [`super::S3Server::store`] through this proxy.
    pub fn store(&self, bucket: &str) -> AmazonS3 {
        super::store_for(&self.endpoint(), bucket)
    }
}

impl Drop for StoreProxy {
    fn drop(&mut self) {
        // Allowed in an async context, unlike dropping the runtime.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// Headers that belong to one connection, not to the request or answer.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    // The proxy reads the whole body before it forwards anything.
    "expect",
];

fn without_hop_by_hop(headers: &HeaderMap) -> HeaderMap {
    let mut headers = headers.clone();
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
    headers
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let mode = shared.mode();
    let (parts, body) = request.into_parts();
    let header_text = |name: HeaderName| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let mut record = ProxiedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        if_match: header_text(header::IF_MATCH),
        if_none_match: header_text(header::IF_NONE_MATCH),
        mode,
        status: 502,
    };
    let response = match axum::body::to_bytes(body, usize::MAX).await {
        Err(e) => plain(
            StatusCode::BAD_REQUEST,
            format!("proxy: reading the body: {e}"),
        ),
        Ok(body) => {
            let mut headers = without_hop_by_hop(&parts.headers);
            if mode == ProxyMode::StripConditions {
                headers.remove(header::IF_MATCH);
                headers.remove(header::IF_NONE_MATCH);
            }
            let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let sent = shared
                .client
                .request(
                    parts.method.clone(),
                    format!("{}{path_and_query}", shared.upstream),
                )
                // Includes Host as received: reqwest sends a Host header it is given.
                .headers(headers)
                .body(body)
                .send()
                .await;
            match sent {
                Err(e) => plain(StatusCode::BAD_GATEWAY, format!("proxy: upstream: {e}")),
                Ok(_)
                    if mode == ProxyMode::LoseConditionalAnswers
                        && parts.method == axum::http::Method::PUT
                        && (record.if_match.is_some() || record.if_none_match.is_some())
                        && !record.path.contains(".conditions-") =>
                {
                    record.status = 503;
                    plain(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "<Error><Code>SlowDown</Code><Message>the test proxy lost the answer</Message></Error>".into(),
                    )
                }
                Ok(upstream) => {
                    let status = upstream.status();
                    let headers = without_hop_by_hop(upstream.headers());
                    match upstream.bytes().await {
                        Err(e) => plain(StatusCode::BAD_GATEWAY, format!("proxy: upstream: {e}")),
                        Ok(bytes) => {
                            record.status = status.as_u16();
                            let mut response = Response::new(Body::from(bytes));
                            *response.status_mut() = status;
                            // Content-Length included: a HEAD answer keeps the object's size.
                            *response.headers_mut() = headers;
                            response
                        }
                    }
                }
            }
        }
    };
    shared.requests.lock().unwrap().push(record);
    response
}

fn plain(status: StatusCode, text: String) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}

/// Accepts every connection; [`GatedStream`] resets it while the proxy is down.
struct GatedListener {
    inner: TcpListener,
    shared: Arc<Shared>,
}

impl axum::serve::Listener for GatedListener {
    type Io = GatedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (GatedStream, SocketAddr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    let shared = self.shared.clone();
                    return (GatedStream { stream, shared }, addr);
                }
                // E.g. out of file descriptors: wait a little, as axum's own listener does.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection whose reads fail while the proxy is down, which makes the server close it;
/// with a zero linger the close is a reset.
struct GatedStream {
    stream: TcpStream,
    shared: Arc<Shared>,
}

impl AsyncRead for GatedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.shared.mode() == ProxyMode::Down {
            // A zero linger does not block on close, which the deprecation warns of.
            #[allow(deprecated)]
            let _ = self.stream.set_linger(Some(std::time::Duration::ZERO));
            return Poll::Ready(Err(std::io::ErrorKind::ConnectionReset.into()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for GatedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
