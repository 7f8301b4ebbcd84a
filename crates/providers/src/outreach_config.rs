//! `OutreachConfig`: the email, SMS and voice providers' settings from the environment (clap
//! `Args` with `env`, flattened into the worker's config) and the senders they build: Resend,
//! Twilio and Vapi when their keys are set, one shared sandbox otherwise (or always with
//! `OUTREACH_SANDBOX=true`). Production refuses a sandbox unless explicitly allowed, like the
//! enrichment providers.

use std::sync::Arc;

use clap::Args;
use secrecy::SecretString;

use crate::config::ProvidersConfigError;
use crate::error::ProviderError;
use crate::http::HttpSettings;
use crate::outreach::{EmailSender, SmsSender, VoiceCaller};
use crate::outreach_sandbox::SandboxOutreach;
use crate::provider::Provider;
use crate::resend::{RESEND_DEFAULT_BASE_URL, Resend};
use crate::twilio::{ClientTwilioAccounts, TWILIO_DEFAULT_BASE_URL, Twilio};
use crate::vapi::{VAPI_DEFAULT_BASE_URL, Vapi};

fn parse_secret(value: &str) -> Result<SecretString, String> {
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(value.trim().to_owned()))
}

/// Email (Resend), SMS (Twilio) and voice (Vapi) provider settings.
#[derive(Debug, Clone, Args)]
pub struct OutreachConfig {
    /// Resend API key (email); unset -> sandbox.
    #[arg(long = "resend-api-key", env = "RESEND_API_KEY", value_name = "RESEND_API_KEY", value_parser = parse_secret, hide_env_values = true)]
    pub resend_api_key: Option<SecretString>,
    /// Resend API root (point tests and staging at a fake).
    #[arg(long = "resend-base-url", env = "RESEND_BASE_URL", value_name = "RESEND_BASE_URL", default_value = RESEND_DEFAULT_BASE_URL)]
    pub resend_base_url: String,
    /// Twilio account SID (SMS, `AC...`); unset -> sandbox.
    #[arg(
        long = "twilio-account-sid",
        env = "TWILIO_ACCOUNT_SID",
        value_name = "TWILIO_ACCOUNT_SID"
    )]
    pub twilio_account_sid: Option<String>,
    /// Twilio auth token (required with TWILIO_ACCOUNT_SID).
    #[arg(long = "twilio-auth-token", env = "TWILIO_AUTH_TOKEN", value_name = "TWILIO_AUTH_TOKEN", value_parser = parse_secret, hide_env_values = true)]
    pub twilio_auth_token: Option<SecretString>,
    /// Twilio API root.
    #[arg(long = "twilio-base-url", env = "TWILIO_BASE_URL", value_name = "TWILIO_BASE_URL", default_value = TWILIO_DEFAULT_BASE_URL)]
    pub twilio_base_url: String,
    /// Vapi private API key (voice); unset -> sandbox.
    #[arg(long = "vapi-api-key", env = "VAPI_API_KEY", value_name = "VAPI_API_KEY", value_parser = parse_secret, hide_env_values = true)]
    pub vapi_api_key: Option<SecretString>,
    /// Vapi assistant that makes the calls (required with VAPI_API_KEY).
    #[arg(
        long = "vapi-assistant-id",
        env = "VAPI_ASSISTANT_ID",
        value_name = "VAPI_ASSISTANT_ID"
    )]
    pub vapi_assistant_id: Option<String>,
    /// Vapi phone number id the calls come from (required with VAPI_API_KEY).
    #[arg(
        long = "vapi-phone-number-id",
        env = "VAPI_PHONE_NUMBER_ID",
        value_name = "VAPI_PHONE_NUMBER_ID"
    )]
    pub vapi_phone_number_id: Option<String>,
    /// Vapi API root.
    #[arg(long = "vapi-base-url", env = "VAPI_BASE_URL", value_name = "VAPI_BASE_URL", default_value = VAPI_DEFAULT_BASE_URL)]
    pub vapi_base_url: String,
    /// Use the sandbox for email, SMS and voice even when keys are set.
    #[arg(id = "outreach_force_sandbox", long = "outreach-sandbox", env = "OUTREACH_SANDBOX", value_name = "OUTREACH_SANDBOX", default_value_t = false, action = clap::ArgAction::Set)]
    pub force_sandbox: bool,
}

impl Default for OutreachConfig {
    /// No keys, production base URLs: every sender is the sandbox.
    fn default() -> Self {
        OutreachConfig {
            resend_api_key: None,
            resend_base_url: RESEND_DEFAULT_BASE_URL.to_owned(),
            twilio_account_sid: None,
            twilio_auth_token: None,
            twilio_base_url: TWILIO_DEFAULT_BASE_URL.to_owned(),
            vapi_api_key: None,
            vapi_assistant_id: None,
            vapi_phone_number_id: None,
            vapi_base_url: VAPI_DEFAULT_BASE_URL.to_owned(),
            force_sandbox: false,
        }
    }
}

fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn missing(var: &'static str, hint: &'static str) -> ProvidersConfigError {
    ProvidersConfigError::Missing { var, hint }
}

impl OutreachConfig {
    /// The senders that will run as sandboxes, each with the variable that would make it real.
    pub fn sandboxed(&self) -> Vec<(Provider, &'static str)> {
        let all = [
            (
                Provider::Resend,
                "RESEND_API_KEY",
                self.resend_api_key.is_some(),
            ),
            (
                Provider::Twilio,
                "TWILIO_ACCOUNT_SID",
                non_blank(self.twilio_account_sid.as_deref()).is_some()
                    && self.twilio_auth_token.is_some(),
            ),
            (Provider::Vapi, "VAPI_API_KEY", self.vapi_api_key.is_some()),
        ];
        all.into_iter()
            .filter(|(_, _, configured)| self.force_sandbox || !configured)
            .map(|(p, var, _)| {
                (
                    p,
                    if self.force_sandbox {
                        "OUTREACH_SANDBOX"
                    } else {
                        var
                    },
                )
            })
            .collect()
    }

