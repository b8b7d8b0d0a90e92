"""Valves saved or posted under former names reach today's valves: the document collections
of the RAG, agent and incident pipes are one `collections` list."""

from __future__ import annotations

import json


def test_saved_and_posted_collections_under_former_names_become_one_list(start_server, tmp_path):
    data_dir = tmp_path / "data"
    saved = {
        "react_agent": {"rag_collections": "docs, runbooks", "max_steps": 4},
        "incident_agent": {"runbook_collections": ["runbooks", " ops "]},
        "rag": {"collections": "docs,wiki"},
    }
    for pipeline_id, valves in saved.items():
        path = data_dir / "pipelines" / pipeline_id / "valves.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(valves), encoding="utf-8")
    server = start_server(data_dir=data_dir)
    with server.client() as client:
        react = client.get("/react_agent/valves").json()
        assert (react["collections"], react["max_steps"]) == (["docs", "runbooks"], 4)
        assert "rag_collections" not in react
        assert client.get("/incident_agent/valves").json()["collections"] == ["runbooks", "ops"]
        assert client.get("/rag/valves").json()["collections"] == ["docs", "wiki"]

        response = client.post("/web_search_agent/valves/update", json={"rag_collections": "a, b"})
        assert response.status_code == 200, response.text
        assert response.json()["collections"] == ["a", "b"]
    stored = data_dir / "pipelines" / "web_search_agent" / "valves.json"
    assert json.loads(stored.read_text())["collections"] == ["a", "b"]
    assert "saved field" not in server.log()  # nothing reported as gone
