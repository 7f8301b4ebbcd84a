//! Message content: sequence templates rendered with minijinja over the lead, company, client
//! and campaign facts ([`MessageFacts`]), checked at save time in strict mode (an unknown field
//! is an error then, never a blank at send time); the default templates per channel and step;
//! [`compose`], the one function that produces a message's subject and body (the template is
//! the deterministic fallback any AI writer plugs in front of); and the compliance wrapping:
//! every email identifies the sender and carries the unsubscribe link, every first SMS the
//! opt-out words, and an SMS fits one segment.

use agency_domain::sms::{GSM7_SINGLE_SEGMENT, UCS2_SINGLE_SEGMENT, gsm7_length};
use agency_domain::{Channel, SMS_OPT_OUT};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// The lead as templates see it (`lead.first_name`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LeadFacts {
    /// First name ("there" when unknown).
    pub first_name: String,
    /// Last name (may be empty).
    pub last_name: String,
    /// First and last name.
    pub full_name: String,
    /// Email address.
    pub email: String,
    /// Job title (may be empty).
    pub title: String,
}

/// The lead's company (`company.name`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CompanyFacts {
    /// Name ("your business" when unknown).
    pub name: String,
    /// Web domain (may be empty).
    pub domain: String,
    /// Industry (may be empty).
    pub industry: String,
}

/// The client, i.e. the sender (`client.name`, `client.postal_address`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClientFacts {
    /// Name.
    pub name: String,
    /// Postal address (may be empty).
    pub postal_address: String,
}

/// The campaign (`campaign.name`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CampaignFacts {
    /// Name.
    pub name: String,
}

/// Everything a template may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageFacts {
    /// The lead.
    pub lead: LeadFacts,
    /// The lead's company.
    pub company: CompanyFacts,
    /// The sender.
    pub client: ClientFacts,
    /// The campaign.
    pub campaign: CampaignFacts,
}

fn or(value: Option<&str>, fallback: &str) -> String {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(fallback)
        .to_owned()
}

impl MessageFacts {
    /// Facts from stored values; unknown names fall back to neutral words.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        first_name: Option<&str>,
        last_name: Option<&str>,
        email: &str,
        title: Option<&str>,
        company: Option<&str>,
        domain: Option<&str>,
        industry: Option<&str>,
        client_name: &str,
        postal_address: Option<&str>,
        campaign_name: &str,
    ) -> Self {
        let first = or(first_name, "there");
        let last = or(last_name, "");
        let full_name = match (first_name.map(str::trim), last.as_str()) {
            (Some(f), "") if !f.is_empty() => f.to_owned(),
            (Some(f), l) if !f.is_empty() => format!("{f} {l}"),
            _ => last.clone(),
        };
        MessageFacts {
            lead: LeadFacts {
                first_name: first,
                last_name: last,
                full_name,
                email: email.to_owned(),
                title: or(title, ""),
            },
            company: CompanyFacts {
                name: or(company, "your business"),
                domain: or(domain, ""),
                industry: or(industry, ""),
            },
            client: ClientFacts {
                name: client_name.to_owned(),
                postal_address: or(postal_address, ""),
            },
            campaign: CampaignFacts {
                name: campaign_name.to_owned(),
            },
        }
    }

    /// Sample facts with every field set, for checking templates at save time.
    pub fn sample() -> Self {
        Self::new(
            Some("Jane"),
            Some("Citizen"),
            "jane@example.com.au",
            Some("Managing Director"),
            Some("Harbour Plumbing"),
            Some("harbourplumbing.com.au"),
            Some("Construction"),
            "Acme Digital",
            Some("1 George St, Sydney NSW 2000"),
            "Spring outreach",
        )
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env
}

/// Renders `template` over `facts` (strict: an unknown field is an error).
pub fn render(template: &str, facts: &MessageFacts) -> Result<String, String> {
    environment()
        .render_str(template, facts)
        .map(|s| s.trim().to_owned())
        .map_err(|e| {
            let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
            format!("{}{detail}", e.kind())
        })
}

/// Checks a template at save time: it must parse and render over the sample facts.
pub fn validate_template(template: &str) -> Result<(), String> {
    render(template, &MessageFacts::sample()).map(|_| ())
}

