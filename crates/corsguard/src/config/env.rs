//! Environment overrides: `CORS_ALLOWED_ORIGINS` (alias `CORS_ORIGIN_WHITELIST`, as in
//! django-cors-headers) and `CORSGUARD_<OPTION>` replace the corresponding `defaults:` values.
//! Values go through the same validation as file values; diagnostics name the variable.

use super::raw::{Mode, OnReject, RawConfig, RawOptions, RawOrigin, V};
use crate::Code;
use crate::diagnostic::{Diagnostic, Location, Severity, SourceKind, did_you_mean};

/// Variables that belong to other parts of corsguard and are not policy options.
const RESERVED: &[&str] = &[
    "CORSGUARD_CONFIG",
    "CORSGUARD_LOG",
    "CORSGUARD_LOG_FORMAT",
    "CORSGUARD_SKIP_BROWSER",
    "CORSGUARD_LISTEN",
    "CORSGUARD_UPSTREAM",
    "CORSGUARD_ADMIN_LISTEN",
];

/// The `CORSGUARD_*` option variables.
pub(crate) const OPTION_VARS: &[&str] = &[
    "CORSGUARD_ALLOW_ORIGINS",
    "CORSGUARD_ALLOW_METHODS",
    "CORSGUARD_ALLOW_HEADERS",
    "CORSGUARD_EXPOSE_HEADERS",
    "CORSGUARD_ALLOW_CREDENTIALS",
    "CORSGUARD_MAX_AGE",
    "CORSGUARD_ALLOW_PRIVATE_NETWORK",
    "CORSGUARD_ALLOW_NULL_ORIGIN",
    "CORSGUARD_SKIP_SAME_ORIGIN",
    "CORSGUARD_FORCED_ALLOW_ORIGIN",
    "CORSGUARD_PREFLIGHT_STATUS",
    "CORSGUARD_PREFLIGHT_PASSTHROUGH",
    "CORSGUARD_ON_REJECT",
    "CORSGUARD_MODE",
    "CORSGUARD_ALLOW_INSECURE_ORIGINS_WITH_CREDENTIALS",
    "CORSGUARD_ALLOW_PUBLIC_SUFFIX_WILDCARDS_WITH_CREDENTIALS",
    "CORSGUARD_CSRF_MODE",
    "CORSGUARD_CSRF_TRUSTED_ORIGINS",
    "CORSGUARD_CSRF_ALLOW_SAME_SITE",
];

struct EnvCtx<'d> {
    diags: &'d mut Vec<Diagnostic>,
}

impl EnvCtx<'_> {
    fn loc(var: &str, path: &str) -> Location {
        Location::new(
            SourceKind::Env {
                var: var.to_owned(),
            },
            path,
        )
    }

    fn diag(
        &mut self,
        severity: Severity,
        code: Code,
        var: &str,
        path: &str,
        message: String,
        hint: Option<String>,
    ) {
        self.diags.push(Diagnostic {
            severity,
            code,
            message,
            hint,
            location: Self::loc(var, path),
        });
    }

    fn list(&mut self, var: &str, path: &str, value: &str) -> Option<V<Vec<V<String>>>> {
        let items: Vec<String> = if value.trim_start().starts_with('[') {
            match serde_json::from_str::<Vec<String>>(value) {
                Ok(v) => v,
                Err(e) => {
                    self.diag(
                        Severity::Error,
                        Code::EnvInvalidList,
                        var,
                        path,
                        format!("{var} looks like a JSON array but does not parse: {e}"),
                        Some(r#"write ["https://a.example","https://b.example"] or a comma-separated list"#.into()),
                    );
                    return None;
                }
            }
        } else {
            value
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        Some(V::new(
            items
                .into_iter()
                .enumerate()
                .map(|(i, s)| V::new(s, Self::loc(var, &format!("{path}[{i}]"))))
                .collect(),
            Self::loc(var, path),
        ))
    }

    fn bool(&mut self, var: &str, path: &str, value: &str) -> Option<V<bool>> {
        let b = match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" | "" => false,
            _ => {
                self.diag(
                    Severity::Error,
                    Code::EnvInvalidBool,
                    var,
                    path,
                    format!("{var}=`{value}` is not a boolean"),
                    Some("use true or false".into()),
                );
                return None;
            }
        };
        Some(V::new(b, Self::loc(var, path)))
    }

    fn int(&mut self, var: &str, path: &str, value: &str) -> Option<V<i64>> {
        match value.trim().parse::<i64>() {
            Ok(i) => Some(V::new(i, Self::loc(var, path))),
            Err(_) => {
                self.diag(
                    Severity::Error,
                    Code::EnvInvalidInt,
                    var,
                    path,
                    format!("{var}=`{value}` is not an integer"),
                    None,
                );
                None
            }
        }
    }
}

