//! WebSocket upgrades through the gateway, and the handshake Origin check.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::common::{APP, POLICY, gateway};

/// A WebSocket echo server.
async fn echo_upstream() -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(s).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_text() || m.is_binary() {
                        if ws.send(m).await.is_err() {
                            return;
                        }
                    } else if m.is_close() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

async fn connect(
    gw: std::net::SocketAddr,
    origin: Option<&str>,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    WsError,
> {
    let mut req = format!("ws://{gw}/ws").into_client_request().unwrap();
    if let Some(o) = origin {
        req.headers_mut().insert("origin", o.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

async fn echo_once(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    text: &str,
) {
    ws.send(Message::text(text)).await.unwrap();
    let m = tokio::time::timeout(std::time::Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(m.into_text().unwrap().as_str(), text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_upgrade_is_tunnelled() {
    let up = echo_upstream().await;
    let gw = gateway(POLICY, &format!("http://{up}"), |_| {}).await;
    // Without check_origin, any origin passes (CORS does not apply to WebSockets).
    for origin in [Some(APP), Some("https://evil.example"), None] {
        let mut ws = connect(gw.local_addr(), origin).await.unwrap();
        echo_once(&mut ws, "hello").await;
        echo_once(&mut ws, &"x".repeat(100_000)).await;
        ws.close(None).await.unwrap();
    }
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_origin_refuses_foreign_handshakes_with_403() {
    let up = echo_upstream().await;
    let gw = gateway(POLICY, &format!("http://{up}"), |g| {
        g.websocket.check_origin = true
    })
    .await;
    match connect(gw.local_addr(), Some("https://evil.example")).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status(), 403),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("foreign origin was let through"),
    }
    let mut ws = connect(gw.local_addr(), Some(APP)).await.unwrap();
    echo_once(&mut ws, "allowed").await;
    // Non-browser clients send no Origin: not a cross-site hijacking vector, let through.
    let mut ws2 = connect(gw.local_addr(), None).await.unwrap();
    echo_once(&mut ws2, "no origin").await;
    assert!(
        gw.metrics()
            .render()
            .contains("corsguard_gateway_responses_total{status=\"403\"} 1\n")
    );
    drop(ws);
    drop(ws2);
    gw.shutdown().await;
}
