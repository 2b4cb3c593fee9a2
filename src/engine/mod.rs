//! The engine: single owner of the runtime state; applies monitor results, client commands and traps.
