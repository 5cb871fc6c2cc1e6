"""Benchmarks of the suitkaise packages against their peers (see ../../docs/benchmarks/)."""
