//! The waits the tool chooses on its own — retry backoff, `Retry-After`, lock waits, the
//! sandbox's delivery timeout, `apply`'s grace after a signal — made shorter in test builds, so tests need not sit them out.
//!
//! The gate: only a build with debug assertions (the dev profile, which `cargo test` uses for
//! the binary it tests) reads [`TIME_SCALE_ENV`]. A release build, which `cargo install` makes,
//! never reads it, so the factor is always 1 there and every wait is the production one.

use std::ffi::OsString;
use std::sync::OnceLock;
use std::time::Duration;

use miette::Diagnostic;
use thiserror::Error;

/// The environment variable that multiplies the tool's own waits by a factor in (0, 1], e.g.
/// `0.01`; read only by builds with debug assertions (see [`TIME_SCALE_HONOURED`]).
pub const TIME_SCALE_ENV: &str = "SALESHANDY_WEBHOOKS_TEST_TIME_SCALE";

/// Whether this build reads [`TIME_SCALE_ENV`]: exactly when it has debug assertions.
pub(crate) const TIME_SCALE_HONOURED: bool = cfg!(debug_assertions);

/// A value of [`TIME_SCALE_ENV`] that is not a factor in (0, 1].
#[derive(Debug, Clone, PartialEq, Error, Diagnostic)]
#[error("{TIME_SCALE_ENV}={value:?} is not a factor in (0, 1]")]
#[diagnostic(
    code(clock::time_scale),
    help("this test-only variable shortens the tool's own waits in debug builds; set a number such as 0.01, or unset it")
)]
pub(crate) struct ScaleError {
    /// The value as given (lossy when it is not UTF-8).
    pub value: String,
}

/// `d` as this process waits it: `d` times the test factor (1 unless a debug build has
/// [`TIME_SCALE_ENV`] set).
pub(crate) fn wait(d: Duration) -> Duration {
    scaled(d, scale())
}

/// `d` times `factor`; exactly `d` for a factor of 1, so production waits are untouched.
pub(crate) fn scaled(d: Duration, factor: f64) -> Duration {
    if factor == 1.0 {
        d
    } else {
        d.mul_f64(factor)
    }
}

/// The factor for this process: 1 unless a debug build has a valid [`TIME_SCALE_ENV`].
pub(crate) fn scale() -> f64 {
    factor().as_ref().map_or(1.0, |f| *f)
}

/// Refuses an invalid [`TIME_SCALE_ENV`], so that the binary says so at start instead of
/// silently waiting in real time.
pub(crate) fn check() -> Result<(), ScaleError> {
    factor().clone().map(drop)
}

/// The factor, read from the environment once per process.
fn factor() -> &'static Result<f64, ScaleError> {
    static FACTOR: OnceLock<Result<f64, ScaleError>> = OnceLock::new();
    FACTOR.get_or_init(|| resolve(TIME_SCALE_HONOURED, || std::env::var_os(TIME_SCALE_ENV)))
}

/// The factor a build takes from the variable: 1 without reading it when not `honoured`,
/// 1 when it is unset or empty, else its value if that is a number in (0, 1].
fn resolve(honoured: bool, read: impl FnOnce() -> Option<OsString>) -> Result<f64, ScaleError> {
    if !honoured {
        return Ok(1.0);
    }
    let Some(raw) = read() else {
        return Ok(1.0);
    };
    let text = raw.to_string_lossy();
    if text.trim().is_empty() {
        return Ok(1.0);
    }
    // NaN fails both comparisons, so it is refused along with zero, negatives and infinity.
    match text.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f <= 1.0 => Ok(f),
        _ => Err(ScaleError {
            value: text.into_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<f64, ScaleError> {
        resolve(true, || Some(value.into()))
    }

    #[test]
    fn a_factor_in_zero_to_one_is_taken() {
        assert_eq!(parse("0.01"), Ok(0.01));
        assert_eq!(parse(" 0.5 "), Ok(0.5));
        assert_eq!(parse("1"), Ok(1.0));
        assert_eq!(parse("1e-3"), Ok(0.001));
    }

    #[test]
    fn unset_or_empty_means_real_time() {
        assert_eq!(resolve(true, || None), Ok(1.0));
        assert_eq!(parse(""), Ok(1.0));
        assert_eq!(parse("  "), Ok(1.0));
    }

    #[test]
    fn anything_else_is_refused_naming_the_variable() {
        for bad in [
            "0", "-0.5", "1.5", "100", "NaN", "inf", "fast", "0,01", "1/100",
        ] {
            let err = parse(bad).unwrap_err();
            assert_eq!(err.value, bad);
            let msg = err.to_string();
            assert!(
                msg.contains(TIME_SCALE_ENV) && msg.contains("(0, 1]"),
                "{msg}"
            );
        }
    }

    #[test]
    fn a_build_that_does_not_honour_it_never_reads_it() {
        let unread = || -> Option<OsString> { panic!("the variable was read") };
        assert_eq!(resolve(false, unread), Ok(1.0));
        // Not even an invalid value is looked at.
        assert_eq!(resolve(false, || Some("fast".into())), Ok(1.0));
    }

    #[test]
    fn it_is_honoured_exactly_in_builds_with_debug_assertions() {
        assert_eq!(TIME_SCALE_HONOURED, cfg!(debug_assertions));
        let got = resolve(TIME_SCALE_HONOURED, || Some("0.25".into()));
        let expected = if cfg!(debug_assertions) { 0.25 } else { 1.0 };
        assert_eq!(got, Ok(expected));
    }

    #[test]
    fn scaling_by_one_is_the_identity_and_smaller_factors_shrink() {
        let d = Duration::from_millis(1234);
        assert_eq!(scaled(d, 1.0), d);
        assert_eq!(
            scaled(Duration::from_secs(2), 0.01),
            Duration::from_millis(20)
        );
        assert_eq!(
            scaled(Duration::from_secs(u64::MAX), 1.0),
            Duration::from_secs(u64::MAX)
        );
    }
}
