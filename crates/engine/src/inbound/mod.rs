//! Inbound: what reaches us from the outside and what it does. Replies and meetings for the
//! dashboard ([`replies`], [`meetings`]).

pub mod meetings;
pub mod replies;
