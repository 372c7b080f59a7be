//! The browser kit ([`crate::support::browser`]) drives a real Chromium: a page served on
//! 127.0.0.1 is opened, a form is filled in and submitted by a click, and the page the server
//! redirects to is read and photographed.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum::Router;

use crate::support::browser::browser;
use crate::support::object_servers::install::test_servers_dir;

/// The bodies of the POSTs to `/press`, in order.
type Presses = Arc<Mutex<Vec<String>>>;

/// A one-form site on 127.0.0.1, served by its own runtime until dropped.
struct Site {
    url: String,
    presses: Presses,
    _runtime: tokio::runtime::Runtime,
}

impl Site {
    fn start() -> Site {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a runtime for the site");
        let presses = Presses::default();
        let app = Router::new()
            .route("/", get(page))
            .route("/press", post(press))
            .with_state(presses.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a port on 127.0.0.1");
        let port = listener.local_addr().expect("the site's address").port();
        runtime.spawn(async move { axum::serve(listener, app).await });
        Site {
            url: format!("http://127.0.0.1:{port}/"),
            presses,
            _runtime: runtime,
        }
    }

    fn presses(&self) -> Vec<String> {
        self.presses.lock().unwrap().clone()
    }
}

async fn page(State(presses): State<Presses>) -> Html<String> {
    let count = presses.lock().unwrap().len();
    Html(format!(
        "<!doctype html>\n<html><head><title>Browser kit</title></head><body>\
         <p id=\"count\">pressed {count}</p>\
         <form method=\"post\" action=\"/press\">\
         <input id=\"note\" name=\"note\" value=\"draft\"><button id=\"press\">Press</button>\
         </form></body></html>\n"
    ))
}

async fn press(State(presses): State<Presses>, body: String) -> Redirect {
    presses.lock().unwrap().push(body);
    Redirect::to("/")
}

#[test]
fn browser_submits_a_form_by_a_click_and_shows_the_page_the_server_redirects_to() {
    let site = Site::start();
    let browser = browser();
    browser.goto(&site.url);
    assert_eq!(browser.title(), "Browser kit");
    assert_eq!(browser.find("#count").text(), "pressed 0");
    let form = browser.find("form");
    assert_eq!(form.attr("method").as_deref(), Some("post"));
    assert_eq!(form.attr("data-absent"), None);
    let note = browser.find("#note");
    assert_eq!(note.property("value"), "draft");
    note.clear();
    note.send_keys("two words");
    assert_eq!(note.property("value"), "two words");
    let buttons: Vec<String> = browser
        .find_all("button")
        .iter()
        .map(|b| b.text())
        .collect();
    assert_eq!(buttons, ["Press"]);
    assert!(browser.find_all("textarea").is_empty());

    assert_eq!(browser.execute("return document.forms.length"), 1);
    browser.find("#press").click_to_leave();

    assert_eq!(site.presses(), ["note=two+words"]);
    assert_eq!(browser.current_url(), site.url);
    assert_eq!(browser.find("#count").text(), "pressed 1");
    assert_eq!(browser.find("body").text(), "pressed 1\nPress");
    assert_eq!(browser.find("#note").property("value"), "draft");
    let source = browser.page_source();
    assert!(
        source.contains("<p id=\"count\">pressed 1</p>"),
        "the page's source: {source}"
    );
    let png = test_servers_dir().join("browser-kit.png");
    browser.screenshot(&png);
    let bytes = std::fs::read(&png).expect("the screenshot");
    assert_eq!(bytes[..8], *b"\x89PNG\r\n\x1a\n");
}

#[test]
#[should_panic(expected = "no element matches \"#absent\" on http://127.0.0.1:")]
fn browser_find_of_a_missing_element_fails_the_test_with_the_page() {
    let site = Site::start();
    let browser = browser();
    browser.goto(&site.url);
    browser.find("#absent");
}
