"""State in a Redis server: ``RedisCounter`` and the Redis backend of ``Share`` (extra ``[redis]``)."""
