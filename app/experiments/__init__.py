"""Headline experiments: the statistics, as pure functions over per-arm counts."""
