//! A fault-injecting HTTP proxy between the SDK clients and the emulator:
//! on a schedule it answers with throttling errors, 500 / 503, resets the
//! connection or delays the response; every other request goes through.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The service's throttling error, in its protocol's shape.
    Throttle,
    /// 500 InternalError.
    ServerError,
    /// 503 ServiceUnavailable.
    Unavailable,
    /// The connection is reset without an answer.
    Reset,
    /// The answer comes after this delay.
    Slow(Duration),
}

/// Decides, for the n-th request (from 0) and its request head, whether to inject a fault.
pub type Schedule = Box<dyn FnMut(usize, &str) -> Option<Fault> + Send>;

pub struct FaultProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

struct State {
    schedule: Schedule,
    requests: usize,
    injected: Vec<(String, Fault)>,
}

impl FaultProxy {
    /// Listens on loopback and forwards to `upstream` (`http://host:port`).
    pub async fn start(upstream: &str, schedule: Schedule) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let state = Arc::new(Mutex::new(State {
            schedule,
            requests: 0,
            injected: Vec::new(),
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let state = shared.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, state).await;
                });
            }
        });
        FaultProxy {
            url: format!("http://127.0.0.1:{port}"),
            state,
        }
    }

    /// The faults injected so far, each with its request line.
    pub fn injected(&self) -> Vec<(String, Fault)> {
        self.state.lock().map(|s| s.injected.clone()).unwrap_or_default()
    }

    pub fn requests(&self) -> usize {
        self.state.lock().map(|s| s.requests).unwrap_or_default()
    }
}

/// One request per connection (answers carry `Connection: close`).
async fn serve(mut client: TcpStream, upstream: &str, state: Arc<Mutex<State>>) -> std::io::Result<()> {
    let (head, body) = read_request(&mut client).await?;
    let request_line = head.lines().next().unwrap_or_default().to_string();
    let fault = {
        let mut s = state
            .lock()
            .map_err(|_| std::io::Error::other("proxy state poisoned"))?;
        let n = s.requests;
        s.requests += 1;
        let fault = (s.schedule)(n, &head);
        if let Some(f) = fault {
            s.injected.push((request_line.clone(), f));
        }
        fault
    };
    match fault {
        Some(Fault::Reset) => {
            // SO_LINGER 0: closing sends a reset, not an orderly end.
            reset(client);
            Ok(())
        }
        Some(Fault::Throttle) => respond_error(&mut client, &head, 400, "Throttling").await,
        Some(Fault::ServerError) => respond_error(&mut client, &head, 500, "InternalError").await,
        Some(Fault::Unavailable) => respond_error(&mut client, &head, 503, "ServiceUnavailable").await,
        Some(Fault::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            forward(&mut client, upstream, &head, &body).await
        }
        None => forward(&mut client, upstream, &head, &body).await,
    }
}

// Deprecated because a non-zero linger blocks the thread on drop; a zero
// linger does not block: the kernel sends RST at once.
#[allow(deprecated)]
fn reset(client: TcpStream) {
    let _ = client.set_linger(Some(Duration::ZERO));
    drop(client);
}

async fn read_request(client: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let length = header(&head, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((head, body))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Replaces (or adds) the `Connection` header of an HTTP head.
fn with_close(head: &str) -> String {
    let mut lines: Vec<&str> = head
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|l| {
            !l.split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("connection"))
        })
        .collect();
    lines.push("Connection: close");
    format!("{}\r\n\r\n", lines.join("\r\n"))
}

async fn forward(client: &mut TcpStream, upstream: &str, head: &str, body: &[u8]) -> std::io::Result<()> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(with_close(head).as_bytes()).await?;
    server.write_all(body).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(response.len());
    let response_head = String::from_utf8_lossy(&response[..split]).to_string();
    client.write_all(with_close(&response_head).as_bytes()).await?;
    client.write_all(&response[split..]).await?;
    client.shutdown().await
}

/// An error in the shape of the request's protocol, so the SDK classifies it
/// as the real service's would be.
async fn respond_error(client: &mut TcpStream, head: &str, status: u16, code: &str) -> std::io::Result<()> {
    let json = header(head, "x-amz-target").is_some()
        || header(head, "content-type").is_some_and(|c| c.contains("json") || c.contains("cbor"));
    let query = header(head, "content-type").is_some_and(|c| c.contains("x-www-form-urlencoded"));
    let ec2 = head.contains("/ec2/aws4_request");
    let (status, code, content_type, body) = if ec2 {
        // EC2's own shape; its throttling is 503 RequestLimitExceeded.
        let (status, code) = if code == "Throttling" {
            (503, "RequestLimitExceeded")
        } else {
            (status, code)
        };
        (
            status,
            code,
            "text/xml",
            format!("<Response><Errors><Error><Code>{code}</Code><Message>injected by the fault proxy</Message></Error></Errors><RequestID>fault</RequestID></Response>"),
        )
    } else if json {
        let code = if code == "Throttling" {
            "ThrottlingException"
        } else {
            code
        };
        (
            status,
            code,
            "application/x-amz-json-1.1",
            format!(r#"{{"__type":"{code}","message":"injected by the fault proxy"}}"#),
        )
    } else if query {
        (
            status,
            code,
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected by the fault proxy</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
            ),
        )
    } else {
        // S3 (REST-XML): throttling is 503 SlowDown.
        let (status, code) = if code == "Throttling" {
            (503, "SlowDown")
        } else {
            (status, code)
        };
        (
            status,
            code,
            "application/xml",
            format!("<Error><Code>{code}</Code><Message>injected by the fault proxy</Message><RequestId>fault</RequestId></Error>"),
        )
    };
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nx-amzn-ErrorType: {code}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(response.as_bytes()).await?;
    client.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_header_is_replaced() {
        let head = "GET / HTTP/1.1\r\nHost: x\r\nconnection: keep-alive\r\n\r\n";
        assert_eq!(
            with_close(head),
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(header(head, "HOST"), Some("x"));
    }
}
