//! `corsguard import nelmio|django|ingress-nginx|istio|gateway-api FILE`: convert another
//! framework's CORS configuration into a corsguard policy (YAML on stdout), with warnings
//! (on stderr and as comments in the output) wherever the original semantics were unsafe or
//! differ.
//!
//! The result is validated with the engine; entries the engine rejects but the source system
//! accepted (a forbidden request header in a django list, an `http://` origin with
//! credentials …) are fixed up and warned about, so the output always loads unless the
//! source itself was broken.
//!
//! Exit status: 0 converted (warnings included), 1 the source could not be converted into a
//! valid policy, 2 usage error or unreadable file.

pub mod django;
pub mod gateway_api;
pub mod ingress_nginx;
pub mod istio;
pub mod k8s;
pub mod nelmio;
pub mod out;
pub mod python;

use std::path::PathBuf;
use std::process::ExitCode;

use corsguard::{Code, Format, Policy, Severity};

use crate::check::render::{self, Style};
use out::{Doc, Options};

/// Arguments of `corsguard import`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  corsguard import nelmio config/packages/nelmio_cors.yaml > corsguard.yaml
  corsguard import django myproject/settings.py -o corsguard.yaml
  corsguard import ingress-nginx ingress.yaml > corsguard.yaml
  corsguard import istio virtualservice.yaml
  corsguard import gateway-api httproute.yaml

Only the CORS configuration is read (for django: the module-level CORS_* assignments; no
Python is run). Warnings go to stderr and into the output as comments.
Exit status: 0 converted, 1 the result is not a valid policy, 2 usage error or unreadable file.")]
pub struct Args {
    /// The source format.
    #[arg(value_enum)]
    pub from: Source,
    /// The file to convert (`nelmio_cors.yaml`, `settings.py`, a Kubernetes manifest).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Write the policy to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Supported sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    /// NelmioCorsBundle (Symfony): `config/packages/nelmio_cors.yaml`.
    Nelmio,
    /// django-cors-headers: the `CORS_*` settings of a `settings.py`.
    Django,
    /// ingress-nginx: the `nginx.ingress.kubernetes.io/cors-*` annotations of an Ingress
    /// manifest (several documents allowed), or a plain annotations map.
    IngressNginx,
    /// Istio: the `corsPolicy` of VirtualService HTTP routes.
    Istio,
    /// Kubernetes Gateway API: the `CORS` filters of HTTPRoutes.
    GatewayApi,
}

/// Converts `text` and validates the result, fixing what the source accepted but corsguard
/// rejects. Returns the document and the engine's verdict on it.
pub fn convert(
    from: Source,
    text: &str,
    source: &str,
) -> Result<(Doc, Result<Policy, corsguard::ConfigErrors>), String> {
    let mut doc = match from {
        Source::Nelmio => nelmio::convert(text, source)?,
        Source::Django => django::convert(text, source)?,
        Source::IngressNginx => ingress_nginx::convert(text, source)?,
        Source::Istio => istio::convert(text, source)?,
        Source::GatewayApi => gateway_api::convert(text, source)?,
    };
    // Bounded: each round removes or changes at least one thing.
    for _ in 0..32 {
        let yaml = doc.render();
        let result = Policy::load().text(&yaml, "<import>", Format::Yaml).build();
        let Err(errors) = &result else {
            return Ok((doc, result));
        };
        if !fix_up(&mut doc, errors) {
            return Ok((doc, result));
        }
    }
    let yaml = doc.render();
    let result = Policy::load().text(&yaml, "<import>", Format::Yaml).build();
    Ok((doc, result))
}

