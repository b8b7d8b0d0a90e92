"""Build the git-doc eval set: git's command manuals, each found from its one-line summary.

Source: the `git-doc` Debian package (AsciiDoc, English). Run from the repo root:

    apt-get download git-doc && dpkg-deb -x git-doc_*.deb /tmp/git-doc
    .venv/bin/python bench/rag/build_git_doc.py /tmp/git-doc/usr/share/doc/git-doc

Each `git-*.txt` manual becomes `corpus/<name>.txt` without its title and NAME section; the
question is the NAME line's summary ("Reapply commits on top of another base tip"), so it must
be matched against the manual's description, not found verbatim. Many summaries are close to
each other (show, log, whatchanged), which is what makes the set hard. Licence: GPL-2.0, as git
(see git-doc/COPYRIGHT).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).parent / "git-doc"
_NAME_SECTION = re.compile(r"^NAME\n-+\n(?P<name>[\w.-]+) - (?P<summary>.+?)\n\n", re.M)


def main(doc_dir: str) -> None:
    corpus = HERE / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    questions = []
    for manual in sorted(Path(doc_dir).glob("git-*.txt")):
        text = manual.read_text(encoding="utf-8")
        found = _NAME_SECTION.search(text)
        if not found:
            continue  # not a command manual
        body = text[found.end() :].strip()
        if len(body) < 200:
            continue
        summary = found["summary"].strip().rstrip(".")
        (corpus / manual.name).write_text(body + "\n", encoding="utf-8")
        questions.append({"question": summary[0].upper() + summary[1:], "gold_doc": manual.name})
    with (HERE / "questions.jsonl").open("w", encoding="utf-8") as out:
        for row in questions:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(questions)} questions", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
