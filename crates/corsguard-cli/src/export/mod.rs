//! `corsguard export TARGET --config FILE` (nginx, envoy, haproxy, caddy, traefik,
//! gateway-api, istio): the policy as configuration for an existing edge proxy. Whatever the
//! target cannot express exactly is listed as a warning (on stderr
//! and as comments at the top of the output) or refused with an error; nothing is dropped
//! silently.
//!
//! Exit status: 0 exported (warnings included), 1 the target cannot express the policy,
//! 2 usage error or invalid policy.

pub mod caddy;
pub mod envoy;
pub mod haproxy;
pub mod k8s;
pub mod model;
pub mod nginx;
pub mod traefik;

use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

pub use nginx::wrap as nginx_wrap;

use crate::check;
use crate::check::render::Style;

/// Arguments of `corsguard export`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  corsguard export nginx --config corsguard.yaml --upstream http://127.0.0.1:9000 > /etc/nginx/conf.d/api.conf
  corsguard export nginx --config corsguard.yaml --listen '443 ssl' --server-name api.example.com
  corsguard export envoy --config corsguard.yaml --cluster api > cors-routes.yaml
  corsguard export traefik --config corsguard.yaml --upstream http://127.0.0.1:9000 --listen :8080 --output-dir traefik/
  corsguard export gateway-api --config corsguard.yaml --parent-ref infra/edge --backend api:8080 > route.yaml
  corsguard export istio --config corsguard.yaml --parent-ref istio-system/ingress --backend api:8080
  corsguard export haproxy --config corsguard.yaml --upstream http://127.0.0.1:9000 --listen :8080 -o haproxy.cfg
  corsguard export caddy --config corsguard.yaml --upstream http://127.0.0.1:9000 --listen :8080 -o caddy.json
  corsguard export envoy --config corsguard.yaml --bootstrap --listen 127.0.0.1:8080 --upstream http://127.0.0.1:9000 > envoy.yaml

