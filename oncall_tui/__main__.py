"""``oncall-tui`` and ``python -m oncall_tui``.

The agent hook runs at every prompt and before every edit, so it answers without loading the
whole command line (click, pydantic settings, Textual): only the exact hook invocation takes
the short path. Its module is imported only when the word ``hook`` is on the command line, so
the other short commands (``incidents``, ``pushes``) do not pay for the hook adapters either.
"""

import sys


def main() -> None:
    argv = sys.argv[1:]
    if "hook" in argv:
        from oncall_tui.agents.hook.entry import dispatch

        if dispatch(argv):
            return
    from oncall_tui.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
