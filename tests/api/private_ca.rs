//! Outgoing TLS trusts the machine's certificate store (docs/operations.md, "TLS"): a town whose
//! partners, proxy or S3 store carry certificates of its own internal CA adds that CA to the
//! system store, and Meldeweg's HTTPS calls trust it. Here the Cloud API sits behind a TLS
//! front whose certificate a test CA signed (tests/fixtures/tls, see SOURCES.md); a `meldeweg
//! serve` process whose store holds that CA (`SSL_CERT_FILE`, as rustls-native-certs reads it)
//! gets its reply through, one whose store does not refuses the handshake and sends nothing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{crypto, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::helpers::*;

#[tokio::test]
async fn outgoing_https_trusts_a_ca_from_the_system_store_and_only_then() {
    let app = spawn_app_with(|s| s.queue.in_process = false).await;
    let front = TlsFront::start(&app.graph.url).await;
    let api = format!("https://localhost:{}", front.port);
    let ca = tls_fixture("ca.pem").display().to_string();

    // Without the town's CA in the store, the handshake fails and nothing reaches the API.
    let untrusting = Served::start(&app, &[("MELDEWEG_WHATSAPP_API_BASE_URL", &api)]).await;
    let citizen = Citizen::new();
    untrusting.send(&citizen, text("Hallo")).await;
    eventually("a refused handshake", || async { front.refused() > 0 }).await;
    assert_eq!(front.relayed(), 0, "no connection got through");
    assert!(app.graph.requests().is_empty(), "nothing was sent through an untrusted connection");
    untrusting.stop().await;

    // With it, the same reply goes out (the job is retried by the next process).
    let trusting = Served::start(&app, &[("MELDEWEG_WHATSAPP_API_BASE_URL", &api), ("SSL_CERT_FILE", &ca)]).await;
    let replies = app.replies(&citizen, 1).await;
    assert!(!replies[0].is_empty(), "{replies:?}");
    assert!(front.relayed() > 0, "the reply went through the TLS front");
    trusting.stop().await;
}

/// A TLS front on a random local port with the certificate for `localhost` that the test CA
/// signed; it passes each connection on to `upstream` (an `http://` URL) and counts handshakes.
struct TlsFront {
    port: u16,
    relayed: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

impl TlsFront {
    async fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let certs = CertificateDer::pem_file_iter(tls_fixture("localhost.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(tls_fixture("localhost.key")).unwrap();
        let config = ServerConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (relayed, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let counts = (relayed.clone(), refused.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, upstream, (relayed, refused)) = (acceptor.clone(), upstream.clone(), counts.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        refused.fetch_add(1, Ordering::SeqCst);
                        return;
                    };
                    relayed.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut plain) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                });
            }
        });
        Self { port, relayed, refused }
    }

    fn relayed(&self) -> usize {
        self.relayed.load(Ordering::SeqCst)
    }

    fn refused(&self) -> usize {
        self.refused.load(Ordering::SeqCst)
    }
}

fn tls_fixture(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}
