"""Context files for agents: the export loop, the file plan, atomic writes, the index and the
repo writers.

Kept free of imports so that importing one writer (the theme saver uses the atomic write) does
not load the whole export.
"""
