"""Hearth's I/O side: configuration, sources, store, alert delivery, CLI and the asyncio runtime."""
