//! A small HTTP/1.1 server on 127.0.0.1 whose every answer a test writes: for what the
//! embedded sandbox would never say (hostile text, HTML pages, arbitrary bytes). It records
//! each request's method and path, and closes the connection after each answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// One request as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

/// What the server answers: a status, a content type and a body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Answer {
    /// `status` with a JSON body.
    pub fn json(status: u16, body: &str) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            body: body.as_bytes().to_vec(),
        }
    }

    /// `status` with an HTML page.
    pub fn html(status: u16, body: &str) -> Answer {
        Answer {
            status,
            content_type: "text/html",
            body: body.as_bytes().to_vec(),
        }
    }
}

/// A running scripted server.
pub struct Scripted {
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Scripted {
    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `METHOD PATH` of every request so far.
    pub fn lines(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

/// Serves `answer` for every request, on its own thread, until the test ends.
pub fn serve(answer: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (seen, answer) = (Arc::clone(&seen), Arc::clone(&answer));
            std::thread::spawn(move || {
                let Some(request) = read_request(&stream) else {
                    return;
                };
                let a = answer(&request);
                seen.lock().unwrap_or_else(|e| e.into_inner()).push(request);
                let mut stream = stream;
                let head = format!(
                    "HTTP/1.1 {} Scripted\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    a.status,
                    a.content_type,
                    a.body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&a.body);
            });
        }
    });
    Scripted { url, requests }
}

/// Reads one request: its line, headers and `Content-Length` body.
fn read_request(stream: &std::net::TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, path, body })
}
