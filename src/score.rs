//! Compares a recovered directory with a fixture's ground truth (stub; see issue 2).
