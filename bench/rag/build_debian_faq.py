"""Build the Debian FAQ eval set: one markdown file per FAQ entry, and its question.

Source: the `debian-faq` Debian package (HTML, English). Run from the repo root:

    apt-get download debian-faq && dpkg-deb -x debian-faq_*.deb /tmp/debian-faq
    .venv/bin/python bench/rag/build_debian_faq.py /tmp/debian-faq/usr/share/doc/debian/FAQ

Each question entry (an h2 section such as "7.2. What is the format of a Debian binary package?")
becomes `corpus/<chapter>/<anchor>.md`; its question is the heading without the number, and
the heading's first line is dropped from the body so the question must be found from its
wording in the body. Licence:
verbatim and modified copies allowed with the notice (see debian-faq/COPYRIGHT).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup

HERE = Path(__file__).parent / "debian-faq"


def main(faq_dir: str) -> None:
    corpus = HERE / "corpus"
    questions = []
    for page in sorted(Path(faq_dir).glob("*.en.html")):
        chapter = page.name.split(".")[0]
        if chapter in ("index",):
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for heading in soup.select("div.section h2.title"):
            anchor = heading.find("a", id=True)
            title = re.sub(r"^\s*[\d.]+\s*", "", heading.get_text(" ", strip=True))
            section = heading.find_parent("div", class_="section")
            if not anchor or not section or not title.endswith("?"):
                continue  # "Authors", "More kernels": section titles, not questions
            anchor_id = anchor["id"]
            heading.decompose()
            text = "\n\n".join(_markdown_blocks(section))
            if len(text) < 80:
                continue
            path = f"{chapter}/{anchor_id}.md"
            (corpus / chapter).mkdir(parents=True, exist_ok=True)
            (corpus / path).write_text(text + "\n", encoding="utf-8")
            questions.append({"question": title, "gold_doc": path})
    with (HERE / "questions.jsonl").open("w", encoding="utf-8") as out:
        for row in questions:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(questions)} questions", file=sys.stderr)


_BLOCKS = ["p", "pre", "li", "dt", "h3", "h4"]


def _markdown_blocks(section) -> list[str]:
    """The section's text as markdown blocks, each piece of text once.

    A block inside another (a <p> inside an <li>) is part of the outer block's text: taking
    both, as the first version of this script did, repeated a quarter of the entries' text.
    """
    blocks = []
    for block in section.find_all(_BLOCKS):
        if block.find_parent(_BLOCKS) is not None:
            continue
        if block.name == "pre":
            blocks.append("```\n" + block.get_text().strip("\n") + "\n```")
            continue
        text = re.sub(r"\s+", " ", block.get_text(" ", strip=True))
        if not text:
            continue
        prefix = {"h3": "### ", "h4": "#### ", "li": "- "}.get(block.name, "")
        blocks.append(prefix + text)
    return blocks


if __name__ == "__main__":
    main(sys.argv[1])
