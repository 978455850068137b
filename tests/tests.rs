//! Integration tests: the built binary on temporary trees.
