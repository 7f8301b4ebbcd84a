//! ALS component weights: the defaults, validation, and when a client's learned weights apply.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::decimal_number;

/// How far from 1 the weights' sum may be.
pub const WEIGHT_SUM_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);
/// Learned weights apply only above this confidence (exclusive).
pub const MIN_LEARNED_CONFIDENCE: Decimal = Decimal::from_parts(7, 0, 0, false, 1);
/// Learned weights apply only from this many conversions (inclusive).
pub const MIN_LEARNED_CONVERSIONS: u32 = 50;

/// Why a set of weights is rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WeightsError {
    /// A weight is below 0 or above 1.
    #[error("weight {component} must be between 0 and 1, got {value}")]
    OutOfRange {
        /// The component's name, e.g. `authority`.
        component: &'static str,
        /// The rejected weight.
        value: Decimal,
    },
    /// The weights do not sum to 1 (within the tolerance).
    #[error("weights must sum to 1, got {sum}")]
    BadSum {
        /// Their sum.
        sum: Decimal,
    },
}

/// One weight per component; stored with the lead as the weights used (JSON numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Weights {
    /// Weight of data_quality.
    #[serde(with = "decimal_number")]
    pub data_quality: Decimal,
    /// Weight of authority.
    #[serde(with = "decimal_number")]
    pub authority: Decimal,
    /// Weight of company_fit.
    #[serde(with = "decimal_number")]
    pub company_fit: Decimal,
    /// Weight of timing.
    #[serde(with = "decimal_number")]
    pub timing: Decimal,
    /// Weight of risk.
    #[serde(with = "decimal_number")]
    pub risk: Decimal,
}

impl Default for Weights {
    /// max_c / 100: 0.20, 0.25, 0.25, 0.15, 0.15 (the score is then the plain sum).
    fn default() -> Self {
        Weights {
            data_quality: Decimal::new(20, 2),
            authority: Decimal::new(25, 2),
            company_fit: Decimal::new(25, 2),
            timing: Decimal::new(15, 2),
            risk: Decimal::new(15, 2),
        }
    }
}

impl Weights {
    /// The weights with their component names.
    pub fn named(&self) -> [(&'static str, Decimal); 5] {
        [
            ("data_quality", self.data_quality),
            ("authority", self.authority),
            ("company_fit", self.company_fit),
            ("timing", self.timing),
            ("risk", self.risk),
        ]
    }

    /// The sum of the five weights.
    pub fn sum(&self) -> Decimal {
        self.named().iter().map(|(_, w)| *w).sum()
    }

    /// Weights proportional to `values` (data_quality, authority, company_fit, timing, risk),
    /// rounded to two decimals and summing to exactly 1 (the rounding residual goes to the
    /// largest). `None` when a value is negative or not finite, or all are zero.
    pub fn normalised(values: [Decimal; 5]) -> Option<Weights> {
        if values.iter().any(|v| v.is_sign_negative() && !v.is_zero()) {
            return None;
        }
        let total: Decimal = values.iter().sum();
        if total.is_zero() {
            return None;
        }
        let mut scaled: Vec<Decimal> = values.iter().map(|x| (*x / total).round_dp(2)).collect();
        let residual = Decimal::ONE - scaled.iter().sum::<Decimal>();
        let largest = (0..scaled.len())
            .max_by(|a, b| scaled[*a].cmp(&scaled[*b]).then(b.cmp(a)))
            .unwrap_or(0);
        scaled[largest] += residual;
        Some(Weights {
            data_quality: scaled[0].normalize(),
            authority: scaled[1].normalize(),
            company_fit: scaled[2].normalize(),
            timing: scaled[3].normalize(),
            risk: scaled[4].normalize(),
        })
    }

    /// Each weight in 0..=1 and the sum within 1 +- [`WEIGHT_SUM_TOLERANCE`].
    pub fn validate(&self) -> Result<(), WeightsError> {
        for (component, value) in self.named() {
            if value < Decimal::ZERO || value > Decimal::ONE {
                return Err(WeightsError::OutOfRange { component, value });
            }
        }
        let sum = self.sum();
        if (sum - Decimal::ONE).abs() > WEIGHT_SUM_TOLERANCE {
            return Err(WeightsError::BadSum { sum });
        }
        Ok(())
    }
}

/// A client's learned weights with the evidence behind them (`clients.als_weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedWeights {
    /// The learned weights.
    pub weights: Weights,
    /// Confidence of the learning, 0-1.
    #[serde(with = "decimal_number")]
    pub confidence: Decimal,
    /// Conversions the weights were learned from.
    pub conversions: u32,
}

