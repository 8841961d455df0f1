//! The gateway's error type.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why a gateway could not be configured or started.
///
/// ```
/// let e = corsguard_gateway::Error::NoUpstream;
/// assert!(e.to_string().contains("upstream"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The policy file is invalid (every diagnostic is inside).
    #[error("{0}")]
    Config(#[from] corsguard::ConfigErrors),
    /// Neither `gateway.upstream`, `--upstream` nor any path rule's `upstream` is set.
    #[error(
        "no upstream: set `gateway.upstream` in the policy file, pass `--upstream URL`, or give every path rule an `upstream`"
    )]
    NoUpstream,
    /// Gateway settings outside their accepted ranges (one message each).
    #[error("invalid gateway settings:\n  {}", .0.join("\n  "))]
    Settings(Vec<String>),
    /// An upstream URL is not usable.
    #[error("invalid upstream `{url}`: {reason}")]
    InvalidUpstream {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be loaded.
    #[error("TLS: {file}: {reason}")]
    Tls {
        /// The file involved.
        file: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The file watcher for hot reload could not be started.
    #[error("cannot watch {path} for changes: {reason}")]
    Watch {
        /// The directory.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Installing a signal handler failed.
    #[error("cannot install the {signal} handler: {source}")]
    Signal {
        /// Which signal.
        signal: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// Any other I/O error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
}
