#!/usr/bin/env python3
"""Shrinks one web/ asset for embedding: line-based and conservative, so what the browser runs is
the source minus indentation and comments (no renaming, no reordering; line breaks stay, so
JavaScript's automatic semicolons and error line numbers are unchanged).

    minify_asset.py IN OUT

.js   leading/trailing blanks, empty lines and whole-line // comments go. A backtick outside a
      comment line stops the build: a template literal may hold lines that look like comments.
.css  the same, plus /* ... */ comments.
.html leading/trailing blanks and empty lines (no <pre>, and textareas must be empty).
Anything else is copied as it is."""
import re
import sys


def main(src, dst):
    with open(src, encoding="utf-8") as f:
        text = f.read()
    ext = src.rsplit(".", 1)[-1]
    if ext in ("js", "css", "html"):
        if ext == "css":
            text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        if ext == "html" and re.search(r"<pre|<textarea[^>]*>[^<]", text):
            sys.exit("minify_asset: %s has preformatted text; leave it out or teach this script" % src)
        lines = []
        for line in text.split("\n"):
            line = line.strip()
            if not line or (ext == "js" and line.startswith("//")):
                continue
            if ext == "js" and "`" in line:
                sys.exit("minify_asset: %s uses a template literal; teach this script before using one" % src)
            lines.append(line)
        text = "\n".join(lines) + "\n"
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
