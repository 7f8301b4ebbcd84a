//! CSV lead import into a campaign: streams the body through `csv-async`, maps common header
//! spellings, normalises and validates each row, skips duplicates (within the file and against
//! the client's live leads) and suppressed addresses, and inserts in batches of multi-row
//! `INSERT ... ON CONFLICT DO NOTHING` inside ONE transaction: all or nothing. One audit row
//! summarises the import.

use agency_domain::{CampaignId, ClientId, LeadId};
use std::collections::HashMap;

use agency_store::PgPool;
use agency_store::leads::{self as store, LeadFields};
use csv_async::{AsyncReaderBuilder, ByteRecord, Trim};
use serde::Serialize;
use sqlx::PgConnection;
use tokio::io::AsyncRead;
use uuid::Uuid;

use crate::leads::{RawLead, check_campaign, drop_suppressed, normalise};
use crate::pipeline::enqueue_new_leads;
use crate::usecase::{Actor, UseCaseError, audit};

/// Most data rows accepted in one file.
pub const MAX_ROWS: usize = 100_000;
/// Rows per multi-row insert.
pub const BATCH: usize = 1_000;

/// What happened to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    /// A lead was created.
    Created,
    /// Same email earlier in the file, or already a lead of the client.
    Duplicate,
    /// Rejected (bad email or phone, suppressed address, ...); see `reason`.
    Invalid,
}

/// The outcome of one data row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportRow {
    /// Data row number, from 1 (the header is not counted).
    pub row: u32,
    /// Outcome.
    pub status: RowStatus,
    /// Why the row was not imported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The created lead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_id: Option<Uuid>,
}

/// The answer of `POST /campaigns/{id}/leads/import`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Leads created.
    pub created: u64,
    /// Rows skipped as duplicates.
    pub duplicates: u64,
    /// Rows rejected.
    pub invalid: u64,
    /// Every row's outcome, in file order (rows of only empty fields are skipped).
    pub rows: Vec<ImportRow>,
}

/// A lead column a CSV header can map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// Email.
    Email,
    /// First name.
    FirstName,
    /// Last name.
    LastName,
    /// Phone.
    Phone,
    /// Job title.
    Title,
    /// Company.
    Company,
    /// Website or domain.
    Domain,
    /// LinkedIn URL.
    Linkedin,
    /// Industry.
    Industry,
    /// Employee count.
    Employees,
    /// Country.
    Country,
}

