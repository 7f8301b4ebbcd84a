//! Money in Australian dollars (exact decimals, JSON numbers) and the decimal-as-number serde helper.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Sub};
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount in AUD; exact, serialised as a JSON number (never a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Aud(pub Decimal);

impl Aud {
    /// Zero dollars.
    pub const ZERO: Aud = Aud(Decimal::ZERO);

    /// Wraps an amount.
    pub const fn new(amount: Decimal) -> Aud {
        Aud(amount)
    }

    /// `units` dollars and `cents` cents, e.g. `from_cents(10_050)` is 100.50.
    pub fn from_cents(cents: i64) -> Aud {
        Aud(Decimal::new(cents, 2))
    }

    /// The amount.
    pub const fn amount(self) -> Decimal {
        self.0
    }

    /// Rounded to whole cents (banker's rounding, as accounting expects).
    pub fn round_cents(self) -> Aud {
        Aud(self.0.round_dp(2))
    }

    /// True when below zero.
    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }
}

impl fmt::Display for Aud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

impl FromStr for Aud {
    type Err = rust_decimal::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str(s.trim().trim_start_matches('$')).map(Aud)
    }
}

impl From<Decimal> for Aud {
    fn from(d: Decimal) -> Aud {
        Aud(d)
    }
}

impl Add for Aud {
    type Output = Aud;
    fn add(self, rhs: Aud) -> Aud {
        Aud(self.0 + rhs.0)
    }
}

impl AddAssign for Aud {
    fn add_assign(&mut self, rhs: Aud) {
        self.0 += rhs.0;
    }
}

impl Sub for Aud {
    type Output = Aud;
    fn sub(self, rhs: Aud) -> Aud {
        Aud(self.0 - rhs.0)
    }
}

impl Mul<Decimal> for Aud {
    type Output = Aud;
    fn mul(self, rhs: Decimal) -> Aud {
        Aud(self.0 * rhs)
    }
}

impl Sum for Aud {
    fn sum<I: Iterator<Item = Aud>>(iter: I) -> Aud {
        iter.fold(Aud::ZERO, |a, b| a + b)
    }
}

impl Serialize for Aud {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        decimal_number::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for Aud {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Aud, D::Error> {
        decimal_number::deserialize(d).map(Aud)
    }
}

/// Serde for `Decimal` as a JSON number: written via f64, read back through the shortest
/// decimal text of the f64 (so `0.2` reads as exactly 0.2); strings are accepted too.
pub mod decimal_number {
    use super::*;
    use serde::de::{self, Visitor};

    /// Writes the decimal as a number (an integer when it has no fraction).
    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        if value.fract().is_zero()
            && let Some(i) = value.to_i64()
        {
            return s.serialize_i64(i);
        }
        match value.to_f64() {
            Some(f) => s.serialize_f64(f),
            None => Err(serde::ser::Error::custom("decimal out of f64 range")),
        }
    }

    /// Reads a number (or numeric string) into an exact decimal.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecimalVisitor)
    }

    struct DecimalVisitor;

    impl Visitor<'_> for DecimalVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal number")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            if !v.is_finite() {
                return Err(E::custom("number is not finite"));
            }
            let text = v.to_string();
            Decimal::from_str(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .map_err(E::custom)
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            Decimal::from_str(v.trim()).map_err(E::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn serialises_as_number() {
        assert_eq!(
            serde_json::to_string(&Aud(dec!(100.00))).ok().as_deref(),
            Some("100")
        );
        assert_eq!(
            serde_json::to_string(&Aud(dec!(12.34))).ok().as_deref(),
            Some("12.34")
        );
    }

    #[test]
    fn reads_numbers_exactly() {
        let a: Option<Aud> = serde_json::from_str("0.1").ok();
        assert_eq!(a, Some(Aud(dec!(0.1))));
        let b: Option<Aud> = serde_json::from_str("100").ok();
        assert_eq!(b, Some(Aud(dec!(100))));
        let c: Option<Aud> = serde_json::from_str("\"7.25\"").ok();
        assert_eq!(c, Some(Aud(dec!(7.25))));
        assert!(serde_json::from_str::<Aud>("true").is_err());
    }

    #[test]
    fn arithmetic_and_display() {
        let total: Aud = [Aud::from_cents(10), Aud::from_cents(20)].into_iter().sum();
        assert_eq!(total, Aud(dec!(0.30)));
        assert_eq!(Aud(dec!(1.005)).round_cents().to_string(), "1.00");
        assert_eq!(Aud(dec!(5)).to_string(), "5.00");
        assert_eq!("$3.50".parse::<Aud>().ok(), Some(Aud(dec!(3.5))));
        assert!((Aud::ZERO - Aud(dec!(1))).is_negative());
    }
}
