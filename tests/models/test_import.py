"""`pipekit models import|list|show|rm` against the fake Ollama, as a user runs them."""

from __future__ import annotations

import pytest

from pipekit.testing.fake_ollama import FakeOllama

from .conftest import models_cli, write_gguf


@pytest.fixture
def ollama():
    with FakeOllama(models=[]) as fake:
        yield fake


def imported(ollama: FakeOllama, source, *args: str):
    return models_cli("import", str(source), "--ollama-url", ollama.url, *args)


def paths(ollama: FakeOllama) -> list[tuple[str, str]]:
    return [(r["method"], r["path"].split("/sha256:")[0]) for r in ollama.requests]


def test_import_uploads_the_blob_creates_the_model_and_writes_the_modelfile(ollama, tiny_gguf):
    result = imported(ollama, tiny_gguf, "--name", "tiny")

    assert result.returncode == 0, result.stderr
    assert paths(ollama) == [
        ("POST", "/api/show"),  # taken? (and: is Ollama up?) before anything is written
        ("HEAD", "/api/blobs"),
        ("POST", "/api/blobs"),
        ("POST", "/api/create"),
    ]
    created = ollama.created["tiny"]
    assert list(created.files) == ["tiny-chat.gguf"]
    assert created.parameters["stop"] == ["<|im_end|>", "<|im_start|>"]
    assert created.template.startswith("{{ range .Messages }}")
    # Ollama's status lines stream through, and the Modelfile waits beside the GGUF.
    assert "parsing GGUF\n" in result.stdout and "writing manifest\nsuccess\n" in result.stdout
    modelfile = tiny_gguf.with_name("tiny-chat.Modelfile").read_text()
    assert "FROM ./tiny-chat.gguf" in modelfile and created.template in modelfile
    assert "uploading tiny-chat.gguf" in result.stderr  # the progress bar

    shown = models_cli("show", "tiny", "--ollama-url", ollama.url)
    assert shown.returncode == 0 and 'PARAMETER stop "<|im_end|>"' in shown.stdout
    assert "tiny" in models_cli("list", "--ollama-url", ollama.url).stdout
    assert models_cli("rm", "tiny", "--ollama-url", ollama.url).stdout == "removed tiny\n"
    assert "tiny" not in ollama.created


def test_an_existing_model_is_kept_unless_forced_and_a_known_blob_is_not_resent(ollama, tiny_gguf):
    assert imported(ollama, tiny_gguf, "--name", "tiny").returncode == 0
    ollama.requests.clear()

    refused = imported(ollama, tiny_gguf, "--name", "tiny")
    assert refused.returncode == 1
    assert "already has a model 'tiny': pass --force" in refused.stderr
    assert paths(ollama) == [("POST", "/api/show")]

    ollama.requests.clear()
    forced = imported(ollama, tiny_gguf, "--name", "tiny", "--force")
    assert forced.returncode == 0, forced.stderr
    assert ("POST", "/api/blobs") not in paths(ollama)  # HEAD said Ollama has it
    assert "not uploading it again" in forced.stdout


def test_dry_run_prints_the_modelfile_and_touches_nothing(ollama, tiny_gguf):
    result = imported(ollama, tiny_gguf, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# Modelfile for tiny-chat,")
    assert "FROM ./tiny-chat.gguf" in result.stdout
    assert ollama.requests == [] and not tiny_gguf.with_name("tiny-chat.Modelfile").exists()


def test_ollama_down_is_a_clear_message(tiny_gguf):
    result = models_cli("import", str(tiny_gguf), "--ollama-url", "http://127.0.0.1:9")
    assert result.returncode == 1
    assert "Ollama is not reachable at http://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr
    assert not tiny_gguf.with_name("tiny-chat.Modelfile").exists()


def test_a_full_disk_leaves_nothing_half_created(ollama, tiny_gguf):
    ollama.disk_free = 100
    result = imported(ollama, tiny_gguf, "--name", "tiny")
    assert result.returncode == 1
    assert "no space left on device" in result.stderr and "Its disk is full" in result.stderr
    assert ollama.created == {} and ollama.blobs == {}
    assert not tiny_gguf.with_name("tiny-chat.Modelfile").exists()


def test_a_failed_create_removes_the_model_it_made(ollama, tiny_gguf):
    ollama.fail_create("template: :1: unexpected EOF")
    result = imported(ollama, tiny_gguf, "--name", "tiny")
    assert result.returncode == 1
    assert "failed creating tiny: template: :1: unexpected EOF" in result.stderr
    assert ("DELETE", "/api/delete") in paths(ollama)
    assert "tiny" not in ollama.created
    assert not tiny_gguf.with_name("tiny-chat.Modelfile").exists()


def test_a_bad_file_fails_before_anything_is_written(ollama, tmp_path):
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    result = imported(ollama, bad, "--name", "notes")
    assert result.returncode == 1 and "is not a GGUF file" in result.stderr
    assert ollama.created == {} and not tmp_path.joinpath("notes.Modelfile").exists()


def test_a_drop_folder_imports_each_gguf_once(ollama, tmp_path):
    drop = tmp_path / "models"
    drop.mkdir()
    write_gguf(drop / "Team-Chat.Q8_0.gguf")
    write_gguf(drop / "helper.gguf")
    first = imported(ollama, drop)
    assert first.returncode == 0, first.stderr
    assert set(ollama.created) == {"team-chat.q8_0", "helper"}

    again = imported(ollama, drop)
    assert again.returncode == 0
    assert "helper: already in Ollama, kept" in again.stdout


def test_the_fake_checks_the_blob_digest(ollama):
    import httpx

    wrong = "sha256:" + "0" * 64
    response = httpx.post(f"{ollama.url}/api/blobs/{wrong}", content=b"model bytes")
    assert response.status_code == 400 and "digest mismatch" in response.json()["error"]
    assert httpx.head(f"{ollama.url}/api/blobs/{wrong}").status_code == 404


def test_a_hugging_face_folder_without_llama_cpp_sources_says_where_to_get_them(ollama, tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text('{"architectures": ["LlamaForCausalLM"]}')
    result = imported(ollama, folder, "--name", "mine", "--llama-cpp", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "convert_hf_to_gguf.py was not found" in result.stderr
    assert "pip download --no-deps --no-binary :all: llama-cpp-python" in result.stderr
    assert ollama.created == {} and not (tmp_path / "my-model.gguf").exists()
