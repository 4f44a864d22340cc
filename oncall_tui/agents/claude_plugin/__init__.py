"""The Claude Code plugin shipped inside the package, and its installer.

The plugin itself is the ``plugin`` folder next to this module (package data, copied as it is):
its manifest, its hooks and a monitor running ``oncall-tui watch``.
"""
