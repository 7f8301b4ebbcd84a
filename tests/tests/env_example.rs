//! `.env.example` documents every variable the services read: each environment variable of
//! `agency-api`, `agency-worker` and `agency-scheduler` (taken from their clap definitions, the
//! same source as `--help`) appears there, set or commented out, with a comment above it.

use clap::CommandFactory;

fn env_vars(cmd: clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_service_variable_is_documented_in_env_example() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../.env.example");
    let example = std::fs::read_to_string(path).expect(".env.example at the workspace root");
    let lines: Vec<&str> = example.lines().collect();
    let mut vars = env_vars(agency_api::ApiConfig::command());
    vars.extend(env_vars(agency_worker::WorkerConfig::command()));
    vars.extend(env_vars(agency_scheduler::SchedulerConfig::command()));
    vars.sort();
    vars.dedup();
    assert!(
        vars.len() > 20,
        "expected the services' variables, got {vars:?}"
    );

    let mut missing = Vec::new();
    for var in &vars {
        let at = lines.iter().position(|l| {
            let l = l.trim_start_matches('#').trim();
            l.strip_prefix(var.as_str())
                .is_some_and(|rest| rest.starts_with('='))
        });
        match at {
            Some(i)
                if i > 0
                    && lines[..i]
                        .iter()
                        .rev()
                        .take(3)
                        .any(|l| l.starts_with("# ") && !l.contains('=')) => {}
            Some(_) => missing.push(format!("{var} (no comment above it)")),
            None => missing.push(var.clone()),
        }
    }
    assert!(missing.is_empty(), ".env.example lacks: {missing:?}");
}
