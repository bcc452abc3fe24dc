

# Variant nest-asyncio: what the reported project tried second. nest_asyncio patches
# asyncio so that a running loop can be entered again.
import nest_asyncio


def pytest_configure(config):
    nest_asyncio.apply()
