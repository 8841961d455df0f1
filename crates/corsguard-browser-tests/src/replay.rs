//! Replays the requests `corsguard_browser` would send against the live SUT, so that the
//! model judges exactly the responses the SUT produces (third leg of the check).
//!
//! A deliberately small, blocking HTTP/1.1 client over `std::net`: the model's responder is
//! a synchronous closure, and the CORS checks need only the status line and the header lines
//! exactly as sent (repeated lines included, which a typed client might merge).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use corsguard_browser::{ResponseView, SimRequest};

use crate::fixture::REPLAY_HEADER;

/// Upper bound on a response head.
const MAX_HEAD: usize = 64 * 1024;

/// Sends `req` to the server named by its URL (loopback only: `127.0.0.1`, `localhost` and
/// `*.localhost` all connect to `127.0.0.1`) and returns the status and header lines. Errors
/// become a status-0 response carrying the error text in an `x-replay-error` header (what
/// the browser would see as a network error).
pub fn replay(req: &SimRequest, timeout: Duration) -> ResponseView {
    match send(req, timeout) {
        Ok(v) => v,
        Err(e) => ResponseView::new(0).with_header("x-replay-error", e),
    }
}

fn send(req: &SimRequest, timeout: Duration) -> Result<ResponseView, String> {
    let url = url::Url::parse(&req.url).map_err(|e| format!("bad URL {}: {e}", req.url))?;
    let host = url.host_str().unwrap_or("");
    if !(host == "127.0.0.1" || host == "localhost" || host.ends_with(".localhost")) {
        return Err(format!("refusing to replay to a non-loopback host {host}"));
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let mut head = format!("{} {target} HTTP/1.1\r\nHost: {authority}\r\n", req.method);
    for (n, v) in &req.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!("{REPLAY_HEADER}: 1\r\n"));
    if !matches!(req.method.as_str(), "GET" | "HEAD" | "OPTIONS") {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .map_err(|e| format!("write: {e}"))?;

    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err("response head too large".into());
        }
        let n = stream.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("connection closed before a response head".into());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
    };
    parse_head(buf.get(..end).unwrap_or(&[]))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses a status line and header lines (values decoded as Latin-1).
pub fn parse_head(head: &[u8]) -> Result<ResponseView, String> {
    let text: String = head.iter().map(|&b| char::from(b)).collect();
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut view = ResponseView::new(status);
    for line in lines {
        if let Some((n, v)) = line.split_once(':') {
            view.push_header(n.trim(), v.trim_matches([' ', '\t']));
        }
    }
    Ok(view)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::parse_head;

    #[test]
    fn parses_status_and_repeated_lines() {
        let v = parse_head(
            b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\naccess-control-allow-origin:  *\r\nVary: Origin",
        )
        .unwrap();
        assert_eq!(v.status, 204);
        assert_eq!(v.get_all("access-control-allow-origin"), vec!["*", "*"]);
        assert_eq!(v.get("vary").as_deref(), Some("Origin"));
    }
}
