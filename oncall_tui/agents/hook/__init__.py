"""Agent hooks: one adapter per agent over one decision core, and the edit guard.

Kept free of imports: the hook's fast path starts here and must load nothing it does not use.
"""
