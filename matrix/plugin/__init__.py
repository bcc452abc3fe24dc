"""The pytest plugin a user installs into their own test environment (``pytest11`` entry
point ``loop_compat``, distribution ``pytest-loop-compat`` built from ``plugin/``).

``plugin``   the hooks: diagnosis (on by default, silent when nothing is wrong) and the
             switch for the guard
``answer``   the one place the plugin asks for a verdict and fixes for installed versions
``guard``    confines the running-loop mark of Playwright's sync API to each sync call

Nothing here imports the report stack (pandas, plotly, Jinja2): the light distribution
does not install it.
"""
