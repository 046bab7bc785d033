"""Socket.IO layer: thin handlers, rooms, and the broadcast-after-commit helper."""
