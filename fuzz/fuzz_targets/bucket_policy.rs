//! Any text as a bucket policy: the public / admin analyses and the TLS merge
//! must return; a merge that succeeds must deny plain HTTP and keep every
//! original statement.
#![no_main]

// The encryption function's merge itself, compiled here without the
// function's AWS clients (it needs only serde_json and safeguard::policy).
#[path = "../../functions/encryption/src/tls_policy.rs"]
mod tls_policy;

use libfuzzer_sys::fuzz_target;
use safeguard::policy::{admin_statements, decode_document, public_allows, statements};
use tls_policy::{has_tls_deny, merge};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let decoded = decode_document(text);
    let parsed = serde_json::from_str::<serde_json::Value>(&decoded).ok();
    if let Some(policy) = &parsed {
        let _ = public_allows(policy);
        let _ = admin_statements(policy);
    }
    if let Ok(merged) = merge(Some(text), "fuzz-bucket") {
        assert!(has_tls_deny(&merged), "merged policy lacks the TLS deny: {merged}");
        let before = parsed.as_ref().map(|p| statements(p).len()).unwrap_or(0);
        assert!(statements(&merged).len() >= before, "the merge dropped statements");
        assert!(serde_json::to_string(&merged).is_ok());
    }
});
