//! A client's sending resources (SPEC 3.2): add one (admins and owners; the value normalised
//! per kind: email domains to a bare lowercase domain that starts its warm-up today, SMS/voice
//! numbers to E.164, LinkedIn seats to a name or a canonical profile URL), remove one (a soft
//! delete that also deactivates it), and prove it is the client's.
//!
//! **Ownership.** A value is unique within a client, not across clients: a tenant cannot squat
//! another agency's domain or number by registering it first. A resource sends and routes
//! inbound replies only once verified, and one client at most holds a value verified:
//! - an email domain publishes a TXT record `_agency-os-verify.<domain>` with the resource's
//!   token (checked through DNS-over-HTTPS, [`agency_providers::dns`]);
//! - a number is one of the incoming numbers of the client's own Twilio account, or of the
//!   platform's when the client has none (Twilio's `IncomingPhoneNumbers`);
//! - a LinkedIn seat is a name, verified at once and never exclusive.
//!
//! With [`ResourceVerification::Automatic`] (development and tests, unless
//! `RESOURCE_VERIFICATION=required`) a new resource counts as verified at once, unless another
//! client already holds it verified. A failed or refused verification answers the same
//! sentence whether the value is unpublished or held by another tenant.

use std::sync::Arc;

use agency_domain::{ClientId, Phone, ResourceKind, Role, normalise_domain};
use agency_providers::dns::{SandboxTxtResolver, TxtResolver};
use agency_providers::twilio::{ClientTwilioAccounts, Twilio};
use agency_store::sending_resources::{self as store, NewSendingResource, SendingResource};
use agency_store::twilio_accounts as twilio_accounts_store;
use agency_store::{audit, clients};
use chrono_tz::Tz;
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Services;
use crate::error::UseCaseError;
use crate::pipeline::enrich::client_timezone;
use crate::tenancy::TenantContext;

/// Longest accepted resource value, in characters.
pub const MAX_VALUE_CHARS: usize = 200;

/// The DNS label under which an email domain publishes its token.
pub const TXT_LABEL: &str = "_agency-os-verify";

/// The unique index that keeps a value once per client.
const CLIENT_VALUE_INDEX: &str = "sending_resources_client_kind_value_idx";
/// The unique index that gives a verified value to one client.
const VERIFIED_VALUE_INDEX: &str = "sending_resources_verified_value_idx";

/// Whether new resources need proof of ownership before they are used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ResourceVerification {
    /// Verified at once (development and tests).
    #[default]
    Automatic,
    /// Verified only by `POST .../resources/{id}/verify` (production).
    Required,
}

/// What proves ownership of a resource: the verifier's providers.
#[derive(Debug, Clone)]
pub struct ResourceVerifier {
    /// TXT lookups for email domains.
    pub dns: Arc<dyn TxtResolver>,
    /// The platform's Twilio account (numbers of clients without their own).
    pub platform_twilio: Option<Arc<Twilio>>,
    /// Clients' own Twilio accounts (their tokens opened with the credentials keys).
    pub client_twilio: Option<Arc<ClientTwilioAccounts>>,
}

pub use agency_providers::dns::DOH_DEFAULT_URL;
pub use agency_providers::twilio::TWILIO_DEFAULT_BASE_URL;

impl ResourceVerifier {
    /// The verifier of a deployment: DNS over HTTPS at `dns_url`, the platform's Twilio account
    /// when its SID and token are both set, clients' own accounts when `keys` can open them.
    /// A bad value is `(variable, reason)`.
    pub fn configured(
        dns_url: &str,
        twilio_sid: Option<&str>,
        twilio_token: Option<&secrecy::SecretString>,
        twilio_base_url: &str,
        keys: &agency_providers::CredentialKeys,
    ) -> Result<Self, (&'static str, String)> {
        let settings = agency_providers::HttpSettings::default();
        let dns = agency_providers::dns::DohResolver::new(dns_url, &settings)
            .map_err(|e| ("DNS_RESOLVER_URL", e.to_string()))?;
        let sid = twilio_sid.map(str::trim).filter(|s| !s.is_empty());
        let platform_twilio = match (sid, twilio_token) {
            (Some(sid), Some(token)) => Some(Arc::new(
                Twilio::new(sid, token.clone(), twilio_base_url, &settings)
                    .map_err(|e| ("TWILIO_ACCOUNT_SID", e.to_string()))?,
            )),
            _ => None,
        };
        let client_twilio = keys.is_configured().then(|| {
            Arc::new(ClientTwilioAccounts::new(
                keys.clone(),
                twilio_base_url,
                &settings,
            ))
        });
        Ok(Self {
            dns: Arc::new(dns),
            platform_twilio,
            client_twilio,
        })
    }

