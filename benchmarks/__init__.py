"""Benchmarks: scripts that time the bot against the fakes of the tests (run each as a script)."""
