//! AI: every Claude call in the system goes through the spend gate ([`AiGate`]): budget
//! reservation and settlement in the cache's money counters and the `ai_usage` ledger, the
//! circuit that opens at a cap. The features built on it each have a deterministic fallback
//! used whenever the gate gives no valid answer: reply classification (the keyword
//! classifier), message writing (the templates) and ICP extraction (the rule extractor). The
//! spend reports read the ledger.

pub mod classify;
mod gate;
mod settings;
pub mod spend;
pub mod write;

pub use gate::{AiError, AiGate, BudgetScope, Prompt, Reservation};
pub use settings::{
    AiSettings, PLATFORM_TIMEZONE, TOOL_OVERHEAD_TOKENS, client_counter, output_cap,
};
