"""loop-compat matrix: which versions of pytest, pytest-asyncio, the Playwright plugins,
coverage and Python work together, measured by running probe suites in real environments."""

__version__ = "0.1.0"
