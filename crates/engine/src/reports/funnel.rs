//! Funnel counting shared by the reports: the range query, per-stage counts of activities and
//! the per-channel performance block with its rates.

use std::collections::BTreeMap;

use agency_domain::{Channel, FunnelStage, percent};
use agency_store::reports::ChannelActionCount;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The date range of a report (local dates of the client, inclusive).
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day, `YYYY-MM-DD` (default: 29 days before `end_date`).
    pub start_date: Option<NaiveDate>,
    /// Last day, `YYYY-MM-DD` (default: today in the client's timezone).
    pub end_date: Option<NaiveDate>,
}

/// Activities per funnel stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageCounts {
    /// Touches sent.
    pub sent: i64,
    /// Delivered.
    pub delivered: i64,
    /// Opened.
    pub opened: i64,
    /// Clicked.
    pub clicked: i64,
    /// Replied.
    pub replied: i64,
    /// Bounced or failed.
    pub bounced: i64,
    /// Conversions.
    pub converted: i64,
}

impl StageCounts {
    /// Adds `count` activities of the stored `action` (uncounted actions are ignored).
    pub fn add(&mut self, action: &str, count: i64) {
        let slot = match FunnelStage::of_action(action) {
            Some(FunnelStage::Sent) => &mut self.sent,
            Some(FunnelStage::Delivered) => &mut self.delivered,
            Some(FunnelStage::Opened) => &mut self.opened,
            Some(FunnelStage::Clicked) => &mut self.clicked,
            Some(FunnelStage::Replied) => &mut self.replied,
            Some(FunnelStage::Bounced) => &mut self.bounced,
            Some(FunnelStage::Converted) => &mut self.converted,
            None => return,
        };
        *slot += count;
    }
}

/// One channel's funnel in a range; rates are percentages (0-100) of `sent`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct ChannelPerformance {
    /// Touches sent.
    pub sent: i64,
    /// Delivered.
    pub delivered: i64,
    /// Opened.
    pub opened: i64,
    /// Clicked.
    pub clicked: i64,
    /// Replies.
    pub replied: i64,
    /// Bounced or failed.
    pub bounced: i64,
    /// delivered / sent.
    pub delivery_rate: f64,
    /// opened / sent.
    pub open_rate: f64,
    /// clicked / sent.
    pub click_rate: f64,
    /// replied / sent.
    pub reply_rate: f64,
}

impl From<StageCounts> for ChannelPerformance {
    fn from(c: StageCounts) -> Self {
        Self {
            sent: c.sent,
            delivered: c.delivered,
            opened: c.opened,
            clicked: c.clicked,
            replied: c.replied,
            bounced: c.bounced,
            delivery_rate: percent(c.delivered, c.sent),
            open_rate: percent(c.opened, c.sent),
            click_rate: percent(c.clicked, c.sent),
            reply_rate: percent(c.replied, c.sent),
        }
    }
}

/// The performance block keyed by channel: every channel present, zeros when idle.
pub fn channel_performance(rows: &[ChannelActionCount]) -> BTreeMap<String, ChannelPerformance> {
    let mut by_channel: BTreeMap<String, StageCounts> = Channel::ALL
        .iter()
        .map(|c| (c.as_str().to_owned(), StageCounts::default()))
        .collect();
    for row in rows {
        by_channel
            .entry(row.channel.clone())
            .or_default()
            .add(&row.action, row.count);
    }
    by_channel
        .into_iter()
        .map(|(k, v)| (k, ChannelPerformance::from(v)))
        .collect()
}
