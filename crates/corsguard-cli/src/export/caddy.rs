//! `corsguard export caddy` (in progress).

use super::Export;
use super::model::PolicyModel;

/// Options of the Caddy export.
#[derive(Debug, Clone)]
pub struct CaddyOptions {
    /// `listen` address.
    pub listen: String,
    /// The upstream.
    pub upstream: Option<String>,
    /// The policy file name.
    pub source_name: String,
}

/// Renders the Caddy configuration.
pub fn export(_model: &PolicyModel, _opts: &CaddyOptions) -> Result<Export, String> {
    Err("not yet".into())
}
