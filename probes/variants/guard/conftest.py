

# --- variant guard: the plugin installed in the env, its guard switched on in pytest.ini.
# The run must show the guard at work, not the baseline passing by other means: a guard
# that refused (or a plugin that did not load) errors every test with the reason, and an
# e2e test that made no Playwright sync call under the guard fails as hollow.
@pytest.fixture(autouse=True)
def _loop_compat_guard_at_work(request):
    watcher = request.config.pluginmanager.get_plugin("loop-compat-watcher")
    if watcher is None:
        raise RuntimeError("loop-compat guard: the plugin is not loaded")
    if not watcher.guard:
        raise RuntimeError(f"loop-compat guard refused: {watcher.refusal}")
    from matrix.plugin import guard

    before = guard.CALLS.count
    yield
    if "page" in request.fixturenames and guard.CALLS.count == before:
        pytest.fail("hollow under the loop-compat guard: the e2e test made no Playwright "
                    "sync call")
