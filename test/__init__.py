"""Python helpers of the atlas_snapshot_fdw tests (mock Atlas server).

This file only exists so that "python3 -m unittest test/test_mock.py" run
from the repository root imports this directory rather than the standard
library's own "test" package.
"""