Warnings (what the target does differently) go to stderr and into the output as comments.
Exit status: 0 exported, 1 the target cannot express the policy, 2 usage error or invalid policy.")]
pub struct Args {
    /// The target: `nginx` (maps + server blocks for `http { }`), `envoy` (the CORS filter
    /// and a route configuration with `CorsPolicy` per route), `haproxy` (a complete
    /// haproxy.cfg), `caddy` (a complete Caddy JSON configuration), `traefik` (routers and
    /// headers middlewares for the file provider), `gateway-api` (HTTPRoute) or `istio`
    /// (VirtualService). envoy: a Lua filter, the CORS filter and a route configuration with
    /// `CorsPolicy` per route (`--bootstrap`: a complete runnable configuration).
    #[arg(value_enum)]
    pub target: Target,
    /// The corsguard policy (`.yaml`, `.yml` or `.toml`).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// Apply environment overrides (`CORS_ALLOWED_ORIGINS`, `CORSGUARD_<OPTION>`) first.
    #[arg(long)]
    pub env: bool,
    /// Where the application runs (default: `gateway.upstream` of the policy); rules with
    /// their own `upstream` keep it.
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,
    /// Where the exported server listens: nginx's `listen` parameters (`8080`,
    /// `127.0.0.1:8080`, `443 ssl`); haproxy, caddy and traefik: `ADDR:PORT` or `:PORT` (a
    /// bare port listens on every address); envoy --bootstrap: the listener, `PORT` (on
    /// 0.0.0.0), `ADDR:PORT` or `[V6]:PORT`.
    #[arg(long, default_value = "80", value_name = "LISTEN")]
    pub listen: String,
    /// nginx: the `server_name` of the default server.
    #[arg(long, default_value = "_", value_name = "NAME")]
    pub server_name: String,
    /// envoy: the cluster routes send to (default `app`; rules with their own `upstream` get
    /// a cluster named after the rule).
    #[arg(long, default_value = "app", value_name = "NAME")]
    pub cluster: String,
    /// gateway-api, istio: `metadata.name` of the HTTPRoute / VirtualService (routes for
    /// host-specific rules get the host as a suffix).
    #[arg(long, default_value = "corsguard", value_name = "NAME")]
    pub name: String,
    /// gateway-api, istio: `metadata.namespace` (default: none, kubectl's current namespace).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// gateway-api, istio: the Gateway to attach to, `[NAMESPACE/]NAME[/SECTION]` (repeatable;
    /// HTTPRoute `parentRefs`, VirtualService `gateways`).
    #[arg(long = "parent-ref", value_name = "GATEWAY")]
    pub parent_refs: Vec<String>,
    /// gateway-api, istio: the Service every rule sends to, `SERVICE[.NAMESPACE]:PORT`.
    #[arg(long, default_value = "app:80", value_name = "SVC:PORT")]
    pub backend: String,
    /// gateway-api, istio: host names of the whole route (repeatable; HTTPRoute `hostnames`,
    /// VirtualService `hosts`, default `*`).
    #[arg(long = "hostname", value_name = "HOST")]
    pub hostnames: Vec<String>,
    /// envoy: a complete runnable bootstrap (listener, connection manager, filters, routes,
    /// clusters) instead of a fragment.
    #[arg(long)]
    pub bootstrap: bool,
    /// envoy --bootstrap: also an admin interface on `ADDR:PORT` (none by default).
    #[arg(long, value_name = "ADDR:PORT", requires = "bootstrap")]
    pub admin: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "output_dir")]
    pub output: Option<PathBuf>,
    /// traefik: write the static (`traefik.yaml`) and the dynamic (`dynamic.yaml`)
    /// configuration into this directory (created if needed); without it only the dynamic
    /// configuration is written.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// Export targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// nginx (`map` + `server` blocks; tested against nginx 1.22).
    Nginx,
    /// Envoy (a Lua filter, `envoy.filters.http.cors` + `CorsPolicy` in
    /// `typed_per_filter_config`; tested against Envoy 1.40).
    Envoy,
    /// Traefik 3 (routers + `headers` middlewares for the file provider; tested against
    /// Traefik 3.7).
    Traefik,
    /// Kubernetes Gateway API v1.5 (`HTTPRoute` with the `CORS` filter per rule).
    GatewayApi,
    /// Istio (`VirtualService` with `corsPolicy` per HTTP route).
    Istio,
    /// HAProxy (a complete haproxy.cfg: ACLs, variables, `http-request return`,
    /// `http-after-response`; tested against HAProxy 2.6).
    Haproxy,
    /// Caddy (a complete JSON configuration: matchers, `static_response`, `headers`,
    /// `reverse_proxy`; tested against Caddy 2.6).
    Caddy,
}

/// One difference between corsguard and the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The rule it concerns (`paths[1]`, `defaults`), or `None` for the whole export.
    pub rule: Option<String>,
    /// What differs.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(r) => write!(f, "{r}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The warnings of one export, without duplicates, in the order found.
#[derive(Debug, Clone, Default)]
pub struct Warnings(Vec<Warning>);

