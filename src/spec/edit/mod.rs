//! Typed edits of an existing machine's domain XML, applied to a parsed tree.
//!
//! - [`tree`]: the small mutable XML tree every edit works on.

pub mod tree;
