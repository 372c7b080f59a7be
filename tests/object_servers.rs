//! The S3 test servers and the store proxy: what they honour, as the remote-state tests rely
//! on it.

use std::io::{Read, Write};
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{Error, ObjectStore, ObjectStoreExt, PutMode, PutOptions, UpdateVersion};

use crate::support::object_servers::{
    s3, NoProxyConnector, ProxiedRequest, ProxyMode, S3Kind, S3Server,
};

fn create() -> PutOptions {
    PutMode::Create.into()
}

fn update(e_tag: &str) -> PutOptions {
    PutMode::Update(UpdateVersion {
        e_tag: Some(e_tag.to_string()),
        version: None,
    })
    .into()
}

/// A strong ETag: a quoted MD5 of the body, as S3 gives for a single-part upload.
fn assert_quoted_md5(e_tag: &str) {
    let hex = e_tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or_else(|| panic!("ETag {e_tag} is not quoted"));
    assert!(
        hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "ETag {e_tag} is not an MD5"
    );
}

/// Create-if-absent twice, a stale update, a current one: what the remote state's lock and
/// saves rely on.
async fn conditional_puts(kind: S3Kind) {
    let server = s3(kind);
    eprintln!("{kind:?} started in {:?}", server.started_in());
    let store = server.store(&server.new_bucket());
    let key = Path::from("webhooks.state.json");

    let first = store
        .put_opts(&key, "v1".into(), create())
        .await
        .expect("the first create-if-absent succeeds");
    let first_tag = first.e_tag.clone().expect("an ETag");
    assert_quoted_md5(&first_tag);

    let again = store.put_opts(&key, "v2".into(), create()).await;
    assert!(
        matches!(again, Err(Error::AlreadyExists { .. })),
        "{again:?}"
    );

    let stale = store
        .put_opts(
            &key,
            "v3".into(),
            update("\"0123456789abcdef0123456789abcdef\""),
        )
        .await;
    assert!(
        matches!(stale, Err(Error::Precondition { .. })),
        "{stale:?}"
    );

    let current = store
        .put_opts(&key, "v4".into(), update(&first_tag))
        .await
        .expect("an update of the current version succeeds");
    let current_tag = current.e_tag.clone().expect("an ETag");
    assert_quoted_md5(&current_tag);
    assert_ne!(current_tag, first_tag);

    let got = store.get(&key).await.expect("reads the object");
    assert_eq!(got.meta.e_tag.as_deref(), Some(current_tag.as_str()));
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"v4");

    // The first version is stale now.
    let replay = store.put_opts(&key, "v5".into(), update(&first_tag)).await;
    assert!(
        matches!(replay, Err(Error::Precondition { .. })),
        "{replay:?}"
    );
    // An update of an object that is not there.
    let absent = store
        .put_opts(&Path::from("absent"), "v".into(), update(&first_tag))
        .await;
    assert!(
        matches!(absent, Err(Error::Precondition { .. })),
        "{absent:?}"
    );
}

#[tokio::test]
async fn seaweedfs_honours_create_if_absent_and_if_match() {
    conditional_puts(S3Kind::SeaweedFs).await;
}

#[tokio::test]
async fn moto_honours_create_if_absent_and_if_match() {
    conditional_puts(S3Kind::Moto).await;
}

