//! Typed errors. Every SDK error becomes an [`AwsError`] through one `From`,
//! classified once into retryable / not-found / access-denied / other so the
//! engine can decide between "let Lambda retry" and "record a final outcome".

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// Throttling, 5xx, timeouts, dropped connections: worth retrying.
    Retryable,
    /// The resource is gone (deleted, or never created): nothing to fix.
    NotFound,
    /// The caller's role lacks a permission.
    AccessDenied,
    /// Anything else the service rejected; retrying will not help.
    Rejected,
}

#[derive(Debug, Clone)]
pub struct AwsError {
    pub kind: AwsErrorKind,
    pub code: String,
    pub message: String,
    /// The IAM action that was being exercised, when the caller said so.
    pub action: Option<&'static str>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = self.action.map(|a| format!(" during {a}")).unwrap_or_default();
        match self.kind {
            AwsErrorKind::AccessDenied => write!(
                f,
                "access denied{action}: Safeguard's role is missing the permission {}{}",
                self.action.unwrap_or("(unknown action)"),
                suffix(&self.message)
            ),
            _ => write!(f, "{}{action}{}", self.code, suffix(&self.message)),
        }
    }
}

fn suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input event cannot be understood. Never retryable.
    #[error("malformed event: {0}")]
    Event(String),
    /// Configuration from the environment is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Aws(AwsError),
    /// Data returned by AWS (a policy document, say) that we could not use.
    #[error("unexpected response: {0}")]
    Unexpected(String),
}

impl Error {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Aws(e) if e.kind == AwsErrorKind::Retryable)
    }

    /// The service's error code, for the few codes a control handles itself.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Aws(e) => Some(&e.code),
            _ => None,
        }
    }

    /// For services that say "not found" with a code of their own (GuardDuty
    /// answers BadRequestException for a deleted detector): those codes mean
    /// the resource is gone.
    pub fn gone_if(self, codes: &[&str]) -> Error {
        match self {
            Error::Aws(mut e) if codes.contains(&e.code.as_str()) => {
                e.kind = AwsErrorKind::NotFound;
                Error::Aws(e)
            }
            other => other,
        }
    }

    pub fn kind(&self) -> Option<AwsErrorKind> {
        match self {
            Error::Aws(e) => Some(e.kind),
            _ => None,
        }
    }
}

const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeoutException",
];

const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "Forbidden",
    "AllAccessDisabled",
];

fn classify(code: &str, status: Option<u16>) -> AwsErrorKind {
    if THROTTLING_CODES.contains(&code) || status.is_some_and(|s| s >= 500 || s == 429) {
        AwsErrorKind::Retryable
    } else if ACCESS_DENIED_CODES.contains(&code) || status == Some(403) {
        AwsErrorKind::AccessDenied
    } else if code.starts_with("NoSuch") || code.contains("NotFound") || status == Some(404) {
        AwsErrorKind::NotFound
    } else {
        AwsErrorKind::Rejected
    }
}

impl<E, R> From<SdkError<E, R>> for Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + HttpStatus,
{
    fn from(err: SdkError<E, R>) -> Self {
        let aws = match &err {
            SdkError::ServiceError(ctx) => {
                let status = ctx.raw().status_code();
                // An answer without an error code still has its status to go by.
                let code = match (ctx.err().code(), status) {
                    (Some(code), _) => code.to_string(),
                    (None, Some(status)) => format!("HTTP {status}"),
                    (None, None) => "Unknown".to_string(),
                };
                let message = ctx.err().message().unwrap_or_default().to_string();
                AwsError {
                    kind: classify(&code, status),
                    code,
                    message,
                    action: None,
                }
            }
            SdkError::TimeoutError(_) => AwsError {
                kind: AwsErrorKind::Retryable,
                code: "Timeout".into(),
                message: format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&err)),
                action: None,
            },
            SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => AwsError {
                kind: AwsErrorKind::Retryable,
                code: "ConnectionError".into(),
                message: format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&err)),
                action: None,
            },
            _ => AwsError {
                kind: AwsErrorKind::Rejected,
                code: "RequestNotSent".into(),
                message: format!("{}", aws_smithy_types::error::display::DisplayErrorContext(&err)),
                action: None,
            },
        };
        Error::Aws(aws)
    }
}

/// A bounded wait (an SDK waiter) that did not end in the wanted state.
pub fn wait_failed<E: std::error::Error + 'static>(what: &str, err: E) -> Error {
    Error::Aws(AwsError {
        kind: AwsErrorKind::Rejected,
        code: "WaitFailed".into(),
        message: format!(
            "{what}: {}",
            aws_smithy_types::error::display::DisplayErrorContext(&err)
        ),
        action: None,
    })
}

/// The same error, with a note on what was done about it.
pub fn annotate(err: Error, note: &str) -> Error {
    match err {
        Error::Aws(mut e) => {
            e.message = if e.message.is_empty() {
                note.to_string()
            } else {
                format!("{}; {note}", e.message)
            };
            Error::Aws(e)
        }
        Error::Unexpected(m) => Error::Unexpected(format!("{m}; {note}")),
        other => other,
    }
}

/// The HTTP status of a raw response, so classification works for any SDK.
pub trait HttpStatus {
    fn status_code(&self) -> Option<u16>;
}

impl HttpStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> Option<u16> {
        Some(self.status().as_u16())
    }
}

/// Attach the IAM action being exercised to an SDK error, so an AccessDenied
/// alert can name the missing permission.
pub trait During<T> {
    fn during(self, action: &'static str) -> Result<T, Error>;
}

impl<T, E: Into<Error>> During<T> for Result<T, E> {
    fn during(self, action: &'static str) -> Result<T, Error> {
        self.map_err(|e| match e.into() {
            Error::Aws(mut aws) => {
                aws.action = Some(action);
                Error::Aws(aws)
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_code_and_status() {
        assert_eq!(classify("SlowDown", Some(503)), AwsErrorKind::Retryable);
        assert_eq!(classify("Whatever", Some(500)), AwsErrorKind::Retryable);
        assert_eq!(classify("AccessDenied", Some(403)), AwsErrorKind::AccessDenied);
        assert_eq!(classify("NoSuchBucket", Some(404)), AwsErrorKind::NotFound);
        assert_eq!(classify("InvalidRequest", Some(400)), AwsErrorKind::Rejected);
    }

    #[test]
    fn access_denied_names_the_action() {
        let err = Error::Aws(AwsError {
            kind: AwsErrorKind::AccessDenied,
            code: "AccessDenied".into(),
            message: "not authorized".into(),
            action: Some("s3:PutBucketAcl"),
        });
        let text = err.to_string();
        assert!(text.contains("missing the permission s3:PutBucketAcl"), "{text}");
        assert!(!err.is_retryable());
    }
}
