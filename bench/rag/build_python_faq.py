"""Build the Python FAQ eval set: one markdown file per FAQ entry, and its question.

Source: the `python3.11-doc` Debian package (Sphinx HTML, English). Run from the repo root:

    apt-get download python3.11-doc && dpkg-deb -x python3.11-doc_*.deb /tmp/python-doc
    .venv/bin/python bench/rag/build_python_faq.py /tmp/python-doc/usr/share/doc/python3.11/html/faq

A held-out set: it was added after the retrieval settings were chosen on the Debian FAQ and
git-doc, to see whether they carry over. Each question entry ("How do I iterate over a sequence
in reverse order?") becomes `corpus/<page>/<group>/<n>.md`, its heading dropped so the question
must be found from the body's wording. Sphinx names a section after its title, so the files
are numbered instead: an id would hand the question to the path words. Licence: PSF License
Version 2 (see python-faq/COPYRIGHT).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup
from build_debian_faq import markdown_blocks, write_questions

HERE = Path(__file__).parent / "python-faq"
_BLOCKS = ["p", "pre", "li", "dt"]


def main(faq_dir: str) -> None:
    corpus = HERE / "corpus"
    questions = []
    for page in sorted(Path(faq_dir).glob("*.html")):
        if page.stem == "index":
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        numbers: dict[str, int] = {}
        for section in soup.select("section"):
            heading = section.find(["h2", "h3"], recursive=False)
            if heading is None:
                continue
            title = _clean(heading.get_text(" ", strip=True).rstrip("¶"))
            if not title.endswith("?") or section.find("section") is not None:
                continue  # group headings ("Core Language") and entries with sub-entries
            parent = section.find_parent("section")
            parent_heading = parent.find(["h1", "h2"], recursive=False) if parent else None
            group = _slug(parent_heading.get_text(" ", strip=True)) if parent_heading else "faq"
            heading.decompose()
            text = "\n\n".join(markdown_blocks(section, _BLOCKS, _clean))
            if len(text) < 80:
                continue
            numbers[group] = numbers.get(group, 0) + 1
            path = f"{page.stem}/{group}/{numbers[group]:02d}.md"
            (corpus / path).parent.mkdir(parents=True, exist_ok=True)
            (corpus / path).write_text(text + "\n", encoding="utf-8")
            questions.append({"question": title, "gold_doc": path})
    write_questions(HERE / "questions.jsonl", questions)


def _clean(text: str) -> str:
    """Sphinx's typographic quotes as plain ones, single spaces."""
    text = text.replace("\u2018", "'").replace("\u2019", "'").replace("\u201c", '"')
    return re.sub(r"\s+", " ", text.replace("\u201d", '"')).strip()


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", _clean(text.rstrip("¶")).lower())
    return "-".join(words) or "faq"


if __name__ == "__main__":
    main(sys.argv[1])