/// Applies the variables to `cfg.defaults`.
pub(crate) fn apply(cfg: &mut RawConfig, vars: &[(String, String)], diags: &mut Vec<Diagnostic>) {
    let mut cx = EnvCtx { diags };
    let d = &mut cfg.defaults;
    allow_origins(&mut cx, vars, d);
    for (name, value) in vars {
        let Some(opt) = name.strip_prefix("CORSGUARD_") else {
            continue;
        };
        if RESERVED.contains(&name.as_str()) {
            continue;
        }
        option(&mut cx, d, name, opt, value);
    }
}

/// The allow-list: `CORS_ALLOWED_ORIGINS` (django-cors-headers' name), its old alias
/// `CORS_ORIGIN_WHITELIST`, or `CORSGUARD_ALLOW_ORIGINS`.
fn allow_origins(cx: &mut EnvCtx<'_>, vars: &[(String, String)], d: &mut RawOptions) {
    let get = |name: &str| {
        vars.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let origins_var = match (get("CORS_ALLOWED_ORIGINS"), get("CORS_ORIGIN_WHITELIST")) {
        (Some(v), Some(_)) => {
            cx.diag(
                Severity::Warning,
                Code::EnvAliasIgnored,
                "CORS_ORIGIN_WHITELIST",
                "defaults.allow_origins",
                "both CORS_ALLOWED_ORIGINS and its old alias CORS_ORIGIN_WHITELIST are set; CORS_ORIGIN_WHITELIST is ignored".into(),
                Some("unset CORS_ORIGIN_WHITELIST".into()),
            );
            Some(("CORS_ALLOWED_ORIGINS", v))
        }
        (Some(v), None) => Some(("CORS_ALLOWED_ORIGINS", v)),
        (None, Some(v)) => Some(("CORS_ORIGIN_WHITELIST", v)),
        (None, None) => get("CORSGUARD_ALLOW_ORIGINS").map(|v| ("CORSGUARD_ALLOW_ORIGINS", v)),
    };
    if let Some((var, value)) = origins_var
        && let Some(list) = cx.list(var, "defaults.allow_origins", value)
    {
        d.allow_origins = Some(origin_list(list));
    }
}

/// Origins read from a list variable, as `allow_origins` entries.
fn origin_list(list: V<Vec<V<String>>>) -> V<Vec<V<RawOrigin>>> {
    V::new(
        list.value
            .into_iter()
            .map(|s| V::new(RawOrigin::Text(s.value), s.loc))
            .collect(),
        list.loc,
    )
}

/// One `CORSGUARD_<OPTION>` variable (`opt` is its name without the prefix).
fn option(cx: &mut EnvCtx<'_>, d: &mut RawOptions, name: &str, opt: &str, value: &str) {
    let path = format!("defaults.{}", opt.to_ascii_lowercase());
    match name {
        "CORSGUARD_ALLOW_ORIGINS" => {}
        "CORSGUARD_ALLOW_METHODS" => d.allow_methods = cx.list(name, &path, value),
        "CORSGUARD_ALLOW_HEADERS" => d.allow_headers = cx.list(name, &path, value),
        "CORSGUARD_EXPOSE_HEADERS" => d.expose_headers = cx.list(name, &path, value),
        "CORSGUARD_ALLOW_CREDENTIALS" => d.allow_credentials = cx.bool(name, &path, value),
        "CORSGUARD_ALLOW_PRIVATE_NETWORK" => d.allow_private_network = cx.bool(name, &path, value),
        "CORSGUARD_ALLOW_NULL_ORIGIN" => d.allow_null_origin = cx.bool(name, &path, value),
        "CORSGUARD_SKIP_SAME_ORIGIN" => d.skip_same_origin = cx.bool(name, &path, value),
        "CORSGUARD_PREFLIGHT_PASSTHROUGH" => {
            d.preflight_passthrough = cx.bool(name, "defaults.preflight.passthrough", value)
        }
        "CORSGUARD_ALLOW_INSECURE_ORIGINS_WITH_CREDENTIALS" => {
            d.allow_insecure_origins_with_credentials = cx.bool(name, &path, value)
        }
        "CORSGUARD_ALLOW_PUBLIC_SUFFIX_WILDCARDS_WITH_CREDENTIALS" => {
            d.allow_public_suffix_wildcards_with_credentials = cx.bool(name, &path, value)
        }
        "CORSGUARD_MAX_AGE" => d.max_age = cx.int(name, &path, value),
        "CORSGUARD_PREFLIGHT_STATUS" => {
            d.preflight_status = cx.int(name, "defaults.preflight.status", value)
        }
        "CORSGUARD_FORCED_ALLOW_ORIGIN" => {
            d.forced_allow_origin = Some(V::new(value.trim().to_owned(), EnvCtx::loc(name, &path)))
        }
        "CORSGUARD_ON_REJECT" => match value.trim() {
            "omit" => d.on_reject = Some(V::new(OnReject::Omit, EnvCtx::loc(name, &path))),
            "forbid" => d.on_reject = Some(V::new(OnReject::Forbid, EnvCtx::loc(name, &path))),
            other => cx.diag(
                Severity::Error,
                Code::InvalidValue,
                name,
                &path,
                format!("{name}=`{other}` is not `omit` or `forbid`"),
                None,
            ),
        },
        "CORSGUARD_CSRF_MODE" => {
            let path = "defaults.csrf.mode";
            match crate::csrf::CsrfMode::parse(value.trim()) {
                Some(m) => d.csrf_mode = Some(V::new(m, EnvCtx::loc(name, path))),
                None => cx.diag(
                    Severity::Error,
                    Code::InvalidValue,
                    name,
                    path,
                    format!(
                        "{name}=`{}` is not `off`, `enforce` or `report`",
                        value.trim()
                    ),
                    None,
                ),
            }
        }
        "CORSGUARD_CSRF_TRUSTED_ORIGINS" => {
            if let Some(list) = cx.list(name, "defaults.csrf.trusted_origins", value) {
                d.csrf_trusted_origins = Some(origin_list(list));
            }
        }
        "CORSGUARD_CSRF_ALLOW_SAME_SITE" => {
            d.csrf_allow_same_site = cx.bool(name, "defaults.csrf.allow_same_site", value)
        }
        "CORSGUARD_MODE" => match value.trim() {
            "enforce" => d.mode = Some(V::new(Mode::Enforce, EnvCtx::loc(name, &path))),
            "shadow" => d.mode = Some(V::new(Mode::Shadow, EnvCtx::loc(name, &path))),
            other => cx.diag(
                Severity::Error,
                Code::InvalidValue,
                name,
                &path,
                format!("{name}=`{other}` is not `enforce` or `shadow`"),
                None,
            ),
        },
        _ => {
            let hint = did_you_mean(name, OPTION_VARS).map(|s| format!("did you mean {s}?"));
            cx.diag(
                Severity::Warning,
                Code::EnvUnknown,
                name,
                "",
                format!("{name} is not a corsguard option variable; it is ignored"),
                hint,
            );
        }
    }
}