/// Maps a header (any case, `_`/`-` as spaces, surrounding spaces, a BOM) to a column.
pub fn column_for(header: &str) -> Option<Column> {
    let cleaned: String = header
        .trim_start_matches('\u{feff}')
        .chars()
        .map(|c| {
            if c == '_' || c == '-' || c == '.' {
                ' '
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let key = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let column = match key.as_str() {
        "email" | "e mail" | "email address" | "e mail address" | "work email" | "emailaddress" => {
            Column::Email
        }
        "first name" | "firstname" | "given name" | "first" | "forename" => Column::FirstName,
        "last name" | "lastname" | "surname" | "family name" | "last" => Column::LastName,
        "phone" | "mobile" | "phone number" | "mobile number" | "mobile phone" | "telephone"
        | "tel" | "cell" => Column::Phone,
        "title" | "job title" | "position" | "jobtitle" | "role" => Column::Title,
        "company" | "company name" | "organisation" | "organization" | "organisation name"
        | "organization name" | "account name" | "companyname" => Column::Company,
        "website" | "domain" | "company website" | "website url" | "company domain" | "url" => {
            Column::Domain
        }
        "linkedin"
        | "linkedin url"
        | "linkedin profile"
        | "linkedin profile url"
        | "person linkedin url" => Column::Linkedin,
        "industry" => Column::Industry,
        "employees" | "employee count" | "number of employees" | "company size" | "headcount" => {
            Column::Employees
        }
        "country" => Column::Country,
        _ => return None,
    };
    Some(column)
}

/// Parses an employee count: `1,200`, `250` or a range `51-200` (its lower bound).
fn employees(text: &str) -> Result<Option<i64>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let first = t
        .split(['-', '–'])
        .next()
        .unwrap_or(t)
        .trim()
        .trim_end_matches('+');
    first
        .replace([',', ' '], "")
        .parse::<i64>()
        .map(Some)
        .map_err(|_| format!("employees `{t}` is not a number"))
}

struct Pending {
    row: u32,
    id: LeadId,
    fields: LeadFields,
}

/// Row outcomes and their counts, as one side of the import sees them.
#[derive(Default)]
struct Outcomes {
    report: ImportReport,
}

impl Outcomes {
    fn push(
        &mut self,
        row: u32,
        status: RowStatus,
        reason: Option<String>,
        lead_id: Option<LeadId>,
    ) {
        match status {
            RowStatus::Created => self.report.created += 1,
            RowStatus::Duplicate => self.report.duplicates += 1,
            RowStatus::Invalid => self.report.invalid += 1,
        }
        self.report.rows.push(ImportRow {
            row,
            status,
            reason,
            lead_id: lead_id.map(LeadId::into_uuid),
        });
    }

    fn merge(mut self, other: Outcomes) -> ImportReport {
        self.report.created += other.report.created;
        self.report.duplicates += other.report.duplicates;
        self.report.invalid += other.report.invalid;
        self.report.rows.extend(other.report.rows);
        self.report.rows.sort_by_key(|r| r.row);
        self.report
    }
}

/// The reading side: validates rows and drops in-file duplicates.
struct Parser {
    campaign_id: CampaignId,
    outcomes: Outcomes,
    first_row_of: HashMap<String, u32>,
    pending: Vec<Pending>,
}

impl Parser {
    fn take_row(&mut self, row: u32, raw: &RawLead<'_>, employees_error: Option<String>) {
        let mut fields = match normalise(raw, "") {
            Ok(f) => f,
            Err(errors) => {
                // Each problem names its column (e.g. "linkedin_url: must be ...").
                let reason = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.path, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                return self
                    .outcomes
                    .push(row, RowStatus::Invalid, Some(reason), None);
            }
        };
        if let Some(reason) = employees_error {
            return self
                .outcomes
                .push(row, RowStatus::Invalid, Some(reason), None);
        }
        if let Some(first) = self.first_row_of.get(&fields.email) {
            let reason = format!(
                "{} already appears in row {first} of this file",
                fields.email
            );
            return self
                .outcomes
                .push(row, RowStatus::Duplicate, Some(reason), None);
        }
        self.first_row_of.insert(fields.email.clone(), row);
        fields.campaign_id = Some(self.campaign_id);
        self.pending.push(Pending {
            row,
            id: LeadId::new_v7(),
            fields,
        });
    }
}

/// The writing side: drops suppressed rows and inserts a batch, recording what happened.
async fn store_batch(
    conn: &mut PgConnection,
    client_id: ClientId,
    batch: Vec<Pending>,
    outcomes: &mut Outcomes,
) -> Result<(), UseCaseError> {
    let rows_by_id: HashMap<LeadId, u32> = batch.iter().map(|p| (p.id, p.row)).collect();
    let candidates = batch.into_iter().map(|p| (p.id, p.fields)).collect();
    let (keep, suppressed) = drop_suppressed(conn, candidates).await?;
    for ((id, _), reason) in suppressed {
        let row = rows_by_id.get(&id).copied().unwrap_or_default();
        outcomes.push(row, RowStatus::Invalid, Some(reason), None);
    }
    let inserted = store::insert_many(conn, client_id, &keep).await?;
    let created: std::collections::HashSet<LeadId> = inserted.iter().map(|(id, _)| *id).collect();
    // Imported leads enter the pipeline in the import's transaction: all or nothing.
    let created_ids: Vec<LeadId> = inserted.iter().map(|(id, _)| *id).collect();
    enqueue_new_leads(conn, client_id, &created_ids).await?;
    for (id, fields) in &keep {
        let row = rows_by_id.get(id).copied().unwrap_or_default();
        if created.contains(id) {
            outcomes.push(row, RowStatus::Created, None, Some(*id));
        } else {
            let reason = format!(
                "A lead with the email {} already exists in this agency.",
                fields.email
            );
            outcomes.push(row, RowStatus::Duplicate, Some(reason), None);
        }
    }
    Ok(())
}

fn read_error(err: csv_async::Error) -> UseCaseError {
    let line = err.position().map(|p| p.line());
    match err.into_kind() {
        csv_async::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::FileTooLarge => {
            UseCaseError::TooLarge(format!("the CSV body is too large: {io}"))
        }
        csv_async::ErrorKind::Io(io) => {
            UseCaseError::BadInput(format!("the CSV body could not be read: {io}"))
        }
        other => match line {
            Some(line) => UseCaseError::BadInput(format!(
                "the CSV could not be parsed at line {line}: {other:?}"
            )),
            None => UseCaseError::BadInput(format!("the CSV could not be parsed: {other:?}")),
        },
    }
}

/// Imports a CSV stream into the client's campaign; all or nothing.
pub async fn import_csv<R>(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    campaign_id: CampaignId,
    body: R,
) -> Result<ImportReport, UseCaseError>
where
    R: AsyncRead + Unpin + Send,
{
    let mut tx = pool.begin().await?;
    check_campaign(&mut tx, client_id, campaign_id, "campaign_id")
        .await
        .map_err(|e| match e {
            UseCaseError::Invalid { .. } => UseCaseError::NotFound("campaign"),
            other => other,
        })?;
    let mut reader = AsyncReaderBuilder::new()
        .flexible(true)
        .trim(Trim::All)
        .has_headers(true)
        .create_reader(body);
    let headers = reader.byte_headers().await.map_err(read_error)?.clone();
    let mut columns: HashMap<Column, usize> = HashMap::new();
    for (i, h) in headers.iter().enumerate() {
        if let Some(c) = column_for(&String::from_utf8_lossy(h)) {
            columns.entry(c).or_insert(i);
        }
    }
    if !columns.contains_key(&Column::Email) {
        return Err(UseCaseError::field(
            "body",
            "the CSV needs an email column (accepted headers: email, e-mail, email address)",
        ));
    }
    // Reading and parsing overlap with the database work: full batches go through a small
    // channel to the writer, which inserts them on the transaction while the next batch is
    // parsed (PostgreSQL works in its own process meanwhile).
    let (batches, mut incoming) = tokio::sync::mpsc::channel::<Vec<Pending>>(2);
    let mut parser = Parser {
        campaign_id,
        outcomes: Outcomes::default(),
        first_row_of: HashMap::new(),
        pending: Vec::with_capacity(BATCH),
    };
    let read = async {
        let result = async {
            let mut record = ByteRecord::new();
            let mut row: u32 = 0;
            while reader
                .read_byte_record(&mut record)
                .await
                .map_err(read_error)?
            {
                row += 1;
                if record.iter().all(|f| f.is_empty()) {
                    // A row of empty fields is skipped silently; it keeps its number so row numbers
                    // match the file's data rows.
                    continue;
                }
                if row as usize > MAX_ROWS {
                    return Err(UseCaseError::TooLarge(format!(
                        "an import takes at most {MAX_ROWS} rows; this file has more"
                    )));
                }
                let mut text: HashMap<Column, &str> = HashMap::with_capacity(columns.len());
                let mut utf8_error = false;
                for (column, index) in &columns {
                    if let Some(bytes) = record.get(*index) {
                        match std::str::from_utf8(bytes) {
                            Ok(s) => {
                                text.insert(*column, s);
                            }
                            Err(_) => utf8_error = true,
                        }
                    }
                }
                if utf8_error {
                    let reason = Some("the row is not valid UTF-8".to_owned());
                    parser.outcomes.push(row, RowStatus::Invalid, reason, None);
                    continue;
                }
                let get = |c: Column| text.get(&c).copied().filter(|s| !s.is_empty());
                let (employees, employees_error) = match get(Column::Employees).map(employees) {
                    Some(Ok(n)) => (n, None),
                    Some(Err(e)) => (None, Some(e)),
                    None => (None, None),
                };
                let raw = RawLead {
                    email: get(Column::Email).unwrap_or_default(),
                    phone: get(Column::Phone),
                    first_name: get(Column::FirstName),
                    last_name: get(Column::LastName),
                    title: get(Column::Title),
                    company: get(Column::Company),
                    linkedin_url: get(Column::Linkedin),
                    domain: get(Column::Domain),
                    industry: get(Column::Industry),
                    employees,
                    country: get(Column::Country),
                };
                parser.take_row(row, &raw, employees_error);
                if parser.pending.len() >= BATCH {
                    let batch = std::mem::replace(&mut parser.pending, Vec::with_capacity(BATCH));
                    if batches.send(batch).await.is_err() {
                        // The writer stopped on an error; it reports it.
                        return Ok(());
                    }
                }
            }
            let last = std::mem::take(&mut parser.pending);
            if !last.is_empty() {
                let _ = batches.send(last).await;
            }
            Ok(())
        }
        .await;
        // Closing the channel ends the writer's loop, on success and on a read error alike.
        drop(batches);
        result
    };
    let mut written = Outcomes::default();
    let write = async {
        let result = async {
            while let Some(batch) = incoming.recv().await {
                store_batch(&mut tx, client_id, batch, &mut written).await?;
            }
            Ok::<(), UseCaseError>(())
        }
        .await;
        // On a database error the reader's next send fails instead of waiting forever.
        incoming.close();
        result
    };
    let (read_result, write_result) = tokio::join!(read, write);
    write_result?;
    read_result?;
    let report = parser.outcomes.merge(written);
    let summary = serde_json::json!({
        "campaign_id": campaign_id,
        "rows": report.rows.len(),
        "created": report.created,
        "duplicates": report.duplicates,
        "invalid": report.invalid,
    });
    audit(
        &mut tx,
        actor,
        client_id,
        "lead.import",
        ("campaign", Some(campaign_id.into_uuid())),
        None,
        Some(summary),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_variants() {
        assert_eq!(column_for("E-mail"), Some(Column::Email));
        assert_eq!(column_for(" Email Address "), Some(Column::Email));
        assert_eq!(column_for("\u{feff}email"), Some(Column::Email));
        assert_eq!(column_for("first_name"), Some(Column::FirstName));
        assert_eq!(column_for("FirstName"), Some(Column::FirstName));
        assert_eq!(column_for("Given Name"), Some(Column::FirstName));
        assert_eq!(column_for("Surname"), Some(Column::LastName));
        assert_eq!(column_for("Mobile"), Some(Column::Phone));
        assert_eq!(column_for("Job Title"), Some(Column::Title));
        assert_eq!(column_for("Organisation"), Some(Column::Company));
        assert_eq!(column_for("Company Name"), Some(Column::Company));
        assert_eq!(column_for("Website"), Some(Column::Domain));
        assert_eq!(column_for("LinkedIn URL"), Some(Column::Linkedin));
        assert_eq!(column_for("Employee Count"), Some(Column::Employees));
        assert_eq!(column_for("favourite colour"), None);
    }

    #[test]
    fn employee_counts() {
        assert_eq!(employees("1,200"), Ok(Some(1200)));
        assert_eq!(employees("51-200"), Ok(Some(51)));
        assert_eq!(employees("10000+"), Ok(Some(10000)));
        assert_eq!(employees(""), Ok(None));
        assert!(employees("lots").is_err());
    }
}
