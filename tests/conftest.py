"""Shared pytest configuration: fixture modules for real devices are loaded as plugins."""

pytest_plugins = [
    "tests.fixtures.phone",
    "tests.fixtures.desktop",
    "tests.fixtures.openai_server",
    "tests.fixtures.tiny_models",
    "tests.fixtures.tiny_qwen3_vl",
    "tests.fixtures.chromium",
]
