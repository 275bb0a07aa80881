//! gomap: placeholder while the skeleton is set up.
