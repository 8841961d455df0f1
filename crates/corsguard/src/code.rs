//! The stable identifiers of configuration diagnostics.

use std::fmt;

/// What a [`Diagnostic`](crate::Diagnostic) is about: a stable identifier, written
/// kebab-case by [`Code::as_str`] (`origin-trailing-slash`), that tools match on instead of
/// the message text. New codes are added as the engine learns new checks, so matches need
/// a wildcard arm.
///
/// ```
/// use corsguard::{Code, Policy};
/// let e = Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example/']}").unwrap_err();
/// let d = &e.diagnostics()[0];
/// assert_eq!(d.code, Code::OriginTrailingSlash);
/// assert_eq!(d.code.as_str(), "origin-trailing-slash");
/// assert_eq!(d.code, "origin-trailing-slash"); // compares with the text, too
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Code {
    /// `csrf-no-trusted-origin`
    CsrfNoTrustedOrigin,
    /// `csrf-trusted-null`
    CsrfTrustedNull,
    /// `csrf-trusted-wildcard`
    CsrfTrustedWildcard,
    /// `env-alias-ignored`
    EnvAliasIgnored,
    /// `env-invalid-bool`
    EnvInvalidBool,
    /// `env-invalid-int`
    EnvInvalidInt,
    /// `env-invalid-list`
    EnvInvalidList,
    /// `env-unknown`
    EnvUnknown,
    /// `expose-duplicate`
    ExposeDuplicate,
    /// `expose-invalid`
    ExposeInvalid,
    /// `expose-safelisted`
    ExposeSafelisted,
    /// `expose-set-cookie`
    ExposeSetCookie,
    /// `expose-wildcard-absorbs`
    ExposeWildcardAbsorbs,
    /// `expose-wildcard-credentials`
    ExposeWildcardCredentials,
    /// `file-too-large`
    FileTooLarge,
    /// `forced-origin-invalid`
    ForcedOriginInvalid,
    /// `forced-origin-wildcard-credentials`
    ForcedOriginWildcardCredentials,
    /// `gateway-admin-public`
    GatewayAdminPublic,
    /// `gateway-encoded-slashes-kept`
    GatewayEncodedSlashesKept,
    /// `gateway-invalid-address`
    GatewayInvalidAddress,
    /// `gateway-invalid-duration`
    GatewayInvalidDuration,
    /// `gateway-invalid-proxy`
    GatewayInvalidProxy,
    /// `gateway-invalid-upstream`
    GatewayInvalidUpstream,
    /// `gateway-invalid-value`
    GatewayInvalidValue,
    /// `gateway-out-of-range`
    GatewayOutOfRange,
    /// `gateway-slashes-not-merged`
    GatewaySlashesNotMerged,
    /// `gateway-tls-incomplete`
    GatewayTlsIncomplete,
    /// `header-duplicate`
    HeaderDuplicate,
    /// `header-forbidden`
    HeaderForbidden,
    /// `header-invalid`
    HeaderInvalid,
    /// `header-response-name`
    HeaderResponseName,
    /// `header-wildcard-absorbs`
    HeaderWildcardAbsorbs,
    /// `host-invalid`
    HostInvalid,
    /// `invalid-value`
    InvalidValue,
    /// `io`
    Io,
    /// `max-age-chromium-cap`
    MaxAgeChromiumCap,
    /// `max-age-range`
    MaxAgeRange,
    /// `max-age-safari-cap`
    MaxAgeSafariCap,
    /// `method-case`
    MethodCase,
    /// `method-duplicate`
    MethodDuplicate,
    /// `method-forbidden`
    MethodForbidden,
    /// `method-invalid`
    MethodInvalid,
    /// `method-normalized`
    MethodNormalized,
    /// `method-wildcard-absorbs`
    MethodWildcardAbsorbs,
    /// `not-a-file`
    NotAFile,
    /// `origin-default-port`
    OriginDefaultPort,
    /// `origin-duplicate`
    OriginDuplicate,
    /// `origin-empty`
    OriginEmpty,
    /// `origin-file-scheme`
    OriginFileScheme,
    /// `origin-fragment`
    OriginFragment,
    /// `origin-insecure-credentials`
    OriginInsecureCredentials,
    /// `origin-invalid-host`
    OriginInvalidHost,
    /// `origin-invalid-ip`
    OriginInvalidIp,
    /// `origin-invalid-punycode`
    OriginInvalidPunycode,
    /// `origin-invalid-scheme`
    OriginInvalidScheme,
    /// `origin-missing-scheme`
    OriginMissingScheme,
    /// `origin-null`
    OriginNull,
    /// `origin-null-credentials`
    OriginNullCredentials,
    /// `origin-path`
    OriginPath,
    /// `origin-port-range`
    OriginPortRange,
    /// `origin-public-suffix-credentials`
    OriginPublicSuffixCredentials,
    /// `origin-query`
    OriginQuery,
    /// `origin-too-long`
    OriginTooLong,
    /// `origin-trailing-slash`
    OriginTrailingSlash,
    /// `origin-unicode-host`
    OriginUnicodeHost,
    /// `origin-uppercase`
    OriginUppercase,
    /// `origin-userinfo`
    OriginUserinfo,
    /// `origin-whitespace`
    OriginWhitespace,
    /// `origin-wildcard-absorbs`
    OriginWildcardAbsorbs,
    /// `origin-wildcard-credentials`
    OriginWildcardCredentials,
    /// `origin-wildcard-position`
    OriginWildcardPosition,
    /// `origins-empty`
    OriginsEmpty,
    /// `origins-missing`
    OriginsMissing,
    /// `path-glob-invalid`
    PathGlobInvalid,
    /// `path-prefix-invalid`
    PathPrefixInvalid,
    /// `path-regex-invalid`
    PathRegexInvalid,
    /// `path-regex-unanchored`
    PathRegexUnanchored,
    /// `preflight-status`
    PreflightStatus,
    /// `regex-case-insensitive`
    RegexCaseInsensitive,
    /// `regex-invalid`
    RegexInvalid,
    /// `regex-unanchored`
    RegexUnanchored,
    /// `regex-unescaped-dot`
    RegexUnescapedDot,
    /// `rule-missing-matcher`
    RuleMissingMatcher,
    /// `rule-multiple-matchers`
    RuleMultipleMatchers,
    /// `rule-options-ignored`
    RuleOptionsIgnored,
    /// `rule-unreachable`
    RuleUnreachable,
    /// `syntax`
    Syntax,
    /// `type-mismatch`
    TypeMismatch,
    /// `unknown-extension`
    UnknownExtension,
    /// `unknown-key`
    UnknownKey,
    /// A code of a tool built on the engine (the `corsguard` command's own checks, say),
    /// reported in the engine's format.
    Tool(&'static str),
}

impl Code {
    /// Every code the engine itself reports (not [`Code::Tool`]).
    ///
    /// ```
    /// assert!(corsguard::Code::ALL.iter().any(|c| c.as_str() == "origin-null"));
    /// ```
    pub const ALL: &'static [Code] = &[
        Code::CsrfNoTrustedOrigin,
        Code::CsrfTrustedNull,
        Code::CsrfTrustedWildcard,
        Code::EnvAliasIgnored,
        Code::EnvInvalidBool,
        Code::EnvInvalidInt,
        Code::EnvInvalidList,
        Code::EnvUnknown,
        Code::ExposeDuplicate,
        Code::ExposeInvalid,
        Code::ExposeSafelisted,
        Code::ExposeSetCookie,
        Code::ExposeWildcardAbsorbs,
        Code::ExposeWildcardCredentials,
        Code::FileTooLarge,
        Code::ForcedOriginInvalid,
        Code::ForcedOriginWildcardCredentials,
        Code::GatewayAdminPublic,
        Code::GatewayEncodedSlashesKept,
        Code::GatewayInvalidAddress,
        Code::GatewayInvalidDuration,
        Code::GatewayInvalidProxy,
        Code::GatewayInvalidUpstream,
        Code::GatewayInvalidValue,
        Code::GatewayOutOfRange,
        Code::GatewaySlashesNotMerged,
        Code::GatewayTlsIncomplete,
        Code::HeaderDuplicate,
        Code::HeaderForbidden,
        Code::HeaderInvalid,
        Code::HeaderResponseName,
        Code::HeaderWildcardAbsorbs,
        Code::HostInvalid,
        Code::InvalidValue,
        Code::Io,
        Code::MaxAgeChromiumCap,
        Code::MaxAgeRange,
        Code::MaxAgeSafariCap,
        Code::MethodCase,
        Code::MethodDuplicate,
        Code::MethodForbidden,
        Code::MethodInvalid,
        Code::MethodNormalized,
        Code::MethodWildcardAbsorbs,
        Code::NotAFile,
        Code::OriginDefaultPort,
        Code::OriginDuplicate,
        Code::OriginEmpty,
        Code::OriginFileScheme,
        Code::OriginFragment,
        Code::OriginInsecureCredentials,
        Code::OriginInvalidHost,
        Code::OriginInvalidIp,
        Code::OriginInvalidPunycode,
        Code::OriginInvalidScheme,
        Code::OriginMissingScheme,
        Code::OriginNull,
        Code::OriginNullCredentials,
        Code::OriginPath,
        Code::OriginPortRange,
        Code::OriginPublicSuffixCredentials,
        Code::OriginQuery,
        Code::OriginTooLong,
        Code::OriginTrailingSlash,
        Code::OriginUnicodeHost,
        Code::OriginUppercase,
        Code::OriginUserinfo,
        Code::OriginWhitespace,
        Code::OriginWildcardAbsorbs,
        Code::OriginWildcardCredentials,
        Code::OriginWildcardPosition,
        Code::OriginsEmpty,
        Code::OriginsMissing,
        Code::PathGlobInvalid,
        Code::PathPrefixInvalid,
        Code::PathRegexInvalid,
        Code::PathRegexUnanchored,
        Code::PreflightStatus,
        Code::RegexCaseInsensitive,
        Code::RegexInvalid,
        Code::RegexUnanchored,
        Code::RegexUnescapedDot,
        Code::RuleMissingMatcher,
        Code::RuleMultipleMatchers,
        Code::RuleOptionsIgnored,
        Code::RuleUnreachable,
        Code::Syntax,
        Code::TypeMismatch,
        Code::UnknownExtension,
        Code::UnknownKey,
    ];

    /// The stable kebab-case text, as printed and serialized.
    ///
    /// ```
    /// assert_eq!(corsguard::Code::MaxAgeRange.as_str(), "max-age-range");
    /// assert_eq!(corsguard::Code::Tool("case-invalid").as_str(), "case-invalid");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::CsrfNoTrustedOrigin => "csrf-no-trusted-origin",
            Code::CsrfTrustedNull => "csrf-trusted-null",
            Code::CsrfTrustedWildcard => "csrf-trusted-wildcard",
            Code::EnvAliasIgnored => "env-alias-ignored",
            Code::EnvInvalidBool => "env-invalid-bool",
            Code::EnvInvalidInt => "env-invalid-int",
            Code::EnvInvalidList => "env-invalid-list",
            Code::EnvUnknown => "env-unknown",
            Code::ExposeDuplicate => "expose-duplicate",
            Code::ExposeInvalid => "expose-invalid",
            Code::ExposeSafelisted => "expose-safelisted",
            Code::ExposeSetCookie => "expose-set-cookie",
            Code::ExposeWildcardAbsorbs => "expose-wildcard-absorbs",
            Code::ExposeWildcardCredentials => "expose-wildcard-credentials",
            Code::FileTooLarge => "file-too-large",
            Code::ForcedOriginInvalid => "forced-origin-invalid",
            Code::ForcedOriginWildcardCredentials => "forced-origin-wildcard-credentials",
            Code::GatewayAdminPublic => "gateway-admin-public",
            Code::GatewayEncodedSlashesKept => "gateway-encoded-slashes-kept",
            Code::GatewayInvalidAddress => "gateway-invalid-address",
            Code::GatewayInvalidDuration => "gateway-invalid-duration",
            Code::GatewayInvalidProxy => "gateway-invalid-proxy",
            Code::GatewayInvalidUpstream => "gateway-invalid-upstream",
            Code::GatewayInvalidValue => "gateway-invalid-value",
            Code::GatewayOutOfRange => "gateway-out-of-range",
            Code::GatewaySlashesNotMerged => "gateway-slashes-not-merged",
            Code::GatewayTlsIncomplete => "gateway-tls-incomplete",
            Code::HeaderDuplicate => "header-duplicate",
            Code::HeaderForbidden => "header-forbidden",
            Code::HeaderInvalid => "header-invalid",
            Code::HeaderResponseName => "header-response-name",
            Code::HeaderWildcardAbsorbs => "header-wildcard-absorbs",
            Code::HostInvalid => "host-invalid",
            Code::InvalidValue => "invalid-value",
            Code::Io => "io",
            Code::MaxAgeChromiumCap => "max-age-chromium-cap",
            Code::MaxAgeRange => "max-age-range",
            Code::MaxAgeSafariCap => "max-age-safari-cap",
            Code::MethodCase => "method-case",
            Code::MethodDuplicate => "method-duplicate",
            Code::MethodForbidden => "method-forbidden",
            Code::MethodInvalid => "method-invalid",
            Code::MethodNormalized => "method-normalized",
            Code::MethodWildcardAbsorbs => "method-wildcard-absorbs",
            Code::NotAFile => "not-a-file",
            Code::OriginDefaultPort => "origin-default-port",
            Code::OriginDuplicate => "origin-duplicate",
            Code::OriginEmpty => "origin-empty",
            Code::OriginFileScheme => "origin-file-scheme",
            Code::OriginFragment => "origin-fragment",
            Code::OriginInsecureCredentials => "origin-insecure-credentials",
            Code::OriginInvalidHost => "origin-invalid-host",
            Code::OriginInvalidIp => "origin-invalid-ip",
            Code::OriginInvalidPunycode => "origin-invalid-punycode",
            Code::OriginInvalidScheme => "origin-invalid-scheme",
            Code::OriginMissingScheme => "origin-missing-scheme",
            Code::OriginNull => "origin-null",
            Code::OriginNullCredentials => "origin-null-credentials",
            Code::OriginPath => "origin-path",
            Code::OriginPortRange => "origin-port-range",
            Code::OriginPublicSuffixCredentials => "origin-public-suffix-credentials",
            Code::OriginQuery => "origin-query",
            Code::OriginTooLong => "origin-too-long",
            Code::OriginTrailingSlash => "origin-trailing-slash",
            Code::OriginUnicodeHost => "origin-unicode-host",
            Code::OriginUppercase => "origin-uppercase",
            Code::OriginUserinfo => "origin-userinfo",
            Code::OriginWhitespace => "origin-whitespace",
            Code::OriginWildcardAbsorbs => "origin-wildcard-absorbs",
            Code::OriginWildcardCredentials => "origin-wildcard-credentials",
            Code::OriginWildcardPosition => "origin-wildcard-position",
            Code::OriginsEmpty => "origins-empty",
            Code::OriginsMissing => "origins-missing",
            Code::PathGlobInvalid => "path-glob-invalid",
            Code::PathPrefixInvalid => "path-prefix-invalid",
            Code::PathRegexInvalid => "path-regex-invalid",
            Code::PathRegexUnanchored => "path-regex-unanchored",
            Code::PreflightStatus => "preflight-status",
            Code::RegexCaseInsensitive => "regex-case-insensitive",
            Code::RegexInvalid => "regex-invalid",
            Code::RegexUnanchored => "regex-unanchored",
            Code::RegexUnescapedDot => "regex-unescaped-dot",
            Code::RuleMissingMatcher => "rule-missing-matcher",
            Code::RuleMultipleMatchers => "rule-multiple-matchers",
            Code::RuleOptionsIgnored => "rule-options-ignored",
            Code::RuleUnreachable => "rule-unreachable",
            Code::Syntax => "syntax",
            Code::TypeMismatch => "type-mismatch",
            Code::UnknownExtension => "unknown-extension",
            Code::UnknownKey => "unknown-key",
            Code::Tool(s) => s,
        }
    }

    /// The engine's code written `text`, if there is one.
    ///
    /// ```
    /// assert_eq!(corsguard::Code::from_text("origin-null"), Some(corsguard::Code::OriginNull));
    /// assert_eq!(corsguard::Code::from_text("no-such-code"), None);
    /// ```
    pub fn from_text(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == text)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn texts_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            let t = c.as_str();
            assert!(seen.insert(t), "{t} twice");
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            );
            assert_eq!(Code::from_text(t), Some(*c));
        }
    }
}
