//! Outbound webhooks (SPEC 6): the events a client can subscribe to, the states of an
//! endpoint and of a delivery, the retry schedule, when a failing endpoint is disabled, the
//! rules an endpoint URL must meet, and the response excerpt kept per attempt. Pure rules; the
//! signing maths is `agency_providers::standard_webhooks`.

use std::time::Duration;

use url::Url;

use crate::enum_macro::text_enum;

text_enum! {
    /// An event sent to clients' endpoints (SPEC 6), plus the test event of
    /// `POST .../webhook-endpoints/{id}/test` (never subscribable).
    pub enum EventType {
        /// A lead replied (any channel).
        LeadReplied => "lead.replied",
        /// A meeting was booked.
        MeetingBooked => "meeting.booked",
        /// A meeting was cancelled.
        MeetingCancelled => "meeting.cancelled",
        /// A lead unsubscribed (reply, link or complaint).
        LeadUnsubscribed => "lead.unsubscribed",
        /// A campaign was completed.
        CampaignCompleted => "campaign.completed",
        /// A voice call ended with its report.
        CallCompleted => "call.completed",
        /// A test event sent on request.
        WebhookTest => "webhook.test",
    }
}

impl EventType {
    /// The events an endpoint may subscribe to (SPEC 6), in order.
    pub const SUBSCRIBABLE: &'static [EventType] = &[
        EventType::LeadReplied,
        EventType::MeetingBooked,
        EventType::MeetingCancelled,
        EventType::LeadUnsubscribed,
        EventType::CampaignCompleted,
        EventType::CallCompleted,
    ];

    /// True for an event an endpoint may subscribe to.
    pub fn is_subscribable(self) -> bool {
        Self::SUBSCRIBABLE.contains(&self)
    }
}

text_enum! {
    /// The state of an endpoint.
    pub enum EndpointStatus {
        /// Receives its events.
        Active => "active",
        /// Receives nothing until re-enabled (by its owner, or disabled by the system).
        Disabled => "disabled",
    }
}

text_enum! {
    /// The state of one delivery (one event to one endpoint).
    pub enum DeliveryStatus {
        /// Waiting for its next attempt.
        Pending => "pending",
        /// The endpoint answered 2xx.
        Delivered => "delivered",
        /// Given up: the schedule is exhausted, or the endpoint was disabled or deleted.
        Failed => "failed",
    }
}

/// Delays before the 2nd to 7th attempts (SPEC 6: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h).
pub const RETRY_SCHEDULE: [Duration; 6] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Attempts of one delivery in total (the first and one per retry delay).
pub const MAX_ATTEMPTS: u32 = RETRY_SCHEDULE.len() as u32 + 1;

/// An endpoint that has failed without a success for this long is disabled.
pub const DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);

/// Bytes of a response body kept per attempt.
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;

/// Longest accepted endpoint URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// The delay before the next attempt after failed attempt `attempt` (1-based), or `None` when
/// that was the last one.
pub fn retry_delay(attempt: u32) -> Option<Duration> {
    let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
    RETRY_SCHEDULE.get(index).copied()
}

/// True when an endpoint failing since `failing_for` must be disabled.
pub fn should_disable(failing_for: Duration) -> bool {
    failing_for >= DISABLE_AFTER
}

/// True for a status the receiver accepted the event with (2xx).
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// True for a status that disables the endpoint at once (410 Gone: the receiver says the
/// endpoint no longer exists).
pub fn disables_at_once(status: u16) -> bool {
    status == 410
}

/// At most [`RESPONSE_EXCERPT_BYTES`] of `body`, as text (invalid UTF-8 replaced), cut on a
/// character boundary.
pub fn response_excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(RESPONSE_EXCERPT_BYTES)];
    let text = String::from_utf8_lossy(head);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if out.len() + c.len_utf8() > RESPONSE_EXCERPT_BYTES {
            break;
        }
        out.push(c);
    }
    out
}