impl LearnedWeights {
    /// True when confidence > 0.7, conversions >= 50 and the weights are valid.
    pub fn is_usable(&self) -> bool {
        self.confidence > MIN_LEARNED_CONFIDENCE
            && self.conversions >= MIN_LEARNED_CONVERSIONS
            && self.weights.validate().is_ok()
    }
}

/// The weights to score with: the learned ones when usable, else the defaults.
pub fn choose_weights(learned: Option<&LearnedWeights>) -> Weights {
    match learned {
        Some(l) if l.is_usable() => l.weights,
        _ => Weights::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn learned(confidence: Decimal, conversions: u32) -> LearnedWeights {
        LearnedWeights {
            weights: Weights {
                data_quality: dec!(0.1),
                authority: dec!(0.4),
                company_fit: dec!(0.2),
                timing: dec!(0.2),
                risk: dec!(0.1),
            },
            confidence,
            conversions,
        }
    }

    #[test]
    fn defaults_are_valid_and_sum_to_one() {
        assert_eq!(Weights::default().validate(), Ok(()));
        assert_eq!(Weights::default().sum(), Decimal::ONE);
    }

    #[test]
    fn validation() {
        let w = Weights {
            risk: dec!(-0.05),
            ..Weights::default()
        };
        assert!(matches!(
            w.validate(),
            Err(WeightsError::OutOfRange {
                component: "risk",
                ..
            })
        ));
        let mut w = Weights {
            risk: dec!(0.17),
            ..Weights::default()
        };
        assert_eq!(w.validate(), Err(WeightsError::BadSum { sum: dec!(1.02) }));
        w.risk = dec!(0.159);
        assert_eq!(w.validate(), Ok(()));
    }

    #[test]
    fn learned_weights_only_when_confident_and_proven() {
        let cases = [
            (dec!(0.71), 50, true),
            (dec!(0.70), 50, false),
            (dec!(0.71), 49, false),
            (dec!(0.95), 500, true),
        ];
        for (confidence, conversions, used) in cases {
            let l = learned(confidence, conversions);
            let chosen = choose_weights(Some(&l));
            assert_eq!(chosen == l.weights, used, "{confidence} {conversions}");
        }
        assert_eq!(choose_weights(None), Weights::default());
        let mut bad = learned(dec!(0.9), 100);
        bad.weights.authority = dec!(0.9);
        assert_eq!(choose_weights(Some(&bad)), Weights::default());
    }

    #[test]
    fn normalised_weights_sum_to_exactly_one() {
        let w = Weights::normalised([dec!(1), dec!(1), dec!(1), dec!(0), dec!(0)]);
        assert_eq!(
            w,
            Some(Weights {
                data_quality: dec!(0.34),
                authority: dec!(0.33),
                company_fit: dec!(0.33),
                timing: dec!(0),
                risk: dec!(0),
            })
        );
        let w = Weights::normalised([dec!(20), dec!(25), dec!(25), dec!(15), dec!(15)]);
        assert_eq!(w, Some(Weights::default()));
        for values in [
            [dec!(0.4), dec!(0.7), dec!(0.3), dec!(0.2), dec!(0.1)],
            [dec!(3), dec!(1), dec!(1), dec!(1), dec!(1)],
        ] {
            let w = Weights::normalised(values).expect("weights");
            assert_eq!(w.sum(), Decimal::ONE);
            assert_eq!(w.validate(), Ok(()));
        }
        assert_eq!(Weights::normalised([Decimal::ZERO; 5]), None);
        assert_eq!(
            Weights::normalised([dec!(-0.1), dec!(0.5), dec!(0.3), dec!(0.2), dec!(0.1)]),
            None
        );
    }

    #[test]
    fn serde_as_numbers_round_trips_exactly() {
        let json = serde_json::to_string(&Weights::default()).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"data_quality":0.2,"authority":0.25,"company_fit":0.25,"timing":0.15,"risk":0.15}"#
        );
        let back: Option<Weights> = serde_json::from_str(&json).ok();
        assert_eq!(back, Some(Weights::default()));
        let l: Option<LearnedWeights> = serde_json::from_str(
            r#"{"weights":{"data_quality":0.1,"authority":0.4,"company_fit":0.2,"timing":0.2,"risk":0.1},"confidence":0.8,"conversions":60}"#,
        )
        .ok();
        assert_eq!(l.map(|l| l.is_usable()), Some(true));
    }
}
