//! Credentials sealed at rest: a client's own provider secrets (today its Twilio auth token)
//! are stored encrypted with XChaCha20-Poly1305 (an AEAD; a random 24-byte nonce per seal)
//! under a key from configuration, never in clear and never returned by the API.
//!
//! `CREDENTIALS_KEYS` holds one or more `key_id:base64(32 bytes)` entries, comma-separated:
//! the first seals, every one opens, so a key is rotated by putting the new one first, running
//! `agencyctl credentials reseal`, then dropping the old one. The associated data binds a
//! ciphertext to its owner (e.g. the client id and account SID): a sealed secret copied to
//! another row does not open.

use std::collections::HashMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use clap::Args;
use secrecy::{ExposeSecret, SecretString};

/// The variable holding the keys.
pub const CREDENTIALS_KEYS_VAR: &str = "CREDENTIALS_KEYS";

/// A secret as stored: which key sealed it, the nonce and the ciphertext (with its tag).
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The id of the key that sealed it.
    pub key_id: String,
    /// The 24-byte nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext and authentication tag.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Why a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// No key is configured.
    #[error("no credentials key is configured (set {CREDENTIALS_KEYS_VAR})")]
    NoKey,
    /// The key that sealed it is no longer configured.
    #[error("the credentials key `{0}` is not configured")]
    UnknownKey(String),
    /// The ciphertext, nonce or associated data do not authenticate.
    #[error("the sealed secret does not open (tampered, or bound to another owner)")]
    Corrupt,
}

/// A configuration error naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{CREDENTIALS_KEYS_VAR} is invalid: {0}")]
pub struct CredentialKeysError(pub String);

/// The keys that seal and open credentials (the first seals).
#[derive(Clone, Default)]
pub struct CredentialKeys {
    current: Option<String>,
    keys: HashMap<String, XChaCha20Poly1305>,
    /// The sealing key's entry, kept only for a generated key (printed once by the CLI).
    generated: Option<SecretString>,
}

impl fmt::Debug for CredentialKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("CredentialKeys")
            .field("current", &self.current)
            .field("key_ids", &ids)
            .finish()
    }
}

impl CredentialKeys {
    /// Parses `id:base64,id:base64,...` (the first seals). Empty: no key.
    pub fn parse(raw: &str) -> Result<Self, CredentialKeysError> {
        let mut out = CredentialKeys::default();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, b64) = entry.split_once(':').ok_or_else(|| {
                CredentialKeysError("each entry is key_id:base64-of-32-bytes".into())
            })?;
            let id = id.trim();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(CredentialKeysError(
                    "a key id is letters, digits, '-' or '_'".into(),
                ));
            }
            let bytes = STANDARD
                .decode(b64.trim())
                .map_err(|_| CredentialKeysError(format!("key `{id}` is not base64")))?;
            if bytes.len() != 32 {
                return Err(CredentialKeysError(format!(
                    "key `{id}` must be 32 bytes (it is {})",
                    bytes.len()
                )));
            }
            if out.keys.contains_key(id) {
                return Err(CredentialKeysError(format!("key id `{id}` is repeated")));
            }
            let cipher = XChaCha20Poly1305::new_from_slice(&bytes)
                .map_err(|_| CredentialKeysError(format!("key `{id}` is unusable")))?;
            out.current.get_or_insert_with(|| id.to_owned());
            out.keys.insert(id.to_owned(), cipher);
        }
        Ok(out)
    }

    /// One fresh random key with this id (development runs; nothing it sealed survives).
    pub fn ephemeral(id: &str) -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let raw = format!("{id}:{}", STANDARD.encode(key));
        let mut keys = Self::parse(&raw).unwrap_or_default();
        keys.generated = keys.is_configured().then(|| SecretString::from(raw));
        keys
    }

    /// The `id:base64` entry of a generated key (None for keys read from configuration).
    pub fn export_current(&self) -> Option<String> {
        self.generated
            .as_ref()
            .map(|s| s.expose_secret().to_owned())
    }

    /// True when a key can seal.
    pub fn is_configured(&self) -> bool {
        self.current.is_some()
    }

    /// The id of the sealing key.
    pub fn current_key_id(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// Seals `secret`, bound to `owner` (associated data).
    pub fn seal(&self, secret: &SecretString, owner: &str) -> Result<Sealed, SealError> {
        let id = self.current.as_ref().ok_or(SealError::NoKey)?;
        let cipher = &self.keys[id];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SealError::Corrupt)?;
        Ok(Sealed {
            key_id: id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Opens a sealed secret bound to `owner`.
    pub fn open(&self, sealed: &Sealed, owner: &str) -> Result<SecretString, SealError> {
        let cipher = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| SealError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.nonce.len() != 24 {
            return Err(SealError::Corrupt);
        }
        let plain = cipher
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SealError::Corrupt)?;
        let text = String::from_utf8(plain).map_err(|_| SealError::Corrupt)?;
        Ok(SecretString::from(text))
    }

    /// True when `sealed` was sealed by another key than the current one (rotation pending).
    pub fn needs_reseal(&self, sealed: &Sealed) -> bool {
        self.current.as_deref() != Some(sealed.key_id.as_str())
    }
}

/// `CREDENTIALS_KEYS` from the environment (flattened into the API's and worker's configs).
#[derive(Debug, Clone, Default, Args)]
pub struct CredentialsConfig {
    /// Keys sealing clients' own provider credentials: `key_id:base64(32 bytes)`, comma-
    /// separated, the first seals (rotate by putting the new key first). Unset: clients cannot
    /// store their own credentials.
    #[arg(
        long = "credentials-keys",
        env = "CREDENTIALS_KEYS",
        value_name = "CREDENTIALS_KEYS",
        hide_env_values = true
    )]
    pub credentials_keys: Option<SecretString>,
}