    /// No DNS answers and no Twilio account: nothing can be verified by proof (development
    /// verifies automatically).
    pub fn sandbox() -> Self {
        Self {
            dns: Arc::new(SandboxTxtResolver),
            platform_twilio: None,
            client_twilio: None,
        }
    }
}

/// How the client proves a resource is its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VerificationSteps {
    /// `dns_txt` (email domains) or `twilio_number` (numbers).
    pub method: &'static str,
    /// The TXT record's name (`dns_txt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_name: Option<String>,
    /// The TXT record's value (`dns_txt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_value: Option<String>,
    /// What to do, in a sentence.
    pub instructions: String,
}

/// The steps that verify `r`, while it is not verified.
pub fn verification_steps(r: &SendingResource) -> Option<VerificationSteps> {
    if r.is_verified() {
        return None;
    }
    match r.kind {
        ResourceKind::EmailDomain => {
            let name = format!("{TXT_LABEL}.{}", r.value);
            let value = r.verification_token.clone()?;
            Some(VerificationSteps {
                method: "dns_txt",
                instructions: format!(
                    "Publish a TXT record named {name} with the value {value}, then verify."
                ),
                record_name: Some(name),
                record_value: Some(value),
            })
        }
        ResourceKind::SmsNumber | ResourceKind::VoiceNumber => Some(VerificationSteps {
            method: "twilio_number",
            record_name: None,
            record_value: None,
            instructions: "The number must be an incoming number of your Twilio account (or of \
                           the agency's account if you have none); then verify."
                .into(),
        }),
        ResourceKind::LinkedinSeat => None,
    }
}

/// The normalised value of a `kind` resource, or the reason it is refused (on `value`).
pub fn normalise_value(kind: ResourceKind, value: &str) -> Result<String, String> {
    let normalised = match kind {
        ResourceKind::EmailDomain => normalise_domain(value).map_err(|e| e.to_string())?,
        ResourceKind::SmsNumber | ResourceKind::VoiceNumber => Phone::parse(value)
            .map_err(|e| e.to_string())?
            .as_str()
            .to_owned(),
        ResourceKind::LinkedinSeat => linkedin_seat(value)?,
    };
    if normalised.chars().count() > MAX_VALUE_CHARS {
        return Err(format!("must be at most {MAX_VALUE_CHARS} characters"));
    }
    Ok(normalised)
}

/// A LinkedIn seat: a profile URL (`linkedin.com/in/<slug>`, any scheme/`www.`/query) becomes
/// `https://www.linkedin.com/in/<slug>`; anything else is a seat name, trimmed with inner
/// whitespace collapsed.
fn linkedin_seat(value: &str) -> Result<String, String> {
    let text = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let looks_like_url = lower.starts_with("http://")
        || lower.starts_with("https://")
        || host == "linkedin.com"
        || host.ends_with(".linkedin.com");
    if !looks_like_url {
        return Ok(text);
    }
    if host != "linkedin.com" && !host.ends_with(".linkedin.com") {
        return Err("must be a seat name or a linkedin.com/in/... profile URL".into());
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let slug = path
        .strip_prefix("in/")
        .map(|s| s.trim_end_matches('/'))
        .filter(|s| !s.is_empty() && !s.contains('/') && !s.contains(' '));
    match slug {
        Some(slug) => Ok(format!("https://www.linkedin.com/in/{slug}")),
        None => Err("a LinkedIn URL must be a profile: linkedin.com/in/<name>".into()),
    }
}

fn new_token() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!("agency-os-verify={}", hex::encode(bytes))
}

fn not_verified() -> UseCaseError {
    UseCaseError::Conflict {
        code: "not_verified",
        message: "This resource could not be verified for this client. Check the verification \
                  steps and try again."
            .into(),
    }
}

/// The client's timezone: the day resources' caps and counters follow.
pub async fn timezone(services: &Services, client_id: ClientId) -> Result<Tz, UseCaseError> {
    let client = clients::pipeline_settings(&services.pool, client_id).await?;
    client_timezone(&client.timezone)
}

