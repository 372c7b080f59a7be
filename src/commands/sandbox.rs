//! `sandbox`: serve the embedded API emulator on loopback until Ctrl-C; its subcommands act on
//! a running one as a person would in Saleshandy's UI ([`operate`]).

mod operate;

use crate::cli::SandboxArgs;
use crate::emulator::{self, DataError, SandboxOptions, StartError, SANDBOX_API_KEY};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::ui::Ui;

pub(crate) fn run(args: &SandboxArgs, ui: Ui) -> Result<Outcome, Error> {
    match &args.command {
        Some(command) => operate::run(command, ui),
        None => serve(args),
    }
}

fn serve(args: &SandboxArgs) -> Result<Outcome, Error> {
    crate::runtime::block_on(async {
        let sb = emulator::start(SandboxOptions {
            port: args.port,
            data: args.data.clone(),
            announce: true,
            ..Default::default()
        })
        .await
        .map_err(|e| start_error(args.port, e))?;
        let url = sb.url();
        println!("Saleshandy sandbox listening on {url}");
        println!("Its page, listing every account's webhooks: {url}/");
        println!("Use it with: SALESHANDY_API_KEY={SANDBOX_API_KEY} saleshandy-webhooks apply --api-url {url}");
        println!("Each key of the form sandbox-NAME is an account of its own.");
        match &args.data {
            Some(file) => println!(
                "Webhooks are kept in {} ({} now). Press Ctrl-C to stop.",
                file.display(),
                crate::render::text::count(sb.webhooks().len(), "webhook")
            ),
            None => println!(
                "Press Ctrl-C to stop. Nothing is kept after it stops (--data FILE keeps it)."
            ),
        }
        stopped().await;
        sb.shutdown().await;
        Ok(Outcome::Success)
    })?
}

/// Waits for Ctrl-C or SIGTERM: either stops the sandbox cleanly.
async fn stopped() {
    let ctrl_c = Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            let term = Box::pin(async move {
                term.recv().await;
            });
            futures_util::future::select(ctrl_c, term).await;
        }
        Err(_) => ctrl_c.await,
    }
}

/// Why the sandbox could not start, and what to do.
fn start_error(port: u16, error: StartError) -> Error {
    match error {
        StartError::Listen(source) => listen_error(port, source),
        StartError::Data(DataError::InUse { path, served_at }) => {
            let help = match served_at {
                Some(url) => format!("a sandbox already serves it at {url}: use that one (its page is {url}/), or stop it first"),
                None => "a `--sandbox` run is using it: wait for it to end, then start the sandbox again".to_string(),
            };
            Error::SandboxInUse {
                path,
                by: "sandbox",
                help,
            }
        }
        StartError::Data(e) => Error::SandboxData(Box::new(e)),
    }
}

/// Why the sandbox could not take its port, and what to do.
fn listen_error(port: u16, source: std::io::Error) -> Error {
    let help = match source.kind() {
        std::io::ErrorKind::AddrInUse => format!("another program is listening on port {port}: stop it, or run `saleshandy-webhooks sandbox --port N` with another port (`--port 0` picks a free one)"),
        std::io::ErrorKind::PermissionDenied => format!("this user may not listen on port {port}: run `saleshandy-webhooks sandbox --port N` with a port above 1023 (`--port 0` picks a free one)"),
        _ => "run `saleshandy-webhooks sandbox --port N` with another port (`--port 0` picks a free one), or check the system's limits on open files".to_string(),
    };
    Error::SandboxListen {
        port,
        io: source,
        help,
    }
}
