//! The request grammar and lists of the WHATWG Fetch standard that the engine applies, for
//! code that models the client side of CORS (the `corsguard-browser` crate) and for tools that
//! check header and method names the way the engine does.
//!
//! These are the functions the engine itself uses when it validates a policy (a forbidden
//! method or header in `allow_methods` / `allow_headers` is an error) and parses a preflight,
//! so a caller and the engine cannot disagree on them.
//!
//! ```
//! use corsguard::fetch::{is_forbidden_method, is_forbidden_request_header, is_token};
//!
//! // What a page may put in `fetch(url, { method, headers })`.
//! let method = "PATCH";
//! let header = "X-Trace-Id";
//! assert!(is_token(method.as_bytes()) && !is_forbidden_method(method));
//! assert!(is_token(header.as_bytes()) && !is_forbidden_request_header(header));
//! ```

pub use crate::headers::{is_forbidden_method, is_forbidden_request_header, is_token};
