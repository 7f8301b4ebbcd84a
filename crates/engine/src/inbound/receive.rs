//! Receiving provider webhooks: verify the signature on the raw bytes (agency-providers'
//! `webhooks`), then store the event in the inbox and enqueue its `process_webhook_event` job
//! in one transaction before the caller answers 2xx. A redelivery (same provider event id)
//! stores nothing and enqueues nothing. A bad signature stores nothing (401); a verified body
//! that cannot be read is stored as `rejected` (400). Vapi tool calls are answered here,
//! synchronously (see [`super::vapi_tools`]).

use agency_domain::{ClientId, WebhookProvider, WebhookStatus};
use agency_providers::sealed::CredentialKeys;
use agency_providers::webhooks::{VerifyError, svix, twilio, vapi};
use agency_store::twilio_accounts as twilio_accounts_store;
use agency_store::webhook_events::{self, NewWebhookEvent};
use agency_store::{PgPool, StoreError};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use agency_providers::webhooks::{self, WebhookSecrets, WebhooksConfig};

use crate::jobs::enqueue::{EnqueueError, EnqueueOptions, enqueue_on};
use crate::jobs::payload::ProcessWebhookEvent;

/// Headers never stored with an event (credentials).
const SECRET_HEADERS: &[&str] = &["authorization", "cookie", vapi::SECRET_HEADER];

/// A request's headers, names lowercased.
#[derive(Debug, Clone, Default)]
pub struct RequestHeaders(pub Vec<(String, String)>);

impl RequestHeaders {
    /// The first value of `name` (lowercase).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The headers kept with the event (credentials left out), as a JSON object.
    fn to_json(&self) -> Value {
        let map = self
            .0
            .iter()
            .filter(|(k, _)| !SECRET_HEADERS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<serde_json::Map<_, _>>();
        Value::Object(map)
    }
}

/// Why a webhook was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// The signature did not verify (401; nothing stored).
    #[error("webhook not verified: {0}")]
    Unauthorized(#[from] VerifyError),
    /// Verified, but the body cannot be read (400; stored as `rejected`).
    #[error("webhook body rejected: {0}")]
    Rejected(String),
    /// The database failed (500; the provider retries).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job could not be queued (500; nothing was stored).
    #[error(transparent)]
    Queue(#[from] EnqueueError),
}

impl From<sqlx::Error> for ReceiveError {
    fn from(e: sqlx::Error) -> Self {
        ReceiveError::Store(e.into())
    }
}

/// What was done with a verified event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receipt {
    /// Stored (this inbox id) and its processing job queued.
    Stored(Uuid),
    /// Delivered before: nothing stored, nothing queued.
    Duplicate,
}

/// A verified, readable event to store.
struct Verified<'a> {
    provider: WebhookProvider,
    event_id: String,
    event_type: Option<String>,
    headers: &'a RequestHeaders,
    body: &'a [u8],
    /// The tenant the signature proved (a client's own Twilio account), if any.
    client_id: Option<ClientId>,
}

/// Stores the event and queues its job in one transaction.
async fn store_and_enqueue(pool: &PgPool, v: Verified<'_>) -> Result<Receipt, ReceiveError> {
    let headers = v.headers.to_json();
    let mut tx = pool.begin().await?;
    let id = webhook_events::insert(
        &mut tx,
        &NewWebhookEvent {
            provider: v.provider,
            provider_event_id: &v.event_id,
            event_type: v.event_type.as_deref(),
            headers: &headers,
            raw_body: v.body,
            status: WebhookStatus::Pending,
            last_error: None,
            client_id: v.client_id,
        },
    )
    .await?;
    let Some(id) = id else {
        return Ok(Receipt::Duplicate);
    };
    enqueue_on(
        &mut tx,
        &ProcessWebhookEvent { event_id: id },
        EnqueueOptions::default(),
    )
    .await?;
    tx.commit().await?;
    Ok(Receipt::Stored(id))
}

