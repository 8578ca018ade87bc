"""The README test's options and fixtures: the engine tests' (harness.py)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine"))
from harness import pytest_addoption, root, solent  # noqa: E402,F401
