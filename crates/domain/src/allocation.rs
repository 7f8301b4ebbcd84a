//! A campaign's channel allocation: five percentages, each 0..=100, summing to 100; and the
//! [`planner`] that allocates scored leads to channels and resources by them.

pub mod planner;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::channel::Channel;

/// Why a set of allocation percentages is rejected; names the API field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AllocationError {
    /// One percentage is below 0 or above 100.
    #[error("{field} must be between 0 and 100, got {value}")]
    OutOfRange {
        /// The API field, e.g. `allocation_email`.
        field: &'static str,
        /// The rejected value.
        value: i64,
    },
    /// The five percentages do not add up to 100.
    #[error("channel allocations must sum to 100, got {sum}")]
    SumNot100 {
        /// Their sum.
        sum: i64,
    },
}

/// Fields named in errors, in the order email, linkedin, voice, sms, mail.
pub const ALLOCATION_FIELDS: [&str; 5] = [
    "allocation_email",
    "allocation_linkedin",
    "allocation_voice",
    "allocation_sms",
    "allocation_mail",
];

impl AllocationError {
    /// The first API field to flag (`allocation_email` for a bad sum).
    pub fn field(&self) -> &'static str {
        match self {
            AllocationError::OutOfRange { field, .. } => field,
            AllocationError::SumNot100 { .. } => ALLOCATION_FIELDS[0],
        }
    }

    /// Every API field involved (all five for a bad sum).
    pub fn fields(&self) -> Vec<&'static str> {
        match self {
            AllocationError::OutOfRange { field, .. } => vec![field],
            AllocationError::SumNot100 { .. } => ALLOCATION_FIELDS.to_vec(),
        }
    }
}

/// Unvalidated percentages, as received from the API or the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawAllocation {
    /// Email percentage.
    pub email: i64,
    /// LinkedIn percentage.
    pub linkedin: i64,
    /// Voice percentage.
    pub voice: i64,
    /// SMS percentage.
    pub sms: i64,
    /// Direct mail percentage.
    pub mail: i64,
}

/// Validated channel percentages (each 0..=100, sum 100). Default 40/30/20/5/5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawAllocation", into = "RawAllocation")]
pub struct ChannelAllocation {
    email: u8,
    linkedin: u8,
    voice: u8,
    sms: u8,
    mail: u8,
}

impl Default for ChannelAllocation {
    fn default() -> Self {
        ChannelAllocation {
            email: 40,
            linkedin: 30,
            voice: 20,
            sms: 5,
            mail: 5,
        }
    }
}

impl ChannelAllocation {
    /// Validates percentages given in the order email, linkedin, voice, sms, mail.
    pub fn new(
        email: i64,
        linkedin: i64,
        voice: i64,
        sms: i64,
        mail: i64,
    ) -> Result<Self, AllocationError> {
        RawAllocation {
            email,
            linkedin,
            voice,
            sms,
            mail,
        }
        .try_into()
    }

    /// The percentage given to `channel`.
    pub const fn percent(&self, channel: Channel) -> u8 {
        match channel {
            Channel::Email => self.email,
            Channel::Linkedin => self.linkedin,
            Channel::Voice => self.voice,
            Channel::Sms => self.sms,
            Channel::Mail => self.mail,
        }
    }

    /// Email percentage.
    pub const fn email(&self) -> u8 {
        self.email
    }

    /// LinkedIn percentage.
    pub const fn linkedin(&self) -> u8 {
        self.linkedin
    }

    /// Voice percentage.
    pub const fn voice(&self) -> u8 {
        self.voice
    }

    /// SMS percentage.
    pub const fn sms(&self) -> u8 {
        self.sms
    }

    /// Direct mail percentage.
    pub const fn mail(&self) -> u8 {
        self.mail
    }

    /// Channels with a share above zero, in `Channel::ALL` order.
    pub fn enabled_channels(&self) -> Vec<Channel> {
        Channel::ALL
            .iter()
            .copied()
            .filter(|c| self.percent(*c) > 0)
            .collect()
    }
}

impl TryFrom<RawAllocation> for ChannelAllocation {
    type Error = AllocationError;

    fn try_from(raw: RawAllocation) -> Result<Self, Self::Error> {
        let values = [raw.email, raw.linkedin, raw.voice, raw.sms, raw.mail];
        let mut checked = [0u8; 5];
        for ((slot, value), field) in checked.iter_mut().zip(values).zip(ALLOCATION_FIELDS) {
            *slot = u8::try_from(value)
                .ok()
                .filter(|v| *v <= 100)
                .ok_or(AllocationError::OutOfRange { field, value })?;
        }
        let sum: i64 = values.iter().sum();
        if sum != 100 {
            return Err(AllocationError::SumNot100 { sum });
        }
        let [email, linkedin, voice, sms, mail] = checked;
        Ok(ChannelAllocation {
            email,
            linkedin,
            voice,
            sms,
            mail,
        })
    }
}

impl From<ChannelAllocation> for RawAllocation {
    fn from(a: ChannelAllocation) -> Self {
        RawAllocation {
            email: a.email.into(),
            linkedin: a.linkedin.into(),
            voice: a.voice.into(),
            sms: a.sms.into(),
            mail: a.mail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let a = ChannelAllocation::default();
        assert_eq!(
            (a.email(), a.linkedin(), a.voice(), a.sms(), a.mail()),
            (40, 30, 20, 5, 5)
        );
        assert_eq!(ChannelAllocation::new(40, 30, 20, 5, 5), Ok(a));
    }

    #[test]
    fn errors_name_the_field() {
        let err = ChannelAllocation::new(-1, 51, 30, 10, 10).err();
        assert_eq!(
            err,
            Some(AllocationError::OutOfRange {
                field: "allocation_email",
                value: -1
            })
        );
        let err = ChannelAllocation::new(0, 0, 0, 0, 101).err();
        assert_eq!(err.map(|e| e.field()), Some("allocation_mail"));
        let err = ChannelAllocation::new(40, 30, 20, 5, 4).err();
        assert_eq!(err, Some(AllocationError::SumNot100 { sum: 99 }));
        assert_eq!(err.map(|e| e.field()), Some("allocation_email"));
        assert_eq!(err.map(|e| e.fields().len()), Some(5));
        assert!(ChannelAllocation::new(100, 0, 0, 0, 0).is_ok());
    }

    #[test]
    fn serde_validates() {
        let ok: Result<ChannelAllocation, _> =
            serde_json::from_str(r#"{"email":100,"linkedin":0,"voice":0,"sms":0,"mail":0}"#);
        assert_eq!(
            ok.ok().map(|a| a.enabled_channels()),
            Some(vec![Channel::Email])
        );
        let bad: Result<ChannelAllocation, _> =
            serde_json::from_str(r#"{"email":90,"linkedin":0,"voice":0,"sms":0,"mail":0}"#);
        assert!(bad.is_err());
    }
}
