"""The decoders' own errors: the runtime counts and logs them, and carries on."""


class DecodeError(ValueError):
    """A payload that cannot be read as the configured sensor's reading."""


class UnknownTopic(LookupError):
    """A message on a topic no configured sensor uses."""
