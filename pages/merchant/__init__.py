"""Merchant dashboard pages (login required)."""
