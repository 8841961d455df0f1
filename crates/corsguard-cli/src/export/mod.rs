//! `corsguard export nginx|envoy --config FILE`: the policy as configuration for an existing
//! edge proxy. Whatever the target cannot express exactly is listed as a warning (on stderr
//! and as comments at the top of the output) or refused with an error; nothing is dropped
//! silently.
//!
//! Exit status: 0 exported (warnings included), 1 the target cannot express the policy,
//! 2 usage error or invalid policy.

pub mod envoy;
pub mod model;
pub mod nginx;

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
  corsguard export envoy --config corsguard.yaml --bootstrap --listen 127.0.0.1:8080 --upstream http://127.0.0.1:9000 > envoy.yaml

Warnings (what the target does differently) go to stderr and into the output as comments.
Exit status: 0 exported, 1 the target cannot express the policy, 2 usage error or invalid policy.")]
pub struct Args {
    /// The target: `nginx` (maps + server blocks for `http { }`) or `envoy` (a Lua filter, the
    /// CORS filter and a route configuration with `CorsPolicy` per route).
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
    /// nginx: the `listen` parameters of the server blocks. envoy --bootstrap: the listener,
    /// `PORT` (on 0.0.0.0), `ADDR:PORT` or `[V6]:PORT`.
    #[arg(long, default_value = "80", value_name = "LISTEN")]
    pub listen: String,
    /// nginx: the `server_name` of the default server.
    #[arg(long, default_value = "_", value_name = "NAME")]
    pub server_name: String,
    /// envoy: the cluster routes send to (default `app`; rules with their own `upstream` get
    /// a cluster named after the rule).
    #[arg(long, default_value = "app", value_name = "NAME")]
    pub cluster: String,
    /// envoy: a complete runnable bootstrap (listener, connection manager, filters, routes,
    /// clusters) instead of a fragment.
    #[arg(long)]
    pub bootstrap: bool,
    /// envoy --bootstrap: also an admin interface on `ADDR:PORT` (none by default).
    #[arg(long, value_name = "ADDR:PORT", requires = "bootstrap")]
    pub admin: Option<String>,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Export targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// nginx (`map` + `server` blocks; tested against nginx 1.22).
    Nginx,
    /// Envoy (a Lua filter, `envoy.filters.http.cors` + `CorsPolicy` in
    /// `typed_per_filter_config`; tested against Envoy 1.40).
    Envoy,
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

/// Runs the command.
pub fn run(args: Args) -> ExitCode {
    let style = Style::detect_stderr();
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
