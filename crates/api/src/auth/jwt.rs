//! Verification of Supabase access tokens: HS256 with the project secret, or RS256/ES256
//! with keys from the project's JWKS, cached in process for a TTL and refetched when a token
//! names an unknown `kid` (at most once per `jwks_min_refresh_interval`). `aud` must be
//! `authenticated`; `exp` and `nbf` (when present) are enforced with the configured leeway.
//! Anonymous Supabase sign-ins (`is_anonymous: true`) are refused. The token's `email` is
//! kept only when it parses with the strict ASCII parser used for lead emails
//! ([`agency_domain::Email`]) and, when the token carries `email_verified` (top level or in
//! `user_metadata`), that claim is true; otherwise the caller has no email (so it matches no
//! invite).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use agency_domain::Email;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};
use uuid::Uuid;

use crate::config::AuthSettings;

/// The audience Supabase puts in user access tokens.
pub const AUDIENCE: &str = "authenticated";

/// The claims the API uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The user id (`sub`).
    pub sub: Uuid,
    /// The user's email (normalised), when the token has a valid one that is not marked
    /// unverified.
    pub email: Option<Email>,
}

#[derive(Debug, Deserialize)]
struct RawClaims {
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<bool>,
    #[serde(default)]
    is_anonymous: Option<bool>,
    #[serde(default)]
    user_metadata: Option<UserMetadata>,
}

#[derive(Debug, Deserialize)]
struct UserMetadata {
    #[serde(default)]
    email_verified: Option<bool>,
}

impl RawClaims {
    /// The email, when it parses strictly and no `email_verified` claim says false.
    fn verified_email(&self) -> Option<Email> {
        let verified = self
            .email_verified
            .or(self.user_metadata.as_ref().and_then(|m| m.email_verified));
        if verified == Some(false) {
            return None;
        }
        let raw = self.email.as_deref().filter(|e| !e.trim().is_empty())?;
        Email::parse(raw).ok()
    }
}

/// Why a token was refused (each maps to a 401 code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token has expired.
    #[error("the access token has expired")]
    Expired,
    /// The token's `nbf` is still in the future.
    #[error("the access token is not valid yet")]
    NotYetValid,
    /// An anonymous Supabase sign-in.
    #[error("anonymous sign-ins cannot use this API")]
    Anonymous,
    /// The token is not meant for this API.
    #[error("the access token has the wrong audience")]
    WrongAudience,
    /// Its algorithm is not accepted or not configured.
    #[error("the access token's algorithm is not accepted")]
    Algorithm,
    /// No key matches its `kid`.
    #[error("the access token was signed with an unknown key")]
    UnknownKey,
    /// The signature does not verify, or the token is malformed.
    #[error("the access token is invalid")]
    Invalid,
}

impl TokenError {
    /// The envelope code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Expired => "token_expired",
            TokenError::WrongAudience => "token_wrong_audience",
            TokenError::Anonymous => "anonymous_token",
            TokenError::NotYetValid
            | TokenError::Algorithm
            | TokenError::UnknownKey
            | TokenError::Invalid => "invalid_token",
        }
    }
}

struct KeyEntry {
    key: DecodingKey,
    alg: Algorithm,
}

#[derive(Default)]
struct JwksState {
    keys: HashMap<String, KeyEntry>,
    fetched_at: Option<Instant>,
}

struct Jwks {
    url: String,
    http: reqwest::Client,
    ttl: Duration,
    min_refresh: Duration,
    state: RwLock<JwksState>,
    /// Serialises refetches; holds when the last one was attempted.
    refresh: Mutex<Option<Instant>>,
}

/// Verifies access tokens.
pub struct JwtVerifier {
    hs256: Option<DecodingKey>,
    jwks: Option<Jwks>,
    leeway: u64,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("hs256", &self.hs256.is_some())
            .field("jwks", &self.jwks.as_ref().map(|j| j.url.as_str()))
            .finish()
    }
}

