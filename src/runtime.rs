//! The process's one async runtime, built on first use: a command that sends nothing
//! (validate, plan, state list) starts no thread, and every part of a command that does (its
//! accounts, the probe, the embedded sandbox) runs on the same one.
//!
//! It is never shut down: it lives until the process exits, so that nothing waits at the end
//! for a thread still blocked in the system's resolver (a DNS lookup that timed out).

use std::future::Future;
use std::io;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::Error;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// Runs `future` to completion on the process's runtime, from outside it.
///
/// Fails when the runtime cannot be built (no thread could start) and when called from code
/// that the runtime itself runs: blocking there would stall one of its workers, so async code
/// awaits instead.
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output, Error> {
    if Handle::try_current().is_ok() {
        return Err(Error::Runtime(io::Error::other(
            "block_on was called from inside the async runtime",
        )));
    }
    Ok(runtime().map_err(Error::Runtime)?.block_on(future))
}

/// Runs `future` to completion from synchronous code, wherever that code runs: outside the
/// runtime (as [`block_on`]), or inside it, on a thread the runtime may block (the stores'
/// synchronous interface is called from both). Fails only inside a single-threaded runtime.
pub(crate) fn wait<F: Future>(future: F) -> io::Result<F::Output> {
    match Handle::try_current() {
        Err(_) => Ok(runtime()?.block_on(future)),
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            Ok(tokio::task::block_in_place(|| {
                Handle::current().block_on(future)
            }))
        }
        Ok(_) => Err(io::Error::other(
            "a store was used from inside a single-threaded runtime",
        )),
    }
}

/// The process's runtime, for tasks that outlive one call (a lock's renewal).
pub(crate) fn handle() -> io::Result<Handle> {
    Ok(runtime()?.handle().clone())
}

fn runtime() -> io::Result<&'static Runtime> {
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let built = Builder::new_multi_thread().enable_all().build()?;
    // Another thread may have built one meanwhile: theirs is kept, this one dropped unused.
    Ok(RUNTIME.get_or_init(|| built))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_spawned_in_one_call_is_still_served_in_the_next() {
        let (ask, mut asked) =
            tokio::sync::mpsc::unbounded_channel::<tokio::sync::oneshot::Sender<u32>>();
        block_on(async move {
            tokio::spawn(async move {
                while let Some(reply) = asked.recv().await {
                    let _ = reply.send(42);
                }
            });
        })
        .expect("first call");
        // Were each call given a runtime of its own, the task would have died with the first.
        let answer = block_on(async move {
            let (reply, answer) = tokio::sync::oneshot::channel();
            ask.send(reply).expect("the task is alive");
            answer.await
        })
        .expect("second call");
        assert_eq!(answer, Ok(42));
    }

    #[test]
    fn wait_works_outside_and_inside_the_runtime() {
        assert_eq!(wait(async { 1 }).unwrap(), 1);
        let inside = block_on(async { wait(async { 2 }).unwrap() }).expect("outer call");
        assert_eq!(inside, 2);
        let from_a_task = block_on(async {
            tokio::spawn(async { wait(async { 3 }).unwrap() })
                .await
                .unwrap()
        })
        .expect("outer call");
        assert_eq!(from_a_task, 3);
    }

    #[test]
    fn calling_it_from_inside_the_runtime_is_an_error_not_a_panic() {
        let nested = block_on(async { block_on(async { 1 }).map_err(|e| e.to_string()) })
            .expect("outer call");
        assert_eq!(
            nested,
            Err("cannot start: block_on was called from inside the async runtime".to_string())
        );
    }
}
