//! The one door through which a site's pages become an ICP profile. Today: the deterministic
//! extractor of the domain (keyword tables, page structure, JSON-LD), which needs no AI. When
//! the AI gate exists, it is called here first, with the deterministic profile as the fallback
//! when AI is off, over budget or answers badly.

use agency_domain::icp::{IcpProfile, SiteSnapshot, extract_icp};
use chrono::{DateTime, Utc};

/// Extracts the profile of `site` as of `now`.
pub async fn extract_profile(site: &SiteSnapshot, now: DateTime<Utc>) -> IcpProfile {
    extract_icp(site, now)
}
