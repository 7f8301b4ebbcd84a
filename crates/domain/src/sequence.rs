//! Sequences: the steps a lead goes through in a campaign, the default sequence per tier for
//! campaigns without steps, and the choice of a lead's next step (only channels the lead may
//! receive and can be reached on; a reply or bounce stops the steps that ask so).

use crate::channel::Channel;
use crate::tier::Tier;

/// One step of a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// 1-based position (stable: it keys the planned send).
    pub step_number: i32,
    /// Channel.
    pub channel: Channel,
    /// Days after the previous step.
    pub delay_days: i32,
    /// Not sent once the lead replied.
    pub skip_if_replied: bool,
    /// Not sent once the lead bounced.
    pub skip_if_bounced: bool,
}

const fn step(step_number: i32, channel: Channel, delay_days: i32) -> Step {
    Step {
        step_number,
        channel,
        delay_days,
        skip_if_replied: true,
        skip_if_bounced: true,
    }
}

/// The default sequence of a tier: the first touch on the allocated channel (email when none),
/// then follow-ups on the channels the tier allows (hot: email, SMS, voice, email; warm: email,
/// voice, email; cool and cold: two more emails; dead: none).
pub fn default_sequence(tier: Tier, first_touch: Option<Channel>) -> Vec<Step> {
    let first = first_touch.unwrap_or(Channel::Email);
    let mut steps = vec![step(1, first, 0)];
    let follow_ups: &[(Channel, i32)] = match tier {
        Tier::Hot => &[
            (Channel::Email, 3),
            (Channel::Sms, 2),
            (Channel::Voice, 2),
            (Channel::Email, 4),
        ],
        Tier::Warm => &[
            (Channel::Email, 3),
            (Channel::Voice, 3),
            (Channel::Email, 4),
        ],
        Tier::Cool | Tier::Cold => &[(Channel::Email, 3), (Channel::Email, 5)],
        Tier::Dead => return Vec::new(),
    };
    for (i, (channel, delay)) in follow_ups.iter().enumerate() {
        let number = i32::try_from(i).unwrap_or(0) + 2;
        steps.push(step(number, *channel, *delay));
    }
    steps
}

/// Where a lead stands, for choosing its next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeadProgress {
    /// The lead replied.
    pub replied: bool,
    /// The lead bounced.
    pub bounced: bool,
    /// The lead has a phone number (SMS and voice need one).
    pub has_phone: bool,
}

/// The first step after `after` (0 for the first touch) the lead may get: a channel in
/// `allowed`, reachable, and not stopped by a reply or bounce. A stop ends the sequence.
pub fn next_step(
    steps: &[Step],
    after: i32,
    allowed: &[Channel],
    lead: LeadProgress,
) -> Option<Step> {
    let mut ordered: Vec<&Step> = steps.iter().filter(|s| s.step_number > after).collect();
    ordered.sort_by_key(|s| s.step_number);
    let mut delay = 0;
    for s in ordered {
        if (s.skip_if_replied && lead.replied) || (s.skip_if_bounced && lead.bounced) {
            return None;
        }
        delay += s.delay_days;
        let reachable = !s.channel.is_phone() || lead.has_phone;
        if allowed.contains(&s.channel) && reachable {
            return Some(Step {
                delay_days: delay,
                ..*s
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONE: LeadProgress = LeadProgress {
        replied: false,
        bounced: false,
        has_phone: true,
    };

    #[test]
    fn defaults_follow_the_tier() {
        let hot = default_sequence(Tier::Hot, Some(Channel::Voice));
        let channels: Vec<Channel> = hot.iter().map(|s| s.channel).collect();
        assert_eq!(
            channels,
            [
                Channel::Voice,
                Channel::Email,
                Channel::Sms,
                Channel::Voice,
                Channel::Email
            ]
        );
        assert_eq!(
            hot.iter().map(|s| s.step_number).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(default_sequence(Tier::Cold, None).len(), 3);
        assert!(default_sequence(Tier::Dead, None).is_empty());
    }

    #[test]
    fn next_step_skips_forbidden_and_unreachable_channels_adding_their_delays() {
        let steps = default_sequence(Tier::Hot, Some(Channel::Email));
        let email_only = [Channel::Email];
        // After step 2 (email): SMS (+2) and voice (+2) are skipped, email (+4): 8 days.
        let next = next_step(&steps, 2, &email_only, PHONE);
        assert_eq!(next.map(|s| (s.step_number, s.delay_days)), Some((5, 8)));
        let all = [Channel::Email, Channel::Sms, Channel::Voice];
        let no_phone = LeadProgress {
            has_phone: false,
            ..PHONE
        };
        assert_eq!(
            next_step(&steps, 2, &all, no_phone).map(|s| s.step_number),
            Some(5)
        );
        assert_eq!(
            next_step(&steps, 2, &all, PHONE).map(|s| s.step_number),
            Some(3)
        );
        assert_eq!(next_step(&steps, 5, &all, PHONE), None);
    }

    #[test]
    fn a_reply_or_bounce_stops_the_sequence() {
        let steps = default_sequence(Tier::Warm, None);
        let all = [Channel::Email, Channel::Voice];
        let replied = LeadProgress {
            replied: true,
            ..PHONE
        };
        assert_eq!(next_step(&steps, 1, &all, replied), None);
        let bounced = LeadProgress {
            bounced: true,
            ..PHONE
        };
        assert_eq!(next_step(&steps, 1, &all, bounced), None);
        let mut lenient = steps.clone();
        for s in &mut lenient {
            s.skip_if_replied = false;
        }
        assert_eq!(
            next_step(&lenient, 1, &all, replied).map(|s| s.step_number),
            Some(2)
        );
    }
}
