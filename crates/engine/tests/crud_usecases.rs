//! Campaign, lead and import use-cases against a real PostgreSQL (a fresh database per test).

use agency_domain::CampaignStatus;
use agency_domain::ClientId;
use agency_domain::{CampaignId, LeadId};
use agency_engine::campaigns::{
    self, CampaignCreate, CampaignUpdate, SequenceInput, SequenceStepInput,
};
use agency_engine::import::{self, RowStatus};
use agency_engine::leads::{self, LeadBulkCreate, LeadCreate, LeadQuery, LeadUpdate};
use agency_engine::usecase::{Actor, UseCaseError};
use agency_store::PgPool;
use uuid::Uuid;

async fn client(pool: &PgPool, name: &str) -> ClientId {
    sqlx::query_scalar("INSERT INTO clients (name) VALUES ($1) RETURNING id")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("client")
}

fn actor() -> Actor {
    Actor {
        user_id: None,
        request_id: Some("test".into()),
    }
}

async fn campaign(pool: &PgPool, client_id: ClientId) -> CampaignId {
    let input = CampaignCreate {
        name: "Spring".into(),
        ..Default::default()
    };
    campaigns::create(
        pool,
        &actor(),
        ClientId::from_uuid(client_id.into_uuid()),
        &input,
    )
    .await
    .expect("campaign")
    .id
    .into()
}

fn lead(email: &str, campaign_id: CampaignId) -> LeadCreate {
    LeadCreate {
        email: email.into(),
        campaign_id: campaign_id.into_uuid(),
        ..Default::default()
    }
}

async fn audit_count(pool: &PgPool, client_id: ClientId, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE client_id = $1 AND action = $2")
        .bind(client_id)
        .bind(action)
        .fetch_one(pool)
        .await
        .expect("audit count")
}

