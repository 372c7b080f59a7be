//! One module per command. Each is a short function over the account layer: parse its
//! arguments, open its accounts (`crate::accounts`, `crate::account`), call the domain
//! (plan, apply, status, …), and render. No command module uses another.

pub mod apply;
pub mod completions;
pub mod inspect;
pub mod plan;
pub mod reconcile;
pub mod sandbox;
pub mod status;
pub mod validate;
