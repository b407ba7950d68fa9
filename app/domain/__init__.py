"""Pure policy: no I/O, no database, no clock. Every decision explains itself."""
