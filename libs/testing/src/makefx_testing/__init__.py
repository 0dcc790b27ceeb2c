"""Test fixtures shared by every test suite of the project (a pytest plugin)."""
