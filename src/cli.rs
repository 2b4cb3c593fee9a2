//! mon's command line: every mon 1.3.6 flag with its meaning and default, and monrs's subcommands.