impl CredentialsConfig {
    /// The validated keys.
    pub fn keys(&self) -> Result<CredentialKeys, CredentialKeysError> {
        match &self.credentials_keys {
            None => Ok(CredentialKeys::default()),
            Some(raw) => CredentialKeys::parse(raw.expose_secret()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const K2: &str = "k2:HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn seals_and_opens_bound_to_its_owner() {
        let keys = CredentialKeys::parse(K1).unwrap();
        let sealed = keys.seal(&secret("tok-123"), "client-a").unwrap();
        assert_eq!(sealed.key_id, "k1");
        assert_eq!(sealed.nonce.len(), 24);
        assert!(
            !sealed
                .ciphertext
                .windows(7)
                .any(|w| w == b"tok-123".as_slice())
        );
        assert_eq!(
            keys.open(&sealed, "client-a").unwrap().expose_secret(),
            "tok-123"
        );
        assert_eq!(
            keys.open(&sealed, "client-b").unwrap_err(),
            SealError::Corrupt
        );
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(
            keys.open(&tampered, "client-a").unwrap_err(),
            SealError::Corrupt
        );
        let again = keys.seal(&secret("tok-123"), "client-a").unwrap();
        assert_ne!(again.nonce, sealed.nonce, "a fresh nonce per seal");
    }

    #[test]
    fn rotation_opens_old_seals_and_seals_with_the_first_key() {
        let old = CredentialKeys::parse(K1).unwrap();
        let sealed = old.seal(&secret("tok"), "o").unwrap();
        let rotated = CredentialKeys::parse(&format!("{K2},{K1}")).unwrap();
        assert_eq!(rotated.current_key_id(), Some("k2"));
        assert!(rotated.needs_reseal(&sealed));
        assert_eq!(rotated.open(&sealed, "o").unwrap().expose_secret(), "tok");
        let resealed = rotated.seal(&secret("tok"), "o").unwrap();
        assert!(!rotated.needs_reseal(&resealed));
        let new_only = CredentialKeys::parse(K2).unwrap();
        assert_eq!(
            new_only.open(&sealed, "o").unwrap_err(),
            SealError::UnknownKey("k1".into())
        );
    }

    #[test]
    fn bad_keys_are_refused_and_debug_shows_no_key() {
        assert!(CredentialKeys::parse("k1:c2hvcnQ=").is_err());
        assert!(CredentialKeys::parse("nocolon").is_err());
        assert!(CredentialKeys::parse(&format!("{K1},{K1}")).is_err());
        assert!(CredentialKeys::parse("bad id:AAAA").is_err());
        let keys = CredentialKeys::parse(K1).unwrap();
        let shown = format!("{keys:?}");
        assert!(shown.contains("k1") && !shown.contains("AAECAwQF"));
        assert_eq!(
            CredentialKeys::default().seal(&secret("x"), "o"),
            Err(SealError::NoKey)
        );
        let generated = CredentialKeys::ephemeral("dev");
        let entry = generated.export_current().expect("exported");
        let reread = CredentialKeys::parse(&entry).expect("the entry parses");
        let sealed = generated.seal(&secret("x"), "o").unwrap();
        assert_eq!(reread.open(&sealed, "o").unwrap().expose_secret(), "x");
        assert!(!CredentialKeys::ephemeral("bad id").is_configured());
    }
}
