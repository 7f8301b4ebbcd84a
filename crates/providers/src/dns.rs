//! DNS TXT lookups (sending-domain verification) over DNS-over-HTTPS, the JSON API that
//! Cloudflare and Google serve: `GET {DNS_RESOLVER_URL}?name=<name>&type=TXT` with
//! `accept: application/dns-json`, answered `{"Status": 0, "Answer": [{"type": 16, "data":
//! "\"...\""}]}` (Status 3 = no such name). Plain HTTPS, so no resolver library and the same
//! timeouts, retries and circuit breaker as every adapter; tested against a local server.

use std::fmt;

use async_trait::async_trait;
use serde::Deserialize;

use crate::error::ProviderError;
use crate::http::{HttpSettings, ProviderHttp, decode_json};
use crate::provider::Provider;

/// Cloudflare's DNS-over-HTTPS JSON endpoint.
pub const DOH_DEFAULT_URL: &str = "https://cloudflare-dns.com/dns-query";

/// The DNS record type TXT.
const TXT: u16 = 16;

/// Reads a name's TXT records.
#[async_trait]
pub trait TxtResolver: Send + Sync + fmt::Debug {
    /// The TXT strings published at `name` (each record's character-strings joined); empty when
    /// the name does not exist or has none.
    async fn txt(&self, name: &str) -> Result<Vec<String>, ProviderError>;
}

/// The DNS-over-HTTPS resolver.
#[derive(Debug)]
pub struct DohResolver {
    http: ProviderHttp,
}

impl DohResolver {
    /// A resolver at `url` (use [`DOH_DEFAULT_URL`]).
    pub fn new(url: &str, settings: &HttpSettings) -> Result<Self, ProviderError> {
        Ok(Self {
            http: ProviderHttp::new(Provider::Dns, url, settings)?,
        })
    }
}

#[derive(Debug, Deserialize)]
struct DohAnswer {
    #[serde(rename = "Status")]
    status: u32,
    #[serde(rename = "Answer", default)]
    answer: Vec<DohRecord>,
}

#[derive(Debug, Deserialize)]
struct DohRecord {
    #[serde(rename = "type")]
    kind: u16,
    data: String,
}

/// The text of a TXT record's `data`: its quoted character-strings, unquoted and joined.
pub fn txt_text(data: &str) -> String {
    let data = data.trim();
    if !data.starts_with('"') {
        return data.to_owned();
    }
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in data.chars() {
        match (in_string, escaped, c) {
            (true, true, c) => {
                out.push(c);
                escaped = false;
            }
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (true, false, c) => out.push(c),
            (false, _, '"') => in_string = true,
            (false, _, _) => {}
        }
    }
    out
}

#[async_trait]
impl TxtResolver for DohResolver {
    #[tracing::instrument(skip_all, fields(provider = "dns"))]
    async fn txt(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        let mut url = self.http.base_url().clone();
        url.query_pairs_mut()
            .append_pair("name", name)
            .append_pair("type", "TXT");
        let bytes = self
            .http
            .execute(|| {
                Ok(self
                    .http
                    .client()
                    .get(url.clone())
                    .header("accept", "application/dns-json"))
            })
            .await?;
        let answer: DohAnswer = decode_json(Provider::Dns, &bytes)?;
        if answer.status != 0 {
            // NXDOMAIN and friends: nothing published.
            return Ok(Vec::new());
        }
        Ok(answer
            .answer
            .iter()
            .filter(|r| r.kind == TXT)
            .map(|r| txt_text(&r.data))
            .collect())
    }
}

/// The sandbox resolver: every name has no TXT record.
#[derive(Debug, Default)]
pub struct SandboxTxtResolver;

#[async_trait]
impl TxtResolver for SandboxTxtResolver {
    async fn txt(&self, _name: &str) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt_data_is_unquoted_and_joined() {
        assert_eq!(txt_text("\"v=spf1 -all\""), "v=spf1 -all");
        assert_eq!(txt_text("\"abc\" \"def\""), "abcdef");
        assert_eq!(txt_text("\"say \\\"hi\\\"\""), "say \"hi\"");
        assert_eq!(txt_text("bare"), "bare");
    }
}
