//! Onboarding: a new agency types its website and gets its ideal customer profile. The
//! use-cases ([`usecases`]: start an analysis for the caller's client, re-analyse a client,
//! read an analysis's progress and result, confirm the profile onto the client), the
//! `analyze_website` job that reads the site and records the eight steps ([`job`]), and the one
//! extraction door ([`extract`]): Claude through the AI gate, validated, with the
//! deterministic extractor as its fallback.

pub mod extract;
pub mod job;
pub mod usecases;

pub use extract::extract_profile;
pub use job::{analyze_website, register};
pub use usecases::{
    AlsWeightsAdjustment, AnalysisResult, IcpAdjustments, confirm, reanalyze, result,
    start_onboarding, status,
};
