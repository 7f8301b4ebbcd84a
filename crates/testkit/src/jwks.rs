//! A local JWKS endpoint for RS256 tests: serves a key set that a test can swap (rotation) and
//! counts fetches; signs tokens with the fixed keys of [`crate::rsa_keys`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;

use crate::rsa_keys;

/// One of the two fixed RSA test keys with its `kid`.
#[derive(Debug, Clone)]
pub struct RsaTestKey {
    /// The key id.
    pub kid: String,
    pem: &'static str,
    n: &'static str,
}

impl RsaTestKey {
    /// Key 1 or 2 (any other number gives key 2) named `kid`.
    pub fn new(which: u8, kid: &str) -> Self {
        let (pem, n) = if which == 1 {
            (rsa_keys::RSA_KEY_1_PEM, rsa_keys::RSA_KEY_1_N)
        } else {
            (rsa_keys::RSA_KEY_2_PEM, rsa_keys::RSA_KEY_2_N)
        };
        Self {
            kid: kid.to_owned(),
            pem,
            n,
        }
    }

    /// The public JWK.
    pub fn jwk(&self) -> Value {
        json!({"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256", "n": self.n, "e": rsa_keys::RSA_E})
    }

    /// Signs `claims` with RS256 under this key's `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(self.pem.as_bytes()).expect("test key");
        jsonwebtoken::encode(&header, claims, &key).expect("sign")
    }
}

#[derive(Clone)]
struct Shared {
    set: Arc<RwLock<Value>>,
    fetches: Arc<AtomicUsize>,
}

/// A running JWKS server.
pub struct JwksServer {
    /// The URL of the key set.
    pub url: String,
    shared: Shared,
    stop: CancellationToken,
}

impl std::fmt::Debug for JwksServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksServer")
            .field("url", &self.url)
            .finish()
    }
}

impl JwksServer {
    /// Starts serving `keys` on 127.0.0.1:0.
    pub async fn start(keys: &[RsaTestKey]) -> JwksServer {
        let shared = Shared {
            set: Arc::new(RwLock::new(Self::set_of(keys))),
            fetches: Arc::new(AtomicUsize::new(0)),
        };
        let app = Router::new()
            .route(
                "/.well-known/jwks.json",
                get(|State(s): State<Shared>| async move {
                    s.fetches.fetch_add(1, Ordering::SeqCst);
                    axum::Json(s.set.read().await.clone())
                }),
            )
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let token = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await;
        });
        JwksServer {
            url: format!("http://{addr}/.well-known/jwks.json"),
            shared,
            stop,
        }
    }

    fn set_of(keys: &[RsaTestKey]) -> Value {
        json!({"keys": keys.iter().map(RsaTestKey::jwk).collect::<Vec<_>>()})
    }

    /// Replaces the served keys (a rotation).
    pub async fn set_keys(&self, keys: &[RsaTestKey]) {
        *self.shared.set.write().await = Self::set_of(keys);
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.shared.fetches.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
