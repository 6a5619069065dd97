"""Helpers shared by the tests (no tests here): processes, the site's test cast, ledger reads, the chaos run."""