/// Keeps a verified but unreadable body for inspection; answers the rejection to return.
async fn reject(
    pool: &PgPool,
    provider: WebhookProvider,
    headers: &RequestHeaders,
    body: &[u8],
    reason: String,
) -> ReceiveError {
    let headers_json = headers.to_json();
    let event_id = format!("rejected:{}", Uuid::now_v7());
    let stored = async {
        let mut conn = pool.acquire().await?;
        webhook_events::insert(
            &mut conn,
            &NewWebhookEvent {
                provider,
                provider_event_id: &event_id,
                event_type: None,
                headers: &headers_json,
                raw_body: body,
                status: WebhookStatus::Rejected,
                client_id: None,
                last_error: Some(&reason),
            },
        )
        .await
        .map_err(ReceiveError::from)
    }
    .await;
    match stored {
        Ok(_) => ReceiveError::Rejected(reason),
        Err(e) => e,
    }
}

/// Which Twilio callback was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwilioHook {
    /// An SMS to one of our numbers (`/webhooks/twilio/sms`).
    InboundSms,
    /// A message status callback (`/webhooks/twilio/status`).
    Status,
}

/// The URL Twilio signed: the public base URL (or `http://{host}` without one) plus the
/// path and query the request arrived on.
pub fn signed_url(secrets: &WebhookSecrets, host: Option<&str>, path_and_query: &str) -> String {
    match &secrets.public_base_url {
        Some(base) => format!("{base}{path_and_query}"),
        None => format!("http://{}{path_and_query}", host.unwrap_or("localhost")),
    }
}

/// Verifies a Twilio signature: with the platform's auth token first, else, when the request's
/// `AccountSid` is a client's own account, with that account's token (opened with `keys`).
/// Answers the tenant the signature proves (`None` for the platform's account).
async fn verify_twilio(
    pool: &PgPool,
    secrets: &WebhookSecrets,
    keys: &CredentialKeys,
    url: &str,
    params: &[(String, String)],
    header: Option<&str>,
) -> Result<Option<ClientId>, ReceiveError> {
    let platform = twilio::verify(secrets.twilio_auth_token.as_ref(), url, params, header);
    let refused = match platform {
        Ok(()) => return Ok(None),
        Err(e) => e,
    };
    let account_sid = params
        .iter()
        .find(|(k, _)| k == "AccountSid")
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty());
    let Some(account_sid) = account_sid else {
        return Err(refused.into());
    };
    let Some(account) = twilio_accounts_store::by_sid(pool, account_sid).await? else {
        return Err(refused.into());
    };
    let token = match crate::twilio_accounts::open_token(keys, &account) {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(client_id = %account.client_id, error = %e, "a client's Twilio token cannot be opened");
            return Err(VerifyError::NotConfigured("twilio (client account)").into());
        }
    };
    twilio::verify(Some(&token), url, params, header)?;
    Ok(Some(ClientId::from_uuid(account.client_id)))
}

/// Receives a Twilio callback (form-encoded, `X-Twilio-Signature` over `url` + sorted params),
/// signed by the platform's account or by a client's own (see [`verify_twilio`]).
pub async fn receive_twilio(
    pool: &PgPool,
    secrets: &WebhookSecrets,
    keys: &CredentialKeys,
    hook: TwilioHook,
    url: &str,
    headers: &RequestHeaders,
    body: &[u8],
) -> Result<Receipt, ReceiveError> {
    let params = twilio::form_params(body).unwrap_or_default();
    let client_id = verify_twilio(
        pool,
        secrets,
        keys,
        url,
        &params,
        headers.get(twilio::SIGNATURE_HEADER),
    )
    .await?;
    if std::str::from_utf8(body).is_err() {
        return Err(reject(
            pool,
            WebhookProvider::Twilio,
            headers,
            body,
            "the body is not UTF-8".into(),
        )
        .await);
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    };
    let sid = param("MessageSid").or_else(|| param("SmsSid"));
    let (event_id, event_type) = match (hook, sid) {
        (_, None) => {
            return Err(reject(
                pool,
                WebhookProvider::Twilio,
                headers,
                body,
                "MessageSid is missing".into(),
            )
            .await);
        }
        (TwilioHook::InboundSms, Some(sid)) => (format!("sms:{sid}"), "sms.received".to_owned()),
        (TwilioHook::Status, Some(sid)) => {
            let Some(status) = param("MessageStatus").or_else(|| param("SmsStatus")) else {
                return Err(reject(
                    pool,
                    WebhookProvider::Twilio,
                    headers,
                    body,
                    "MessageStatus is missing".into(),
                )
                .await);
            };
            (
                format!("status:{sid}:{status}"),
                format!("sms.status.{status}"),
            )
        }
    };
    store_and_enqueue(
        pool,
        Verified {
            provider: WebhookProvider::Twilio,
            event_id,
            event_type: Some(event_type),
            headers,
            body,
            client_id,
        },
    )
    .await
}

