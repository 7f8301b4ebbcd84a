//! The HTTP API of Agency OS: the axum router the dashboard calls, its configuration and
//! server. `main.rs` only parses configuration and calls [`serve`].

pub mod config;
pub mod server;

pub use config::ApiConfig;
pub use server::{AppState, build_router, serve};
