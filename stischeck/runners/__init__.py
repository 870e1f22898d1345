"""Runners: the same contract for live calstis and the reference (raw + oref -> products)."""
