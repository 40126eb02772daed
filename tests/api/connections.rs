//! Connection discipline (issue 21): slow heads, idle keep-alive connections, stalled uploads
//! and connection floods are cut off by the server itself, while other clients are served.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{spawn_app_with, TestApp};

/// Longest the tests wait for the server to close a connection (far above every timeout set
/// here, so only a server that never closes fails).
const GUARD: Duration = Duration::from_secs(20);

/// A connection to the app from a loopback address of our choice (all of 127/8 is local).
async fn connect_from(app: &TestApp, from: &str) -> TcpStream {
    let to: SocketAddr = app.address.trim_start_matches("http://").parse().unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0)).unwrap();
    socket.connect(to).await.expect("the connection is accepted by the kernel")
}

/// Reads until the server closes the connection; what it sent before.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(GUARD, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    });
    assert!(read.await.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&seen).into_owned()
}

/// Whether a plain request on a new connection from `from` is answered.
async fn healthz_from(app: &TestApp, from: &str) -> bool {
    let mut stream = connect_from(app, from).await;
    let request = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    read_until_closed(&mut stream).await.starts_with("HTTP/1.1 200")
}

#[tokio::test]
async fn a_head_sent_a_byte_at_a_time_is_cut_off() {
    let app = spawn_app_with(|s| {
        s.http.header_read_timeout_seconds = 1;
        s.http.idle_timeout_seconds = 3600;
    })
    .await;
    let mut stream = connect_from(&app, "127.0.0.1").await;
    let dripping = async {
        for byte in b"GET /healthz HTTP/1.1\r\nHost: example\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if stream.write_all(&[*byte]).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    // Either a write fails because the server closed, or the head is never finished and
    // the read sees the end.
    let cut_while_writing = tokio::time::timeout(GUARD, dripping).await.expect("writing ends");
    if !cut_while_writing {
        let answer = read_until_closed(&mut stream).await;
        assert!(!answer.contains("200 OK"), "a head that never ended was answered: {answer}");
    }
    assert!(healthz_from(&app, "127.0.0.1").await, "others are still served");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let app = spawn_app_with(|s| s.http.idle_timeout_seconds = 1).await;
    let mut stream = connect_from(&app, "127.0.0.1").await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "the request was answered before the close: {answer}");
    // And a connection that never sends anything.
    let mut silent = connect_from(&app, "127.0.0.1").await;
    assert_eq!(read_until_closed(&mut silent).await, "");
}

#[tokio::test]
async fn a_stalled_upload_is_cut_off() {
    let app = spawn_app_with(|s| s.http.body_timeout_seconds = 1).await;
    let mut stream = connect_from(&app, "127.0.0.1").await;
    let head = "POST /melden HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n\
                Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nSchlag";
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 4"), "a stalled upload got: {answer}");
    assert_eq!(app.count("SELECT COUNT(*) FROM reports").await, 0);
}

#[tokio::test]
async fn one_address_gets_its_share_of_connections_and_no_more() {
    let app = spawn_app_with(|s| {
        s.http.max_connections_per_client = 3;
        s.http.idle_timeout_seconds = 3600;
        s.http.header_read_timeout_seconds = 300;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect_from(&app, "127.0.0.2").await;
        stream.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(stream);
    }
    // The fourth is taken by the kernel, then closed by the server before it reads anything.
    let mut over = connect_from(&app, "127.0.0.2").await;
    assert_eq!(read_until_closed(&mut over).await, "");
    assert!(healthz_from(&app, "127.0.0.3").await, "another address is served");
    drop(held.pop());
    crate::helpers::eventually("the address's place is free again", || healthz_from(&app, "127.0.0.2")).await;
}

#[tokio::test]
async fn a_full_server_refuses_new_connections_and_recovers() {
    let app = spawn_app_with(|s| {
        s.http.max_connections = 16;
        s.http.max_connections_per_client = 1;
        s.http.idle_timeout_seconds = 3600;
        s.http.header_read_timeout_seconds = 300;
    })
    .await;
    let mut held = Vec::new();
    for n in 0..16 {
        let mut stream = connect_from(&app, &format!("127.0.1.{}", n + 1)).await;
        stream.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        held.push(stream);
    }
    let mut over = connect_from(&app, "127.0.2.1").await;
    assert_eq!(read_until_closed(&mut over).await, "");
    held.clear();
    crate::helpers::eventually("connections are taken again", || healthz_from(&app, "127.0.2.1")).await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_capped() {
    let app = spawn_app_with(|s| {
        s.http.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        s.http.max_connections_per_client = 1;
        s.http.body_timeout_seconds = 300;
    })
    .await;
    // One upload of 203.0.113.9 in flight through the proxy...
    let mut upload = connect_from(&app, "127.0.0.1").await;
    let head = "POST /melden HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\
                Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n";
    upload.write_all(head.as_bytes()).await.unwrap();
    // ... is in flight once a second request of the same client is turned away.
    let same = || async {
        let response =
            app.http.get(app.url("/healthz")).header("X-Forwarded-For", "203.0.113.9").send().await.expect("answered");
        response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS
    };
    crate::helpers::eventually("the same forwarded client is refused", same).await;
    let other = app.http.get(app.url("/healthz")).header("X-Forwarded-For", "203.0.113.10").send().await.unwrap();
    assert_eq!(other.status(), reqwest::StatusCode::OK, "the proxy's other clients are served");
    drop(upload);
}
