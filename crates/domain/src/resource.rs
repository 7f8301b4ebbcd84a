//! Sending resources: kinds, daily caps (with email warm-up) and least-used-first selection.

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::enum_macro::text_enum;
use crate::ids::ResourceId;

text_enum! {
    /// A kind of sending resource a client owns.
    pub enum ResourceKind {
        /// A sending email domain (warms up).
        EmailDomain => "email_domain",
        /// An SMS number.
        SmsNumber => "sms_number",
        /// A voice number.
        VoiceNumber => "voice_number",
        /// A LinkedIn seat.
        LinkedinSeat => "linkedin_seat",
    }
}

/// Daily cap of a LinkedIn seat.
pub const LINKEDIN_SEAT_DAILY_CAP: u32 = 17;
/// Daily cap of a warmed-up email domain.
pub const EMAIL_DOMAIN_DAILY_CAP: u32 = 50;
/// Email warm-up: sends allowed on day one, and added each further day (up to the cap).
pub const EMAIL_WARMUP_STEP: u32 = 10;
/// Daily cap of an SMS number.
pub const SMS_NUMBER_DAILY_CAP: u32 = 100;
/// Daily cap of a voice number.
pub const VOICE_NUMBER_DAILY_CAP: u32 = 50;
/// Concurrent voice calls allowed per client.
pub const MAX_CONCURRENT_CALLS_PER_CLIENT: u32 = 5;

impl ResourceKind {
    /// The resource kind a channel sends through (`None` for direct mail).
    pub const fn for_channel(channel: Channel) -> Option<ResourceKind> {
        match channel {
            Channel::Email => Some(ResourceKind::EmailDomain),
            Channel::Sms => Some(ResourceKind::SmsNumber),
            Channel::Voice => Some(ResourceKind::VoiceNumber),
            Channel::Linkedin => Some(ResourceKind::LinkedinSeat),
            Channel::Mail => None,
        }
    }

    /// The channel this kind serves.
    pub const fn channel(self) -> Channel {
        match self {
            ResourceKind::EmailDomain => Channel::Email,
            ResourceKind::SmsNumber => Channel::Sms,
            ResourceKind::VoiceNumber => Channel::Voice,
            ResourceKind::LinkedinSeat => Channel::Linkedin,
        }
    }
}

/// The daily cap of a resource. `warmup_day` (1 = first day) applies to email domains only:
/// 10 on day one, +10 a day, up to 50; `None` means fully warmed up.
pub fn daily_cap(kind: ResourceKind, warmup_day: Option<u32>) -> u32 {
    match kind {
        ResourceKind::EmailDomain => match warmup_day {
            None => EMAIL_DOMAIN_DAILY_CAP,
            Some(day) => day
                .max(1)
                .saturating_mul(EMAIL_WARMUP_STEP)
                .min(EMAIL_DOMAIN_DAILY_CAP),
        },
        ResourceKind::SmsNumber => SMS_NUMBER_DAILY_CAP,
        ResourceKind::VoiceNumber => VOICE_NUMBER_DAILY_CAP,
        ResourceKind::LinkedinSeat => LINKEDIN_SEAT_DAILY_CAP,
    }
}

/// One resource's use today (the day in the client's timezone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceUsage {
    /// The resource.
    pub id: ResourceId,
    /// Its kind.
    pub kind: ResourceKind,
    /// Sends made today.
    pub used_today: u32,
    /// Warm-up day for email domains (1 = first day); `None` once warmed up.
    pub warmup_day: Option<u32>,
}

impl ResourceUsage {
    /// This resource's cap today.
    pub fn cap(&self) -> u32 {
        daily_cap(self.kind, self.warmup_day)
    }

    /// Sends still allowed today.
    pub fn remaining(&self) -> u32 {
        self.cap().saturating_sub(self.used_today)
    }
}

/// The least-used resource still under its daily cap (the first listed on a tie); `None` when
/// all are full, in which case the send waits for the next window.
pub fn pick_resource(candidates: &[ResourceUsage]) -> Option<ResourceId> {
    candidates
        .iter()
        .filter(|r| r.remaining() > 0)
        .min_by_key(|r| r.used_today)
        .map(|r| r.id)
}

/// [`pick_resource`] among the candidates of the kind `channel` sends through.
pub fn pick_resource_for(channel: Channel, candidates: &[ResourceUsage]) -> Option<ResourceId> {
    let kind = ResourceKind::for_channel(channel)?;
    candidates
        .iter()
        .filter(|r| r.kind == kind && r.remaining() > 0)
        .min_by_key(|r| r.used_today)
        .map(|r| r.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn usage(
        n: u128,
        kind: ResourceKind,
        used_today: u32,
        warmup_day: Option<u32>,
    ) -> ResourceUsage {
        ResourceUsage {
            id: ResourceId::from_uuid(Uuid::from_u128(n)),
            kind,
            used_today,
            warmup_day,
        }
    }

    fn id(n: u128) -> Option<ResourceId> {
        Some(ResourceId::from_uuid(Uuid::from_u128(n)))
    }

    #[test]
    fn caps() {
        assert_eq!(daily_cap(ResourceKind::LinkedinSeat, None), 17);
        assert_eq!(daily_cap(ResourceKind::SmsNumber, None), 100);
        assert_eq!(daily_cap(ResourceKind::VoiceNumber, None), 50);
        assert_eq!(daily_cap(ResourceKind::EmailDomain, None), 50);
        let warmup = [
            (0, 10),
            (1, 10),
            (2, 20),
            (3, 30),
            (4, 40),
            (5, 50),
            (6, 50),
            (400, 50),
        ];
        for (day, cap) in warmup {
            assert_eq!(
                daily_cap(ResourceKind::EmailDomain, Some(day)),
                cap,
                "day {day}"
            );
        }
        assert_eq!(
            daily_cap(ResourceKind::SmsNumber, Some(1)),
            100,
            "warm-up is email only"
        );
        assert_eq!(MAX_CONCURRENT_CALLS_PER_CLIENT, 5);
    }

    #[test]
    fn least_used_under_cap() {
        let seats = [
            usage(1, ResourceKind::LinkedinSeat, 17, None),
            usage(2, ResourceKind::LinkedinSeat, 9, None),
            usage(3, ResourceKind::LinkedinSeat, 4, None),
            usage(4, ResourceKind::LinkedinSeat, 4, None),
        ];
        assert_eq!(pick_resource(&seats), id(3), "least used, first on a tie");
        assert_eq!(pick_resource(&seats[..1]), None, "at cap");
        assert_eq!(pick_resource(&[]), None);
        let domains = [
            usage(5, ResourceKind::EmailDomain, 10, Some(1)),
            usage(6, ResourceKind::EmailDomain, 49, None),
        ];
        assert_eq!(
            pick_resource(&domains),
            id(6),
            "new domain full at 10 on day one"
        );
        assert_eq!(
            pick_resource(&[usage(7, ResourceKind::EmailDomain, 19, Some(2))]),
            id(7)
        );
    }

    #[test]
    fn by_channel() {
        let mixed = [
            usage(1, ResourceKind::SmsNumber, 0, None),
            usage(2, ResourceKind::VoiceNumber, 3, None),
        ];
        assert_eq!(pick_resource_for(Channel::Voice, &mixed), id(2));
        assert_eq!(pick_resource_for(Channel::Email, &mixed), None);
        assert_eq!(pick_resource_for(Channel::Mail, &mixed), None);
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::for_channel(kind.channel()), Some(*kind));
        }
    }
}
