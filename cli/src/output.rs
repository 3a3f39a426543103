//! What the tool prints: one JSON document on standard output, or the service's
//! error on standard error, and the exit status of each error class.

use std::io::Write;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use localkms::{Error, ErrorKind};
use zeroize::Zeroizing;

/// A JSON object written field by field, in order, into a buffer that is wiped
/// when dropped (it may hold a plaintext in Base64). The buffer never reallocates
/// in place: growing it copies into a new buffer and wipes the old one.
pub struct JsonObject {
    buf: Zeroizing<String>,
}

impl JsonObject {
    pub fn new() -> JsonObject {
        let mut buf = Zeroizing::new(String::with_capacity(512));
        buf.push('{');
        JsonObject { buf }
    }

    /// Makes room for `extra` more bytes without leaving a copy behind.
    fn reserve(&mut self, extra: usize) {
        let needed = self.buf.len().saturating_add(extra);
        if needed <= self.buf.capacity() {
            return;
        }
        let mut bigger = Zeroizing::new(String::with_capacity(needed.max(2 * self.buf.capacity())));
        bigger.push_str(&self.buf);
        self.buf = bigger;
    }

    fn key(&mut self, key: &str) {
        self.reserve(key.len() + 4);
        if self.buf.len() > 1 {
            self.buf.push(',');
        }
        push_json_string(&mut self.buf, key);
        self.buf.push(':');
    }

    /// A string field.
    pub fn string(mut self, key: &str, value: &str) -> JsonObject {
        self.key(key);
        // Worst case: every character escaped as \u00XX.
        self.reserve(value.len().saturating_mul(6).saturating_add(2));
        push_json_string(&mut self.buf, value);
        self
    }

    /// A binary field, in standard Base64.
    pub fn base64(mut self, key: &str, value: &[u8]) -> JsonObject {
        self.key(key);
        let encoded = base64::encoded_len(value.len(), true).unwrap_or(usize::MAX);
        self.reserve(encoded.saturating_add(2));
        self.buf.push('"');
        STANDARD.encode_string(value, &mut self.buf);
        self.buf.push('"');
        self
    }

    /// A number field.
    pub fn number(mut self, key: &str, value: u64) -> JsonObject {
        self.key(key);
        let text = value.to_string();
        self.reserve(text.len());
        self.buf.push_str(&text);
        self
    }

    /// The finished document.
    pub fn finish(mut self) -> Zeroizing<String> {
        self.reserve(1);
        self.buf.push('}');
        self.buf
    }
}

/// Appends `value` as a JSON string literal. The caller has reserved room.
fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The exit status of an error: 2 bad request, 3 not found, 4 key state, 5 key
/// store, 6 internal (the hundreds of its permanent status number).
pub fn exit_status(kind: ErrorKind) -> u8 {
    match kind.status() / 100 {
        1 => 2,
        2 => 3,
        3 => 4,
        4 => 5,
        _ => 6,
    }
}

/// Prints a document and a newline on standard output.
pub fn print_document(document: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(document.as_bytes())?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}

/// Prints `{"Code","Message","HttpStatus","RequestId"}` on standard error and
/// returns the exit status. An error made by the tool itself (no library call
/// behind it) gets a fresh RequestId.
pub fn report_error(error: &Error) -> u8 {
    let request_id = if error.request_id().is_empty() {
        localkms::ids::new_request_id().unwrap_or_default()
    } else {
        error.request_id().to_owned()
    };
    let document = JsonObject::new()
        .string("Code", error.code())
        .string("Message", error.message())
        .number("HttpStatus", u64::from(error.http_status()))
        .string("RequestId", &request_id)
        .finish();
    let mut stderr = std::io::stderr().lock();
    // Nothing is left to report a failure to.
    let _ = stderr
        .write_all(document.as_bytes())
        .and_then(|()| stderr.write_all(b"\n"));
    exit_status(error.kind())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_valid_json_in_order() {
        let doc = JsonObject::new()
            .string("A", "q\"\\\n\u{1}é")
            .base64("B", b"\x00\xffhi")
            .number("C", 404)
            .finish();
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(value["A"], "q\"\\\n\u{1}é");
        assert_eq!(value["B"], "AP9oaQ==");
        assert_eq!(value["C"], 404);
        assert!(doc.find("\"A\"").unwrap() < doc.find("\"B\"").unwrap());
        let big = JsonObject::new().base64("P", &[7u8; 5000]).finish();
        assert!(serde_json::from_str::<serde_json::Value>(&big).is_ok());
        assert_eq!(JsonObject::new().finish().as_str(), "{}");
    }

    #[test]
    fn every_kind_has_its_class_status() {
        for kind in ErrorKind::ALL {
            let expected = match kind.http_status() {
                400 => 2,
                404 => 3,
                409 => 4,
                _ if kind == ErrorKind::InternalFailure => 6,
                _ => 5,
            };
            assert_eq!(exit_status(kind), expected, "{kind:?}");
        }
    }
}
