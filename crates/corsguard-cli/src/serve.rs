//! `corsguard serve`: the CORS gateway (reverse proxy) in front of an upstream API.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use corsguard_gateway::{Gateway, GatewayConfig};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// One readable line per event.
    Human,
    /// One JSON object per line (for log shippers).
    Json,
}

const EXAMPLES: &str = "\
Examples:
  # Enforce corsguard.yaml in front of an API on port 9000
  corsguard serve --config corsguard.yaml --listen 127.0.0.1:8080 --upstream http://127.0.0.1:9000

  # Validate the file (policy and gateway section) and exit: 0 valid, 1 invalid
  corsguard serve --config corsguard.yaml --check

  # No file: the policy from environment variables, JSON logs, admin page on :9901
  CORS_ALLOWED_ORIGINS='https://app.example.com' CORSGUARD_ALLOW_CREDENTIALS=true \\
    corsguard serve --upstream http://127.0.0.1:9000 --admin-listen 127.0.0.1:9901 --log-format json

  # Reload after editing the file by hand (it is also watched)
  kill -HUP $(pidof corsguard)

The gateway section of the policy file (every key optional; flags override):
  gateway:
    listen: 127.0.0.1:8080            # --listen
    upstream: http://127.0.0.1:9000   # --upstream; path rules may set their own `upstream`
    admin_listen: 127.0.0.1:9901      # --admin-listen: /healthz /readyz /metrics and /
    tls: { cert: cert.pem, key: key.pem }   # HTTPS with ALPN h2 + http/1.1
    timeouts: { connect: 5s, upstream_response: 30s, client_header_read: 10s, idle: 60s, shutdown_grace: 30s }
    limits: { max_request_header_bytes: 16384, max_body_bytes: 10485760, max_connections: 1024 }
    trusted_proxies: ['10.0.0.0/8']   # whose X-Forwarded-* / Forwarded headers are believed
    websocket: { check_origin: true } # 403 for WebSocket handshakes from origins not allowed

Behaviour:
  Preflights are answered by the gateway (never forwarded, unless `preflight.passthrough`);
  other requests are streamed to the upstream and every Access-Control-* header it returns is
  replaced by the policy's, with Vary merged. The gateway's own errors (502 upstream down,
  504 upstream timeout, 413 body too large, 431 headers too large, 503 over max_connections)
  carry the CORS headers too, so browsers show the real status.
  SIGHUP or a change of the file reloads the policy (an invalid file keeps the running one
  and logs every diagnostic); SIGTERM / Ctrl-C stop accepting and drain in-flight requests
  for up to timeouts.shutdown_grace, then exit 0.
  Logs go to stderr (filter with CORSGUARD_LOG or RUST_LOG, default `info`: one line per
  refused request with origin, path and reason); the listening addresses go to stdout.";

/// Arguments of `corsguard serve`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub(crate) struct Args {
    /// Policy file (YAML or TOML): `defaults:`, `paths:` and an optional `gateway:` section.
    /// Without it the policy comes from CORS_ALLOWED_ORIGINS / CORSGUARD_<OPTION> variables.
    #[arg(long, short = 'c', value_name = "FILE", env = "CORSGUARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 or [::]:443 (overrides `gateway.listen`;
    /// port 0 picks a free port).
    #[arg(long, value_name = "ADDR", env = "CORSGUARD_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Default upstream URL, e.g. http://127.0.0.1:9000 (overrides `gateway.upstream`; path
    /// rules with their own `upstream` keep it).
    #[arg(long, value_name = "URL", env = "CORSGUARD_UPSTREAM")]
    pub upstream: Option<String>,
    /// Admin listener for /healthz, /readyz, /metrics and the admin page (overrides
    /// `gateway.admin_listen`).
    #[arg(long, value_name = "ADDR", env = "CORSGUARD_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
    /// Log format.
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        default_value = "human",
        env = "CORSGUARD_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    /// Validate the configuration (policy, gateway section, upstreams, TLS files) and exit:
    /// 0 if valid, 1 if not, with every diagnostic printed.
    #[arg(long)]
    pub check: bool,
    /// Do not watch the policy file for changes (SIGHUP still reloads it).
    #[arg(long)]
    pub no_watch: bool,
    /// Ignore CORS_ALLOWED_ORIGINS / CORSGUARD_<OPTION> environment overrides.
    #[arg(long)]
    pub no_env: bool,
    /// Also serve the explain endpoint on the gateway listener (GET
    /// /__corsguard/explain?origin=…&method=…&headers=…&credentials=…&path=…, readable
    /// from any origin). Off by default: it reveals how the policy is configured.
    #[arg(long)]
    pub explain_endpoint: bool,
}

