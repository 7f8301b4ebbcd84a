//! The keyword classifier on a corpus of real-world reply texts (`testdata/replies.tsv`:
//! Australian English, several phrasings of STOP and unsubscribe, out-of-office with and
//! without dates, meeting requests, questions, not interested, auto-replies): every text gets
//! its expected intent, and the corpus covers every intent.

use std::collections::BTreeMap;

use agency_domain::{Intent, classify_keywords};

const CORPUS: &str = include_str!("../testdata/replies.tsv");

fn corpus() -> Vec<(Intent, String)> {
    CORPUS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (intent, text) = l.split_once('\t').expect("intent<TAB>text");
            (
                intent.parse::<Intent>().expect("a known intent"),
                text.replace("\\n", "\n"),
            )
        })
        .collect()
}

#[test]
fn every_reply_of_the_corpus_gets_its_intent() {
    let corpus = corpus();
    assert!(corpus.len() >= 60, "only {} replies", corpus.len());
    let wrong: Vec<String> = corpus
        .iter()
        .filter_map(|(expected, text)| {
            let (got, confidence) = classify_keywords(text);
            assert!((0.0..=1.0).contains(&confidence));
            (got != *expected).then(|| format!("{text:?}: expected {expected}, got {got}"))
        })
        .collect();
    assert!(wrong.is_empty(), "misclassified:\n{}", wrong.join("\n"));
}

#[test]
fn the_corpus_covers_every_intent() {
    let mut per_intent: BTreeMap<&str, usize> = BTreeMap::new();
    for (intent, _) in corpus() {
        *per_intent.entry(intent.as_str()).or_default() += 1;
    }
    for name in Intent::NAMES {
        assert!(
            per_intent.get(name).copied().unwrap_or(0) >= 5,
            "{name}: {per_intent:?}"
        );
    }
}