fn field_paths(err: &UseCaseError) -> Vec<String> {
    match err {
        UseCaseError::Invalid { fields, .. } => fields.iter().map(|f| f.path.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn campaign_create_defaults_validation_and_audit(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let input = CampaignCreate {
        name: "  Launch ".into(),
        ..Default::default()
    };
    let created = campaigns::create(&pool, &actor(), c, &input)
        .await
        .expect("create");
    assert_eq!(created.name, "Launch");
    assert_eq!(created.status, "draft");
    assert_eq!(created.permission_mode, "co_pilot");
    let alloc = (
        created.allocation_email,
        created.allocation_linkedin,
        created.allocation_voice,
        created.allocation_sms,
        created.allocation_mail,
    );
    assert_eq!(alloc, (40, 30, 20, 5, 5));
    assert_eq!(
        (created.daily_limit, created.total_leads, created.reply_rate),
        (50, 0, 0.0)
    );
    assert_eq!(audit_count(&pool, c, "campaign.create").await, 1);

    let bad = CampaignCreate {
        name: "X".into(),
        allocation_email: Some(50),
        ..Default::default()
    };
    let err = campaigns::create(&pool, &actor(), c, &bad)
        .await
        .expect_err("sum 110");
    let paths = field_paths(&err);
    assert_eq!(paths.len(), 5, "{paths:?}");
    assert!(
        paths.contains(&"allocation_email".to_owned())
            && paths.contains(&"allocation_mail".to_owned())
    );

    let bad = CampaignCreate {
        name: " ".into(),
        allocation_sms: Some(-5),
        ..Default::default()
    };
    let paths = field_paths(
        &campaigns::create(&pool, &actor(), c, &bad)
            .await
            .expect_err("blank"),
    );
    assert!(
        paths.contains(&"name".to_owned()) && paths.contains(&"allocation_sms".to_owned()),
        "{paths:?}"
    );

    let dates = CampaignCreate {
        name: "D".into(),
        start_date: chrono::NaiveDate::from_ymd_opt(2026, 5, 2),
        end_date: chrono::NaiveDate::from_ymd_opt(2026, 5, 1),
        ..Default::default()
    };
    let paths = field_paths(
        &campaigns::create(&pool, &actor(), c, &dates)
            .await
            .expect_err("dates"),
    );
    assert_eq!(paths, vec!["end_date".to_owned()]);
    let (_, total) = campaigns::list(&pool, c, None, None, 20, 0)
        .await
        .expect("list");
    assert_eq!(total, 1, "rejected campaigns were not stored");
}

#[sqlx::test(migrations = "../../migrations")]
async fn campaign_transitions_read_only_and_delete(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    use CampaignStatus::*;
    let illegal = campaigns::change_status(&pool, &actor(), c, id, Paused)
        .await
        .expect_err("draft->paused");
    assert!(matches!(
        illegal,
        UseCaseError::Conflict {
            code: "illegal_transition",
            ..
        }
    ));
    for to in [Active, Paused, Active, Paused, Completed] {
        let got = campaigns::change_status(&pool, &actor(), c, id, to)
            .await
            .expect("legal");
        assert_eq!(got.status, to.as_str());
    }
    for to in CampaignStatus::ALL {
        assert!(
            campaigns::change_status(&pool, &actor(), c, id, *to)
                .await
                .is_err()
        );
    }
    let edit = CampaignUpdate {
        name: Some("New".into()),
        ..Default::default()
    };
    let err = campaigns::update(&pool, &actor(), c, id, &edit)
        .await
        .expect_err("read only");
    assert!(matches!(
        err,
        UseCaseError::Conflict {
            code: "campaign_read_only",
            ..
        }
    ));
    let seq = SequenceInput::List(vec![]);
    assert!(
        campaigns::replace_sequence(&pool, &actor(), c, id, &seq)
            .await
            .is_err()
    );
    assert_eq!(audit_count(&pool, c, "campaign.status").await, 5);

    let other = client(&pool, "Other").await;
    assert!(matches!(
        campaigns::delete(&pool, &actor(), other, id).await,
        Err(UseCaseError::NotFound(_))
    ));
    campaigns::delete(&pool, &actor(), c, id)
        .await
        .expect("delete");
    assert!(matches!(
        campaigns::get(&pool, c, id).await,
        Err(UseCaseError::NotFound(_))
    ));
    let (_, total) = campaigns::list(&pool, c, None, None, 20, 0)
        .await
        .expect("list");
    assert_eq!(total, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn campaign_partial_update_merges_allocations(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    let half = CampaignUpdate {
        allocation_email: Some(45),
        ..Default::default()
    };
    let paths = field_paths(
        &campaigns::update(&pool, &actor(), c, id, &half)
            .await
            .expect_err("sum 105"),
    );
    assert_eq!(paths.len(), 5);
    let both = CampaignUpdate {
        allocation_email: Some(45),
        allocation_linkedin: Some(25),
        description: Some(Some("desc".into())),
        target_titles: Some(vec![" CEO ".into(), "".into()]),
        ..Default::default()
    };
    let got = campaigns::update(&pool, &actor(), c, id, &both)
        .await
        .expect("update");
    assert_eq!(
        (
            got.allocation_email,
            got.allocation_linkedin,
            got.allocation_voice
        ),
        (45, 25, 20)
    );
    assert_eq!(got.description.as_deref(), Some("desc"));
    assert_eq!(got.target_titles, vec!["CEO".to_owned()]);
    assert_eq!(got.name, "Spring", "untouched fields keep their value");
    let clear = CampaignUpdate {
        description: Some(None),
        ..Default::default()
    };
    let got = campaigns::update(&pool, &actor(), c, id, &clear)
        .await
        .expect("clear");
    assert_eq!(got.description, None);
}

#[sqlx::test(migrations = "../../migrations")]
async fn campaign_counters_and_sequence(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(
            leads::create(&pool, &actor(), c, &lead(&format!("p{i}@acme.com.au"), id))
                .await
                .expect("lead")
                .id,
        );
    }
    for (lead_id, action) in [
        (ids[0], "sent"),
        (ids[1], "sent"),
        (ids[1], "replied"),
        (ids[2], "sent"),
    ] {
        sqlx::query("INSERT INTO activities (client_id, campaign_id, lead_id, channel, action) VALUES ($1, $2, $3, 'email', $4)")
            .bind(c)
            .bind(id)
            .bind(lead_id)
            .bind(action)
            .execute(&pool)
            .await
            .expect("activity");
    }
    let upd = LeadUpdate {
        status: Some("converted".into()),
        ..Default::default()
    };
    leads::update(&pool, &actor(), c, LeadId::from_uuid(ids[1]), &upd)
        .await
        .expect("convert");
    let got = campaigns::get(&pool, c, id).await.expect("get");
    assert_eq!(
        (
            got.total_leads,
            got.leads_contacted,
            got.leads_replied,
            got.leads_converted
        ),
        (4, 3, 1, 1)
    );
    assert_eq!(got.reply_rate, 33.33);
    assert_eq!(got.conversion_rate, 33.33);
    let listed = campaigns::list(&pool, c, Some("draft"), Some("spr"), 20, 0)
        .await
        .expect("list")
        .0;
    assert_eq!(listed, vec![got]);
    assert!(
        campaigns::list(&pool, c, Some("bogus"), None, 20, 0)
            .await
            .is_err()
    );

    let steps = SequenceInput::List(vec![
        SequenceStepInput {
            step_number: Some(2),
            channel: "linkedin".into(),
            delay_days: Some(3),
            subject_template: None,
            body_template: Some("Hi".into()),
            skip_if_replied: None,
            skip_if_bounced: Some(false),
        },
        SequenceStepInput {
            step_number: Some(1),
            channel: "email".into(),
            delay_days: None,
            subject_template: Some("Hello".into()),
            body_template: Some("Body".into()),
            skip_if_replied: None,
            skip_if_bounced: None,
        },
    ]);
    let saved = campaigns::replace_sequence(&pool, &actor(), c, id, &steps)
        .await
        .expect("sequence");
    assert_eq!(
        saved
            .iter()
            .map(|s| (s.step_number, s.channel.as_str()))
            .collect::<Vec<_>>(),
        [(1, "email"), (2, "linkedin")]
    );
    assert_eq!(
        campaigns::sequence(&pool, c, id).await.expect("read"),
        saved
    );
    let bad = SequenceInput::List(vec![SequenceStepInput {
        step_number: None,
        channel: "fax".into(),
        delay_days: Some(-1),
        subject_template: None,
        body_template: None,
        skip_if_replied: None,
        skip_if_bounced: None,
    }]);
    let paths = field_paths(
        &campaigns::replace_sequence(&pool, &actor(), c, id, &bad)
            .await
            .expect_err("bad"),
    );
    assert_eq!(
        paths,
        vec!["[0].channel".to_owned(), "[0].delay_days".to_owned()]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn lead_create_normalises_and_refuses_duplicates_and_suppressed(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    let input = LeadCreate {
        phone: Some("0412 345 678".into()),
        domain: Some("https://www.Acme.com.au/about".into()),
        first_name: Some("  Jane ".into()),
        ..lead("  Jane.Doe@ACME.com.au ", id)
    };
    let created = leads::create(&pool, &actor(), c, &input)
        .await
        .expect("create");
    assert_eq!(created.email, "jane.doe@acme.com.au");
    assert_eq!(created.phone.as_deref(), Some("+61412345678"));
    assert_eq!(created.domain.as_deref(), Some("acme.com.au"));
    assert_eq!(created.first_name.as_deref(), Some("Jane"));
    assert_eq!(created.status, "new");
    assert_eq!(
        (created.als_score, created.als_tier.as_deref()),
        (None, None)
    );

    let dup = leads::create(&pool, &actor(), c, &lead("JANE.DOE@acme.com.au", id))
        .await
        .expect_err("dup");
    assert!(matches!(
        dup,
        UseCaseError::Conflict {
            code: "duplicate_email",
            ..
        }
    ));

    let other = client(&pool, "Other").await;
    let other_campaign = campaign(&pool, other).await;
    let paths = field_paths(
        &leads::create(&pool, &actor(), c, &lead("x@acme.com.au", other_campaign))
            .await
            .expect_err("foreign"),
    );
    assert_eq!(paths, vec!["campaign_id".to_owned()]);
    // The same address in another tenant is fine.
    leads::create(
        &pool,
        &actor(),
        other,
        &lead("jane.doe@acme.com.au", other_campaign),
    )
    .await
    .expect("other tenant");

    sqlx::query(
        "INSERT INTO global_suppression (email, reason) VALUES ('gone@acme.com.au', 'unsubscribe')",
    )
    .execute(&pool)
    .await
    .expect("suppress");
    sqlx::query("INSERT INTO global_suppression (phone, reason) VALUES ('+61412000111', 'dncr')")
        .execute(&pool)
        .await
        .expect("suppress phone");
    let err = leads::create(&pool, &actor(), c, &lead("Gone@acme.com.au", id))
        .await
        .expect_err("suppressed");
    assert!(err.to_string().contains("suppression"), "{err}");
    let by_phone = LeadCreate {
        phone: Some("0412 000 111".into()),
        ..lead("ok@acme.com.au", id)
    };
    let paths = field_paths(
        &leads::create(&pool, &actor(), c, &by_phone)
            .await
            .expect_err("phone"),
    );
    assert_eq!(paths, vec!["phone".to_owned()]);

    let invalid = LeadCreate {
        phone: Some("12".into()),
        ..lead("not-an-email", id)
    };
    let paths = field_paths(
        &leads::create(&pool, &actor(), c, &invalid)
            .await
            .expect_err("invalid"),
    );
    assert_eq!(paths, vec!["email".to_owned(), "phone".to_owned()]);
    assert_eq!(audit_count(&pool, c, "lead.create").await, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn lead_update_delete_and_tenant_isolation(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    let a = leads::create(&pool, &actor(), c, &lead("a@acme.com.au", id))
        .await
        .expect("a");
    let a_id = LeadId::from_uuid(a.id);
    leads::create(&pool, &actor(), c, &lead("b@acme.com.au", id))
        .await
        .expect("b");
    let other = client(&pool, "Other").await;
    assert!(matches!(
        leads::get(&pool, other, a_id).await,
        Err(UseCaseError::NotFound("lead"))
    ));
    let upd = LeadUpdate {
        title: Some(Some("CEO".into())),
        ..Default::default()
    };
    assert!(matches!(
        leads::update(&pool, &actor(), other, a_id, &upd).await,
        Err(UseCaseError::NotFound(_))
    ));
    assert!(matches!(
        leads::delete(&pool, &actor(), other, a_id).await,
        Err(UseCaseError::NotFound(_))
    ));

    let got = leads::update(&pool, &actor(), c, a_id, &upd)
        .await
        .expect("update");
    assert_eq!(got.title.as_deref(), Some("CEO"));
    let clash = LeadUpdate {
        email: Some("B@Acme.com.au".into()),
        ..Default::default()
    };
    assert!(matches!(
        leads::update(&pool, &actor(), c, a_id, &clash).await,
        Err(UseCaseError::Conflict {
            code: "duplicate_email",
            ..
        })
    ));
    let bad = LeadUpdate {
        status: Some("zombie".into()),
        ..Default::default()
    };
    assert_eq!(
        field_paths(
            &leads::update(&pool, &actor(), c, a_id, &bad)
                .await
                .expect_err("status")
        ),
        ["status"]
    );

    leads::delete(&pool, &actor(), c, a_id)
        .await
        .expect("delete");
    assert!(matches!(
        leads::get(&pool, c, a_id).await,
        Err(UseCaseError::NotFound(_))
    ));
    // The address is free again once the lead is deleted.
    leads::create(&pool, &actor(), c, &lead("a@acme.com.au", id))
        .await
        .expect("re-create");
    assert_eq!(audit_count(&pool, c, "lead.delete").await, 1);
}

#[sqlx::test(migrations = "../../migrations")]
async fn lead_lists_filters_search_and_keyset(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    let id2 = campaign(&pool, c).await;
    let bulk = LeadBulkCreate {
        leads: (0..45)
            .map(|i| LeadCreate {
                company: Some(if i % 3 == 0 {
                    "100%_Widgets".into()
                } else {
                    "Other Co".into()
                }),
                first_name: Some(format!("Name{i}")),
                ..lead(
                    &format!("lead{i}@acme.com.au"),
                    if i < 40 { id } else { id2 },
                )
            })
            .chain([lead("bad", id), lead("lead1@acme.com.au", id)])
            .collect(),
    };
    let res = leads::bulk_create(&pool, &actor(), c, &bulk)
        .await
        .expect("bulk");
    assert_eq!((res.created, res.skipped, res.total), (45, 2, 47));
    sqlx::query(
        "UPDATE leads SET als_score = 90, als_tier = 'hot' WHERE email = 'lead7@acme.com.au'",
    )
    .execute(&pool)
    .await
    .expect("score");

    let q = |campaign_id, search: Option<&str>| LeadQuery {
        campaign_id,
        search: search.map(str::to_owned),
        ..Default::default()
    };
    let (_, total) = leads::list(&pool, None, c, &q(Some(id2.into_uuid()), None), 20, 0)
        .await
        .expect("campaign filter");
    assert_eq!(total, 5);
    let (items, total) = leads::list(&pool, None, c, &q(None, Some("100%_w")), 100, 0)
        .await
        .expect("search");
    assert_eq!(total, 15);
    assert!(
        items
            .iter()
            .all(|l| l.company.as_deref() == Some("100%_Widgets"))
    );
    // `%` and `_` are literal: "0%" matches nothing although every company has a zero-or-more match.
    assert_eq!(
        leads::list(&pool, None, c, &q(None, Some("_x")), 100, 0)
            .await
            .expect("s")
            .1,
        0
    );
    assert_eq!(
        leads::list(&pool, None, c, &q(None, Some("NAME12")), 100, 0)
            .await
            .expect("s")
            .1,
        1
    );
    let hot = LeadQuery {
        tier: Some("hot".into()),
        ..Default::default()
    };
    let (items, total) = leads::list(&pool, None, c, &hot, 20, 0)
        .await
        .expect("tier");
    assert_eq!((total, items[0].email.as_str()), (1, "lead7@acme.com.au"));
    let top = LeadQuery {
        sort: Some("-als_score".into()),
        ..Default::default()
    };
    assert_eq!(
        leads::list(&pool, None, c, &top, 1, 0)
            .await
            .expect("sort")
            .0[0]
            .email,
        "lead7@acme.com.au"
    );
    let bad = LeadQuery {
        sort: Some("name".into()),
        tier: Some("lukewarm".into()),
        ..Default::default()
    };
    assert_eq!(
        field_paths(
            &leads::list(&pool, None, c, &bad, 1, 0)
                .await
                .expect_err("bad")
        ),
        ["tier", "sort"]
    );

    // Offset pages and keyset pages cover every lead exactly once.
    let mut seen = Vec::new();
    for page in 0..5 {
        seen.extend(
            leads::list(&pool, None, c, &LeadQuery::default(), 10, page * 10)
                .await
                .expect("page")
                .0,
        );
    }
    let mut keyed = Vec::new();
    let mut after = None;
    loop {
        let (items, next) = leads::list_keyset(&pool, c, &LeadQuery::default(), after, 7)
            .await
            .expect("keyset");
        keyed.extend(items);
        match next {
            Some(k) => after = Some(k),
            None => break,
        }
    }
    assert_eq!(seen.len(), 45);
    assert_eq!(keyed, seen, "keyset and offset pages agree, newest first");
    let mut ids: Vec<_> = keyed.iter().map(|l| l.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 45);
}

fn csv_rows(n: usize, offset: usize) -> String {
    let mut s = String::from(
        "E-mail,First Name,Surname,Mobile,Job Title,Organisation,Website,Employees,Country\n",
    );
    for i in offset..offset + n {
        s.push_str(&format!("Person{i}@Example.com.au,P{i},Q{i},,Director,Org {i},example.com.au,\"1,200\",Australia\n"));
    }
    s
}

#[sqlx::test(migrations = "../../migrations")]
async fn import_reports_every_row(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    leads::create(&pool, &actor(), c, &lead("existing@acme.com.au", id))
        .await
        .expect("existing");
    sqlx::query(
        "INSERT INTO global_suppression (email, reason) VALUES ('gone@acme.com.au', 'complaint')",
    )
    .execute(&pool)
    .await
    .expect("suppress");
    let csv = "\u{feff}Email Address,first_name,Last Name,Phone Number,Position,Company Name,Domain,LinkedIn URL,Industry,Employee Count,Country,Ignored\n\
        New@Acme.com.au,Ann,Lee,0412 345 678,CEO,Acme,acme.com.au,https://linkedin.com/in/ann,Retail,51-200,Australia,x\n\
        existing@ACME.com.au,,,,,,,,,,,\n\
        new@acme.com.au,Dup,,,,,,,,,,\n\
        not an email,,,,,,,,,,,\n\
        ok@acme.com.au,,,12,,,,,,,,\n\
        gone@acme.com.au,,,,,,,,,,,\n\
        ,,,,,,,,,,,\n\
        second@acme.com.au,,,,,,,,,lots,,\n\
        third@acme.com.au\n";
    let report = import::import_csv(&pool, &actor(), c, id, csv.as_bytes())
        .await
        .expect("import");
    assert_eq!(
        (report.created, report.duplicates, report.invalid),
        (2, 2, 4),
        "{report:#?}"
    );
    let statuses: Vec<_> = report.rows.iter().map(|r| (r.row, r.status)).collect();
    use RowStatus::*;
    assert_eq!(
        statuses,
        [
            (1, Created),
            (2, Duplicate),
            (3, Duplicate),
            (4, Invalid),
            (5, Invalid),
            (6, Invalid),
            (8, Invalid),
            (9, Created)
        ],
        "the empty row 7 is skipped but keeps its number"
    );
    let reasons: Vec<_> = report
        .rows
        .iter()
        .map(|r| r.reason.clone().unwrap_or_default())
        .collect();
    assert!(reasons[1].contains("already exists"), "{reasons:?}");
    assert!(reasons[2].contains("row 1"), "{reasons:?}");
    assert!(reasons[3].contains("@"), "{reasons:?}");
    assert!(reasons[4].contains("phone"), "{reasons:?}");
    assert!(
        reasons[5].contains("suppression") && reasons[5].contains("complaint"),
        "{reasons:?}"
    );
    assert!(reasons[6].contains("employees"), "{reasons:?}");
    assert!(
        report.rows[7].lead_id.is_some(),
        "a short row with only an email is fine"
    );
    let lead_id = report.rows[0].lead_id.expect("lead id");
    let created = leads::get(&pool, c, LeadId::from_uuid(lead_id))
        .await
        .expect("created lead");
    assert_eq!(created.email, "new@acme.com.au");
    assert_eq!(created.phone.as_deref(), Some("+61412345678"));
    assert_eq!(created.organization_employee_count, Some(51));
    assert_eq!(
        created.linkedin_url.as_deref(),
        Some("https://linkedin.com/in/ann")
    );
    assert_eq!(created.campaign_id, Some(id.into_uuid()));
    assert_eq!(audit_count(&pool, c, "lead.import").await, 1);

    let no_email =
        import::import_csv(&pool, &actor(), c, id, "name,company\na,b\n".as_bytes()).await;
    assert!(matches!(no_email, Err(UseCaseError::Invalid { .. })));
    let other = client(&pool, "Other").await;
    let foreign = import::import_csv(&pool, &actor(), other, id, csv.as_bytes()).await;
    assert!(matches!(foreign, Err(UseCaseError::NotFound("campaign"))));
}

#[sqlx::test(migrations = "../../migrations")]
async fn import_is_all_or_nothing(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    // A trigger fails the insert of one row in the third batch.
    sqlx::query(
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.email = 'person2500@example.com.au' THEN RAISE EXCEPTION 'forced failure'; END IF;
         RETURN NEW; END $$",
    )
    .execute(&pool)
    .await
    .expect("fn");
    sqlx::query("CREATE TRIGGER boom BEFORE INSERT ON leads FOR EACH ROW EXECUTE FUNCTION boom()")
        .execute(&pool)
        .await
        .expect("trigger");
    let err = import::import_csv(&pool, &actor(), c, id, csv_rows(20_000, 0).as_bytes())
        .await
        .expect_err("fails");
    assert!(matches!(err, UseCaseError::Store(_)), "{err:?}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM leads WHERE client_id = $1")
        .bind(c)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing of the failed import remains");
    assert_eq!(audit_count(&pool, c, "lead.import").await, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn import_refuses_more_than_the_row_limit(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    let csv = csv_rows(import::MAX_ROWS + 1, 0);
    let err = import::import_csv(&pool, &actor(), c, id, csv.as_bytes())
        .await
        .expect_err("too many");
    assert!(matches!(err, UseCaseError::TooLarge(_)), "{err:?}");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM leads")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[sqlx::test(migrations = "../../migrations")]
async fn import_of_100k_rows_takes_seconds(pool: PgPool) {
    with_job_tables(&pool).await;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    let csv = csv_rows(100_000, 0);
    let started = std::time::Instant::now();
    let report = import::import_csv(&pool, &actor(), c, id, csv.as_bytes())
        .await
        .expect("import");
    let took = started.elapsed();
    eprintln!("imported 100000 rows in {took:?}");
    assert_eq!(
        (report.created, report.duplicates, report.invalid),
        (100_000, 0, 0)
    );
    assert!(took.as_secs() < 60, "took {took:?}");
    // A second import of an overlapping file skips what exists.
    let again = import::import_csv(&pool, &actor(), c, id, csv_rows(2_000, 99_000).as_bytes())
        .await
        .expect("again");
    assert_eq!((again.created, again.duplicates), (1_000, 1_000));
}

#[sqlx::test(migrations = "../../migrations")]
async fn cached_lead_totals_refresh_on_invalidation(pool: PgPool) {
    with_job_tables(&pool).await;
    let redis = std::env::var("REDIS_URL").ok();
    let cache = agency_cache::FallbackCache::new(redis.as_deref(), pool.clone()).expect("cache");
    let cache: &dyn agency_cache::Cache = &cache;
    let c = client(&pool, "Acme").await;
    let id = campaign(&pool, c).await;
    leads::create(&pool, &actor(), c, &lead("a@acme.com.au", id))
        .await
        .expect("a");
    let q = LeadQuery::default();
    let total = |items: (Vec<_>, i64)| items.1;
    assert_eq!(
        total(
            leads::list(&pool, Some(cache), c, &q, 10, 0)
                .await
                .expect("list")
        ),
        1
    );
    // A write that bypasses the API's invalidation is served from the cached total...
    sqlx::query(
        "INSERT INTO leads (client_id, campaign_id, email) VALUES ($1, $2, 'b@acme.com.au')",
    )
    .bind(c)
    .bind(id)
    .execute(&pool)
    .await
    .expect("raw insert");
    let (items, cached) = leads::list(&pool, Some(cache), c, &q, 10, 0)
        .await
        .expect("list");
    assert_eq!(
        (items.len(), cached),
        (2, 1),
        "the page is live, the total cached"
    );
    // ...until the counts are invalidated, as every API lead write does.
    leads::invalidate_counts(cache, c).await;
    assert_eq!(
        total(
            leads::list(&pool, Some(cache), c, &q, 10, 0)
                .await
                .expect("list")
        ),
        2
    );
    let hot = LeadQuery {
        tier: Some("hot".into()),
        ..Default::default()
    };
    assert_eq!(
        total(
            leads::list(&pool, Some(cache), c, &hot, 10, 0)
                .await
                .expect("list")
        ),
        0,
        "filters are cached apart"
    );
}

/// New leads are queued for the pipeline in their own transaction, so the job tables must exist.
async fn with_job_tables(pool: &PgPool) {
    agency_store::migrate::job_migrator()
        .run(pool)
        .await
        .expect("apalis migrations");
}

/// A user with a membership of `client_id` in `state`: "accepted", "invited" (not accepted)
/// or "removed" (accepted, then deleted).
async fn member(pool: &PgPool, client_id: ClientId, state: &str) -> agency_domain::UserId {
    let user = Uuid::now_v7();
    sqlx::query("INSERT INTO users (id, email) VALUES ($1, $2)")
        .bind(user)
        .bind(format!("{user}@example.com"))
        .execute(pool)
        .await
        .expect("user");
    sqlx::query(
        "INSERT INTO memberships (client_id, user_id, role, accepted_at, deleted_at)
         VALUES ($1, $2, 'member', CASE WHEN $3 <> 'invited' THEN now() END,
                 CASE WHEN $3 = 'removed' THEN now() END)",
    )
    .bind(client_id)
    .bind(user)
    .bind(state)
    .execute(pool)
    .await
    .expect("membership");
    agency_domain::UserId::from_uuid(user)
}

#[sqlx::test(migrations = "../../migrations")]
async fn the_member_list_checks_access_in_the_page_statement(pool: PgPool) {
    with_job_tables(&pool).await;
    let redis = std::env::var("REDIS_URL").ok();
    let cache = std::sync::Arc::new(
        agency_cache::FallbackCache::new(redis.as_deref(), pool.clone()).expect("cache"),
    );
    let services = agency_engine::Services::with_sandbox_providers(pool.clone(), cache);
    let acme = client(&pool, "Acme").await;
    let other = client(&pool, "Other").await;
    let id = campaign(&pool, acme).await;
    for n in 0..3 {
        leads::create(
            &pool,
            &actor(),
            acme,
            &lead(&format!("l{n}@acme.com.au"), id),
        )
        .await
        .expect("lead");
    }
    let q = LeadQuery::default();
    let list = |user, client| {
        let services = services.clone();
        let q = q.clone();
        async move { leads::list_as_member(&services, user, client, &q, 2, 0).await }
    };

    let accepted = member(&pool, acme, "accepted").await;
    let (items, total) = list(accepted, acme).await.expect("a member lists");
    assert_eq!((items.len(), total), (2, 3));
    assert!(items.iter().all(|l| l.client_id == acme.into_uuid()));

    // A member of a client without leads gets an empty page, not a 404.
    let of_other = member(&pool, other, "accepted").await;
    let (items, total) = list(of_other, other).await.expect("empty page");
    assert_eq!((items.len(), total), (0, 0));

    // Not a member of this client, an unaccepted invite, a removed member, an unknown
    // client and a deleted client all read as "no such client".
    let invited = member(&pool, acme, "invited").await;
    let removed = member(&pool, acme, "removed").await;
    for (user, client) in [
        (of_other, acme),
        (invited, acme),
        (removed, acme),
        (accepted, ClientId::from_uuid(Uuid::now_v7())),
    ] {
        let err = list(user, client).await.expect_err("no access");
        assert!(matches!(err, UseCaseError::NotFound("client")), "{err:?}");
    }
    sqlx::query("UPDATE clients SET deleted_at = now() WHERE id = $1")
        .bind(acme)
        .execute(&pool)
        .await
        .expect("delete client");
    let err = list(accepted, acme).await.expect_err("deleted client");
    assert!(matches!(err, UseCaseError::NotFound("client")), "{err:?}");
}
