//! Helpers shared by integration tests. Each test binary that declares
//! `mod common;` uses only some of them.
#![allow(dead_code)]

pub mod shapes;
pub mod stores;
pub mod v1_file;
