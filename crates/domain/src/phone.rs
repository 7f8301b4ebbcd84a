//! Phone numbers normalised to E.164 with `phonenumber`; national numbers default to Australia.

use std::fmt;
use std::str::FromStr;

use phonenumber::Mode;
use phonenumber::country::Id as CountryId;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Region assumed for numbers written without a country code.
pub const DEFAULT_REGION: &str = "AU";

/// Why a text is not a usable phone number.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    /// Nothing but whitespace.
    #[error("phone is empty")]
    Empty,
    /// The region code is not an ISO 3166 alpha-2 code known to the metadata.
    #[error("unknown phone region `{0}`")]
    UnknownRegion(String),
    /// Not a phone number at all.
    #[error("`{0}` is not a phone number")]
    Unparseable(String),
    /// Parses, but is not a valid number for its country.
    #[error("`{0}` is not a valid phone number")]
    Invalid(String),
}

/// A valid phone number in E.164 form (`+61412345678`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Parses `input`, reading national numbers as Australian.
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        Phone::parse_with_region(input, DEFAULT_REGION)
    }

    /// Parses `input`, reading national numbers as belonging to `region` (e.g. `NZ`).
    pub fn parse_with_region(input: &str, region: &str) -> Result<Phone, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let id = CountryId::from_str(&region.trim().to_ascii_uppercase())
            .map_err(|_| PhoneError::UnknownRegion(region.to_owned()))?;
        let number = phonenumber::parse(Some(id), trimmed)
            .map_err(|_| PhoneError::Unparseable(trimmed.to_owned()))?;
        if !number.is_valid() {
            return Err(PhoneError::Invalid(trimmed.to_owned()));
        }
        Ok(Phone(number.format().mode(Mode::E164).to_string()))
    }

    /// The E.164 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for an Australian (+61) number.
    pub fn is_australian(&self) -> bool {
        self.0.starts_with("+61")
    }

    /// For an Australian number, its national significant digits (`412345678`).
    pub fn au_national_digits(&self) -> Option<&str> {
        self.0.strip_prefix("+61")
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Phone {
    type Err = PhoneError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phone::parse(s)
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Phone::parse(&value)
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> String {
        phone.0
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(input: &str) -> Option<String> {
        Phone::parse(input).ok().map(String::from)
    }

    #[test]
    fn australian_numbers_to_e164() {
        assert_eq!(e164("0412 345 678").as_deref(), Some("+61412345678"));
        assert_eq!(e164("(02) 9374 4000").as_deref(), Some("+61293744000"));
        assert_eq!(e164("+61 3 9123 4567").as_deref(), Some("+61391234567"));
        assert_eq!(e164("61 7 3123 4567").as_deref(), Some("+61731234567"));
        assert_eq!(e164("  +61412345678 ").as_deref(), Some("+61412345678"));
    }

    #[test]
    fn other_regions() {
        assert_eq!(e164("+1 415 555 2671").as_deref(), Some("+14155552671"));
        let nz = Phone::parse_with_region("021 234 5678", "nz")
            .ok()
            .map(String::from);
        assert_eq!(nz.as_deref(), Some("+64212345678"));
        assert!(matches!(
            Phone::parse_with_region("1", "XX"),
            Err(PhoneError::UnknownRegion(_))
        ));
    }

    #[test]
    fn rejects() {
        assert_eq!(Phone::parse(" "), Err(PhoneError::Empty));
        assert!(Phone::parse("hello").is_err());
        assert!(Phone::parse("0412").is_err());
    }

    #[test]
    fn australian_digits() {
        let p = Phone::parse("0412 345 678").ok();
        assert_eq!(
            p.as_ref().and_then(Phone::au_national_digits),
            Some("412345678")
        );
        assert_eq!(p.map(|p| p.is_australian()), Some(true));
    }
}
