//! AI spend rules: the purposes an AI call serves, per-model token prices, the AUD cost of a
//! call's usage, and the token estimate a reservation is made from. Pure arithmetic on exact
//! decimals; the gate that applies them lives in the engine.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::enum_macro::text_enum;

text_enum! {
    /// What an AI call is for: each purpose has its own model, output cap and fallback.
    pub enum AiPurpose {
        /// Classify an inbound reply's intent (fallback: the keyword classifier).
        ClassifyReply => "classify_reply",
        /// Write an outreach message (fallback: the deterministic templates).
        WriteMessage => "write_message",
        /// Extract an ideal customer profile from a website (fallback: the rule extractor).
        ExtractIcp => "extract_icp",
    }
}

text_enum! {
    /// The state of an `ai_usage` ledger row (the table's CHECK constraint lists the same).
    pub enum AiUsageStatus {
        /// The estimate is held in the counters; the call is in flight.
        Reserved => "reserved",
        /// The call answered: the billed usage is recorded.
        Settled => "settled",
        /// The call failed before any usage: the estimate was given back.
        Released => "released",
        /// Nobody settled it in time: the estimate was given back.
        Expired => "expired",
    }
}

/// A model's list price in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelPrice {
    /// USD per million input tokens.
    pub input_usd_per_mtok: Decimal,
    /// USD per million output tokens.
    pub output_usd_per_mtok: Decimal,
}

/// Decimal places kept for AI costs (micro-AUD, as the money counters store them).
pub const COST_SCALE: u32 = 6;

const MILLION: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

impl ModelPrice {
    /// The AUD cost of `input` and `output` tokens at `usd_to_aud`, rounded up to micro-AUD
    /// (so the counters never under-count a call).
    pub fn cost_aud(&self, input: u64, output: u64, usd_to_aud: Decimal) -> Decimal {
        let usd = (Decimal::from(input) * self.input_usd_per_mtok
            + Decimal::from(output) * self.output_usd_per_mtok)
            / MILLION;
        (usd * usd_to_aud).round_dp_with_strategy(COST_SCALE, RoundingStrategy::AwayFromZero)
    }
}

/// A price table: `(model id or prefix, price)`. A model matches its exact entry, else the
/// longest entry that prefixes it (`claude-sonnet-4-5` prices `claude-sonnet-4-5-20250929`).
pub fn price_for<'a>(table: &'a [(String, ModelPrice)], model: &str) -> Option<&'a ModelPrice> {
    table
        .iter()
        .filter(|(id, _)| model == id || model.starts_with(id.as_str()))
        .max_by_key(|(id, _)| id.len())
        .map(|(_, price)| price)
}

/// A conservative token count for text: one token per three characters, rounded up (Claude
/// averages about four characters a token in English, so this over-estimates).
pub fn estimate_tokens(text: &str) -> u64 {
    let chars = u64::try_from(text.chars().count()).unwrap_or(u64::MAX);
    chars.div_ceil(3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn sonnet() -> ModelPrice {
        ModelPrice {
            input_usd_per_mtok: dec!(3),
            output_usd_per_mtok: dec!(15),
        }
    }

    #[test]
    fn cost_is_exact_and_rounded_up() {
        // 2095 in, 503 out at 3/15 USD per MTok = 0.006285 + 0.007545 = 0.01383 USD.
        assert_eq!(sonnet().cost_aud(2095, 503, dec!(1)), dec!(0.01383));
        // x 1.55 = 0.0214365 AUD exactly.
        assert_eq!(sonnet().cost_aud(2095, 503, dec!(1.55)), dec!(0.021437));
        // One input token: 0.000003 USD * 1.5 = 0.0000045 -> rounds up to 0.000005.
        assert_eq!(sonnet().cost_aud(1, 0, dec!(1.5)), dec!(0.000005));
        assert_eq!(sonnet().cost_aud(0, 0, dec!(1.5)), dec!(0));
    }

    #[test]
    fn longest_prefix_wins() {
        let table = vec![
            ("claude-sonnet-4".to_owned(), sonnet()),
            (
                "claude-sonnet-4-5".to_owned(),
                ModelPrice {
                    input_usd_per_mtok: dec!(4),
                    output_usd_per_mtok: dec!(16),
                },
            ),
        ];
        let p = price_for(&table, "claude-sonnet-4-5-20250929").expect("priced");
        assert_eq!(p.input_usd_per_mtok, dec!(4));
        let p = price_for(&table, "claude-sonnet-4-20250514").expect("priced");
        assert_eq!(p.input_usd_per_mtok, dec!(3));
        assert!(price_for(&table, "gpt-4o").is_none());
    }

    #[test]
    fn estimate_over_counts() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcd"), 2);
        assert_eq!(estimate_tokens(&"x".repeat(300)), 100);
    }

    #[test]
    fn purposes_round_trip() {
        for p in AiPurpose::ALL {
            assert_eq!(p.as_str().parse::<AiPurpose>().ok(), Some(*p));
        }
    }
}
