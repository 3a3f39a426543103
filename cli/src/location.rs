//! Where a store is: the path of an SQLite database file, or the URL of a shared
//! PostgreSQL store; and how it is shown (a URL never with its password).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use localkms::keystore::url_without_password as without_password;

/// A `--store`, `--from` or `--to` value.
#[derive(Clone, Debug)]
pub enum StoreName {
    /// The embedded store: an SQLite database file.
    Path(PathBuf),
    /// A shared store: `postgresql://…` or `postgres://…`. Any other `scheme://`
    /// is kept as a URL too, for the library to refuse by name (a path that looks
    /// like a URL is far likelier a mistyped URL than a folder named `scheme:`).
    Url(String),
}

impl From<OsString> for StoreName {
    fn from(value: OsString) -> StoreName {
        match value.to_str() {
            Some(text) if looks_like_url(text) => StoreName::Url(text.to_owned()),
            _ => StoreName::Path(PathBuf::from(value)),
        }
    }
}

impl StoreName {
    /// How the store is named in output: the absolute path, or the URL without
    /// its password.
    pub fn shown(&self) -> String {
        match self {
            StoreName::Path(path) => absolute(path),
            StoreName::Url(url) => without_password(url),
        }
    }
}

/// `scheme://…`, the scheme as RFC 3986 spells one.
fn looks_like_url(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The absolute form of `path` for display (as given if that fails).
pub fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart() {
        let url = |s: &str| matches!(StoreName::from(OsString::from(s)), StoreName::Url(_));
        assert!(url("postgresql://u@h/db"));
        assert!(url("postgres://h/db"));
        assert!(url("mysql://h/db"));
        assert!(!url("keys.db"));
        assert!(!url("/var/lib/app/keys.db"));
        assert!(!url("./postgresql:/x"));
        assert!(!url("1a://x"));
        assert!(!url("dir with space://x"));
    }

    #[test]
    fn no_password_is_shown() {
        for (url, shown) in [
            (
                "postgresql://u:secret@127.0.0.1:1/db",
                "postgresql://u@127.0.0.1:1/db",
            ),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("postgresql://h/db", "postgresql://h/db"),
            ("postgresql://:secret@h/db", "postgresql://@h/db"),
            (
                "postgresql://u@h/db?password=secret&sslmode=disable",
                "postgresql://u@h/db?sslmode=disable",
            ),
            (
                "postgresql://u@h/db?connect_timeout=3&PassWord=secret",
                "postgresql://u@h/db?connect_timeout=3",
            ),
            (
                "postgresql://u@h/db?pass%77ord=secret",
                "postgresql://u@h/db",
            ),
            (
                "postgresql://u:se:cr%40et@h/db?password=secret",
                "postgresql://u@h/db",
            ),
        ] {
            assert_eq!(without_password(url), shown, "{url}");
            assert!(!without_password(url).contains("secret"), "{url}");
        }
    }
}
