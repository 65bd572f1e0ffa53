"""The public surface: what the README names is importable from ``axolotl``."""

from __future__ import annotations

import axolotl


def test_every_exported_name_exists() -> None:
    missing = [name for name in axolotl.__all__ if not hasattr(axolotl, name)]
    assert missing == []
    assert len(set(axolotl.__all__)) == len(axolotl.__all__)


def test_the_names_the_readme_uses_are_exported() -> None:
    # Named in README.md's wiring, guarantees and store sections (issue 17,
    # item 5: LockTimeout and new_bundle were missing).
    for name in ("LockTimeout", "new_bundle", "FetchBundle", "SendFailure", "RetryLayer"):
        assert name in axolotl.__all__, name
