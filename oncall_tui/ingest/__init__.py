"""One path for every delivery: HTTP webhooks, pollers, ``oncall-tui ingest`` and reruns.

Order matters and is the point of this package: check credentials and parse without touching the
store (:mod:`.prepare`), so callers can do it on their own threads; then store the raw bytes and
fold the signals into incidents (:mod:`.record`). A delivery that fails anywhere after the
credentials check is still stored, with the reason. The receiver commits raw bytes first and folds
shortly after (:mod:`.pending`), so a storm is acknowledged at the speed of the store rather than
of the fold.
"""
