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
        .map_err(Error::Runtime)?;
        println!("Saleshandy sandbox listening on {}", sb.url());
        println!("Use it with: SALESHANDY_API_KEY={SANDBOX_API_KEY} saleshandy-webhooks apply --api-url {}", sb.url());
        println!("Press Ctrl-C to stop. Nothing is kept after it stops.");
        let _ = tokio::signal::ctrl_c().await;
        sb.shutdown().await;
        Ok(Outcome::Success)
    })?
}
