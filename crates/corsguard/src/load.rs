//! One loader for every way a policy is written: text (YAML or TOML) or a file, with or
//! without environment overrides on top of its `defaults:`.

use std::path::{Path, PathBuf};

use crate::config::{self, Format};
use crate::diagnostic::ConfigErrors;
use crate::policy::Policy;

/// Where the policy text comes from.
#[derive(Debug, Clone)]
enum Text<'a> {
    /// No text: the environment alone.
    None,
    /// Text with a name for diagnostics.
    Inline {
        text: &'a str,
        name: &'a str,
        format: Format,
    },
    /// A `.yaml`/`.yml` or `.toml` file, read with the engine's size limit.
    File(PathBuf),
}

/// A policy to load: from [`Policy::load`], finished with [`Load::build`]. It borrows the
/// text it is given until then.
///
/// The text comes from [`Load::file`], [`Load::yaml`], [`Load::toml`] or [`Load::text`]
/// (the last one given wins); [`Load::env`] or [`Load::env_vars`] add
/// `CORS_ALLOWED_ORIGINS` / `CORSGUARD_<OPTION>` overrides on top of its `defaults:`.
/// Without text, the environment alone is the policy.
///
/// ```
/// use corsguard::{Format, Policy};
///
/// let p = Policy::load()
///     .toml("[defaults]\nallow_origins = ['https://a.example']\n")
///     .env_vars([("CORSGUARD_MAX_AGE".to_string(), "600".to_string())])
///     .build()?;
/// assert_eq!(p.defaults_summary().max_age, Some(600));
///
/// let e = Policy::load().text("defaults: {max_age: -1}", "api.yaml", Format::Yaml).build().unwrap_err();
/// assert!(e.to_string().contains("api.yaml:1:"));
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a Load does nothing until .build()"]
pub struct Load<'a> {
    text: Text<'a>,
    env: Option<Vec<(String, String)>>,
}

impl<'a> Load<'a> {
    pub(crate) fn new() -> Self {
        Load {
            text: Text::None,
            env: None,
        }
    }

    /// Reads a `.yaml`/`.yml` or `.toml` file (the format chosen by its extension).
    ///
    /// ```no_run
    /// let p = corsguard::Policy::load().file("corsguard.yaml").env().build()?;
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn file(mut self, path: impl AsRef<Path>) -> Self {
        self.text = Text::File(path.as_ref().to_path_buf());
        self
    }

    /// YAML text, named `<yaml>` in diagnostics.
    ///
    /// ```
    /// let p = corsguard::Policy::load().yaml("defaults: {allow_origins: ['https://a.example']}").build()?;
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn yaml(self, text: &'a str) -> Self {
        self.text(text, "<yaml>", Format::Yaml)
    }

    /// TOML text (the same schema as YAML), named `<toml>` in diagnostics.
    ///
    /// ```
    /// let p = corsguard::Policy::load().toml("[defaults]\nallow_origins = ['https://a.example']\n").build()?;
    /// assert_eq!(p.rule_names(), ["defaults"]);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn toml(self, text: &'a str) -> Self {
        self.text(text, "<toml>", Format::Toml)
    }

    /// Text in `format`, with `name` (a file name, say) in diagnostics.
    ///
    /// ```
    /// use corsguard::{Format, Policy};
    /// let e = Policy::load().text("defaults: {max_age: -1}", "api.yaml", Format::Yaml).build().unwrap_err();
    /// assert!(e.to_string().contains("api.yaml:1:"));
    /// ```
    pub fn text(mut self, text: &'a str, name: &'a str, format: Format) -> Self {
        self.text = Text::Inline { text, name, format };
        self
    }

    /// Applies the process environment's `CORS_ALLOWED_ORIGINS`, `CORS_ORIGIN_WHITELIST` and
    /// `CORSGUARD_<OPTION>` on top of the text's `defaults:`.
    ///
    /// ```no_run
    /// let p = corsguard::Policy::load().env().build()?; // the environment alone
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn env(self) -> Self {
        self.env_vars(std::env::vars())
    }

    /// Like [`Load::env`], from an explicit list of variables (handy in tests).
    ///
    /// ```
    /// let p = corsguard::Policy::load()
    ///     .env_vars([("CORS_ALLOWED_ORIGINS".to_string(), "https://a.example https://b.example".to_string())])
    ///     .build()?;
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn env_vars(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.env = Some(vars.into_iter().collect());
        self
    }

    /// Parses and validates: the policy (with its warnings), or every error, located.
    ///
    /// ```
    /// let e = corsguard::Policy::load().yaml("defaults: {allow_origins: ['null']}").build().unwrap_err();
    /// assert_eq!(e.diagnostics()[0].code, "origin-null");
    /// ```
    pub fn build(self) -> Result<Policy, ConfigErrors> {
        let env = self.env.as_deref();
        match &self.text {
            Text::None => config::load_text("", "<env>", false, env),
            Text::Inline { text, name, format } => {
                config::load_text(text, name, *format == Format::Toml, env)
            }
            Text::File(path) => config::load_file(path, env),
        }
    }
}
