//! The exit codes of every command (docs/reference.md §4.2): the public interface CI
//! scripts branch on.

/// Success; for `plan`, also "changes present" unless `--detailed-exitcode`.
pub const EXIT_OK: u8 = 0;
/// Invalid config or flags, network or auth failure, stale plan, nothing
/// could be applied, verification failed.
pub const EXIT_ERROR: u8 = 1;
/// `plan --detailed-exitcode`: success, and changes present.
pub const EXIT_CHANGES: u8 = 2;
/// Blocked by policy, missing `--allow-replace` or `--secrets-out`.
pub const EXIT_BLOCKED: u8 = 3;
/// Apply partly failed: some changes took effect, some failed.
pub const EXIT_PARTIAL: u8 = 4;
