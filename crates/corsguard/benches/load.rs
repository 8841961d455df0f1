//! Config loading: `Policy::from_yaml_str` on 1k, 10k and 100k exact origins.
//!
//! Loading must stay linear in the file (every located value used to count newlines from the
//! start of the file, which made 100k origins take a minute). Two layouts per size: one origin
//! per line (block list) and the whole list on one line (flow list), the worst case for
//! column computation.
//!
//! Run: `cargo bench -p corsguard --bench load`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use corsguard::Policy;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn origin(i: usize) -> String {
    format!("'https://host{i}.example.com'")
}

/// `defaults:` with one `- 'https://hostN.example.com'` line per origin.
fn block_list(n: usize) -> String {
    let mut s = String::from("defaults:\n  allow_origins:\n");
    for i in 0..n {
        s.push_str("    - ");
        s.push_str(&origin(i));
        s.push('\n');
    }
    s
}

/// `defaults: {allow_origins: [...]}` on a single line.
fn flow_list(n: usize) -> String {
    let list: Vec<String> = (0..n).map(origin).collect();
    format!("defaults: {{allow_origins: [{}]}}\n", list.join(", "))
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for n in [1_000, 10_000, 100_000] {
        for (layout, yaml) in [("block", block_list(n)), ("flow", flow_list(n))] {
            // A policy that does not load would make the timing meaningless.
            let p = Policy::from_yaml_str(&yaml).unwrap();
            assert_eq!(p.defaults_summary().allow_origins.len(), n);
            group.throughput(Throughput::Bytes(yaml.len() as u64));
            group.bench_with_input(BenchmarkId::new(layout, n), &yaml, |b, yaml| {
                b.iter(|| Policy::from_yaml_str(black_box(yaml)).unwrap())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