/// The default (subject, body) templates of a channel at a step.
pub fn default_templates(
    channel: Channel,
    step_number: i32,
) -> (Option<&'static str>, &'static str) {
    match (channel, step_number <= 1) {
        (Channel::Email, true) => (
            Some("Quick question about {{ company.name }}"),
            "Hi {{ lead.first_name }},\n\nI work with businesses like {{ company.name }} at {{ client.name }}. \
             Would you be open to a 15-minute chat this week about bringing in more clients?\n\n\
             Kind regards,\n{{ client.name }}",
        ),
        (Channel::Email, false) => (
            Some("Re: Quick question about {{ company.name }}"),
            "Hi {{ lead.first_name }},\n\nJust following up on my note below. Is growing {{ company.name }} \
             a priority this quarter? Happy to share what has worked for similar businesses.\n\n\
             Kind regards,\n{{ client.name }}",
        ),
        (Channel::Sms, _) => (
            None,
            "Hi {{ lead.first_name }}, it's {{ client.name }}. Keen for a quick chat about growing {{ company.name }}?",
        ),
        (Channel::Voice, _) => (
            None,
            "Hi {{ lead.first_name }}, this is the assistant calling for {{ client.name }} about {{ company.name }}. Have you got a minute?",
        ),
        (Channel::Linkedin | Channel::Mail, _) => (
            None,
            "Hi {{ lead.first_name }}, {{ client.name }} here. I'd love to connect about {{ company.name }}.",
        ),
    }
}

/// A message's content before channel wrapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Composed {
    /// Subject (email).
    pub subject: Option<String>,
    /// Body text.
    pub body: String,
}

/// Writes a message: the step's templates (or the defaults) over the facts. This is the single
/// place message content comes from; a template that fails at send time (it was valid when
/// saved, so only stored data can break it) falls back to the default template.
pub fn compose(
    channel: Channel,
    step_number: i32,
    subject_template: Option<&str>,
    body_template: Option<&str>,
    facts: &MessageFacts,
) -> Composed {
    let (default_subject, default_body) = default_templates(channel, step_number);
    let pick = |custom: Option<&str>, default: &str| {
        custom
            .filter(|t| !t.trim().is_empty())
            .and_then(|t| render(t, facts).ok())
            .or_else(|| render(default, facts).ok())
            .unwrap_or_default()
    };
    let subject = (channel == Channel::Email).then(|| {
        pick(
            subject_template,
            default_subject.unwrap_or("Hello from {{ client.name }}"),
        )
    });
    Composed {
        subject,
        body: pick(body_template, default_body),
    }
}