/// Sets up `tracing` output on stderr: human-readable or JSON lines, filtered by
/// `CORSGUARD_LOG` (else `RUST_LOG`, else `info`, which shows one line per refused request).
pub(crate) fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("CORSGUARD_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

fn load(args: &Args) -> Result<GatewayConfig, corsguard_gateway::Error> {
    let mut config = match (&args.config, args.no_env) {
        (Some(path), false) => GatewayConfig::from_file_and_env(path)?,
        (Some(path), true) => GatewayConfig::from_file(path)?,
        (None, false) => GatewayConfig::new(corsguard::Policy::from_env()?),
        (None, true) => {
            return Err(corsguard_gateway::Error::Io {
                context: "corsguard serve".into(),
                source: std::io::Error::other(
                    "no policy: pass --config FILE (or drop --no-env to read CORS_ALLOWED_ORIGINS / CORSGUARD_*)",
                ),
            });
        }
    };
    if let Some(l) = args.listen {
        config = config.listen(l);
    }
    if let Some(u) = &args.upstream {
        config = config.upstream(u)?;
    }
    if args.admin_listen.is_some() {
        config = config.admin_listen(args.admin_listen);
    }
    Ok(config
        .watch_file(!args.no_watch && args.config.is_some())
        .explain_endpoint(args.explain_endpoint)
        .handle_signals(true))
}

/// Writes a line to stdout; a closed stdout (`| head -1`) is not an error worth a panic.
fn out(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Runs the command.
pub(crate) fn run(args: Args) -> ExitCode {
    if args.check {
        return check(&args);
    }
    init_logging(args.log_format);
    let config = match load(&args) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("corsguard serve: {e}");
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("corsguard")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corsguard serve: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async move {
        let running = match Gateway::bind(config).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("corsguard serve: {e}");
                return ExitCode::from(1);
            }
        };
        out(format_args!(
            "corsguard gateway listening on {}",
            running.url()
        ));
        if let Some(a) = running.admin_url() {
            out(format_args!("corsguard admin on {a}/"));
        }
        let report = running.wait().await;
        if report.failed {
            eprintln!("corsguard serve: the gateway failed (see the log)");
            ExitCode::from(1)
        } else if report.drained {
            ExitCode::SUCCESS
        } else {
            // Stopping was still orderly: the deadline is part of the contract.
            tracing::warn!(
                connections = report.forced_connections,
                "some connections were closed at the shutdown deadline"
            );
            ExitCode::SUCCESS
        }
    })
}

fn check(args: &Args) -> ExitCode {
    let config = match load(args) {
        Ok(c) => c,
        Err(e) => {
            eprint!("{e}");
            if !e.to_string().ends_with('\n') {
                eprintln!();
            }
            return ExitCode::from(1);
        }
    };
    for w in config.policy().load().warnings() {
        eprintln!("  {w}");
    }
    match config.check() {
        Ok(notes) => {
            let name = args
                .config
                .as_ref()
                .map_or_else(|| "environment".to_owned(), |p| p.display().to_string());
            out(format_args!(
                "{name}: ok ({} rules, {} warnings)",
                config.policy().load().rule_names().len(),
                config.policy().load().warnings().len()
            ));
            for n in notes {
                out(format_args!("  {n}"));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
