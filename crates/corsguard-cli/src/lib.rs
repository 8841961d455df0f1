//! The `corsguard` command's policy tools as a library, so that the fuzz targets (`fuzz/`)
//! and tests can call the importers and exporters directly. The binary (`src/main.rs`) uses
//! these modules; no stable API is promised.

pub mod check;
pub mod export;
pub mod import;
