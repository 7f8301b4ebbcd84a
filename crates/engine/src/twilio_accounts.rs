//! A client's own Twilio account: admins and owners store its SID and auth token (the token
//! sealed at rest with the configured credentials key, never returned), members see whether
//! one is set; SMS from the client's numbers then go through it and webhooks carrying its
//! `AccountSid` are verified with its token. [`reseal_all`] re-seals every token under the
//! current key after a rotation (`agencyctl credentials reseal`).

use agency_domain::{ClientId, Role};
pub use agency_providers::sealed::{
    CREDENTIALS_KEYS_VAR, CredentialKeys, CredentialsConfig, SealError, Sealed,
};
use agency_store::audit;
use agency_store::twilio_accounts::{self as store, NewTwilioAccount, TwilioAccountRow};
use agency_store::{PgPool, StoreError};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::Services;
use crate::error::{FieldError, UseCaseError};
use crate::tenancy::TenantContext;

/// The account as the API shows it (never the token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TwilioAccountView {
    /// True when the client sends through its own account.
    pub configured: bool,
    /// The account SID (`AC...`), when configured.
    pub account_sid: Option<String>,
    /// When it was first stored.
    pub created_at: Option<DateTime<Utc>>,
    /// When it last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<Option<TwilioAccountRow>> for TwilioAccountView {
    fn from(row: Option<TwilioAccountRow>) -> Self {
        match row {
            Some(r) => TwilioAccountView {
                configured: true,
                account_sid: Some(r.account_sid),
                created_at: Some(r.created_at),
                updated_at: Some(r.updated_at),
            },
            None => TwilioAccountView {
                configured: false,
                account_sid: None,
                created_at: None,
                updated_at: None,
            },
        }
    }
}

/// `PUT .../twilio-account`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TwilioAccountInput {
    /// The account SID: `AC` followed by 32 hexadecimal characters.
    pub account_sid: String,
    /// The account's auth token (stored sealed, never shown again).
    #[schema(value_type = String)]
    pub auth_token: SecretString,
}

/// The associated data binding a sealed token to its client and account.
pub fn seal_owner(client_id: ClientId, account_sid: &str) -> String {
    format!("twilio:{client_id}:{account_sid}")
}

/// The sealed form of a stored row.
pub fn sealed_of(row: &TwilioAccountRow) -> Sealed {
    Sealed {
        key_id: row.key_id.clone(),
        nonce: row.token_nonce.clone(),
        ciphertext: row.token_sealed.clone(),
    }
}

/// The auth token of a stored account.
pub fn open_token(
    keys: &CredentialKeys,
    row: &TwilioAccountRow,
) -> Result<SecretString, SealError> {
    keys.open(
        &sealed_of(row),
        &seal_owner(ClientId::from_uuid(row.client_id), &row.account_sid),
    )
}

fn valid_sid(sid: &str) -> bool {
    sid.len() == 34 && sid.starts_with("AC") && sid[2..].chars().all(|c| c.is_ascii_hexdigit())
}

fn validate(input: &TwilioAccountInput) -> Result<(String, SecretString), UseCaseError> {
    use secrecy::ExposeSecret;
    let sid = input.account_sid.trim();
    let token = input.auth_token.expose_secret().trim();
    let mut fields = Vec::new();
    if !valid_sid(sid) {
        fields.push(FieldError::new(
            "account_sid",
            "The account SID is AC followed by 32 hexadecimal characters.",
        ));
    }
    if token.len() < 16 || token.len() > 128 || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
        fields.push(FieldError::new(
            "auth_token",
            "The auth token is 16 to 128 letters and digits, as Twilio shows it.",
        ));
    }
    if !fields.is_empty() {
        return Err(UseCaseError::invalid(fields));
    }
    Ok((sid.to_owned(), SecretString::from(token.to_owned())))
}

fn keys_unavailable() -> UseCaseError {
    UseCaseError::Conflict {
        code: "credentials_unavailable",
        message: "This server cannot store credentials: its operator has not set a credentials \
                  key (CREDENTIALS_KEYS)."
            .into(),
    }
}

