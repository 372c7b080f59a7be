//! `sandbox`: serve the embedded API emulator on loopback until Ctrl-C.

use crate::cli::SandboxArgs;
use crate::emulator::{self, SandboxOptions, SANDBOX_API_KEY};
use crate::error::Error;
use crate::outcome::Outcome;

pub(crate) fn run(args: &SandboxArgs) -> Result<Outcome, Error> {
    crate::runtime::block_on(async {
        let sb = emulator::start(SandboxOptions {
            port: args.port,
            ..Default::default()
        })
        .await
        .map_err(|source| listen_error(args.port, source))?;
        println!("Saleshandy sandbox listening on {}", sb.url());
        println!("Use it with: SALESHANDY_API_KEY={SANDBOX_API_KEY} saleshandy-webhooks apply --api-url {}", sb.url());
        println!("Press Ctrl-C to stop. Nothing is kept after it stops.");
        let _ = tokio::signal::ctrl_c().await;
        sb.shutdown().await;
        Ok(Outcome::Success)
    })?
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
