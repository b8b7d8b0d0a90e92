"""Build the Debian FAQ eval sets: one markdown file per FAQ entry, and its question.

Source: the `debian-faq` Debian package (HTML, English) and, for the Korean set,
`debian-faq-ko` (the same FAQ translated: same chapters, same entry ids). From the repo root:

    apt-get download debian-faq && dpkg-deb -x debian-faq_*.deb /tmp/debian-faq
    .venv/bin/python bench/rag/build_debian_faq.py /tmp/debian-faq/usr/share/doc/debian/FAQ
    apt-get download debian-faq-ko && dpkg-deb -x debian-faq-ko_*.deb /tmp/debian-faq-ko
    .venv/bin/python bench/rag/build_debian_faq.py /tmp/debian-faq-ko/usr/share/doc/debian/FAQ/ko ko

Each question entry (an h2 section such as "7.2. What is the format of a Debian binary package?")
becomes `corpus/<chapter>/<anchor>.md`; its question is the heading without the number, and
the heading's first line is dropped from the body so the question must be found from its
wording in the body. The Korean set (`debian-faq-ko/`) keeps the entries whose heading is
translated as its questions (`questions.jsonl`), and asks the English set's question of each
of its entries in `questions-en.jsonl`: an English question over Korean documents. Licence:
verbatim and modified copies allowed with the notice (see debian-faq/COPYRIGHT).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bs4 import BeautifulSoup

HERE = Path(__file__).parent
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def main(faq_dir: str, language: str = "en") -> None:
    out_dir = HERE / ("debian-faq" if language == "en" else f"debian-faq-{language}")
    corpus = out_dir / "corpus"
    questions = []
    for page in sorted(Path(faq_dir).glob(f"*.{language}.html")):
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
            text = "\n\n".join(markdown_blocks(section))
            if len(text) < 80:
                continue
            path = f"{chapter}/{anchor_id}.md"
            (corpus / chapter).mkdir(parents=True, exist_ok=True)
            (corpus / path).write_text(text + "\n", encoding="utf-8")
            questions.append({"question": title, "gold_doc": path})
    if language == "ko":
        english = _read_questions(HERE / "debian-faq" / "questions.jsonl")
        write_questions(
            out_dir / "questions-en.jsonl",
            [row for row in english if (corpus / row["gold_doc"]).exists()],
        )
        # Some headings were never translated: those are not Korean questions.
        questions = [row for row in questions if _HANGUL.search(row["question"])]
    write_questions(out_dir / "questions.jsonl", questions)


def _read_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def write_questions(path: Path, questions: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in questions:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{path}: {len(questions)} questions", file=sys.stderr)


_BLOCKS = ("p", "pre", "li", "dt", "h3", "h4")


def markdown_blocks(
    section, tags: Sequence[str] = _BLOCKS, clean: Callable[[str], str] = lambda text: text
) -> list[str]:
    """The section's text as markdown blocks, each piece of text once.

    A block inside another (a <p> inside an <li>) is part of the outer block's text: taking
    both, as the first version of this script did, repeated a quarter of the entries' text.
    """
    blocks = []
    for block in section.find_all(list(tags)):
        if block.find_parent(list(tags)) is not None:
            continue
        if block.name == "pre":
            blocks.append("```\n" + block.get_text().strip("\n") + "\n```")
            continue
        text = clean(re.sub(r"\s+", " ", block.get_text(" ", strip=True)))
        if not text:
            continue
        prefix = {"h3": "### ", "h4": "#### ", "li": "- "}.get(block.name, "")
        blocks.append(prefix + text)
    return blocks


if __name__ == "__main__":
    main(*sys.argv[1:3])
