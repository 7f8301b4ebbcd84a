//! Channel allocation policy: a lead's channels, and its first-touch channel split by lead id.

use crate::allocation::ChannelAllocation;
use crate::channel::Channel;
use crate::ids::LeadId;
use crate::tier::Tier;

/// The tier's channels that the campaign allocates more than 0% to.
pub fn lead_channels(tier: Tier, allocation: &ChannelAllocation) -> Vec<Channel> {
    tier.channels()
        .iter()
        .copied()
        .filter(|c| allocation.percent(*c) > 0)
        .collect()
}

/// A stable 64-bit hash of the id's bytes (FNV-1a, then a SplitMix64 finaliser), the same on
/// every platform and release.
pub fn stable_hash(lead_id: LeadId) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in lead_id.as_uuid().as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The lead's bucket in 0..100 (stable).
pub fn lead_bucket(lead_id: LeadId) -> u8 {
    u8::try_from(stable_hash(lead_id) % 100).unwrap_or(0)
}

/// The first-touch channel for a lead: campaign percentages, renormalised over the `allowed`
/// channels, split deterministically by the lead id. `None` when no allowed channel has a share.
/// Never returns a channel outside `allowed`.
pub fn first_touch_channel(
    lead_id: LeadId,
    allocation: &ChannelAllocation,
    allowed: &[Channel],
) -> Option<Channel> {
    let shares: Vec<(Channel, u64)> = Channel::ALL
        .iter()
        .copied()
        .filter(|c| allowed.contains(c))
        .map(|c| (c, u64::from(allocation.percent(c))))
        .filter(|(_, p)| *p > 0)
        .collect();
    let total: u64 = shares.iter().map(|(_, p)| p).sum();
    if total == 0 {
        return None;
    }
    // Position in [0, total) from a 0..10_000 bucket (0.01% resolution), so renormalised shares
    // stay accurate; with every channel allowed it is the 0..100 bucket [`lead_bucket`].
    let position = stable_hash(lead_id) % 10_000 * total / 10_000;
    let mut cumulative = 0;
    for (channel, share) in &shares {
        cumulative += share;
        if position < cumulative {
            return Some(*channel);
        }
    }
    shares.last().map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn lead(n: u128) -> LeadId {
        LeadId::from_uuid(Uuid::from_u128(
            n.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835),
        ))
    }

    #[test]
    fn lead_channels_intersect_tier_and_allocation() {
        let a = ChannelAllocation::new(50, 50, 0, 0, 0).unwrap_or_default();
        assert_eq!(
            lead_channels(Tier::Hot, &a),
            vec![Channel::Email, Channel::Linkedin]
        );
        assert_eq!(
            lead_channels(Tier::Warm, &a),
            vec![Channel::Email, Channel::Linkedin]
        );
        assert_eq!(lead_channels(Tier::Cold, &a), vec![Channel::Email]);
        assert!(lead_channels(Tier::Dead, &a).is_empty());
        let d = ChannelAllocation::default();
        assert_eq!(lead_channels(Tier::Hot, &d).len(), 5);
        assert_eq!(
            lead_channels(Tier::Warm, &d),
            vec![Channel::Email, Channel::Linkedin, Channel::Voice]
        );
    }

    #[test]
    fn split_follows_percentages() {
        let a = ChannelAllocation::default();
        let n = 100_000;
        let mut counts = std::collections::HashMap::new();
        for i in 0..n {
            let c = first_touch_channel(lead(i), &a, Channel::ALL);
            *counts.entry(c).or_insert(0u32) += 1;
        }
        for (channel, pct) in [
            (Channel::Email, 40.0),
            (Channel::Linkedin, 30.0),
            (Channel::Voice, 20.0),
            (Channel::Sms, 5.0),
            (Channel::Mail, 5.0),
        ] {
            let got = f64::from(*counts.get(&Some(channel)).unwrap_or(&0)) * 100.0 / 100_000.0;
            assert!((got - pct).abs() < 1.0, "{channel}: {got}% vs {pct}%");
        }
    }

    #[test]
    fn split_renormalises_over_allowed_channels() {
        let a = ChannelAllocation::default();
        let allowed = Tier::Cool.channels(); // email 40, linkedin 30 -> 4/7, 3/7
        let mut email = 0u32;
        for i in 0..70_000 {
            match first_touch_channel(lead(i), &a, allowed) {
                Some(Channel::Email) => email += 1,
                Some(Channel::Linkedin) => {}
                other => panic!("forbidden channel {other:?}"),
            }
        }
        let share = f64::from(email) / 70_000.0;
        assert!((share - 4.0 / 7.0).abs() < 0.01, "{share}");
        assert_eq!(first_touch_channel(lead(1), &a, &[]), None);
        let sms_only = ChannelAllocation::new(0, 0, 0, 100, 0).unwrap_or_default();
        assert_eq!(
            first_touch_channel(lead(1), &sms_only, Tier::Warm.channels()),
            None
        );
    }

    prop_compose! {
        /// Any valid allocation: four cut points in 0..=100 split 100 into five shares.
        fn arb_allocation()(mut cuts in proptest::collection::vec(0i64..=100, 4)) -> ChannelAllocation {
            cuts.sort_unstable();
            ChannelAllocation::new(cuts[0], cuts[1] - cuts[0], cuts[2] - cuts[1], cuts[3] - cuts[2], 100 - cuts[3])
                .unwrap_or_default()
        }
    }

    proptest! {
        #[test]
        fn never_forbidden_and_deterministic(
            raw in any::<u128>(),
            tier in prop::sample::select(Tier::ALL.to_vec()),
            a in arb_allocation(),
        ) {
            let id = LeadId::from_uuid(Uuid::from_u128(raw));
            let allowed = lead_channels(tier, &a);
            let first = first_touch_channel(id, &a, &allowed);
            prop_assert_eq!(first, first_touch_channel(id, &a, &allowed));
            match first {
                Some(c) => prop_assert!(allowed.contains(&c) && tier.allows(c) && a.percent(c) > 0),
                None => prop_assert!(allowed.is_empty()),
            }
        }
    }
}
