//! Helpers shared by integration tests. Each test binary that declares
//! `mod common;` uses only some of them.
#![allow(dead_code)]

pub mod c_abi;
pub mod calls;
pub mod child;
pub mod hex;
pub mod independent_gcm;
pub mod postgres;
pub mod shapes;
pub mod stores;
pub mod temp_dir;
pub mod v1_file;
