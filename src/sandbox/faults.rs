//! Latency and fault injection for the simulators: a delay before every answer,
//! a share of requests answered 503 (before or after they were carried out),
//! and a share of new connections reset.

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
    /// Probability (0–1) that a request is carried out but its answer is
    /// replaced by `503` (the answer is lost; the write happened).
    pub lost_answer_rate: f64,
}

impl Faults {
    pub fn roll_error(&self) -> bool {
        self.error_rate > 0.0 && fastrand::f64() < self.error_rate
    }
    pub fn roll_lost_answer(&self) -> bool {
        self.lost_answer_rate > 0.0 && fastrand::f64() < self.lost_answer_rate
    }
    pub fn roll_reset(&self) -> bool {
        self.reset_rate > 0.0 && fastrand::f64() < self.reset_rate
    }
}
