//! auth.cf: who may run which command, trap authentication, and login methods.
