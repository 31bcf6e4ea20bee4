"""The session log on disk: TinyDB with atomic, durable writes, yearly files, the running session's checkpoint, CSV export and import."""
