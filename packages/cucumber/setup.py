"""Build cucumber with its C opcode scanner (``cucumber._private._opscan``); metadata: pyproject.toml.

The scanner is optional: where it cannot be compiled (no C compiler, or one that is not GCC or Clang),
the build goes on without it and ``cucumber.deserialize`` loads through its guarded reader instead
(the same bounds, slower: see ``cucumber/_private/safeload.py``).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cucumber._private._opscan",
            sources=["src/cucumber/_private/_opscan.c"],
            optional=True,
        )
    ]
)