/// The footer every commercial email carries: who sends it and how to stop it.
fn email_footer(facts: &MessageFacts, unsubscribe_url: &str) -> String {
    let sender = match facts.client.postal_address.as_str() {
        "" => facts.client.name.clone(),
        address => format!("{}, {address}", facts.client.name),
    };
    format!("--\nSent by {sender}.\nUnsubscribe: {unsubscribe_url}")
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The plain-text and HTML parts of an email: the body, then the sender's identity and the
/// unsubscribe link.
pub fn email_parts(body: &str, facts: &MessageFacts, unsubscribe_url: &str) -> (String, String) {
    let text = format!("{body}\n\n{}", email_footer(facts, unsubscribe_url));
    let paragraphs: String = body
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", escape_html(p).replace('\n', "<br>")))
        .collect();
    let sender = escape_html(&match facts.client.postal_address.as_str() {
        "" => facts.client.name.clone(),
        address => format!("{}, {address}", facts.client.name),
    });
    let url = escape_html(unsubscribe_url);
    let html = format!(
        "<!doctype html><html><body>{paragraphs}<hr><p style=\"font-size:12px;color:#666\">Sent by {sender}. \
         <a href=\"{url}\">Unsubscribe</a></p></body></html>"
    );
    (text, html)
}

/// Length of `text` in the encoding it will be sent in, and the one-segment limit of it.
fn sms_measure(text: &str) -> (usize, usize) {
    match gsm7_length(text) {
        Some(len) => (len, GSM7_SINGLE_SEGMENT),
        None => (text.encode_utf16().count(), UCS2_SINGLE_SEGMENT),
    }
}

/// The SMS text: the body, with the opt-out words on the first SMS to a number, shortened (at
/// a word where possible) so the whole fits one segment (160 GSM-7 or 70 UCS-2 characters).
pub fn sms_text(body: &str, first_to_number: bool) -> String {
    let suffix = if first_to_number {
        format!(" {SMS_OPT_OUT}")
    } else {
        String::new()
    };
    let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let fits = |b: &str| {
        let (len, limit) = sms_measure(&format!("{b}{suffix}"));
        len <= limit
    };
    if fits(&body) {
        return format!("{body}{suffix}");
    }
    let chars: Vec<char> = body.chars().collect();
    let mut cut = chars.len();
    while cut > 0 {
        cut -= 1;
        let candidate: String = chars[..cut].iter().collect();
        let trimmed = match candidate.rfind(' ') {
            Some(space) if space > cut / 2 => candidate[..space].to_owned(),
            _ => candidate,
        };
        let shortened = format!("{}...", trimmed.trim_end_matches([' ', ',', '.']));
        if fits(&shortened) {
            return format!("{shortened}{suffix}");
        }
    }
    SMS_OPT_OUT.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use agency_domain::sms::segment_count;

    #[test]
    fn strict_templates_name_the_missing_field() {
        assert!(validate_template("Hi {{ lead.first_name }} at {{ company.name }}").is_ok());
        let err = validate_template("Hi {{ lead.nickname }}").expect_err("unknown field");
        assert!(err.contains("undefined"), "{err}");
        assert!(
            validate_template("Hi {{ lead.first_name ").is_err(),
            "syntax"
        );
        let facts = MessageFacts::new(
            None, None, "a@b.co", None, None, None, None, "Acme", None, "C",
        );
        assert_eq!(
            render("Hi {{ lead.first_name }} at {{ company.name }}", &facts).as_deref(),
            Ok("Hi there at your business")
        );
    }

    #[test]
    fn compose_uses_the_step_template_or_the_default() {
        let facts = MessageFacts::sample();
        let custom = compose(
            Channel::Email,
            1,
            Some("For {{ lead.first_name }}"),
            Some("Body {{ company.name }}"),
            &facts,
        );
        assert_eq!(custom.subject.as_deref(), Some("For Jane"));
        assert_eq!(custom.body, "Body Harbour Plumbing");
        let default = compose(Channel::Sms, 2, None, None, &facts);
        assert_eq!(default.subject, None);
        assert!(default.body.starts_with("Hi Jane, it's Acme Digital."));
    }

    #[test]
    fn emails_identify_the_sender_and_link_the_unsubscribe() {
        let facts = MessageFacts::sample();
        let (text, html) = email_parts("Hi <Jane>\n\nBye", &facts, "https://x.test/u/t");
        assert!(text.ends_with(
            "Sent by Acme Digital, 1 George St, Sydney NSW 2000.\nUnsubscribe: https://x.test/u/t"
        ));
        assert!(html.contains("<p>Hi &lt;Jane&gt;</p><p>Bye</p>"));
        assert!(html.contains("<a href=\"https://x.test/u/t\">Unsubscribe</a>"));
    }

    #[test]
    fn sms_fits_one_segment_and_opts_out_first() {
        let short = sms_text("Hi Jane", true);
        assert_eq!(short, "Hi Jane Reply STOP to opt out");
        assert_eq!(sms_text("Hi Jane", false), "Hi Jane");
        let long = "word ".repeat(60);
        let text = sms_text(&long, true);
        assert!(text.ends_with(SMS_OPT_OUT), "{text}");
        assert!(gsm7_length(&text).is_none() || segment_count(&text) == 1);
        assert_eq!(segment_count(&text), 1, "{text}");
        let unicode = "Olá 🙂 ".repeat(30);
        let text = sms_text(&unicode, false);
        assert_eq!(segment_count(&text), 1, "{text}");
        assert!(text.encode_utf16().count() <= 70);
    }
}