/// Receives a Resend event (Svix-signed JSON `{type, created_at, data}`), at `now` (Unix
/// seconds) for the timestamp tolerance. The event id is the `svix-id`.
pub async fn receive_resend(
    pool: &PgPool,
    secrets: &WebhookSecrets,
    headers: &RequestHeaders,
    body: &[u8],
    now: i64,
) -> Result<Receipt, ReceiveError> {
    let id = svix::verify(
        &secrets.resend,
        svix::SvixHeaders {
            id: headers.get(svix::ID_HEADER),
            timestamp: headers.get(svix::TIMESTAMP_HEADER),
            signature: headers.get(svix::SIGNATURE_HEADER),
        },
        body,
        now,
    )?;
    let event_type = match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("type").and_then(Value::as_str) {
            Some(t) if v.get("data").is_some_and(Value::is_object) => t.to_owned(),
            _ => {
                return Err(reject(
                    pool,
                    WebhookProvider::Resend,
                    headers,
                    body,
                    "expected {type, data}".into(),
                )
                .await);
            }
        },
        Err(e) => {
            return Err(reject(
                pool,
                WebhookProvider::Resend,
                headers,
                body,
                format!("not JSON: {e}"),
            )
            .await);
        }
    };
    store_and_enqueue(
        pool,
        Verified {
            provider: WebhookProvider::Resend,
            event_id: id.to_owned(),
            event_type: Some(event_type),
            headers,
            body,
            client_id: None,
        },
    )
    .await
}

/// The dedup key of a Vapi message: the call id and message type, with what tells two
/// messages of one type in one call apart (the status of a status update, the tool call ids);
/// a message without a call id is keyed by its body's hash.
pub fn vapi_event_id(message: &Value) -> String {
    let kind = message
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let call = message
        .pointer("/call/id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let Some(call) = call else {
        let digest = Sha256::digest(message.to_string().as_bytes());
        return format!("{kind}:{}", hex::encode(digest));
    };
    let detail = match kind {
        "status-update" => message
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        "tool-calls" => message
            .get("toolCallList")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|c| c.get("id").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    if detail.is_empty() {
        format!("{call}:{kind}")
    } else {
        format!("{call}:{kind}:{detail}")
    }
}

/// What to answer Vapi.
#[derive(Debug, Clone, PartialEq)]
pub enum VapiAnswer {
    /// A plain acknowledgement.
    Ack(Receipt),
    /// The answer to a `tool-calls` message: `{"results": [{"toolCallId", "result"}]}`.
    ToolResults(Value),
}

/// Receives a Vapi server message (`{"message": {"type": ...}}`): verified, stored (also tool
/// calls and types we do not act on, for the record), and for `tool-calls` answered with the
/// tools' results.
pub async fn receive_vapi(
    pool: &PgPool,
    secrets: &WebhookSecrets,
    headers: &RequestHeaders,
    body: &[u8],
) -> Result<VapiAnswer, ReceiveError> {
    vapi::verify(
        secrets.vapi.as_ref(),
        headers.get(vapi::SIGNATURE_HEADER),
        headers.get(vapi::SECRET_HEADER),
        body,
    )?;
    let message = match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("message") {
            Some(m) if m.get("type").and_then(Value::as_str).is_some() => m.clone(),
            _ => {
                return Err(reject(
                    pool,
                    WebhookProvider::Vapi,
                    headers,
                    body,
                    "expected {message: {type}}".into(),
                )
                .await);
            }
        },
        Err(e) => {
            return Err(reject(
                pool,
                WebhookProvider::Vapi,
                headers,
                body,
                format!("not JSON: {e}"),
            )
            .await);
        }
    };
    let kind = message
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let receipt = store_and_enqueue(
        pool,
        Verified {
            provider: WebhookProvider::Vapi,
            event_id: vapi_event_id(&message),
            event_type: Some(kind.clone()),
            headers,
            body,
            client_id: None,
        },
    )
    .await?;
    if kind == "tool-calls" {
        let results = super::vapi_tools::answer(pool, &message).await;
        return Ok(VapiAnswer::ToolResults(json!({ "results": results })));
    }
    Ok(VapiAnswer::Ack(receipt))
}
