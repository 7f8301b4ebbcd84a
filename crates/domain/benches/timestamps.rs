//! Timestamps into JSON the way a page of 50 leads holds them (200 timestamps, microsecond
//! precision as PostgreSQL stores them): chrono's own `Serialize`, which writes each field
//! through serde_json's escaping `collect_str`, against `rfc3339::serialize`, which formats
//! on the stack and writes one string. Both write the same bytes (see the module's tests).

use std::hint::black_box;

use agency_domain::rfc3339;
use chrono::{DateTime, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Serialize;

#[derive(Serialize)]
struct Chrono(DateTime<Utc>);

#[derive(Serialize)]
struct Ours(#[serde(serialize_with = "rfc3339::serialize")] DateTime<Utc>);

fn page() -> Vec<DateTime<Utc>> {
    let base = DateTime::from_timestamp(1_796_000_000, 123_456_000).expect("in range");
    (0..200)
        .map(|i| base - chrono::Duration::microseconds(i * 1_000_003))
        .collect()
}

/// Serializes `rows` as one JSON array, over and over, into a reused buffer.
fn bench_rows<T: Serialize>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    rows: &[T],
) {
    group.bench_function(name, |b| {
        let mut out = Vec::with_capacity(8192);
        b.iter(|| {
            out.clear();
            serde_json::to_writer(&mut out, black_box(rows)).expect("serializes");
            black_box(out.len())
        });
    });
}

fn timestamps(c: &mut Criterion) {
    let page = page();
    let mut group = c.benchmark_group("timestamps_to_json");
    group.throughput(Throughput::Elements(page.len() as u64));
    let chrono: Vec<Chrono> = page.iter().copied().map(Chrono).collect();
    bench_rows(&mut group, "chrono", &chrono);
    let ours: Vec<Ours> = page.iter().copied().map(Ours).collect();
    bench_rows(&mut group, "rfc3339", &ours);
    group.finish();
}

criterion_group!(benches, timestamps);
criterion_main!(benches);
