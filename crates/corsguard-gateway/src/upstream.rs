//! Upstream URLs, the routing table (which upstream serves a request) and the pooled client.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use corsguard::Versioned;
use http::Uri;
use http::uri::{Authority, PathAndQuery, Scheme};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::body::RequestBody;
use crate::error::Error;

/// The pooled upstream client: HTTP/1.1 (keep-alive pool), `http://` and `https://`.
pub(crate) type UpstreamClient = Client<HttpsConnector<HttpConnector>, RequestBody>;

/// A parsed upstream URL: scheme, authority and an optional base path.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    url: String,
    scheme: Scheme,
    authority: Authority,
    /// Base path without a trailing slash (`""` for none).
    base: String,
}

impl Upstream {
    pub(crate) fn parse(s: &str) -> Result<Upstream, Error> {
        let bad = |reason: String| Error::InvalidUpstream {
            url: s.to_owned(),
            reason,
        };
        let u = url::Url::parse(s).map_err(|e| bad(e.to_string()))?;
        let scheme = match u.scheme() {
            "http" => Scheme::HTTP,
            "https" => Scheme::HTTPS,
            other => return Err(bad(format!("scheme must be http or https, not `{other}`"))),
        };
        if u.query().is_some() || u.fragment().is_some() {
            return Err(bad("must not have a query or fragment".into()));
        }
        let host = u.host_str().ok_or_else(|| bad("no host".into()))?;
        let auth = match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        let authority: Authority = auth.parse().map_err(|e| bad(format!("{e}")))?;
        let base = u.path().trim_end_matches('/').to_owned();
        Ok(Upstream {
            url: s.to_owned(),
            scheme,
            authority,
            base,
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.url
    }

    pub(crate) fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The upstream URI for a request's path and query: base path + request path.
    pub(crate) fn uri_for(&self, pq: Option<&PathAndQuery>) -> Result<Uri, http::Error> {
        let pq = pq.map_or("/", PathAndQuery::as_str);
        let pq = if self.base.is_empty() {
            PathAndQuery::try_from(pq)?
        } else {
            PathAndQuery::try_from(format!("{}{pq}", self.base))?
        };
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(pq)
            .build()
    }
}

/// Which upstream serves a rule, computed once per policy version.
#[derive(Debug)]
struct RouteTable {
    version: u64,
    /// Index = path rule index; the last entry is `defaults`.
    rules: Vec<Option<Upstream>>,
    /// The policy file's `gateway.upstream`.
    file_default: Option<Upstream>,
}

/// Resolves the upstream for a decision's rule: the rule's own `upstream`, else the
/// command-line override, else the (current) file's `gateway.upstream`.
#[derive(Debug)]
pub(crate) struct Routes {
    override_: Option<Upstream>,
    table: ArcSwapOption<RouteTable>,
}

impl Routes {
    pub(crate) fn new(override_: Option<Upstream>) -> Routes {
        Routes {
            override_,
            table: ArcSwapOption::empty(),
        }
    }

    fn table(&self, policy: &Versioned) -> Arc<RouteTable> {
        if let Some(t) = self.table.load_full()
            && t.version == policy.version
        {
            return t;
        }
        let rules = policy
            .summaries()
            .into_iter()
            .map(|s| {
                s.upstream
                    .as_deref()
                    .and_then(|u| match Upstream::parse(u) {
                        Ok(u) => Some(u),
                        Err(e) => {
                            tracing::error!(rule = %s.name, "{e}");
                            None
                        }
                    })
            })
            .collect();
        let file_default = policy
            .gateway()
            .and_then(|g| g.upstream.as_deref())
            .and_then(|u| Upstream::parse(u).ok());
        let t = Arc::new(RouteTable {
            version: policy.version,
            rules,
            file_default,
        });
        self.table.store(Some(t.clone()));
        t
    }

    pub(crate) fn resolve(&self, policy: &Versioned, rule: Option<usize>) -> Option<Upstream> {
        let t = self.table(policy);
        let own = match rule {
            Some(i) => t.rules.get(i),
            None => t.rules.last(),
        };
        own.and_then(Option::as_ref)
            .or(self.override_.as_ref())
            .or(t.file_default.as_ref())
            .cloned()
    }
}

/// Builds the pooled client. `https://` upstreams are verified against the system's roots;
/// when none can be loaded, plain-http upstreams still work and https ones fail with 502.
pub(crate) fn client(connect_timeout: Duration, idle: Duration) -> Result<UpstreamClient, Error> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = match hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider.clone())
    {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("no system root certificates ({e}); https upstreams will fail");
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| Error::Tls {
                    file: "<upstream client>".into(),
                    reason: e.to_string(),
                })?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
        }
    };
    let connector = builder.https_or_http().enable_http1().wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(idle)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(connector))
}
