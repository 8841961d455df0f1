//! corsguard's real-browser conformance suite: headless Chromium is the judge.
//!
//! Each case (data in `cases/*.yaml`, see [`cases`]) loads a page from origin A that runs one
//! `fetch` (or a short sequence in one browser context) against a system under test (SUT,
//! [`sut`]) on origin B. The harness records what the page saw, what Chromium reported over
//! CDP (`corsError`, `failedParameter`, console text, preflights, deprecation issues) and
//! what reached the application, and checks that three things agree ([`check`]): the
//! table's expectation, Chromium's outcome, and `corsguard_browser`'s prediction for the
//! responses the SUT actually produced ([`replay`]).
//!
//! Modules: [`cdp`] (the raw DevTools client), [`fixture`] (application, servers, page),
//! [`cases`] (the table format), [`runner`] (one case), [`check`] (the three-way check),
//! [`sut`] (systems under test), [`suite`] (the driver).
#![forbid(unsafe_code)]

pub mod cases;
pub mod cdp;
pub mod check;
pub mod fixture;
pub mod replay;
pub mod runner;
pub mod suite;
pub mod sut;
