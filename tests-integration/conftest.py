"""Make this folder importable by child processes (helper modules such as ``kit_examples_workers``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
