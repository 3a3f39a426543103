//! The checked-in header is exactly what cbindgen makes of the sources.

use std::path::Path;

fn generate() -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let config = cbindgen::Config::from_file(Path::new(root).join("cbindgen.toml"))
        .expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        // Only the C layer: the Rust modules' own items stay out of the header.
        .with_src(Path::new(root).join("src/ffi/mod.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn header_matches_the_sources() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("include/localkms.h");
    let generated = generate();
    if std::env::var_os("LOCALKMS_BLESS_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/localkms.h");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != generated {
        let first_difference = checked_in
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| checked_in.lines().count().min(generated.lines().count()));
        panic!(
            "include/localkms.h differs from what cbindgen generates from the sources \
             (first at line {}). Refresh it with:\n\n    LOCALKMS_BLESS_HEADER=1 cargo test --test header\n\n\
             and commit the result.",
            first_difference + 1
        );
    }
}

#[test]
fn header_declares_only_kms_names() {
    let header = generate();
    for line in header.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("#define ") {
            let name = rest.split_whitespace().next().unwrap_or("");
            assert!(name == "LOCALKMS_H" || name.starts_with("KMS_"), "{line}");
        }
        if line.starts_with("typedef") {
            assert!(line.contains("kms_"), "{line}");
        }
    }
    for f in [
        "kms_client_open",
        "kms_client_free",
        "kms_client_set_clock",
        "kms_advance_encrypt",
        "kms_encrypt",
        "kms_encrypt_response_free",
        "kms_advance_decrypt",
        "kms_decrypt",
        "kms_decrypt_response_free",
        "kms_key_rotate",
        "kms_update_rotation_policy",
        "kms_create_key",
        "kms_import_key_material",
        "kms_enable_key",
        "kms_disable_key",
        "kms_schedule_key_deletion",
        "kms_cancel_key_deletion",
        "kms_create_alias",
        "kms_update_alias",
        "kms_delete_alias",
        "kms_describe_key",
        "kms_list_keys",
        "kms_list_key_versions",
        "kms_list_aliases",
        "kms_string_free",
        "kms_version",
        "kms_status_code",
        "kms_status_http_status",
    ] {
        let declared = header
            .match_indices(&format!("{f}("))
            .any(|(i, _)| matches!(header.as_bytes().get(i.wrapping_sub(1)), Some(b' ' | b'*')));
        assert!(declared, "{f} is not declared");
    }
}

/// Every function that returns a status documents what it returns, and the header
/// names nothing outside itself and the repository.
#[test]
fn every_fallible_function_documents_its_statuses() {
    let header = generate();
    let mut documented = 0;
    let mut comment = String::new();
    for line in header.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("/**") {
            comment.clear();
        }
        if trimmed.starts_with('*') || trimmed.starts_with("/**") {
            comment.push_str(trimmed);
            comment.push('\n');
        }
        if let Some(rest) = trimmed.strip_prefix("kms_status kms_") {
            let name = rest.split('(').next().unwrap_or("");
            assert!(
                comment.contains("Returns `KMS_STATUS_OK`")
                    || comment.contains("Returns the same statuses as `kms_"),
                "kms_{name} does not document the statuses it returns"
            );
            if !name.starts_with("client_") && !name.starts_with("status") {
                assert!(
                    comment.contains("INTERNAL_FAILURE") || comment.contains("Returns the same"),
                    "kms_{name} does not list INTERNAL_FAILURE"
                );
            }
            documented += 1;
        }
    }
    assert!(
        documented >= 23,
        "only {documented} fallible functions found"
    );
    for outside in ["API.md", "ARCHITECTURE.md", "KMS-FACTS", "shared/"] {
        assert!(
            !header.contains(outside),
            "the header points outside itself: {outside}"
        );
    }
}
