"""google.colab's error classes, the names notebooks catch."""


class Error(Exception):
    """Base class of google.colab's errors."""


class LocalRuntimeError(Error, NotImplementedError):
    """A part of google.colab that only hosted Colab has (Google's VMs and services)."""