/// One page of the client's live resources (oldest first), their total, and the client's
/// timezone (any member).
pub async fn list(
    services: &Services,
    tenant: &TenantContext,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SendingResource>, i64, Tz), UseCaseError> {
    let tz = timezone(services, tenant.client_id).await?;
    let mut conn = services.pool.acquire().await?;
    let (rows, total) = store::resources_page(&mut conn, tenant.client_id, limit, offset).await?;
    Ok((rows, total, tz))
}

/// Adds a resource (admins and owners). 409 `duplicate_resource` when the client already has
/// it; never says whether another client does.
pub async fn create(
    services: &Services,
    tenant: &TenantContext,
    kind: ResourceKind,
    value: &str,
) -> Result<SendingResource, UseCaseError> {
    tenant.require(Role::Admin)?;
    let value = normalise_value(kind, value).map_err(|m| UseCaseError::field("value", m))?;
    let client_id = tenant.client_id;
    let today = services
        .now()
        .with_timezone(&timezone(services, tenant.client_id).await?)
        .date_naive();
    let mut tx = services.pool.begin().await?;
    let automatic = services.settings.resource_verification == ResourceVerification::Automatic;
    let verified = kind == ResourceKind::LinkedinSeat
        || (automatic && !store::verified_elsewhere(&mut *tx, client_id, kind, &value).await?);
    let token = (kind == ResourceKind::EmailDomain).then(new_token);
    let new = NewSendingResource {
        kind: kind.as_str(),
        value: &value,
        warmup_started_on: (kind == ResourceKind::EmailDomain).then_some(today),
        daily_cap_override: None,
        verified,
        verification_token: token.as_deref(),
    };
    let row = store::insert_resource(&mut *tx, client_id, &new)
        .await
        .map_err(|e| {
            if e.is_conflict_on(CLIENT_VALUE_INDEX) {
                UseCaseError::Conflict {
                    code: "duplicate_resource",
                    message: format!(
                        "This client already has the {} `{value}`.",
                        kind.as_str().replace('_', " ")
                    ),
                }
            } else if e.is_conflict_on(VERIFIED_VALUE_INDEX) {
                // Verified elsewhere between the check and the insert: try again.
                UseCaseError::Conflict {
                    code: "resource_busy",
                    message: "The resource changed while it was being added; try again.".into(),
                }
            } else {
                e.into()
            }
        })?;
    let entry = tenant
        .audit("resource.created", "sending_resource")
        .entity(row.id)
        .after(json!({"kind": row.kind, "value": row.value,
            "warmup_started_on": row.warmup_started_on, "verified": row.is_verified()}));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(row)
}

/// Removes a resource (admins and owners): soft-deleted and deactivated, so leads allocated to
/// it keep their history; its value can be registered again.
pub async fn delete(
    services: &Services,
    tenant: &TenantContext,
    id: Uuid,
) -> Result<(), UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut tx = services.pool.begin().await?;
    let row = store::delete_resource(&mut *tx, tenant.client_id, id)
        .await
        .map_err(|e| UseCaseError::from(e).naming("resource"))?;
    let entry = tenant
        .audit("resource.deleted", "sending_resource")
        .entity(row.id)
        .before(json!({"kind": row.kind, "value": row.value}));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Does the provider prove the client owns `r`?
async fn proved(
    services: &Services,
    client_id: ClientId,
    r: &SendingResource,
    kind: ResourceKind,
) -> Result<bool, UseCaseError> {
    let verifier = &services.providers.verification;
    let unavailable = |e: agency_providers::ProviderError| UseCaseError::Unavailable(e.to_string());
    match kind {
        ResourceKind::LinkedinSeat => Ok(true),
        ResourceKind::EmailDomain => {
            let Some(token) = &r.verification_token else {
                return Ok(false);
            };
            let records = verifier
                .dns
                .txt(&format!("{TXT_LABEL}.{}", r.value))
                .await
                .map_err(unavailable)?;
            Ok(records.iter().any(|t| t.trim() == token))
        }
        ResourceKind::SmsNumber | ResourceKind::VoiceNumber => {
            let own = twilio_accounts_store::get(&services.pool, client_id).await?;
            let account = match (own, &verifier.client_twilio, &verifier.platform_twilio) {
                (Some(own), Some(accounts), _) => {
                    let sealed = crate::twilio_accounts::sealed_of(&own);
                    let owner = crate::twilio_accounts::seal_owner(client_id, &own.account_sid);
                    match accounts.sender(&own.account_sid, &sealed, &owner) {
                        Ok(adapter) => adapter,
                        Err(e) => {
                            tracing::error!(client_id = %client_id, error = %e, "client Twilio account unusable");
                            return Ok(false);
                        }
                    }
                }
                // A client with its own account is checked against it only.
                (Some(_), None, _) => return Ok(false),
                (None, _, Some(platform)) => platform.clone(),
                (None, _, None) => return Ok(false),
            };
            account.owns_number(&r.value).await.map_err(unavailable)
        }
    }
}