impl JwtVerifier {
    /// A verifier for `settings`.
    pub fn new(settings: &AuthSettings) -> Self {
        let hs256 = settings
            .jwt_secret
            .as_ref()
            .map(|s| DecodingKey::from_secret(s.expose_secret().as_bytes()));
        let jwks = settings.jwks_url.as_ref().map(|url| Jwks {
            url: url.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            ttl: settings.jwks_ttl,
            min_refresh: settings.jwks_min_refresh_interval,
            state: RwLock::new(JwksState::default()),
            refresh: Mutex::new(None),
        });
        Self {
            hs256,
            jwks,
            leeway: settings.leeway_secs,
        }
    }

    /// Verifies `token` and returns its claims.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        match header.alg {
            Algorithm::HS256 => {
                let key = self.hs256.as_ref().ok_or(TokenError::Algorithm)?;
                self.decode(token, key, Algorithm::HS256)
            }
            Algorithm::RS256 | Algorithm::ES256 => {
                let jwks = self.jwks.as_ref().ok_or(TokenError::Algorithm)?;
                let kid = header.kid.ok_or(TokenError::UnknownKey)?;
                let (key, alg) = jwks.key(&kid).await?;
                if alg != header.alg {
                    return Err(TokenError::Algorithm);
                }
                self.decode(token, &key, alg)
            }
            _ => Err(TokenError::Algorithm),
        }
    }

    fn decode(&self, token: &str, key: &DecodingKey, alg: Algorithm) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(alg);
        validation.set_audience(&[AUDIENCE]);
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        let data = jsonwebtoken::decode::<RawClaims>(token, key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                ErrorKind::InvalidAudience => TokenError::WrongAudience,
                ErrorKind::InvalidAlgorithm => TokenError::Algorithm,
                _ => TokenError::Invalid,
            }
        })?;
        let sub = Uuid::parse_str(&data.claims.sub).map_err(|_| TokenError::Invalid)?;
        if data.claims.is_anonymous == Some(true) {
            return Err(TokenError::Anonymous);
        }
        Ok(Claims {
            sub,
            email: data.claims.verified_email(),
        })
    }
}

impl Jwks {
    async fn key(&self, kid: &str) -> Result<(DecodingKey, Algorithm), TokenError> {
        {
            let state = self.state.read().await;
            let fresh = state.fetched_at.is_some_and(|t| t.elapsed() < self.ttl);
            if fresh && let Some(entry) = state.keys.get(kid) {
                return Ok((entry.key.clone(), entry.alg));
            }
        }
        self.refresh().await;
        let state = self.state.read().await;
        state
            .keys
            .get(kid)
            .map(|e| (e.key.clone(), e.alg))
            .ok_or(TokenError::UnknownKey)
    }

    /// Refetches the key set unless another refetch ran within `min_refresh` (or the cache
    /// was filled while waiting for the lock).
    async fn refresh(&self) {
        let mut last = self.refresh.lock().await;
        if last.is_some_and(|t| t.elapsed() < self.min_refresh) {
            return;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                let mut state = self.state.write().await;
                tracing::info!(keys = keys.len(), "fetched JWKS");
                state.keys = keys;
                state.fetched_at = Some(Instant::now());
            }
            Err(e) => {
                tracing::warn!(error = %e, url = %self.url, "fetching JWKS failed; keeping cached keys")
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, KeyEntry>, reqwest::Error> {
        let set: JwkSet = self
            .http
            .get(&self.url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let alg = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                    Algorithm::ES256
                }
                _ => continue,
            };
            match DecodingKey::from_jwk(jwk) {
                Ok(key) => {
                    keys.insert(kid, KeyEntry { key, alg });
                }
                Err(e) => tracing::warn!(%kid, error = %e, "skipping unusable JWK"),
            }
        }
        Ok(keys)
    }
}
