"""Ollama's prompt rendering, with Go's own text/template (Ollama is written in Go).

A Modelfile TEMPLATE is a Go template over `.Messages` (Role, Content) and `.System`; rendering
it here with the real engine, not a Python imitation, is what makes "the template equals the
Jinja one" mean something.
"""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path

PROGRAM = """package main

import (
	"encoding/json"
	"os"
	"text/template"
)

type Message struct {
	Role    string
	Content string
}

type Values struct {
	Messages []Message
	System   string
	Template string
}

func main() {
	var values Values
	if err := json.NewDecoder(os.Stdin).Decode(&values); err != nil {
		panic(err)
	}
	tmpl := template.Must(template.New("").Parse(values.Template))
	if err := tmpl.Execute(os.Stdout, values); err != nil {
		panic(err)
	}
}
"""


@cache
def _binary(go: str, folder: Path) -> Path:
    (folder / "main.go").write_text(PROGRAM)
    binary = folder / "render"
    subprocess.run(
        [go, "build", "-o", str(binary), "main.go"],
        cwd=folder, check=True, capture_output=True,
        env={"GOCACHE": str(folder / "cache"), "GO111MODULE": "off", "HOME": str(folder),
             "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return binary


def render_ollama(
    go: str, workdir: Path, template: str, messages: list[dict], system: str = ""
) -> str:
    """The prompt Ollama sends for a chat: the Modelfile's SYSTEM goes first when the chat
    has no system message (server/routes.go, ChatHandler), then the template runs."""
    if system and (not messages or messages[0]["role"] != "system"):
        messages = [{"role": "system", "content": system}, *messages]
    values = {
        "Messages": [{"Role": m["role"], "Content": m["content"]} for m in messages],
        "System": system,
        "Template": template,
    }
    completed = subprocess.run(
        [str(_binary(go, workdir))], input=json.dumps(values), capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise RuntimeError(f"Go could not render the template:\n{completed.stderr}")
    return completed.stdout
