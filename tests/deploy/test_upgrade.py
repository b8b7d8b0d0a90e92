"""Upgrading keeps valves: a new image brings new pipeline code onto the same data volume.

The container's /data (a named volume or a PVC) is a data dir here; the image's bundled
scripts are an extra folder whose contents change between the two "versions".
"""

from __future__ import annotations

import json

OLD_VERSION = '''
"""
title: Greeter
"""
from pydantic import BaseModel, Field


class Pipeline:
    class Valves(BaseModel):
        greeting: str = Field("hello", description="Word to answer with.")
        repeat: int = Field(1, description="How many times.")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, user_message, model_id, messages, body):
        return " ".join([self.valves.greeting] * self.valves.repeat)
'''

# The next release: a new valve, a new default for an old one, and new behaviour.
NEW_VERSION = '''
"""
title: Greeter
"""
from pydantic import BaseModel, Field


class Pipeline:
    class Valves(BaseModel):
        greeting: str = Field("hello", description="Word to answer with.")
        repeat: int = Field(2, description="How many times.")
        punctuation: str = Field("!", description="Appended to the answer.")

    def __init__(self):
        self.valves = self.Valves()

    def pipe(self, user_message, model_id, messages, body):
        words = " ".join([self.valves.greeting] * self.valves.repeat)
        return words + self.valves.punctuation
'''


def ask(client, model: str) -> str:
    answer = client.post(
        "/v1/chat/completions",
        json={"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": False},
    )
    answer.raise_for_status()
    return answer.json()["choices"][0]["message"]["content"]


def test_valves_set_before_an_upgrade_survive_it(start_server, pipelines_dir, tmp_path):
    volume = tmp_path / "pipekit-data"
    old = start_server(extra_dirs=(pipelines_dir(greeter=OLD_VERSION),), data_dir=volume)
    with old.client() as client:
        update = {"greeting": "안녕", "repeat": 3}
        client.post("/greeter/valves/update", json=update).raise_for_status()
        assert ask(client, "greeter") == "안녕 안녕 안녕"
    old.stop()
    # Where docs/deploy.md says valves live on the volume.
    saved = volume / "pipelines" / "greeter" / "valves.json"
    assert json.loads(saved.read_text(encoding="utf-8")) == {"greeting": "안녕", "repeat": 3}

    new = start_server(extra_dirs=(pipelines_dir(greeter=NEW_VERSION),), data_dir=volume)
    with new.client() as client:
        # Saved values win over the new defaults; the new valve starts at its default.
        assert client.get("/greeter/valves").json() == {
            "greeting": "안녕",
            "repeat": 3,
            "punctuation": "!",
        }
        assert ask(client, "greeter") == "안녕 안녕 안녕!"
    assert "punctuation" in (volume / "pipelines" / "greeter.py").read_text(encoding="utf-8")
