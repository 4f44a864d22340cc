"""Commits made in agent sessions (the hook, the trailer scan) and the commits deploys shipped."""
