//! `ProvidersConfig`: parsing, cross-field validation, production's sandbox refusal, and the
//! adapters it builds.

use agency_providers::{
    EnrichmentProviders, HttpSettings, Provider, ProvidersConfig, ProvidersConfigError,
};
use chrono::NaiveDate;
use clap::Parser;

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    providers: ProvidersConfig,
}

fn parse(args: &[&str]) -> ProvidersConfig {
    let mut argv = vec!["test"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).expect("parses").providers
}

fn anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).expect("date")
}

const ALL_KEYS: &[&str] = &[
    "--apollo-api-key=SECRET-APOLLO-1",
    "--apify-api-token=SECRET-APIFY-2",
    "--apify-actor-id=dev_fusion/Linkedin-Profile-Scraper",
    "--clay-api-key=SECRET-CLAY-3",
    "--dataforseo-login=login",
    "--dataforseo-password=SECRET-D4S-4",
];

#[test]
fn no_keys_means_every_provider_is_a_sandbox() {
    let config = parse(&[]);
    assert_eq!(config.apollo_base_url, "https://api.apollo.io");
    assert_eq!(config.sandboxed().len(), 4);
    assert_eq!(config.validate(false, false), Ok(()));
    let built = config
        .build(&HttpSettings::default(), anchor())
        .expect("builds");
    assert!(built.enrichers().iter().all(|e| e.is_sandbox()));
    assert!(built.seo.is_sandbox());
    assert_eq!(built.primary.provider(), Provider::Apollo);
    assert_eq!(built.secondary.provider(), Provider::Apify);
    assert_eq!(built.fallback.provider(), Provider::Clay);
}

#[test]
fn production_refuses_sandboxes_naming_the_variables() {
    let config = parse(&["--apollo-api-key=ak"]);
    let err = config.validate(true, false).expect_err("refused");
    assert_eq!(
        err,
        ProvidersConfigError::SandboxInProduction {
            vars: vec!["APIFY_API_TOKEN", "CLAY_API_KEY", "DATAFORSEO_LOGIN"]
        }
    );
    let message = err.to_string();
    assert!(message.contains("APIFY_API_TOKEN"), "{message}");
    assert!(message.contains("ALLOW_SANDBOX_IN_PRODUCTION"), "{message}");
    assert_eq!(config.validate(true, true), Ok(()), "explicit opt-in");
}

#[test]
fn production_with_every_key_is_accepted_and_builds_real_adapters() {
    let config = parse(ALL_KEYS);
    assert_eq!(config.validate(true, false), Ok(()));
    let built = config
        .build(&HttpSettings::default(), anchor())
        .expect("builds");
    assert!(built.enrichers().iter().all(|e| !e.is_sandbox()));
    assert!(!built.seo.is_sandbox());
    assert!(!built.any_sandbox());
    let debug = format!("{built:?}");
    assert!(!debug.contains("SECRET-"), "no secret in Debug: {debug}");
}

#[test]
fn forcing_the_sandbox_names_providers_sandbox() {
    let mut args = ALL_KEYS.to_vec();
    args.push("--providers-sandbox=true");
    let config = parse(&args);
    assert_eq!(
        config.validate(true, false),
        Err(ProvidersConfigError::SandboxInProduction {
            vars: vec!["PROVIDERS_SANDBOX"]
        })
    );
    let built = config
        .build(&HttpSettings::default(), anchor())
        .expect("builds");
    assert!(built.enrichers().iter().all(|e| e.is_sandbox()));
}

#[test]
fn paired_settings_are_required_together() {
    assert_eq!(
        parse(&["--apify-api-token=t"]).validate(false, true),
        Err(ProvidersConfigError::Missing {
            var: "APIFY_ACTOR_ID",
            hint: "APIFY_API_TOKEN is set: name the actor to run (user/actor-name)",
        })
    );
    assert!(matches!(
        parse(&["--dataforseo-login=l"]).validate(false, true),
        Err(ProvidersConfigError::Missing {
            var: "DATAFORSEO_PASSWORD",
            ..
        })
    ));
    assert!(matches!(
        parse(&["--dataforseo-password=p"]).validate(false, true),
        Err(ProvidersConfigError::Missing {
            var: "DATAFORSEO_LOGIN",
            ..
        })
    ));
}

#[test]
fn a_bad_base_url_names_its_variable() {
    let err = parse(&["--apollo-base-url=ftp://fake"])
        .validate(false, true)
        .expect_err("bad");
    assert!(matches!(
        err,
        ProvidersConfigError::Invalid {
            var: "APOLLO_BASE_URL",
            ..
        }
    ));
    assert!(err.to_string().starts_with("APOLLO_BASE_URL is invalid"));
}

#[test]
fn an_empty_key_is_rejected_at_parse_time() {
    assert!(Cli::try_parse_from(["test", "--apollo-api-key="]).is_err());
    assert!(Cli::try_parse_from(["test", "--apollo-api-key=  "]).is_err());
}

#[test]
fn the_all_sandbox_set_is_in_waterfall_order() {
    let set = EnrichmentProviders::sandbox(anchor());
    let order: Vec<Provider> = set.enrichers().iter().map(|e| e.provider()).collect();
    assert_eq!(
        order,
        vec![Provider::Apollo, Provider::Apify, Provider::Clay]
    );
    assert!(set.any_sandbox());
}