/// Whether the client has its own account (any member).
pub async fn get(
    services: &Services,
    tenant: &TenantContext,
) -> Result<TwilioAccountView, UseCaseError> {
    let row = store::get(&services.pool, tenant.client_id).await?;
    Ok(row.into())
}

/// Stores or replaces the client's account (admins and owners).
pub async fn set(
    services: &Services,
    tenant: &TenantContext,
    input: &TwilioAccountInput,
) -> Result<TwilioAccountView, UseCaseError> {
    tenant.require(Role::Admin)?;
    let (sid, token) = validate(input)?;
    let keys = &services.settings.credentials;
    if !keys.is_configured() {
        return Err(keys_unavailable());
    }
    let sealed = keys
        .seal(&token, &seal_owner(tenant.client_id, &sid))
        .map_err(|_| keys_unavailable())?;
    let mut tx = services.pool.begin().await?;
    let before = store::get(&mut *tx, tenant.client_id).await?;
    let row = store::upsert(
        &mut *tx,
        tenant.client_id,
        &NewTwilioAccount {
            account_sid: &sid,
            key_id: &sealed.key_id,
            token_nonce: &sealed.nonce,
            token_sealed: &sealed.ciphertext,
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict { .. } => UseCaseError::Conflict {
            code: "twilio_account_unavailable",
            message: "This Twilio account cannot be used by this client.".into(),
        },
        other => other.into(),
    })?;
    let entry = tenant
        .audit("twilio_account.set", "client_twilio_account")
        .entity(tenant.client_id.into_uuid())
        .before(json!({ "account_sid": before.map(|b| b.account_sid) }))
        .after(json!({ "account_sid": row.account_sid }));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(Some(row).into())
}

/// Removes the client's account (admins and owners): its numbers send through the platform's
/// account again.
pub async fn delete(services: &Services, tenant: &TenantContext) -> Result<(), UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut tx = services.pool.begin().await?;
    let before = store::get(&mut *tx, tenant.client_id).await?;
    let Some(before) = before else {
        return Err(UseCaseError::NotFound("Twilio account"));
    };
    store::delete(&mut *tx, tenant.client_id).await?;
    let entry = tenant
        .audit("twilio_account.deleted", "client_twilio_account")
        .entity(tenant.client_id.into_uuid())
        .before(json!({ "account_sid": before.account_sid }));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// What a re-seal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResealReport {
    /// Tokens now sealed under the current key.
    pub resealed: usize,
    /// Tokens whose key is no longer configured (left as they are; re-enter them).
    pub unreadable: usize,
}

/// Re-seals every token sealed by another key than the current one, in one transaction.
pub async fn reseal_all(
    pool: &PgPool,
    keys: &CredentialKeys,
) -> Result<ResealReport, UseCaseError> {
    let current = keys
        .current_key_id()
        .ok_or_else(keys_unavailable)?
        .to_owned();
    let mut tx = pool.begin().await?;
    let mut report = ResealReport::default();
    for row in store::sealed_by_other_keys(&mut *tx, &current).await? {
        let Ok(token) = open_token(keys, &row) else {
            report.unreadable += 1;
            continue;
        };
        let owner = seal_owner(ClientId::from_uuid(row.client_id), &row.account_sid);
        let sealed = keys.seal(&token, &owner).map_err(|_| keys_unavailable())?;
        store::reseal(
            &mut *tx,
            ClientId::from_uuid(row.client_id),
            &sealed.key_id,
            &sealed.nonce,
            &sealed.ciphertext,
        )
        .await?;
        report.resealed += 1;
    }
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_and_tokens_are_checked() {
        let input = |sid: &str, token: &str| TwilioAccountInput {
            account_sid: sid.into(),
            auth_token: SecretString::from(token.to_owned()),
        };
        let good_sid = "AC0123456789abcdef0123456789abcdef";
        assert!(validate(&input(good_sid, "0123456789abcdef0123456789abcdef")).is_ok());
        let Err(UseCaseError::Invalid { fields, .. }) = validate(&input("AC123", "short")) else {
            panic!("expected a 422");
        };
        let paths: Vec<&str> = fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, vec!["account_sid", "auth_token"]);
        assert!(validate(&input(good_sid, "has spaces in it 0123456789")).is_err());
    }
}
