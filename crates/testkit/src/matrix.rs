//! The tenancy/role matrix: a table of tenant routes, each run as every role of client A
//! (expecting success from `min_role` up, 403 below), as the owner of another client B
//! (expecting 404 and no change at all in A's data), and without a token (401).
//!
//! Add a row per route: `path` uses `{client_id}` and any `{name}` that `setup` returns in
//! its JSON object (e.g. a fresh record's `id`); `setup` runs before every attempt, so
//! destructive routes get a fresh target each time; `body` is built per attempt too.

use agency_domain::{ClientId, Role};
use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{TestApp, TestUser};

/// Creates what one attempt needs inside the given client; returns path variables.
pub type Setup = for<'a> fn(&'a TestApp, ClientId) -> BoxFuture<'a, Value>;

/// One route of the matrix.
#[derive(Clone)]
pub struct MatrixCase {
    /// A label for failure messages.
    pub name: &'static str,
    /// The method.
    pub method: Method,
    /// The path template.
    pub path: &'static str,
    /// The JSON body, built per attempt (`None`: no body).
    pub body: Option<fn() -> Value>,
    /// The lowest role allowed.
    pub min_role: Role,
    /// The status of a success.
    pub success: u16,
    /// Makes the per-attempt target (`None`: no variables).
    pub setup: Option<Setup>,
}

impl std::fmt::Debug for MatrixCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.name, self.method, self.path)
    }
}

fn render(path: &str, client: ClientId, vars: &Value) -> String {
    let mut out = path.replace("{client_id}", &client.to_string());
    if let Some(map) = vars.as_object() {
        for (k, v) in map {
            let text = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            out = out.replace(&format!("{{{k}}}"), &text);
        }
    }
    out
}

async fn attempt(
    app: &TestApp,
    case: &MatrixCase,
    client: ClientId,
    user: Option<&TestUser>,
) -> (u16, String, Value) {
    let vars = match case.setup {
        Some(setup) => setup(app, client).await,
        None => json!({}),
    };
    let path = render(case.path, client, &vars);
    let mut req = match user {
        Some(u) => app.as_user(u, case.method.clone(), &path),
        None => app.request(case.method.clone(), &path),
    };
    if let Some(body) = case.body {
        req = req.json(&body());
    }
    let response = req.send().await.expect("send");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, path, body)
}

/// Runs every case; panics listing every mismatch.
pub async fn run_matrix(app: &TestApp, cases: &[MatrixCase]) {
    let tenant_a = app.create_client("Tenant A").await;
    let tenant_b = app.create_client("Tenant B").await;
    let mut users = Vec::new();
    for role in Role::ALL {
        users.push((*role, app.user_with_role(tenant_a, *role).await));
    }
    let outsider = app.user_with_role(tenant_b, Role::Owner).await;
    let mut failures = Vec::new();
    for case in cases {
        for (role, user) in &users {
            let expected = if role.at_least(case.min_role) {
                case.success
            } else {
                403
            };
            let (status, path, body) = attempt(app, case, tenant_a, Some(user)).await;
            if status != expected {
                failures.push(format!(
                    "{case:?} as {role}: {path} answered {status}, expected {expected}: {body}"
                ));
            }
        }
        // A member of another client: 404, and nothing changed in tenant A.
        let vars = match case.setup {
            Some(setup) => setup(app, tenant_a).await,
            None => json!({}),
        };
        let before_with_target = app.tenant_fingerprint(tenant_a).await;
        let path = render(case.path, tenant_a, &vars);
        let mut req = app.as_user(&outsider, case.method.clone(), &path);
        if let Some(body) = case.body {
            req = req.json(&body());
        }
        let response = req.send().await.expect("send");
        let status = response.status().as_u16();
        if status != 404 {
            failures.push(format!(
                "{case:?} as another client's owner: {path} answered {status}, expected 404"
            ));
        }
        let after = app.tenant_fingerprint(tenant_a).await;
        if after != before_with_target {
            failures.push(format!(
                "{case:?} as another client's owner changed tenant A's data"
            ));
        }
        let (status, path, _) = attempt(app, case, tenant_a, None).await;
        if status != 401 {
            failures.push(format!(
                "{case:?} without a token: {path} answered {status}, expected 401"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "tenancy/role matrix failures:\n{}",
        failures.join("\n")
    );
}
