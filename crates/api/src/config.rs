//! The API's configuration, read from the environment (and `.env`).

use std::net::{IpAddr, SocketAddr};

use agency_runtime::CommonArgs;
use clap::Parser;

/// Configuration of `agency-api`; `--help` lists every variable.
#[derive(Debug, Clone, Parser)]
#[command(name = "agency-api", about = "Agency OS HTTP API", version)]
pub struct ApiConfig {
    /// Address to listen on.
    #[arg(
        long = "host",
        env = "HOST",
        value_name = "HOST",
        default_value = "0.0.0.0"
    )]
    pub host: IpAddr,
    /// Port to listen on.
    #[arg(
        long = "port",
        env = "PORT",
        value_name = "PORT",
        default_value_t = 8080
    )]
    pub port: u16,
    /// Shared settings: database, Redis, telemetry.
    #[command(flatten)]
    pub common: CommonArgs,
}

impl ApiConfig {
    /// The socket address to bind.
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }
}
