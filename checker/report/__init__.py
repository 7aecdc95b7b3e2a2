"""Report writers: each turns a :class:`checker.gate.RunResult` into text."""
