"""The version of digitlab; modules import it from here, never from the root."""

__version__ = "0.1.0"
