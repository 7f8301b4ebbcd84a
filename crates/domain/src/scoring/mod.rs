//! ALS, the Agency Lead Score (SPEC 3.1): five components, weighted exactly with `Decimal`,
//! floored and clamped to 0..=100, then a tier and the channels it may receive.

mod components;
mod input;
mod title;
mod weights;

#[cfg(test)]
mod tests;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

pub use components::{
    AUTHORITY_MAX, COMPANY_FIT_MAX, Components, DATA_QUALITY_MAX, RISK_MAX, TIMING_MAX,
    company_fit, components, data_quality, is_competitor, risk, timing,
};
pub use input::{ScoringContext, ScoringInput, SeoFacts};
pub use title::{OTHER_TITLE_POINTS, authority_points, is_junk_title};
pub use weights::{
    LearnedWeights, MIN_LEARNED_CONFIDENCE, MIN_LEARNED_CONVERSIONS, WEIGHT_SUM_TOLERANCE, Weights,
    WeightsError, choose_weights,
};

use crate::channel::Channel;
use crate::tier::Tier;

/// Highest possible score.
pub const MAX_SCORE: u8 = 100;

/// A lead's score with everything stored alongside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlsScore {
    /// 0-100.
    pub score: u8,
    /// The tier (Dead for unsubscribed or suppressed leads whatever the score).
    pub tier: Tier,
    /// The five raw components.
    pub components: Components,
    /// The weights used.
    pub weights: Weights,
    /// The channels the tier may receive.
    pub channels: Vec<Channel>,
}

/// The lcm of the component maxima (20, 25, 15).
const LCM: i64 = 300;
/// `K_c = SCALE / max_c` is an integer, and `sum(w_c * raw_c * K_c) / LCM` equals
/// `sum(w_c * raw_c / max_c * 100)` with no inexact division until the last step.
const SCALE: i64 = 100 * LCM;

/// Weights are clamped to this magnitude before use (only unvalidated weights exceed it), so the
/// arithmetic cannot overflow.
const WEIGHT_LIMIT: i64 = 1_000;

/// floor(sum w_c * raw_c / max_c * 100), exact, clamped to 0..=100.
pub fn weighted_score(components: &Components, weights: &Weights) -> u8 {
    let limit = Decimal::from(WEIGHT_LIMIT);
    let term = |w: Decimal, raw: u8, max: u8| -> Decimal {
        let w = w.clamp(-limit, limit);
        w * Decimal::from(raw) * Decimal::from(SCALE / i64::from(max))
    };
    let numerator = term(
        weights.data_quality,
        components.data_quality,
        DATA_QUALITY_MAX,
    ) + term(weights.authority, components.authority, AUTHORITY_MAX)
        + term(weights.company_fit, components.company_fit, COMPANY_FIT_MAX)
        + term(weights.timing, components.timing, TIMING_MAX)
        + term(weights.risk, components.risk, RISK_MAX);
    let scale = Decimal::from(LCM);
    // The quotient may be rounded in its last digit: correct the floor against the exact numerator.
    let mut floor = (numerator / scale).floor();
    if floor * scale > numerator {
        floor -= Decimal::ONE;
    } else if (floor + Decimal::ONE) * scale <= numerator {
        floor += Decimal::ONE;
    }
    floor
        .clamp(Decimal::ZERO, Decimal::from(MAX_SCORE))
        .to_u8()
        .unwrap_or(MAX_SCORE)
}

/// Scores one lead.
pub fn score(input: &ScoringInput, ctx: &ScoringContext, weights: &Weights) -> AlsScore {
    let components = components(input, ctx);
    let score = weighted_score(&components, weights);
    let tier = if input.unsubscribed || input.suppressed {
        Tier::Dead
    } else {
        Tier::from_score(score)
    };
    AlsScore {
        score,
        tier,
        components,
        weights: *weights,
        channels: tier.channels().to_vec(),
    }
}

/// Scores many leads with the same context and weights, in input order.
pub fn score_batch(
    inputs: &[ScoringInput],
    ctx: &ScoringContext,
    weights: &Weights,
) -> Vec<AlsScore> {
    inputs
        .iter()
        .map(|input| score(input, ctx, weights))
        .collect()
}
