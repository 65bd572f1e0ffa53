"""A fuzz campaign for every parser of remote data (issue 13, deliverable 5).

Structure-aware mutators (:mod:`.mutate_bytes`, :mod:`.mutate_pb`,
:mod:`.mutate_node`) start from valid seeds the library itself produced
(:mod:`.seeds`) and feed the targets (:mod:`.targets`); the oracle
(:mod:`.engine`) accepts only AxolotlError, flags any input over 50 ms, and the
stateful targets check that a failure leaves the store byte-identical
(:mod:`.store_state`). ``test_fuzz_short.py`` is the short CI run;
``python -m tests.fuzz`` the long one; ``atheris_fuzz.py`` the coverage-guided
harness. See README.md in this directory.
"""
