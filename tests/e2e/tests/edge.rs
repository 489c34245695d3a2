//! The HTTP edge under abuse, over real sockets: half-open connections (slowloris), silent and
//! idle ones, more connections than the limit, and a stop while connections are held.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use entra_emulator::FaultRule;
use sspr_e2e::World;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const POLICY: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";
/// A request head that never ends: the last header's value is still being "typed".
const PARTIAL_HEAD: &[u8] = b"GET /v1/tenants HTTP/1.1\r\nHost: localhost\r\nX-Slow: a";

fn address(world: &World) -> SocketAddr {
    world.service.url.socket_addrs(|| None).expect("address")[0]
}

async fn half_open(address: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.expect("connects");
    stream.write_all(PARTIAL_HEAD).await.expect("writes");
    stream
}

/// Open, with nothing to read: the server has neither answered nor closed it.
fn is_open(stream: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(stream.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Whether the server closes the connection within `wait` (anything it sends first is read).
async fn closes_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// This process's resident memory (Linux).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .expect("VmRSS")
        * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_half_open_connections_do_not_keep_a_normal_request_waiting() {
    // Client and server share this process: 2,000 sockets each side, well under `ulimit -n`.
    let world = World::start().await;
    let token = world.token(&["SSPR.Read"]);
    // The first read signs in to the tenant; the bound below is about the connections.
    assert_eq!(world.get(POLICY, Some(&token)).await.status(), 200);
    let address = address(&world);
    let memory_before = resident_bytes();

    let mut held = Vec::with_capacity(2_000);
    for _ in 0..2_000 {
        held.push(half_open(address).await);
    }
    // A new client, so the request needs a connection of its own to be accepted.
    let fresh = reqwest::Client::new();
    let started = Instant::now();
    let response = fresh
        .get(world.service.url.join(POLICY).expect("url"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the service answers");
    let status = response.status();
    let body = response.text().await.expect("body");
    let elapsed = started.elapsed();

    assert_eq!(status, 200, "{body}");
    assert!(
        elapsed < Duration::from_secs(1),
        "a normal request took {elapsed:?} while 2,000 half-open connections were held"
    );
    let open = held.iter().filter(|stream| is_open(stream)).count();
    assert_eq!(open, 2_000, "the service held every half-open connection");
    let growth = resident_bytes().saturating_sub(memory_before);
    assert!(
        growth < 64 * 1024 * 1024,
        "2,000 half-open connections cost {} MiB",
        growth / (1024 * 1024)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_and_silent_connections_close_after_the_header_read_timeout_idle_ones_later() {
    let world = World::start_with(|config| {
        config.server.header_read_timeout_secs = 1;
        config.server.idle_timeout_secs = 4;
    })
    .await;
    let address = address(&world);
    let opened = Instant::now();
    let mut partial = Vec::new();
    for _ in 0..50 {
        partial.push(half_open(address).await);
    }
    let mut silent = TcpStream::connect(address).await.expect("connects");
    // A kept-alive connection after one complete exchange.
    let mut kept = TcpStream::connect(address).await.expect("connects");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("writes");
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    while !String::from_utf8_lossy(&answer).contains("\"status\":\"ok\"") {
        let read = kept.read(&mut buffer).await.expect("reads");
        assert!(read > 0, "closed before answering");
        answer.extend_from_slice(&buffer[..read]);
    }
    let answered = Instant::now();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        partial.iter().all(is_open) && is_open(&silent),
        "closed before the header-read timeout"
    );
    // Closed at about 1 s after they opened; well before the 4 s idle timeout.
    let header_deadline = opened + Duration::from_millis(2_500);
    for stream in partial.iter_mut().chain([&mut silent]) {
        let left = header_deadline.saturating_duration_since(Instant::now());
        assert!(
            closes_within(stream, left).await,
            "a connection without a whole request head was open {:?} after it opened",
            opened.elapsed()
        );
    }
    // The idle connection outlives the header-read timeout: its own clock is longer.
    tokio::time::sleep_until((answered + Duration::from_secs(2)).into()).await;
    assert!(
        is_open(&kept),
        "an idle connection closed at the header-read timeout"
    );
    let idle_deadline = answered + Duration::from_millis(6_500);
    let left = idle_deadline.saturating_duration_since(Instant::now());
    assert!(
        closes_within(&mut kept, left).await,
        "an idle connection stayed open past the idle timeout"
    );
    assert!(
        answered.elapsed() >= Duration::from_millis(3_500),
        "an idle connection closed after {:?}, before the idle timeout",
        answered.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_limit_a_new_client_waits_until_a_connection_closes() {
    let world = World::start_with(|config| config.server.max_connections = 3).await;
    let address = address(&world);
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(half_open(address).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let health = world.service.url.join("healthz").expect("url");
    let waiting = tokio::spawn(async move { reqwest::get(health).await.map(|r| r.status()) });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!waiting.is_finished(), "a fourth connection was served");
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(3), waiting)
        .await
        .expect("served once a connection closed")
        .expect("task")
        .expect("response");
    assert_eq!(status, 200);
    assert!(held.iter().all(is_open));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_closes_held_connections_at_once_and_lets_a_request_in_flight_finish() {
    let world = World::start().await;
    let World {
        emulator, service, ..
    } = world;
    let address = service.url.socket_addrs(|| None).expect("address")[0];
    let mut held = vec![half_open(address).await, half_open(address).await];
    held.push(TcpStream::connect(address).await.expect("silent"));
    // Graph answers this tenant's reads after a second, so the request is in flight at the stop.
    emulator
        .set_faults(vec![FaultRule {
            method: Some("GET".into()),
            path: None,
            path_prefix: Some("/v1.0/policies/".into()),
            latency_ms: 1_000,
            fault: None,
            probability: 1.0,
            times: None,
        }])
        .expect("faults");
    let token = emulator.mint_token(&entra_emulator::TokenSpec {
        roles: vec!["SSPR.Read".into()],
        ..Default::default()
    });
    let url = service.url.join(POLICY).expect("url");
    let in_flight = tokio::spawn(async move {
        reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map(|r| r.status())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopping = Instant::now();
    service.stop().await.expect("stops");
    let stopped_in = stopping.elapsed();
    assert_eq!(
        in_flight
            .await
            .expect("task")
            .expect("answered before the stop"),
        200
    );
    assert!(
        stopped_in >= Duration::from_millis(500),
        "the stop did not wait for the request in flight ({stopped_in:?})"
    );
    assert!(
        stopped_in < Duration::from_secs(5),
        "stopping took {stopped_in:?} with held connections (header-read timeout 10 s)"
    );
    for stream in &mut held {
        assert!(closes_within(stream, Duration::from_millis(500)).await);
    }
    assert!(
        TcpStream::connect(address).await.is_err(),
        "still accepting after the stop"
    );
}

#[tokio::test]
async fn a_head_beyond_the_read_buffer_is_refused_not_buffered() {
    // hyper buffers max_uri_bytes + max_header_bytes + 8 KiB (32 KiB by default) per connection.
    let world = World::start().await;
    let mut stream = TcpStream::connect(address(&world)).await.expect("connects");
    stream
        .write_all(b"GET /v1/tenants HTTP/1.1\r\nHost: localhost\r\nX-Huge: ")
        .await
        .expect("writes");
    let chunk = vec![b'a'; 8 * 1024];
    for _ in 0..8 {
        // The service may close the connection before all of it is written.
        if stream.write_all(&chunk).await.is_err() {
            break;
        }
    }
    // hyper answers a bare 431 and closes; the unread rest of the head may turn the close into
    // a reset that discards the answer, so the close is what must happen.
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => break true,
            Ok(Ok(read)) => answer.extend_from_slice(&buffer[..read]),
            Err(_) => break false,
        }
    };
    let answer = String::from_utf8_lossy(&answer);
    assert!(closed, "a 64 KiB head kept its connection open: {answer:?}");
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer:?}"
    );
}

#[tokio::test]
async fn http2_is_served_on_the_same_port() {
    let world = World::start().await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let token = world.token(&["SSPR.Read"]);
    let response = h2
        .get(world.service.url.join(POLICY).expect("url"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let missing = h2
        .get(world.service.url.join("v1/nothing").expect("url"))
        .send()
        .await
        .expect("answers");
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
}