    /// Cross-field checks, and production's refusal of sandboxes without `allow_sandbox`.
    pub fn validate(
        &self,
        environment_is_production: bool,
        allow_sandbox: bool,
    ) -> Result<(), ProvidersConfigError> {
        let sid = non_blank(self.twilio_account_sid.as_deref());
        match (sid, &self.twilio_auth_token) {
            (Some(_), None) => {
                return Err(missing(
                    "TWILIO_AUTH_TOKEN",
                    "TWILIO_ACCOUNT_SID is set: set the auth token too",
                ));
            }
            (None, Some(_)) => {
                return Err(missing(
                    "TWILIO_ACCOUNT_SID",
                    "TWILIO_AUTH_TOKEN is set: set the account SID too",
                ));
            }
            _ => {}
        }
        if self.vapi_api_key.is_some() {
            if non_blank(self.vapi_assistant_id.as_deref()).is_none() {
                return Err(missing(
                    "VAPI_ASSISTANT_ID",
                    "VAPI_API_KEY is set: name the assistant that calls",
                ));
            }
            if non_blank(self.vapi_phone_number_id.as_deref()).is_none() {
                return Err(missing(
                    "VAPI_PHONE_NUMBER_ID",
                    "VAPI_API_KEY is set: name the Vapi phone number to call from",
                ));
            }
        }
        if environment_is_production && !allow_sandbox {
            let mut vars: Vec<&'static str> =
                self.sandboxed().into_iter().map(|(_, v)| v).collect();
            vars.dedup();
            if !vars.is_empty() {
                return Err(ProvidersConfigError::SandboxInProduction { vars });
            }
        }
        Ok(())
    }

    /// Senders for clients' own Twilio accounts, their tokens opened with `keys`: none when
    /// every channel is forced into the sandbox or no key is configured.
    pub fn client_sms(
        &self,
        keys: &crate::sealed::CredentialKeys,
        settings: &HttpSettings,
    ) -> Option<Arc<ClientTwilioAccounts>> {
        (!self.force_sandbox && keys.is_configured()).then(|| {
            Arc::new(ClientTwilioAccounts::new(
                keys.clone(),
                &self.twilio_base_url,
                settings,
            ))
        })
    }

    /// Builds the senders with `settings`.
    pub fn build(
        &self,
        settings: &HttpSettings,
    ) -> Result<OutreachProviders, ProvidersConfigError> {
        self.validate(false, true)?;
        let invalid = |var: &'static str| {
            move |e: ProviderError| ProvidersConfigError::Invalid {
                var,
                reason: e.to_string(),
            }
        };
        let sandbox = Arc::new(SandboxOutreach::new());
        let real = !self.force_sandbox;
        let email: Arc<dyn EmailSender> = match (&self.resend_api_key, real) {
            (Some(key), true) => Arc::new(
                Resend::new(key.clone(), &self.resend_base_url, settings)
                    .map_err(invalid("RESEND_BASE_URL"))?,
            ),
            _ => sandbox.clone(),
        };
        let sid = non_blank(self.twilio_account_sid.as_deref());
        let sms: Arc<dyn SmsSender> = match (sid, &self.twilio_auth_token, real) {
            (Some(sid), Some(token), true) => Arc::new(
                Twilio::new(sid, token.clone(), &self.twilio_base_url, settings)
                    .map_err(invalid("TWILIO_ACCOUNT_SID"))?,
            ),
            _ => sandbox.clone(),
        };
        let voice: Arc<dyn VoiceCaller> = match (&self.vapi_api_key, real) {
            (Some(key), true) => Arc::new(
                Vapi::new(
                    key.clone(),
                    self.vapi_assistant_id.as_deref().unwrap_or_default(),
                    self.vapi_phone_number_id.as_deref().unwrap_or_default(),
                    &self.vapi_base_url,
                    settings,
                )
                .map_err(invalid("VAPI_BASE_URL"))?,
            ),
            _ => sandbox.clone(),
        };
        let built = OutreachProviders {
            email,
            sms,
            voice,
            sandbox,
            client_sms: None,
        };
        tracing::info!(
            email_sandbox = built.email.is_sandbox(),
            sms_sandbox = built.sms.is_sandbox(),
            voice_sandbox = built.voice.is_sandbox(),
            "outreach providers configured"
        );
        Ok(built)
    }
}

/// The senders of every outreach channel.
#[derive(Debug, Clone)]
pub struct OutreachProviders {
    /// Email (Resend or the sandbox).
    pub email: Arc<dyn EmailSender>,
    /// SMS (Twilio or the sandbox).
    pub sms: Arc<dyn SmsSender>,
    /// Voice (Vapi or the sandbox).
    pub voice: Arc<dyn VoiceCaller>,
    /// The sandbox the unconfigured channels use (its in-memory record serves tests).
    pub sandbox: Arc<SandboxOutreach>,
    /// Clients' own Twilio accounts (None: every SMS goes through [`Self::sms`]).
    pub client_sms: Option<Arc<ClientTwilioAccounts>>,
}

impl OutreachProviders {
    /// Every channel through one sandbox (development and tests).
    pub fn sandbox() -> Self {
        let sandbox = Arc::new(SandboxOutreach::new());
        OutreachProviders {
            email: sandbox.clone(),
            sms: sandbox.clone(),
            voice: sandbox.clone(),
            sandbox,
            client_sms: None,
        }
    }
}
