"""Locks, read-write locks, semaphores and a lock manager that work across processes (and Redis)."""
