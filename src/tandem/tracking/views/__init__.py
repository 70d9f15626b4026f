"""Tracking pages and public endpoints, one module per area."""
