//! Hazardous materials: functionality which can be misused and needs to be used with care.
//!
//! <div class="warning">
//! Functionality provided in this module is low-level and intended for constructing higher-level
//! primitives as opposed to being used directly.
//! </div>

pub use crate::field_element::FieldElement;
