//! mon traps: the UDP packet format, the listener and the sender.
