"""``oncall-tui`` and ``python -m oncall_tui``.

The agent hook runs at every prompt and before every edit, so it answers without loading the
whole command line (click, pydantic settings, Textual): only the exact hook invocation takes
the short path.
"""

import sys

from oncall_tui.agents.hook.entry import dispatch


def main() -> None:
    if not dispatch(sys.argv[1:]):
        from oncall_tui.cli import main as cli_main

        cli_main()


if __name__ == "__main__":
    main()
