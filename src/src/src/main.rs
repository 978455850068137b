//! The `pansweep` binary: parse, run, exit. No logic lives here.

use clap::Parser;

fn main() {
    let opts = pansweep::cli::Opts::parse();
    let code = match pansweep::run(opts) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("pansweep: {err:#}");
            pansweep::exit::ExitCode::Error
        }
    };
    std::process::exit(code.code());
}
