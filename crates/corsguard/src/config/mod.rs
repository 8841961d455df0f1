//! Loading: text (YAML/TOML) and environment variables → raw config → validation.

pub(crate) mod env;
pub(crate) mod gateway;
pub(crate) mod raw;
pub(crate) mod schema;
pub(crate) mod tree;

use std::path::Path;

use crate::diagnostic::ConfigErrors;
use crate::policy::{Policy, load_error};

/// A config file format.
///
/// ```
/// use corsguard::Format;
/// assert_eq!(Format::from_path("a/corsguard.toml".as_ref()), Some(Format::Toml));
/// assert_eq!(Format::from_path("x.yml".as_ref()), Some(Format::Yaml));
/// assert_eq!(Format::from_path("x.json".as_ref()), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML 1.2.
    Yaml,
    /// TOML 1.0/1.1.
    Toml,
}

impl Format {
    /// The format implied by a file extension (`.yaml`, `.yml`, `.toml`).
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }
}

pub(crate) fn load_text(
    text: &str,
    name: &str,
    toml: bool,
    env: Option<&[(String, String)]>,
) -> Result<Policy, ConfigErrors> {
    let mut read = schema::read_text(text, name, toml);
    if let Some(vars) = env {
        if text.trim().is_empty() {
            read.config.source = Some(crate::diagnostic::SourceKind::Env {
                var: "CORS_ALLOWED_ORIGINS".into(),
            });
        }
        env::apply(&mut read.config, vars, &mut read.diags);
    }
    crate::validate::compile(read.config, read.diags, Some(read.text))
}

pub(crate) fn load_file(
    path: &Path,
    env: Option<&[(String, String)]>,
) -> Result<Policy, ConfigErrors> {
    let name = path.display().to_string();
    let Some(format) = Format::from_path(path) else {
        return Err(load_error(
            &name,
            "unknown-extension",
            format!("cannot tell the format of `{name}` from its extension"),
            Some("name the file *.yaml, *.yml or *.toml".into()),
        ));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| load_error(&name, "io", format!("cannot read `{name}`: {e}"), None))?;
    load_text(&text, &name, format == Format::Toml, env)
}
