//! The daemon: startup order, signals, reload and clean shutdown.
