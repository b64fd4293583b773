//! Where the local emulator (moto) and the Rust SDK disagree on the wire.
//! Installed only when `AWS_ENDPOINT_URL` points the SDK somewhere else than
//! AWS, so nothing here runs against a real account; tests stay plain SDK
//! calls. Each quirk is matched narrowly (method, path, query) and rewrites
//! only what it must.

use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

/// The SDK's default HTTP(S) client with the emulator's quirks absorbed.
pub fn client() -> SharedHttpClient {
    let inner = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https();
    SharedHttpClient::new(Quirks { inner })
}

#[derive(Debug, Clone)]
struct Quirks {
    inner: SharedHttpClient,
}

impl HttpClient for Quirks {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        SharedHttpConnector::new(QuirksConnector {
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct QuirksConnector {
    inner: SharedHttpConnector,
}

/// S3 GetBucketVersioning: moto names the XML root `GetBucketVersioningResponse`;
/// S3 (and the SDK's parser) call it `VersioningConfiguration`.
const VERSIONING_ROOT: (&str, &str) = ("GetBucketVersioningResponse", "VersioningConfiguration");

/// The URI split at `?`: path (with scheme and host) and query.
fn split(uri: &str) -> (&str, &str) {
    uri.split_once('?').unwrap_or((uri, ""))
}

fn is_get_bucket_versioning(request: &HttpRequest) -> bool {
    let (_, query) = split(request.uri());
    request.method() == "GET" && query.split('&').any(|p| p == "versioning" || p == "versioning=")
}

/// AWS Backup ListTags: the SDK asks for `/tags/{arn}`, which moto only
/// routes with a trailing slash (AWS takes both).
fn backup_list_tags_uri(request: &HttpRequest) -> Option<String> {
    let (path, query) = split(request.uri());
    let backup_arn = path.contains("/tags/arn:aws:backup") || path.contains("/tags/arn%3Aaws%3Abackup");
    if request.method() != "GET" || !backup_arn || path.ends_with('/') {
        return None;
    }
    Some(if query.is_empty() {
        format!("{path}/")
    } else {
        format!("{path}/?{query}")
    })
}

impl HttpConnector for QuirksConnector {
    fn call(&self, mut request: HttpRequest) -> HttpConnectorFuture {
        if let Some(uri) = backup_list_tags_uri(&request) {
            if let Err(e) = request.set_uri(uri) {
                return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into())));
            }
        }
        let rename_root = is_get_bucket_versioning(&request);
        let inner = self.inner.clone();
        HttpConnectorFuture::new(async move {
            let mut response = inner.call(request).await?;
            if rename_root && response.status().is_success() {
                let body = ByteStream::new(response.take_body())
                    .collect()
                    .await
                    .map_err(|e| ConnectorError::io(e.into()))?
                    .into_bytes();
                let (from, to) = VERSIONING_ROOT;
                let text = String::from_utf8_lossy(&body)
                    .replace(&format!("<{from}"), &format!("<{to}"))
                    .replace(&format!("</{from}>"), &format!("</{to}>"));
                response.headers_mut().insert("content-length", text.len().to_string());
                *response.body_mut() = SdkBody::from(text);
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, uri: &str) -> HttpRequest {
        let mut r = HttpRequest::empty();
        assert!(r.set_uri(uri).is_ok() && r.set_method(method).is_ok());
        r
    }

    #[test]
    fn only_backup_list_tags_gets_a_trailing_slash() {
        let arn = "http://127.0.0.1:5000/tags/arn:aws:backup:us-east-1:123456789012:backup-vault:v";
        assert_eq!(backup_list_tags_uri(&request("GET", arn)), Some(format!("{arn}/")));
        assert_eq!(
            backup_list_tags_uri(&request("GET", &format!("{arn}?maxResults=5"))),
            Some(format!("{arn}/?maxResults=5"))
        );
        assert_eq!(backup_list_tags_uri(&request("POST", arn)), None);
        assert_eq!(backup_list_tags_uri(&request("GET", &format!("{arn}/"))), None);
        let lambda = "http://127.0.0.1:5000/2017-03-31/tags/arn:aws:lambda:us-east-1:1:function:f";
        assert_eq!(backup_list_tags_uri(&request("GET", lambda)), None);
    }

    #[test]
    fn versioning_is_recognised_by_its_query() {
        assert!(is_get_bucket_versioning(&request("GET", "http://h/b/?versioning")));
        assert!(!is_get_bucket_versioning(&request("PUT", "http://h/b/?versioning")));
        assert!(!is_get_bucket_versioning(&request("GET", "http://h/b/?versions")));
        assert!(!is_get_bucket_versioning(&request("GET", "http://h/versioning")));
    }
}
