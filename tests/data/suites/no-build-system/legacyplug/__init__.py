"""A plugin found only through its entry point (``legacyplug_plugins``)."""

NAME = "legacy"
