//! `allow_origins`: every entry parsed as a pattern, with the checks that depend on the
//! rest of the option set (credentials, `allow_null_origin`, the tolerance switches).

use std::collections::HashSet;

use crate::Code;
use crate::config::raw::{RawOptions, RawOrigin};
use crate::diagnostic::Location;
use crate::origin::{self, OriginPattern};

use super::{Diags, closest, report_pattern_problems};

/// The compiled allow-list of one option set.
pub(super) struct Origins {
    /// The accepted patterns (only [`OriginPattern::Any`] when `*` is listed).
    pub(super) patterns: Vec<OriginPattern>,
    /// `*` is listed.
    pub(super) any: bool,
}

/// Compiles `allow_origins` of one effective option set; `rule` names it for messages.
pub(super) fn compile(
    o: &RawOptions,
    rule: &str,
    credentials: bool,
    allow_null: bool,
    d: &mut Diags,
) -> Origins {
    let mut patterns: Vec<OriginPattern> = Vec::new();
    let mut canon_seen: HashSet<String> = HashSet::new();
    let mut any_loc: Option<Location> = None;
    if let Some(list) = &o.allow_origins {
        for entry in &list.value {
            let (pat, problems) = match &entry.value {
                RawOrigin::Text(s) => origin::parse_pattern(s),
                RawOrigin::Regex(s) => origin::parse_regex_entry(s),
            };
            report_pattern_problems(&problems, &entry.loc, d);
            let Some(pat) = pat else { continue };
            let canon = pat.canonical();
            if !canon_seen.insert(canon.clone()) {
                d.warn(
                    Code::OriginDuplicate,
                    &entry.loc,
                    format!("`{canon}` is listed more than once"),
                    Some("remove the duplicate (it is ignored)".into()),
                );
                continue;
            }
            match &pat {
                OriginPattern::Any => any_loc = Some(entry.loc.clone()),
                OriginPattern::Null if !allow_null => {
                    d.error(
                        Code::OriginNull,
                        &entry.loc,
                        "`null` is not a safe allow-list entry: sandboxed iframes, data: URLs and redirect-tainted requests all send `Origin: null`".into(),
                        Some("remove it, or if you really need it set `allow_null_origin: true`".into()),
                    );
                    continue;
                }
                OriginPattern::Null => continue,
                _ => {}
            }
            if credentials {
                check_credentialed(o, &pat, &canon, &entry.loc, d);
            }
            patterns.push(pat);
        }
    }
    let any_origin = any_loc.is_some();
    if let Some(loc) = &any_loc {
        if patterns.len() > 1 {
            d.warn(
                Code::OriginWildcardAbsorbs,
                loc,
                "`*` allows every origin, so the other entries of this list have no effect".into(),
                Some("remove `*` or the other entries".into()),
            );
        }
        if credentials {
            let cred_loc = o.allow_credentials.as_ref().map_or(loc, |v| &v.loc);
            d.error(
                Code::OriginWildcardCredentials,
                closest(loc, cred_loc),
                format!("in {rule}, `allow_origins: ['*']` cannot be combined with `allow_credentials: true`: browsers reject `Access-Control-Allow-Origin: *` on credentialed requests, and reflecting any origin instead would let every site read your users' data"),
                Some("list the origins you trust (patterns like `https://*.example.com` are fine), or turn credentials off".into()),
            );
        }
        patterns.retain(|p| matches!(p, OriginPattern::Any));
    }
    if allow_null
        && credentials
        && let Some(v) = &o.allow_null_origin
    {
        d.warn(
                Code::OriginNullCredentials,
                &v.loc,
                "allowing `null` with credentials lets any sandboxed iframe or data: URL make credentialed requests".into(),
                None,
            );
    }

    Origins {
        patterns,
        any: any_origin,
    }
}

/// The checks an entry gets when the option set sends credentials: plain-http origins and
/// public-suffix wildcards, each with its tolerance switch.
fn check_credentialed(
    o: &RawOptions,
    pat: &OriginPattern,
    canon: &str,
    entry_loc: &Location,
    d: &mut Diags,
) {
    let tolerate_insecure = o
        .allow_insecure_origins_with_credentials
        .as_ref()
        .is_some_and(|v| v.value);
    let tolerate_psl = o
        .allow_public_suffix_wildcards_with_credentials
        .as_ref()
        .is_some_and(|v| v.value);

    let cred_loc = o
        .allow_credentials
        .as_ref()
        .map(|v| &v.loc)
        .unwrap_or(entry_loc);
    if !pat.is_secure()
        && !matches!(pat, OriginPattern::Any | OriginPattern::Regex(_))
        && !tolerate_insecure
    {
        d.error(
            Code::OriginInsecureCredentials,
            closest(entry_loc, cred_loc),
            format!("`{canon}` is not https: with credentials, anyone on the network path can impersonate it and read credentialed responses"),
            Some(format!(
                "use `{}`, or set `allow_insecure_origins_with_credentials: true` if you accept the risk",
                canon.replacen("http://", "https://", 1).replacen("ws://", "wss://", 1)
            )),
        );
    }
    if let Some(base) = pat.public_suffix_base()
        && !tolerate_psl
    {
        d.error(
            Code::OriginPublicSuffixCredentials,
            closest(entry_loc, cred_loc),
            format!("`{canon}` admits every site under the public suffix `{base}` (sites of unrelated owners) with credentials"),
            Some("list the exact origins you trust, or set `allow_public_suffix_wildcards_with_credentials: true`".into()),
        );
    }
}
