//! Latency and fault injection for the simulators: a delay before every answer,
//! a share of requests answered 503, and a share of new connections reset.

use std::time::Duration;

/// What to inject. The default injects nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Added before every response.
    pub latency: Duration,
    /// Probability (0–1) that a request is answered `503 Service Unavailable`.
    pub error_rate: f64,
    /// Probability (0–1) that a new connection is closed with a TCP reset
    /// before any response.
    pub reset_rate: f64,
}

impl Faults {
    pub fn roll_error(&self) -> bool {
        self.error_rate > 0.0 && fastrand::f64() < self.error_rate
    }
    pub fn roll_reset(&self) -> bool {
        self.reset_rate > 0.0 && fastrand::f64() < self.reset_rate
    }
}
