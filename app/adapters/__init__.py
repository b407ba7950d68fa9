"""Outbound integrations, each behind a narrow interface."""
