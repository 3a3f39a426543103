//! The key store at scale (issue 10): with N keys (100,000 by default) in an SQLite
//! store, and in PostgreSQL when `LOCALKMS_TEST_POSTGRES_URL` names a database,
//! how long creating a key and rotating one take (median, with the commit's
//! durable write measured on its own as a baseline), how long opening the store
//! takes, the resident memory, and encrypt/decrypt latency beside a one-key store;
//! and how long creating N keys in memory takes. Prints a Markdown table.
//!
//! Run: `cargo bench --bench store_scale` (`STORE_SCALE_KEYS=10000` for a quick run).

use std::path::Path;
use std::time::{Duration, Instant};

use localkms::service::{Client, CreateKeyRequest, DecryptRequest, EncryptRequest, OpenOptions};

const MASTER: [u8; 32] = [0x42; 32];

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Median AdvanceEncrypt + AdvanceDecrypt latency of 64 bytes.
fn crypto_latency(client: &Client, key_id: &str) -> Duration {
    let mut samples = Vec::new();
    for _ in 0..4_000 {
        let t = Instant::now();
        let sealed = client
            .advance_encrypt(&EncryptRequest {
                key_id,
                plaintext: &[7; 64],
                ..Default::default()
            })
            .unwrap();
        client
            .advance_decrypt(&DecryptRequest {
                ciphertext_blob: &sealed.ciphertext_blob,
                ..Default::default()
            })
            .unwrap();
        samples.push(t.elapsed());
    }
    median(samples)
}

struct Row {
    store: &'static str,
    create: Duration,
    rotate: Duration,
    commit: Duration,
    open: Duration,
    rss: f64,
    crypto_n: Duration,
    crypto_1: Duration,
}

fn measure(
    store: &'static str,
    open: &dyn Fn(bool) -> Client,
    source: Client,
    one: &Client,
) -> Row {
    // Fill the store in one change (a copy), then measure single changes on top,
    // with only this store's client in memory.
    let filled = open(true);
    source.copy_into(&filled).unwrap();
    drop(filled);
    drop(source);
    let opened_at = Instant::now();
    let client = open(false);
    let open_time = opened_at.elapsed();
    let rss = rss_mib();
    let mut creates = Vec::new();
    let mut rotates = Vec::new();
    let mut commits = Vec::new();
    let mut made = Vec::new();
    for i in 0..50 {
        let t = Instant::now();
        let key_id = client
            .create_key(&CreateKeyRequest::default())
            .unwrap()
            .value
            .key_id;
        creates.push(t.elapsed());
        let t = Instant::now();
        client.rotate_key(&key_id).unwrap();
        rotates.push(t.elapsed());
        // The cheapest change there is: one alias row, i.e. the commit itself.
        let alias = format!("alias/bench-{}-{i}", store.to_lowercase());
        let t = Instant::now();
        client.create_alias(&alias, &key_id).unwrap();
        commits.push(t.elapsed());
        made.push(key_id);
    }
    // Interleaved, so that neither store is measured only while the machine warms up.
    let one_key = one
        .create_key(&CreateKeyRequest::default())
        .unwrap()
        .value
        .key_id;
    let (mut many_keys, mut one_key_store) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        many_keys.push(crypto_latency(&client, &made[0]));
        one_key_store.push(crypto_latency(one, &one_key));
    }
    let crypto_n = median(many_keys);
    let crypto_1 = median(one_key_store);
    Row {
        store,
        create: median(creates),
        rotate: median(rotates),
        commit: median(commits),
        open: open_time,
        rss,
        crypto_n,
        crypto_1,
    }
}

fn main() {
    let n: usize = std::env::var("STORE_SCALE_KEYS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let started = Instant::now();
    let memory = Client::in_memory();
    for _ in 0..n {
        memory.create_key(&CreateKeyRequest::default()).unwrap();
    }
    let in_memory = started.elapsed();
    eprintln!("{n} keys created in memory in {in_memory:?}");

    let dir = std::env::temp_dir().join(format!("localkms-store-scale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite_open = |path: &Path, create: bool| {
        Client::open(&OpenOptions {
            keystore_path: Some(path),
            master_key: Some(&MASTER),
            create_if_missing: create,
            ..Default::default()
        })
        .unwrap()
    };
    let big = dir.join("big.db");
    let one = sqlite_open(&dir.join("one.db"), true);
    let mut rows = vec![measure("SQLite", &|c| sqlite_open(&big, c), memory, &one)];
    if let Ok(url) = std::env::var("LOCALKMS_TEST_POSTGRES_URL") {
        let pg_open = |create: bool| {
            Client::open(&OpenOptions {
                keystore_url: Some(&url),
                master_key: Some(&MASTER),
                create_if_missing: create,
                ..Default::default()
            })
            .unwrap()
        };
        let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        admin
            .batch_execute(
                "DROP TABLE IF EXISTS localkms_meta, localkms_keys, localkms_aliases, localkms_log",
            )
            .unwrap();
        rows.push(measure(
            "PostgreSQL",
            &pg_open,
            sqlite_open(&big, false),
            &one,
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "{n} keys created in memory: {in_memory:.2?} ({:.1} µs a key)",
        in_memory.as_secs_f64() * 1e6 / n as f64
    );
    println!();
    println!("| store ({n} keys) | create a key (median) | rotate a key (median) | a bare commit (median) | open | resident memory | encrypt+decrypt 64 B, {n} keys | the same, 1 key |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.2?} | {:.2?} | {:.2?} | {:.2?} | {:.0} MiB | {:.2?} | {:.2?} |",
            r.store, r.create, r.rotate, r.commit, r.open, r.rss, r.crypto_n, r.crypto_1
        );
    }
}