/// Why an endpoint URL is refused (a sentence for the `url` field).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointUrlError {
    /// Not a URL.
    #[error("must be an absolute http(s) URL")]
    NotAUrl,
    /// Too long.
    #[error("must be at most {MAX_URL_BYTES} characters")]
    TooLong,
    /// Plain http where https is required.
    #[error("must use https")]
    NotHttps,
    /// Credentials in the URL.
    #[error("must not contain a user name or password")]
    Credentials,
}

/// Parses an endpoint URL: absolute http(s) with a host, no credentials, no fragment (dropped),
/// https only when `require_https` (production).
pub fn parse_endpoint_url(input: &str, require_https: bool) -> Result<Url, EndpointUrlError> {
    let text = input.trim();
    if text.len() > MAX_URL_BYTES {
        return Err(EndpointUrlError::TooLong);
    }
    let mut url = Url::parse(text).map_err(|_| EndpointUrlError::NotAUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if !require_https => {}
        "http" => return Err(EndpointUrlError::NotHttps),
        _ => return Err(EndpointUrlError::NotAUrl),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(EndpointUrlError::NotAUrl);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointUrlError::Credentials);
    }
    url.set_fragment(None);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_specs_and_ends_after_seven_attempts() {
        let secs: Vec<u64> = (1..=MAX_ATTEMPTS)
            .filter_map(retry_delay)
            .map(|d| d.as_secs())
            .collect();
        assert_eq!(secs, [5, 300, 1_800, 7_200, 18_000, 36_000]);
        assert_eq!(retry_delay(0), None);
        assert_eq!(retry_delay(MAX_ATTEMPTS), None);
        assert_eq!(MAX_ATTEMPTS, 7);
    }

    #[test]
    fn disabling_and_statuses() {
        assert!(!should_disable(Duration::from_secs(4 * 86_400)));
        assert!(should_disable(Duration::from_secs(5 * 86_400)));
        assert!(is_success(200) && is_success(204) && !is_success(301) && !is_success(500));
        assert!(disables_at_once(410) && !disables_at_once(404));
    }

    #[test]
    fn only_spec_events_are_subscribable() {
        let names: Vec<&str> = EventType::SUBSCRIBABLE.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            names,
            [
                "lead.replied",
                "meeting.booked",
                "meeting.cancelled",
                "lead.unsubscribed",
                "campaign.completed",
                "call.completed"
            ]
        );
        assert!(!EventType::WebhookTest.is_subscribable());
        assert!("lead.created".parse::<EventType>().is_err());
    }

    #[test]
    fn excerpts_are_capped_on_a_character_boundary() {
        assert_eq!(response_excerpt(b"ok"), "ok");
        let long = "é".repeat(1_000);
        let cut = response_excerpt(long.as_bytes());
        assert!(cut.len() <= RESPONSE_EXCERPT_BYTES);
        assert_eq!(cut.chars().count(), RESPONSE_EXCERPT_BYTES / 2);
        assert_eq!(response_excerpt(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(
            parse_endpoint_url(" https://hooks.example.com/in#x ", true)
                .unwrap()
                .as_str(),
            "https://hooks.example.com/in"
        );
        assert!(parse_endpoint_url("http://localhost:9000/h", false).is_ok());
        assert_eq!(
            parse_endpoint_url("http://hooks.example.com/", true),
            Err(EndpointUrlError::NotHttps)
        );
        assert_eq!(
            parse_endpoint_url("https://u:p@example.com/", true),
            Err(EndpointUrlError::Credentials)
        );
        for bad in ["", "example.com", "ftp://example.com/", "mailto:a@b.com"] {
            assert!(parse_endpoint_url(bad, false).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_BYTES));
        assert_eq!(
            parse_endpoint_url(&long, false),
            Err(EndpointUrlError::TooLong)
        );
    }
}
