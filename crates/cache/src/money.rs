//! Exact money representation for counters: AUD amounts as integer micro-units in Redis,
//! rounded the same way before they reach either backend.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::CacheError;

/// Decimal places kept by money counters (micro-AUD).
pub const MONEY_SCALE: u32 = 6;

/// Rounds an amount to [`MONEY_SCALE`] places (midpoint away from zero).
pub fn round_money(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(MONEY_SCALE, RoundingStrategy::MidpointAwayFromZero)
}

/// Converts an amount to integer micro-units, exactly (after [`round_money`]).
pub fn to_micros(amount: Decimal) -> Result<i64, CacheError> {
    let mut rounded = round_money(amount);
    rounded.rescale(MONEY_SCALE);
    i64::try_from(rounded.mantissa())
        .map_err(|_| CacheError::InvalidInput(format!("amount out of range: {amount}")))
}

/// Converts integer micro-units back to an amount.
pub fn from_micros(micros: i64) -> Decimal {
    Decimal::new(micros, MONEY_SCALE).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn round_trip_is_exact() {
        for s in ["0", "0.1", "0.2", "0.000001", "-3.5", "1234567.891011"] {
            assert_eq!(from_micros(to_micros(d(s)).expect("fits")), d(s));
        }
    }

    #[test]
    fn rounds_beyond_micro_units() {
        assert_eq!(to_micros(d("0.0000005")).expect("fits"), 1);
        assert_eq!(to_micros(d("0.00000049")).expect("fits"), 0);
        assert_eq!(to_micros(d("-0.0000005")).expect("fits"), -1);
    }

    #[test]
    fn rejects_out_of_range() {
        assert!(to_micros(Decimal::MAX).is_err());
    }
}
