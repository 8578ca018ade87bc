"""The README test's options: the solent binary and the source tree."""
import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--solent", required=True, help="the solent binary under test")
    parser.addoption("--root", required=True, help="the source tree (README.md, conf/)")


@pytest.fixture(scope="session")
def solent(request):
    return os.path.abspath(request.config.getoption("--solent"))


@pytest.fixture(scope="session")
def root(request):
    return os.path.abspath(request.config.getoption("--root"))
