//! `${NAME}` interpolation from the environment; `$${` is a literal `${`. A variable that is
//! set but empty is an error (in CI a missing secret expands to an empty string), unless the
//! config says an empty value is meant: `${NAME:-}`, which is also empty when unset.

use std::ops::Range;

/// The result of interpolating one string.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Interpolated {
    pub value: String,
    /// True when at least one `${NAME}` was replaced: the value is then a secret.
    pub used_env: bool,
    /// The value of each variable replaced, in order.
    pub vars: Vec<crate::secret::Secret>,
}

/// Something wrong at a byte range of the raw string.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum InterpolationError {
    Unset {
        var: String,
        at: Range<usize>,
    },
    Empty {
        var: String,
        at: Range<usize>,
    },
    Syntax {
        reason: &'static str,
        at: Range<usize>,
    },
}

/// Replaces every `${NAME}` in `raw` by `env(NAME)`. Reports every problem in the string, not
/// only the first.
pub(super) fn interpolate(
    raw: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Interpolated, Vec<InterpolationError>> {
    let mut value = String::with_capacity(raw.len());
    let mut errors = Vec::new();
    let mut used_env = false;
    let mut vars = Vec::new();
    let mut rest = raw;
    let mut offset = 0;
    while let Some(i) = rest.find('$') {
        value.push_str(&rest[..i]);
        let tail = &rest[i..];
        let at = offset + i;
        if let Some(after) = tail.strip_prefix("$${") {
            value.push_str("${");
            rest = after;
            offset = at + 3;
        } else if let Some(body) = tail.strip_prefix("${") {
            match body.find('}') {
                None => {
                    errors.push(InterpolationError::Syntax {
                        reason: "`${` is not closed by `}`",
                        at: at..raw.len(),
                    });
                    rest = "";
                    offset = raw.len();
                }
                Some(close) => {
                    let (name, may_be_empty) = match body[..close].strip_suffix(":-") {
                        Some(name) => (name, true),
                        None => (&body[..close], false),
                    };
                    let span = at..at + close + 3;
                    if !is_var_name(name) {
                        errors.push(InterpolationError::Syntax {
                            reason: "a variable name is letters, digits and `_`, not starting with a digit",
                            at: span,
                        });
                    } else {
                        match env(name) {
                            Some(v) if v.is_empty() && !may_be_empty => {
                                errors.push(InterpolationError::Empty {
                                    var: name.to_string(),
                                    at: span,
                                })
                            }
                            Some(v) => {
                                value.push_str(&v);
                                used_env = true;
                                vars.push(crate::secret::Secret::new(v));
                            }
                            None if may_be_empty => used_env = true,
                            None => errors.push(InterpolationError::Unset {
                                var: name.to_string(),
                                at: span,
                            }),
                        }
                    }
                    rest = &body[close + 1..];
                    offset = at + close + 3;
                }
            }
        } else {
            value.push('$');
            rest = &tail[1..];
            offset = at + 1;
        }
    }
    value.push_str(rest);
    if errors.is_empty() {
        Ok(Interpolated {
            value,
            used_env,
            vars,
        })
    } else {
        Err(errors)
    }
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cr3t".to_string()),
            "BLANK" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn an_empty_value_is_an_error_unless_allowed_with_colon_dash() {
        assert_eq!(
            interpolate("Bearer ${BLANK}", &env).unwrap_err(),
            vec![InterpolationError::Empty {
                var: "BLANK".into(),
                at: 7..15
            }]
        );
        let allowed = interpolate("a${BLANK:-}b${NOPE:-}c", &env).unwrap();
        assert_eq!(allowed.value, "abc");
    }

    #[test]
    fn replaces_and_marks_secret() {
        let r = interpolate("Bearer ${TOKEN}", &env).unwrap();
        assert_eq!(
            r,
            Interpolated {
                value: "Bearer s3cr3t".into(),
                used_env: true,
                vars: vec![crate::secret::Secret::new("s3cr3t".into())],
            }
        );
    }

    #[test]
    fn double_dollar_is_literal_and_not_secret() {
        let r = interpolate("a $${TOKEN} $5 $", &env).unwrap();
        assert_eq!(
            r,
            Interpolated {
                value: "a ${TOKEN} $5 $".into(),
                used_env: false,
                vars: Vec::new(),
            }
        );
    }

    #[test]
    fn every_problem_is_reported_with_its_range() {
        let errs = interpolate("${NOPE} ${1X} ${TOKEN", &env).unwrap_err();
        assert_eq!(
            errs,
            vec![
                InterpolationError::Unset {
                    var: "NOPE".into(),
                    at: 0..7
                },
                InterpolationError::Syntax {
                    reason: "a variable name is letters, digits and `_`, not starting with a digit",
                    at: 8..13
                },
                InterpolationError::Syntax {
                    reason: "`${` is not closed by `}`",
                    at: 14..21
                },
            ]
        );
    }
}
