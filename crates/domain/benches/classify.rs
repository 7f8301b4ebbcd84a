//! Keyword classification throughput: the reply corpus of `testdata/replies.tsv` classified
//! over and over on one thread (target: over 100,000 replies/s on one core).

use std::hint::black_box;

use agency_domain::classify_keywords;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CORPUS: &str = include_str!("../testdata/replies.tsv");

fn replies() -> Vec<String> {
    CORPUS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .map(|(_, text)| text.replace("\\n", "\n"))
        .collect()
}

fn classify(c: &mut Criterion) {
    let replies = replies();
    let mut group = c.benchmark_group("classify_keywords");
    group.throughput(Throughput::Elements(replies.len() as u64));
    group.bench_function("corpus", |b| {
        b.iter(|| {
            for reply in &replies {
                black_box(classify_keywords(black_box(reply)));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, classify);
criterion_main!(benches);
