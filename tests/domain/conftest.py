import pytest


def pytest_configure(config: pytest.Config) -> None:
    # `pytest_plugins` is only accepted in the rootdir's conftest.
    config.pluginmanager.import_plugin("pytester")
