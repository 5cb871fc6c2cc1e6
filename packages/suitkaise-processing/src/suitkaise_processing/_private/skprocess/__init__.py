"""Skprocess internals: config, the lifecycle engine, the child entry point and the parent handle."""
