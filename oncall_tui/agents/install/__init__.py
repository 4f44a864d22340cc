"""``hooks install`` and ``hooks status``: each agent's hook configuration, written and read.

:mod:`.spec` says what each agent needs wired and where its files live, :mod:`.merge` merges our
entries into a configuration document without any IO, and :mod:`.files` reads, backs up and
writes the files.
"""
