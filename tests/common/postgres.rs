//! Scratch databases on the PostgreSQL test server (`LOCALKMS_TEST_POSTGRES_URL`,
//! started by scripts/pg-cluster.sh).

use std::sync::atomic::{AtomicUsize, Ordering};

/// The URL of the test server; `None` when none was given, which under CI fails.
pub fn server_url(test: &str) -> Option<String> {
    match std::env::var("LOCALKMS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but LOCALKMS_TEST_POSTGRES_URL is not: the PostgreSQL tests must run"
            );
            eprintln!(
                "{test}: LOCALKMS_TEST_POSTGRES_URL is not set; the PostgreSQL test did not run"
            );
            None
        }
    }
}

/// A fresh, empty database on the test server: its URL and its name; `None` when
/// no server was given (outside CI).
pub fn fresh_database(label: &str) -> Option<(String, String)> {
    let url = server_url(env!("CARGO_CRATE_NAME"))?;
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "localkms_{}_{}_{}_{label}",
        env!("CARGO_CRATE_NAME"),
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("the test server");
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    Some((format!("{base}/{name}"), name))
}

/// Drops a database [`fresh_database`] made (best effort).
pub fn drop_database(name: &str) {
    if let Ok(url) = std::env::var("LOCALKMS_TEST_POSTGRES_URL") {
        if let Ok(mut admin) = postgres::Client::connect(&url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}
