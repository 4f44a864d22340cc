"""``oncall-tui demo``: the scripted incident (:mod:`.scenario`), seeded at once or played live
in the dashboard (:mod:`.live`), on a fresh temporary DB (:mod:`.command`)."""
