//! One module per command. Each is a short function over the account layer: parse its
//! arguments, open its accounts (`crate::accounts`, `crate::account`), call the domain
//! (plan, apply, status, …), and render. No command module uses another.

pub(crate) mod apply;
pub(crate) mod completions;
pub(crate) mod inspect;
pub(crate) mod plan;
pub(crate) mod reconcile;
pub(crate) mod sandbox;
pub(crate) mod show;
pub(crate) mod status;
pub(crate) mod transfer;
pub(crate) mod validate;
