//! Integration tests: the built binary on temporary trees. One binary, a module per topic.

mod util;

mod detection;
mod git;
mod hostile;
mod leaks;
mod output;
mod redact;
mod walking;