#[tokio::test]
async fn the_env_reaches_the_server_as_aws_tools_read_it() {
    let server = s3(S3Kind::Moto);
    let env = server.env();
    let expected: Vec<(String, String)> = [
        ("AWS_ACCESS_KEY_ID", server.access_key_id()),
        ("AWS_SECRET_ACCESS_KEY", server.secret_access_key()),
        ("AWS_REGION", server.region()),
        ("AWS_ENDPOINT_URL", &server.endpoint()),
        ("AWS_ALLOW_HTTP", "true"),
        ("NO_PROXY", "127.0.0.1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(env, expected);
    assert_eq!(
        server.endpoint(),
        format!("http://127.0.0.1:{}", server.port())
    );

    // As AmazonS3Builder::from_env reads the variables.
    let bucket = server.new_bucket();
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&bucket)
        .with_http_connector(NoProxyConnector);
    for (name, value) in env.iter().filter(|(n, _)| n.starts_with("AWS_")) {
        let key: AmazonS3ConfigKey = name.to_ascii_lowercase().parse().expect("a config key");
        builder = builder.with_config(key, value);
    }
    let from_env = builder.build().expect("a client from the environment");
    let key = Path::from("k");
    from_env.put(&key, "from env".into()).await.unwrap();
    let read = server.store(&bucket).get(&key).await.unwrap();
    assert_eq!(read.bytes().await.unwrap().as_ref(), b"from env");
}

#[test]
fn a_private_server_is_killed_when_dropped() {
    let server = S3Server::start(S3Kind::Moto);
    assert_eq!(server.kind(), S3Kind::Moto);
    let port = server.port();
    assert!(
        server
            .log()
            .contains("\"PUT /ready-probe/probe HTTP/1.1\" 200"),
        "{}",
        server.log()
    );
    drop(server);
    let refused = std::net::TcpStream::connect(("127.0.0.1", port));
    assert_eq!(
        refused.map_err(|e| e.kind()).err(),
        Some(std::io::ErrorKind::ConnectionRefused)
    );
}

fn record(
    method: &str,
    path: &str,
    if_match: Option<&str>,
    if_none_match: Option<&str>,
    mode: ProxyMode,
) -> ProxiedRequest {
    ProxiedRequest {
        method: method.to_string(),
        path: path.to_string(),
        query: None,
        if_match: if_match.map(str::to_string),
        if_none_match: if_none_match.map(str::to_string),
        mode,
        status: 200,
    }
}

#[tokio::test]
async fn the_proxy_counts_strips_conditions_and_goes_down() {
    let server = s3(S3Kind::Moto);
    let proxy = server.proxy();
    assert_eq!(proxy.mode(), ProxyMode::Forward);
    let endpoint = ("AWS_ENDPOINT_URL".to_string(), proxy.endpoint());
    assert!(proxy.env().contains(&endpoint), "{:?}", proxy.env());
    let bucket = server.new_bucket();
    let store = proxy.store(&bucket);
    let direct = server.store(&bucket);
    let key = Path::from("k");
    let path = format!("/{bucket}/k");

    let first = store.put_opts(&key, "v1".into(), create()).await.unwrap();
    // HEAD through the proxy keeps the object's size (its Content-Length).
    let head = store.head(&key).await.unwrap();
    assert_eq!((head.size, head.e_tag), (2, first.e_tag.clone()));
    let again = store.put_opts(&key, "v2".into(), create()).await;
    assert!(
        matches!(again, Err(Error::AlreadyExists { .. })),
        "{again:?}"
    );

    // A store that ignores conditions: both writes land.
    proxy.set_mode(ProxyMode::StripConditions);
    store.put_opts(&key, "v3".into(), create()).await.unwrap();
    let stale = "\"0123456789abcdef0123456789abcdef\"";
    store
        .put_opts(&key, "v4".into(), update(stale))
        .await
        .unwrap();
    let read = direct.get(&key).await.unwrap();
    assert_eq!(read.bytes().await.unwrap().as_ref(), b"v4");

    let strip = ProxyMode::StripConditions;
    let forward = ProxyMode::Forward;
    assert_eq!(
        proxy.requests(),
        [
            record("PUT", &path, None, Some("*"), forward),
            record("HEAD", &path, None, None, forward),
            ProxiedRequest {
                status: 412,
                ..record("PUT", &path, None, Some("*"), forward)
            },
            record("PUT", &path, None, Some("*"), strip),
            record("PUT", &path, Some(stale), None, strip),
        ]
    );
    assert_eq!(proxy.count("PUT", &path), 4);
    assert_eq!(
        proxy.requests().iter().filter(|r| r.conditional()).count(),
        4
    );

    // Down: nothing reaches the store, kept-alive connections included.
    proxy.clear();
    proxy.set_mode(ProxyMode::Down);
    let down = store.head(&key).await;
    assert!(matches!(down, Err(Error::Generic { .. })), "{down:?}");
    let fresh = proxy.store(&bucket).head(&key).await;
    assert!(matches!(fresh, Err(Error::Generic { .. })), "{fresh:?}");
    assert_eq!(proxy.requests(), []);

    proxy.set_mode(ProxyMode::Forward);
    assert_eq!(store.head(&key).await.unwrap().size, 2);
    assert_eq!(
        proxy.requests(),
        [record("HEAD", &path, None, None, forward)]
    );
}

/// What the proxy sends upstream, seen by a bare socket: Host unchanged, conditions gone in
/// [`ProxyMode::StripConditions`], the body whole.
#[tokio::test]
async fn the_proxy_forwards_host_and_body_unchanged() {
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_port = upstream.local_addr().unwrap().port();
    let seen = std::thread::spawn(move || {
        let (mut conn, _) = upstream.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0; 4096];
        while !String::from_utf8_lossy(&got).contains("\r\n\r\nbody bytes") {
            let n = conn.read(&mut buf).unwrap();
            assert_ne!(n, 0, "closed early: {}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nETag: \"e\"\r\n\r\nok")
            .unwrap();
        String::from_utf8(got).unwrap()
    });
    let proxy = crate::support::object_servers::StoreProxy::start(&format!(
        "http://127.0.0.1:{upstream_port}"
    ));
    proxy.set_mode(ProxyMode::StripConditions);
    let answer = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .put(format!("{}/bucket/key?x=1", proxy.endpoint()))
        .header("If-Match", "\"abc\"")
        .header("If-None-Match", "*")
        .header("X-Amz-Date", "20260101T000000Z")
        .body("body bytes")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["etag"], "\"e\"");
    assert_eq!(answer.text().await.unwrap(), "ok");

    let head = seen.join().unwrap().to_ascii_lowercase();
    let host = proxy.endpoint().replace("http://", "");
    assert!(
        head.starts_with("put /bucket/key?x=1 http/1.1\r\n"),
        "{head}"
    );
    assert!(head.contains(&format!("\r\nhost: {host}\r\n")), "{head}");
    assert!(
        head.contains("\r\nx-amz-date: 20260101t000000z\r\n"),
        "{head}"
    );
    assert!(head.contains("\r\ncontent-length: 10\r\n"), "{head}");
    assert!(
        !head.contains("if-match") && !head.contains("if-none-match"),
        "{head}"
    );
    assert_eq!(
        proxy.requests(),
        [ProxiedRequest {
            query: Some("x=1".into()),
            ..record(
                "PUT",
                "/bucket/key",
                Some("\"abc\""),
                Some("*"),
                ProxyMode::StripConditions
            )
        }]
    );
}
