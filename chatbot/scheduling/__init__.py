"""Scheduled reports: the schedules, the exactly-once delivery runner, the timer."""