/// Repairs what the engine rejects in a converted document; `false` when nothing could be
/// repaired.
fn fix_up(doc: &mut Doc, errors: &corsguard::ConfigErrors) -> bool {
    let mut changed = false;
    // Remove list items from the highest index down so indices stay valid.
    let mut removals: Vec<(String, &'static str, usize, String)> = Vec::new();
    for d in errors.errors() {
        let path = d.location.path.as_str();
        let Some((scope, rest)) = split_scope(path) else {
            continue;
        };
        match d.code {
            Code::HeaderForbidden
            | Code::HeaderResponseName
            | Code::HeaderInvalid
            | Code::MethodForbidden
            | Code::MethodInvalid
            | Code::ExposeSetCookie
            | Code::ExposeInvalid => {
                if let Some((key, idx)) = list_index(rest) {
                    removals.push((scope.to_owned(), key, idx, d.message.clone()));
                }
            }
            Code::OriginInsecureCredentials => {
                if let Some(o) = options_mut(doc, scope)
                    && o.allow_insecure_origins_with_credentials.is_none()
                {
                    o.allow_insecure_origins_with_credentials = Some(true);
                    o.note("allow_insecure_origins_with_credentials", "set by the import: the source allowed plain-http origins with credentials (see the warnings)");
                    let msg = d.message.clone();
                    doc.warn(format!("{scope}: {msg}; the source system allowed it, so `allow_insecure_origins_with_credentials: true` keeps it working: prefer https origins"));
                    changed = true;
                }
            }
            Code::OriginPublicSuffixCredentials => {
                let msg = d.message.clone();
                doc.warn(format!("{scope}: {msg}: review this entry"));
            }
            Code::MaxAgeRange => {
                if let Some(o) = options_mut(doc, scope)
                    && o.max_age.is_some()
                {
                    o.max_age = o.max_age.map(|m| m.clamp(0, 86_400));
                    changed = true;
                }
            }
            _ => {}
        }
    }
    removals.sort_by_key(|r| std::cmp::Reverse(r.2));
    for (scope, key, idx, message) in removals {
        let Some(o) = options_mut(doc, &scope) else {
            continue;
        };
        let list = match key {
            "allow_headers" => o.allow_headers.as_mut(),
            "allow_methods" => o.allow_methods.as_mut(),
            "expose_headers" => o.expose_headers.as_mut(),
            _ => None,
        };
        if let Some(l) = list
            && idx < l.len()
        {
            let removed = l.remove(idx);
            doc.warn(format!("{scope}.{key}: `{removed}` left out: {message}"));
            changed = true;
        }
    }
    changed
}

/// `defaults.allow_headers[3]` → (`defaults`, `allow_headers[3]`); `paths[1].x` likewise.
fn split_scope(path: &str) -> Option<(&str, &str)> {
    if let Some(rest) = path.strip_prefix("defaults.") {
        return Some(("defaults", rest));
    }
    if path.starts_with("paths[") {
        let end = path.find(']')? + 1;
        let rest = path.get(end..)?.strip_prefix('.')?;
        return Some((path.get(..end)?, rest));
    }
    None
}

fn list_index(rest: &str) -> Option<(&'static str, usize)> {
    let (key, idx) = rest.split_once('[')?;
    let idx: usize = idx.strip_suffix(']')?.parse().ok()?;
    let key = match key {
        "allow_headers" => "allow_headers",
        "allow_methods" => "allow_methods",
        "expose_headers" => "expose_headers",
        _ => return None,
    };
    Some((key, idx))
}

fn options_mut<'d>(doc: &'d mut Doc, scope: &str) -> Option<&'d mut Options> {
    if scope == "defaults" {
        return Some(&mut doc.defaults);
    }
    let i: usize = scope
        .strip_prefix("paths[")?
        .strip_suffix(']')?
        .parse()
        .ok()?;
    doc.paths.get_mut(i).map(|r| &mut r.options)
}

/// Runs the command.
pub fn run(args: Args) -> ExitCode {
    let style = Style::detect_stderr();
    let name = args.file.display().to_string();
    // The engine's bounded read: a device, a FIFO or a file over 16 MiB is refused, not read.
    let text = match corsguard::read_config_file(&args.file, corsguard::DEFAULT_MAX_CONFIG_BYTES) {
        Ok(t) => t,
        Err(e) => {
            for d in e.errors() {
                eprintln!("corsguard import: {d}");
            }
            return ExitCode::from(2);
        }
    };
    let (doc, result) = match convert(args.from, &text, &name) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("corsguard import: {e}");
            return ExitCode::from(1);
        }
    };
    let yaml = doc.render();
    let yellow = anstyle::AnsiColor::Yellow.on_default().bold();
    for w in &doc.warnings {
        eprintln!("{}: {w}", style.paint(yellow, "warning"));
    }
    let status = match &result {
        Ok(_) => 0,
        Err(errors) => {
            eprintln!("corsguard import: the converted policy is not valid:");
            for d in errors
                .diagnostics()
                .iter()
                .filter(|d| d.severity == Severity::Error)
            {
                eprint!(
                    "{}",
                    render::render(d, "<converted>", Some(&yaml), style, false)
                );
            }
            1
        }
    };
    if let Some(path) = &args.output {
        if let Err(e) = std::fs::write(path, &yaml) {
            eprintln!("corsguard import: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    } else {
        print!("{yaml}");
    }
    ExitCode::from(status)
}
