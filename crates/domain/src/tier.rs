//! ALS tiers: the score bands and the channels each tier may receive.

use crate::channel::Channel;
use crate::enum_macro::text_enum;

text_enum! {
    /// The tier a lead's ALS score falls in.
    #[derive(PartialOrd, Ord)]
    pub enum Tier {
        /// 85-100: every channel.
        Hot => "hot",
        /// 60-84: email, LinkedIn, voice.
        Warm => "warm",
        /// 35-59: email, LinkedIn.
        Cool => "cool",
        /// 20-34: email.
        Cold => "cold",
        /// 0-19 (or unsubscribed/suppressed): nothing.
        Dead => "dead",
    }
}

/// Lowest score of the hot tier.
pub const HOT_MIN: u8 = 85;
/// Lowest score of the warm tier.
pub const WARM_MIN: u8 = 60;
/// Lowest score of the cool tier.
pub const COOL_MIN: u8 = 35;
/// Lowest score of the cold tier.
pub const COLD_MIN: u8 = 20;

impl Tier {
    /// The tier for a score (hot >= 85, warm >= 60, cool >= 35, cold >= 20, else dead).
    pub const fn from_score(score: u8) -> Tier {
        if score >= HOT_MIN {
            Tier::Hot
        } else if score >= WARM_MIN {
            Tier::Warm
        } else if score >= COOL_MIN {
            Tier::Cool
        } else if score >= COLD_MIN {
            Tier::Cold
        } else {
            Tier::Dead
        }
    }

    /// The channels this tier may receive.
    pub const fn channels(self) -> &'static [Channel] {
        match self {
            Tier::Hot => &[
                Channel::Email,
                Channel::Sms,
                Channel::Linkedin,
                Channel::Voice,
                Channel::Mail,
            ],
            Tier::Warm => &[Channel::Email, Channel::Linkedin, Channel::Voice],
            Tier::Cool => &[Channel::Email, Channel::Linkedin],
            Tier::Cold => &[Channel::Email],
            Tier::Dead => &[],
        }
    }

    /// True when this tier may receive `channel`.
    pub fn allows(self, channel: Channel) -> bool {
        self.channels().contains(&channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_on_both_sides() {
        let cases = [
            (0, Tier::Dead),
            (19, Tier::Dead),
            (20, Tier::Cold),
            (34, Tier::Cold),
            (35, Tier::Cool),
            (59, Tier::Cool),
            (60, Tier::Warm),
            (84, Tier::Warm),
            (85, Tier::Hot),
            (100, Tier::Hot),
        ];
        for (score, tier) in cases {
            assert_eq!(Tier::from_score(score), tier, "score {score}");
        }
    }

    #[test]
    fn channels_per_tier() {
        assert_eq!(Tier::Hot.channels().len(), 5);
        assert!(Tier::Warm.allows(Channel::Voice) && !Tier::Warm.allows(Channel::Sms));
        assert!(Tier::Cool.allows(Channel::Linkedin) && !Tier::Cool.allows(Channel::Voice));
        assert_eq!(Tier::Cold.channels(), &[Channel::Email]);
        assert!(Tier::Dead.channels().is_empty());
    }
}
