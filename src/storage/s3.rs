//! Photos on an S3-compatible store (`storage.photos_url = "s3://BUCKET/PREFIX"`): object_store's
//! S3 client, signing with ring, sending through our own reqwest (rustls with the bundled and the
//! system's roots), so no second HTTP or TLS stack is built in.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use object_store::aws::AmazonS3Builder;
use object_store::client::{
    ClientOptions, HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpResponse, HttpResponseBody,
    HttpService,
};
use object_store::prefix::PrefixStore;
use object_store::ObjectStore;

use super::StorageError;
use crate::config::{secret, S3Addressing, StorageSettings};

/// Longest an S3 request may take (a photo is at most a few MiB).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The store `settings.photos_url` names; the settings win over the `AWS_*` environment.
pub fn open(settings: &StorageSettings) -> Result<Arc<dyn ObjectStore>, StorageError> {
    let url = settings.photos_url.trim();
    let (bucket, prefix) =
        url.trim_start_matches("s3://").split_once('/').unwrap_or((url.trim_start_matches("s3://"), ""));
    let mut builder = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_virtual_hosted_style_request(settings.s3_addressing == S3Addressing::Virtual)
        .with_http_connector(Connector);
    let endpoint = settings.s3_endpoint.trim();
    if !endpoint.is_empty() {
        builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
    }
    if !settings.s3_region.trim().is_empty() {
        builder = builder.with_region(settings.s3_region.trim());
    }
    if let Some(key) = secret(&settings.s3_access_key_id) {
        builder = builder.with_access_key_id(key);
    }
    if let Some(key) = secret(&settings.s3_secret_access_key) {
        builder = builder.with_secret_access_key(key);
    }
    let store = builder.build()?;
    let prefix = prefix.trim_matches('/');
    Ok(if prefix.is_empty() { Arc::new(store) } else { Arc::new(PrefixStore::new(store, prefix)) })
}

/// Hands object_store a client built on our reqwest.
#[derive(Debug)]
struct Connector;

impl HttpConnector for Connector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| object_store::Error::Generic { store: "S3", source: Box::new(error) })?;
        Ok(HttpClient::new(Service(client)))
    }
}

#[derive(Debug)]
struct Service(reqwest::Client);

#[async_trait::async_trait]
impl HttpService for Service {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let url = reqwest::Url::parse(&parts.uri.to_string()).map_err(|e| HttpError::new(HttpErrorKind::Request, e))?;
        let mut outgoing = reqwest::Request::new(parts.method, url);
        *outgoing.headers_mut() = parts.headers;
        *outgoing.body_mut() = Some(reqwest::Body::wrap(body));
        let response = self.0.execute(outgoing).await.map_err(|e| HttpError::new(kind(&e), e))?;
        let response: http::Response<reqwest::Body> = response.into();
        let (parts, body) = response.into_parts();
        let body = HttpResponseBody::new(body.map_err(|e| HttpError::new(kind(&e), e)));
        Ok(HttpResponse::from_parts(parts, body))
    }
}

/// How object_store should treat a failure (it retries the connection and request kinds).
fn kind(error: &reqwest::Error) -> HttpErrorKind {
    if error.is_timeout() {
        HttpErrorKind::Timeout
    } else if error.is_connect() {
        HttpErrorKind::Connect
    } else if error.is_body() || error.is_decode() {
        HttpErrorKind::Decode
    } else {
        HttpErrorKind::Request
    }
}
