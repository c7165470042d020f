"""Delivery adapters: the reports folder, Slack, Discord (parse, call, render, send)."""
