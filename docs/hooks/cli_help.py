"""MkDocs hook: replace ``<!-- microviral-help COMMAND -->`` in a page by that command's ``--help`` text.

The command-line page then always shows the options of the installed code.
"""

import os
import re

_MARKER = re.compile(r"<!--\s*microviral-help\s*(\w*)\s*-->")


def _help(command):
    from microviral.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        parser = build_parser()
        if command:
            sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
            parser = sub.choices[command]
        text = parser.format_help()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return "```text\n" + text.rstrip() + "\n```"


def on_page_markdown(markdown, page, config, files):
    return _MARKER.sub(lambda m: _help(m.group(1)), markdown)
