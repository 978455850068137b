//! The progress line on stderr for long scans on a terminal.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::report::Summary;

/// A progress line on stderr (files, bytes, findings, rate), shown only once a scan has run
/// for a moment so quick scans stay silent.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    shown: AtomicBool,
}

impl Progress {
    /// How long a scan runs before the progress line appears.
    const DELAY: std::time::Duration = std::time::Duration::from_millis(500);

    /// A progress line, drawn only if `enabled` and once the scan has run for a moment.
    pub fn new(enabled: bool, start: Instant) -> Progress {
        let bar = enabled.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::hidden(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
                bar.set_style(style);
            }
            bar
        });
        Progress {
            bar,
            start,
            shown: AtomicBool::new(false),
        }
    }

    /// Updates the line after a file is done: `s` counts its findings, not yet its `bytes`.
    pub fn update(&self, s: &Summary, bytes: u64) {
        let Some(bar) = &self.bar else { return };
        let elapsed = self.start.elapsed();
        if !self.shown.load(Ordering::Relaxed) && elapsed >= Self::DELAY {
            self.shown.store(true, Ordering::Relaxed);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
        let total = s.bytes_scanned + bytes;
        let mb_s = total as f64 / 1e6 / elapsed.as_secs_f64().max(1e-3);
        bar.set_message(format!(
            "{} files, {:.1} MB, {} findings, {:.0} MB/s",
            s.files_scanned + 1,
            total as f64 / 1e6,
            s.findings.by_kind.values().sum::<u64>(),
            mb_s
        ));
    }

    /// Runs `f` (which writes to the terminal) with the line cleared.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) if self.shown.load(Ordering::Relaxed) => bar.suspend(f),
            _ => f(),
        }
    }

    /// Clears the line for good.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
