//! Vapi tool calls, answered synchronously while the call waits (API_CONTRACT "Beyond the
//! dashboard"): `book_meeting` books the slot for the call's lead (or answers why not, with
//! free alternatives that day) and `get_availability` lists the free slots of a day in the
//! lead's timezone. Each result is a JSON string, as Vapi expects. A tool call delivered twice
//! books once (the tool call id is the meeting's source reference).

use agency_domain::calendar::{free_slots, next_weekday};
use agency_domain::hours::{DEFAULT_TIMEZONE, parse_timezone, timezone_for_phone};
use agency_domain::{ClientId, MeetingSource, Phone};
use agency_store::meetings as store;
use agency_store::{PgPool, StoreError, clients};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use super::meetings::{Booking, BookingError, book, parse_booking_fields};
use super::vapi_call::{CallContext, context};

/// Alternatives offered when a slot is taken.
pub const MAX_ALTERNATIVES: usize = 3;

/// The results for every tool call of a `tool-calls` message, in order.
pub async fn answer(pool: &PgPool, message: &Value) -> Vec<Value> {
    let calls = message
        .get("toolCallList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut results = Vec::with_capacity(calls.len());
    for call in &calls {
        let id = call.get("id").and_then(Value::as_str).unwrap_or_default();
        let name = call
            .pointer("/function/name")
            .or_else(|| call.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        let args = match call
            .pointer("/function/arguments")
            .or_else(|| call.get("arguments"))
        {
            Some(Value::String(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
            Some(v) => v.clone(),
            None => Value::Null,
        };
        let result = match run(pool, message, id, name, &args).await {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, tool = name, "vapi tool call failed");
                json!({"error": "The tool is unavailable right now."})
            }
        };
        results.push(json!({"toolCallId": id, "result": result.to_string()}));
    }
    results
}

async fn run(
    pool: &PgPool,
    message: &Value,
    tool_call_id: &str,
    name: &str,
    args: &Value,
) -> Result<Value, StoreError> {
    let mut tx = pool.begin().await?;
    let Some(call) = context(&mut tx, message).await? else {
        return Ok(json!({"error": "This call is not linked to a lead."}));
    };
    let tz = lead_timezone(&mut tx, &call).await?;
    let out = match name {
        "book_meeting" => book_meeting(&mut tx, &call, tool_call_id, args, tz).await?,
        "get_availability" => availability(&mut tx, call.client_id, args, tz).await?,
        other => json!({"error": format!("Unknown tool {other}.")}),
    };
    tx.commit().await?;
    Ok(out)
}

async fn lead_timezone(conn: &mut PgConnection, call: &CallContext) -> Result<Tz, StoreError> {
    let client_tz = clients::pipeline_settings(&mut *conn, call.client_id)
        .await
        .ok()
        .and_then(|c| parse_timezone(&c.timezone))
        .unwrap_or(DEFAULT_TIMEZONE);
    Ok(call
        .lead
        .phone
        .as_deref()
        .and_then(|p| Phone::parse(p).ok())
        .map(|p| timezone_for_phone(&p, client_tz))
        .unwrap_or(client_tz))
}

fn duration_arg(args: &Value) -> Option<i64> {
    args.get("duration_minutes").and_then(Value::as_i64)
}

async fn slots_on(
    conn: &mut PgConnection,
    client: ClientId,
    date: NaiveDate,
    minutes: i64,
    tz: Tz,
) -> Result<Vec<DateTime<Utc>>, StoreError> {
    // A window comfortably around the local day, whatever the offset.
    let from = date.and_time(chrono::NaiveTime::MIN).and_utc() - Duration::days(1);
    let busy = store::busy_between(&mut *conn, client, from, from + Duration::days(3)).await?;
    Ok(free_slots(date, tz, minutes, &busy, Utc::now()))
}

async fn availability(
    conn: &mut PgConnection,
    client: ClientId,
    args: &Value,
    tz: Tz,
) -> Result<Value, StoreError> {
    let minutes = duration_arg(args).unwrap_or(30).clamp(5, 480);
    let today = Utc::now().with_timezone(&tz).date_naive();
    let date = args
        .get("date")
        .and_then(Value::as_str)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or_else(|| next_weekday(today));
    let slots = slots_on(conn, client, date, minutes, tz).await?;
    Ok(json!({"timezone": tz.name(), "date": date, "slots": slots}))
}

async fn book_meeting(
    conn: &mut PgConnection,
    call: &CallContext,
    tool_call_id: &str,
    args: &Value,
    tz: Tz,
) -> Result<Value, StoreError> {
    if let Some(existing) = store::by_source_ref(
        &mut *conn,
        call.client_id,
        MeetingSource::Voice,
        tool_call_id,
    )
    .await?
    {
        return Ok(
            json!({"booked": true, "meeting_id": existing.id, "scheduled_at": existing.scheduled_at}),
        );
    }
    let Some(at) = args
        .get("scheduled_at")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
    else {
        return Ok(
            json!({"booked": false, "reason": "scheduled_at must be an RFC 3339 time", "alternatives": []}),
        );
    };
    let Ok((minutes, meeting_type)) = parse_booking_fields(
        duration_arg(args),
        args.get("meeting_type").and_then(Value::as_str),
    ) else {
        return Ok(
            json!({"booked": false, "reason": "invalid duration or meeting type", "alternatives": []}),
        );
    };
    let booking = Booking {
        lead_id: call.lead.id,
        scheduled_at: at,
        duration_minutes: minutes,
        meeting_type,
        source: MeetingSource::Voice,
        source_ref: Some(tool_call_id.to_owned()),
    };
    // A savepoint: an overlap undoes the booking's writes, not the caller's transaction.
    let mut savepoint = conn.begin().await?;
    match book(&mut savepoint, call.client_id, &booking, None).await {
        Ok(id) => {
            savepoint.commit().await?;
            Ok(json!({"booked": true, "meeting_id": id, "scheduled_at": at}))
        }
        Err(BookingError::Overlap) => {
            savepoint.rollback().await?;
            let date = at.with_timezone(&tz).date_naive();
            let mut alternatives = slots_on(conn, call.client_id, date, minutes.into(), tz).await?;
            alternatives.truncate(MAX_ALTERNATIVES);
            Ok(
                json!({"booked": false, "reason": "That time is taken.", "alternatives": alternatives}),
            )
        }
        Err(BookingError::LeadNotFound) => {
            Ok(json!({"booked": false, "reason": "The lead is not found.", "alternatives": []}))
        }
        Err(BookingError::Store(e)) => Err(e),
    }
}