impl Warnings {
    /// Adds a warning (once).
    pub fn push(&mut self, rule: Option<&str>, message: &str) {
        let w = Warning {
            rule: rule.map(str::to_owned),
            message: message.to_owned(),
        };
        if !self.0.contains(&w) {
            self.0.push(w);
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The warnings.
    pub fn iter(&self) -> impl Iterator<Item = &Warning> {
        self.0.iter()
    }
}

/// An exported configuration.
#[derive(Debug, Clone)]
pub struct Export {
    /// The configuration text (warnings included as comments).
    pub text: String,
    /// What the target does differently.
    pub warnings: Warnings,
}

/// `scheme://host[:port]` of an upstream URL, for `proxy_pass` (no path: a path would change
/// how nginx rewrites the URI, and is not allowed in regex locations).
pub fn proxy_target(upstream: &str) -> Result<String, String> {
    let u = url::Url::parse(upstream).map_err(|e| format!("upstream `{upstream}`: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("upstream `{upstream}` must be http:// or https://"));
    }
    let host = u
        .host_str()
        .ok_or_else(|| format!("upstream `{upstream}` has no host"))?;
    if u.path() != "/" && !u.path().is_empty() {
        return Err(format!(
            "upstream `{upstream}` has a path (`{}`); the export proxies the request URI unchanged, so give only scheme://host[:port]",
            u.path()
        ));
    }
    if u.query().is_some() || u.fragment().is_some() {
        return Err(format!(
            "upstream `{upstream}` must not have a query or fragment"
        ));
    }
    Ok(match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    })
}

/// The Kubernetes options out of the command line (usage errors as text).
fn k8s_options(args: &Args, source_name: String) -> Result<k8s::K8sOptions, String> {
    k8s::dns_subdomain(&args.name, "--name")?;
    if let Some(ns) = &args.namespace {
        k8s::dns_label(ns, "--namespace")?;
    }
    for h in &args.hostnames {
        let bare = h.strip_prefix("*.").unwrap_or(h);
        if h != "*" || args.target != Target::Istio {
            k8s::dns_subdomain(bare, "--hostname")?;
        }
    }
    Ok(k8s::K8sOptions {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        parent_refs: args
            .parent_refs
            .iter()
            .map(|p| k8s::ParentRef::parse(p))
            .collect::<Result<_, _>>()?,
        backend: k8s::Backend::parse(&args.backend)?,
        hostnames: args.hostnames.clone(),
        source_name,
    })
}

/// Options of the exports that write a complete server (HAProxy, Caddy).
#[derive(Debug, Clone)]
pub struct EdgeOptions {
    /// Where the server listens (`127.0.0.1:8080`, `:80`; a bare port means every address).
    pub listen: String,
    /// The upstream every rule proxies to (unless a rule has its own).
    pub upstream: Option<String>,
    /// The policy file name, for the header comment.
    pub source_name: String,
}

/// A listen address as HAProxy's `bind` and Caddy's `listen` want it: a bare port (`8080`)
/// becomes `:8080` (every address); anything else is kept.
pub fn listen_address(listen: &str) -> String {
    let listen = listen.trim();
    if !listen.is_empty() && listen.bytes().all(|b| b.is_ascii_digit()) {
        format!(":{listen}")
    } else {
        listen.to_owned()
    }
}

/// The warnings every engine without corsguard's own runtime shares: origin and path regexes
/// in `engine`'s `dialect` (`a PCRE`, `RE2`), shadow mode, CSRF report mode, the `gateway:`
/// section, and the decision log. Origin regexes are listed once, with the rules using them.
pub fn runtime_gaps(w: &mut Warnings, model: &model::PolicyModel, engine: &str, dialect: &str) {
    let enforced = model
        .rules
        .iter()
        .filter_map(|r| r.cors.as_ref().map(|c| (r, c)))
        .filter(|(_, c)| c.mode == corsguard::Mode::Enforce);
    let mut regexes: Vec<(String, Vec<String>)> = Vec::new();
    for (r, c) in enforced {
        for o in &c.origins {
            if let model::OriginEntry::Regex(re) = o {
                match regexes.iter_mut().find(|(x, _)| x == re) {
                    Some((_, rules)) => rules.push(r.name.clone()),
                    None => regexes.push((re.clone(), vec![r.name.clone()])),
                }
            }
        }
    }
    for (re, rules) in regexes {
        w.push(
            None,
            &format!("origin regex `{re}` ({}) runs as {dialect} in {engine} (corsguard uses Rust `regex` syntax, where `\\d`, `\\w` and `.` are Unicode-aware); check that it means the same", rules.join(", ")),
        );
    }
    for r in &model.rules {
        if let model::PathMatch::Regex(re) = &r.path {
            w.push(
                Some(&r.name),
                &format!("path regex `{re}` runs as {dialect} in {engine} (corsguard uses Rust `regex` syntax)"),
            );
        }
        if r.cors
            .as_ref()
            .is_some_and(|c| c.mode == corsguard::Mode::Shadow)
        {
            w.push(
                Some(&r.name),
                &format!("mode: shadow has no {engine} equivalent (no decision log, no metrics): the rule proxies without touching CORS headers, as shadow mode does"),
            );
        }
        if r.csrf.as_ref().is_some_and(|c| !c.enforce) {
            w.push(
                Some(&r.name),
                &format!("csrf mode: report has no {engine} equivalent (nothing is logged or counted): unsafe cross-origin requests pass unchanged"),
            );
        }
    }
    if model.has_gateway {
        w.push(
            None,
            &format!("the `gateway:` section (listen, TLS, timeouts, limits, trusted proxies, WebSocket origin check) is not exported; configure {engine}'s own equivalents"),
        );
    }
    w.push(
        None,
        &format!("corsguard's decision log, traces and metrics have no {engine} equivalent"),
    );
}

/// Runs the command.
pub fn run(args: Args) -> ExitCode {
    let style = Style::detect_stderr();
    if args.output_dir.is_some() && args.target != Target::Traefik {
        eprintln!(
            "corsguard export: --output-dir is for targets that need several files (traefik); use --output FILE"
        );
        return ExitCode::from(2);
    }
    let checked = check::load(&args.config, args.env);
    let policy = match &checked.result {
        Ok(p) => p.clone(),
        Err(_) => {
            eprint!("{}", check::render_checked(&checked, style, false));
            eprint!("{}", check::summary(&checked, style));
            return ExitCode::from(2);
        }
    };
    let model = match model::PolicyModel::of(&policy) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("corsguard export: {e}");
            return ExitCode::from(1);
        }
    };
    let source_name = args.config.display().to_string();
    let result = match args.target {
        Target::Nginx => nginx::export(
            &model,
            &nginx::NginxOptions {
                listen: args.listen.clone(),
                server_name: args.server_name.clone(),
                upstream: args.upstream.clone(),
                source_name,
            },
        ),
        Target::Envoy => envoy::export(
            &model,
            &envoy::EnvoyOptions {
                cluster: args.cluster.clone(),
                upstream: args.upstream.clone(),
                source_name,
                bootstrap: args.bootstrap.then(|| envoy::BootstrapOptions {
                    listen: args.listen.clone(),
                    admin: args.admin.clone(),
                }),
            },
        ),
        Target::Traefik => traefik::export(
            &model,
            &traefik::TraefikOptions {
                upstream: args.upstream.clone(),
                source_name,
                with_static: args.output_dir.is_some(),
            },
        ),
        Target::GatewayApi | Target::Istio => {
            let opts = match k8s_options(&args, source_name) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("corsguard export: {e}");
                    return ExitCode::from(2);
                }
            };
            if args.target == Target::Istio {
                k8s::istio::export(&model, &opts)
            } else {
                k8s::gateway_api::export(&model, &opts)
            }
        }
        Target::Haproxy => haproxy::export(
            &model,
            &haproxy::HaproxyOptions {
                listen: args.listen.clone(),
                upstream: args.upstream.clone(),
                source_name,
            },
        ),
        Target::Caddy => caddy::export(
            &model,
            &caddy::CaddyOptions {
                listen: args.listen.clone(),
                upstream: args.upstream.clone(),
                source_name,
            },
        ),
    };
    let export = match result {
        Ok(e) => e,
        Err(e) => {
            let red = anstyle::AnsiColor::Red.on_default().bold();
            eprintln!("{}: {e}", style.paint(red, "error"));
            return ExitCode::from(1);
        }
    };
    let yellow = anstyle::AnsiColor::Yellow.on_default().bold();
    for w in export.warnings.iter() {
        eprintln!("{}: {w}", style.paint(yellow, "warning"));
    }
    if let Some(dir) = &args.output_dir {
        return write_traefik_dir(dir, &args, &export);
    }
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &export.text) {
                eprintln!("corsguard export: cannot write {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
        None => print!("{}", export.text),
    }
    ExitCode::SUCCESS
}

/// `--output-dir DIR` for Traefik: `dynamic.yaml` and the `traefik.yaml` that loads it (by
/// absolute path).
fn write_traefik_dir(dir: &std::path::Path, args: &Args, export: &Export) -> ExitCode {
    let fail = |what: &std::path::Path, e: std::io::Error| {
        eprintln!("corsguard export: cannot write {}: {e}", what.display());
        ExitCode::from(2)
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        return fail(dir, e);
    }
    let abs = match std::fs::canonicalize(dir) {
        Ok(a) => a,
        Err(e) => return fail(dir, e),
    };
    let dynamic = abs.join(traefik::DYNAMIC_FILE);
    if let Err(e) = std::fs::write(&dynamic, &export.text) {
        return fail(&dynamic, e);
    }
    let static_text = traefik::static_config(
        &traefik::entry_point_address(&args.listen),
        &dynamic.display().to_string(),
        &args.config.display().to_string(),
    );
    let static_path = abs.join(traefik::STATIC_FILE);
    if let Err(e) = std::fs::write(&static_path, static_text) {
        return fail(&static_path, e);
    }
    ExitCode::SUCCESS
}
