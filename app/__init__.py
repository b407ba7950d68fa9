"""Temporary-assistance (临时救助) case service."""
