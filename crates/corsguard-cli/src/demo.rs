//! `corsguard demo`: a self-contained demo on loopback — an API, the gateway in front of it
//! with an embedded example policy, and a demo page on a trusted and an untrusted origin.

use std::net::SocketAddr;
use std::process::ExitCode;

use corsguard_gateway::demo::{self, DemoConfig};

use crate::serve::{LogFormat, init_logging};

const EXAMPLES: &str = "\
Examples:
  corsguard demo                         # free ports, printed on start
  corsguard demo --gateway-port 8080 --frontend-port 5173
  corsguard demo --print-policy          # show the embedded example policy and exit

What runs (all on 127.0.0.1):
  demo API       a small JSON API (/api/items GET+PUT, /api/profile GET sets a session cookie,
                 PUT reads it). Like many legacy services it sends its own
                 `Access-Control-Allow-Origin: *` and answers OPTIONS with 401.
  gateway        `corsguard serve` in front of it with the embedded policy: it answers the
                 preflights, replaces the API's CORS headers, and explains its decisions at
                 /__corsguard/explain.
  demo page      served from http://127.0.0.1:<frontend-port> (the allowed origin) and from
                 http://localhost:<untrusted-port> (not allowed). It runs four fetches and
                 shows each result next to the gateway's explanation:

  result id                 request                       trusted page  untrusted page
  allowed-get               GET /api/items                ALLOWED       BLOCKED
  allowed-credentialed-put  PUT /api/profile, with cookie ALLOWED       BLOCKED
  refused-origin            GET from the untrusted origin BLOCKED       BLOCKED
  refused-header            PUT with X-Not-Allowed        BLOCKED       BLOCKED";

/// Arguments of `corsguard demo`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EXAMPLES)]
pub(crate) struct Args {
    /// Port of the gateway (the API origin the page calls); 0 picks a free port.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub gateway_port: u16,
    /// Port of the trusted demo page (http://127.0.0.1:PORT); 0 picks a free port.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub frontend_port: u16,
    /// Port of the untrusted demo page (http://localhost:PORT); 0 picks a free port.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub untrusted_port: u16,
    /// Port of the demo API behind the gateway; 0 picks a free port.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub api_port: u16,
    /// Port of the gateway's admin page (metrics, refused requests with traces); 0 picks a
    /// free port.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub admin_port: u16,
    /// Print the embedded example policy (it documents every option) and exit.
    #[arg(long)]
    pub print_policy: bool,
    /// Log format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "human")]
    pub log_format: LogFormat,
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Runs the command.
pub(crate) fn run(args: Args) -> ExitCode {
    if args.print_policy {
        print!("{}", demo::DEMO_POLICY);
        return ExitCode::SUCCESS;
    }
    init_logging(args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("corsguard demo: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let config = DemoConfig {
        gateway: loopback(args.gateway_port),
        api: loopback(args.api_port),
        frontend: loopback(args.frontend_port),
        untrusted: loopback(args.untrusted_port),
        admin: Some(loopback(args.admin_port)),
    };
    runtime.block_on(async move {
        let running = match demo::start(config).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("corsguard demo: {e}");
                return ExitCode::from(1);
            }
        };
        let u = running.urls();
        println!("corsguard demo is running (Ctrl-C to stop):");
        println!("  demo page (trusted origin):    {}/", u.frontend);
        println!("  same page (untrusted origin):  {}/", u.untrusted);
        println!("  gateway (API origin):          {}", u.gateway);
        if let Some(a) = &u.admin {
            println!("  admin page:                    {a}/");
        }
        println!("  demo API (behind the gateway): {}", u.api);
        println!();
        println!(
            "Open the demo page: two fetches are ALLOWED, two BLOCKED, each explained by the gateway."
        );
        println!("The policy it runs: corsguard demo --print-policy");
        wait_for_signal().await;
        tracing::info!("stopping the demo");
        running.shutdown().await;
        ExitCode::SUCCESS
    })
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
