//! Shared test support: unique key prefixes, Redis clean-up, and a TCP proxy to Redis
//! that can be switched off and on to simulate an outage.

#![allow(dead_code)]

pub mod behaviours;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Redis URL for tests (REDIS_URL or the local default).
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A unique key prefix for one test (keys become `v1:{prefix}...`).
pub fn unique_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

/// Deletes every Redis key under `v1:{prefix}` when dropped (also when a test panics).
pub struct RedisKeys {
    pub prefix: String,
}

impl RedisKeys {
    /// A fresh prefix.
    pub fn new() -> Self {
        Self {
            prefix: unique_prefix(),
        }
    }

    /// Keys currently stored under the prefix (full keys).
    pub fn stored_keys(&self) -> Vec<String> {
        let client = redis::Client::open(redis_url()).expect("redis url");
        let mut conn = client.get_connection().expect("redis connection");
        redis::cmd("KEYS")
            .arg(format!("v1:{}*", self.prefix))
            .query(&mut conn)
            .expect("KEYS")
    }

    /// Raw GET of a full key.
    pub fn raw_get(&self, full_key: &str) -> Option<Vec<u8>> {
        let client = redis::Client::open(redis_url()).expect("redis url");
        let mut conn = client.get_connection().expect("redis connection");
        redis::cmd("GET")
            .arg(full_key)
            .query(&mut conn)
            .expect("GET")
    }
}

impl Drop for RedisKeys {
    fn drop(&mut self) {
        let keys = self.stored_keys();
        if keys.is_empty() {
            return;
        }
        if let Ok(client) = redis::Client::open(redis_url())
            && let Ok(mut conn) = client.get_connection()
        {
            let _: Result<i64, _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

/// A TCP proxy in front of the real Redis that can refuse and cut connections.
pub struct ToggleProxy {
    addr: SocketAddr,
    up: Arc<watch::Sender<bool>>,
    task: tokio::task::JoinHandle<()>,
}

impl ToggleProxy {
    /// Starts the proxy (up) on a random local port, forwarding to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (tx, _) = watch::channel(true);
        let up = Arc::new(tx);
        let up2 = up.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !*up2.borrow() {
                    drop(client); // down: close at once
                    continue;
                }
                let mut rx = up2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = rx.wait_for(|up| !*up) => {} // cut live connections
                    }
                });
            }
        });
        Self { addr, up, task }
    }

    /// URL clients use to reach Redis through the proxy.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Switches the proxy on or off.
    pub fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

impl Drop for ToggleProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A local TCP server that accepts connections and never answers (a hung Redis); the
/// counter tells how many connections were attempted.
pub async fn black_hole() -> (
    SocketAddr,
    Arc<std::sync::atomic::AtomicUsize>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    (addr, accepted, task)
}