/// Verifies a resource (admins and owners): asks the provider for proof and, when it is given
/// and no other client holds the value verified, marks it verified. Idempotent.
pub async fn verify(
    services: &Services,
    tenant: &TenantContext,
    id: Uuid,
) -> Result<SendingResource, UseCaseError> {
    tenant.require(Role::Admin)?;
    let client_id = tenant.client_id;
    // Read without a lock: no row is held while the provider answers.
    let row = store::resource(&services.pool, client_id, id)
        .await
        .map_err(|e| UseCaseError::from(e).naming("resource"))?;
    if row.is_verified() {
        return Ok(row);
    }
    let kind = row.kind;
    if !proved(services, tenant.client_id, &row, kind).await? {
        return Err(not_verified());
    }
    let mut tx = services.pool.begin().await?;
    let row = store::mark_resource_verified(&mut *tx, client_id, id)
        .await
        .map_err(|e| {
            if e.is_conflict_on(VERIFIED_VALUE_INDEX) {
                not_verified()
            } else {
                UseCaseError::from(e).naming("resource")
            }
        })?;
    let entry = tenant
        .audit("resource.verified", "sending_resource")
        .entity(row.id)
        .after(json!({"kind": row.kind, "value": row.value, "verified_at": row.verified_at}));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalised_per_kind() {
        let ok = |k, v: &str| normalise_value(k, v).expect(v);
        assert_eq!(
            ok(
                ResourceKind::EmailDomain,
                " https://WWW.Send.Example.com.au/x "
            ),
            "send.example.com.au"
        );
        assert_eq!(ok(ResourceKind::SmsNumber, "0412 345 678"), "+61412345678");
        assert_eq!(
            ok(ResourceKind::VoiceNumber, "(02) 9374 4000"),
            "+61293744000"
        );
        assert_eq!(
            ok(ResourceKind::LinkedinSeat, "  Jane   Smith "),
            "Jane Smith"
        );
        assert_eq!(
            ok(
                ResourceKind::LinkedinSeat,
                "linkedin.com/in/Jane-Smith/?trk=x"
            ),
            "https://www.linkedin.com/in/jane-smith"
        );
        assert_eq!(
            ok(
                ResourceKind::LinkedinSeat,
                "HTTPS://au.linkedin.com/in/jane-smith"
            ),
            "https://www.linkedin.com/in/jane-smith"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for (kind, value) in [
            (ResourceKind::EmailDomain, "localhost"),
            (ResourceKind::EmailDomain, "  "),
            (ResourceKind::SmsNumber, "not a number"),
            (ResourceKind::VoiceNumber, "123"),
            (ResourceKind::LinkedinSeat, " \t "),
            (ResourceKind::LinkedinSeat, "https://example.com/in/jane"),
            (
                ResourceKind::LinkedinSeat,
                "https://www.linkedin.com/company/acme",
            ),
            (ResourceKind::LinkedinSeat, "Jane\u{7}"),
        ] {
            assert!(
                normalise_value(kind, value).is_err(),
                "{kind:?} {value:?} accepted"
            );
        }
        let long = "x".repeat(MAX_VALUE_CHARS + 1);
        assert!(normalise_value(ResourceKind::LinkedinSeat, &long).is_err());
        assert!(normalise_value(ResourceKind::LinkedinSeat, &"x".repeat(MAX_VALUE_CHARS)).is_ok());
    }

    #[test]
    fn tokens_are_random_and_prefixed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with("agency-os-verify=") && a.len() == 17 + 32);
    }
}
