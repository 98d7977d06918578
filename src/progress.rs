//! Progress on stderr while plan or apply runs (servers read, writes done):
//! only on a terminal, never with `--quiet`, `-v` (it would interleave with
//! the request log) or in JSON mode, and only once a run has taken about a
//! second, so quick runs print nothing extra. indicatif draws it; one bar per
//! process, like the log level in `logging`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static ALLOWED: AtomicBool = AtomicBool::new(false);
static BAR: Mutex<Option<(ProgressBar, Instant)>> = Mutex::new(None);

/// How long a run goes before its progress shows.
const QUIET_START: Duration = Duration::from_secs(1);

/// Whether progress may show at all (the command line decides).
pub fn allow(allowed: bool) {
    ALLOWED.store(allowed, Ordering::Relaxed);
}

fn bar() -> std::sync::MutexGuard<'static, Option<(ProgressBar, Instant)>> {
    BAR.lock().unwrap_or_else(|p| p.into_inner())
}

/// Starts counting `total` steps of `what` (`servers read`, `writes`).
pub fn begin(what: &str, total: u64) {
    if !ALLOWED.load(Ordering::Relaxed) || !std::io::stderr().is_terminal() || total == 0 {
        return;
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    let style = ProgressStyle::with_template("{pos}/{len} {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style);
    pb.set_message(what.to_string());
    *bar() = Some((pb, Instant::now()));
}

/// One step done; the bar appears once the run is older than a second.
pub fn step() {
    if let Some((pb, started)) = bar().as_ref() {
        if pb.is_hidden() && started.elapsed() >= QUIET_START {
            pb.set_draw_target(ProgressDrawTarget::stderr());
        }
        pb.inc(1);
    }
}

/// Removes the bar (before the plan or report is printed).
pub fn end() {
    if let Some((pb, _)) = bar().take() {
        pb.finish_and_clear();
    }
}
