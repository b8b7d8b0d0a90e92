"""Bring your own model: GGUF files and Hugging Face folders into Ollama (`pipekit models`).

`gguf_info` reads what a GGUF says about itself, `template` turns its Jinja chat template into
Ollama's, `modelfile` decides the Modelfile, `convert` runs llama.cpp's converter on a
Hugging Face folder, `ollama_api` talks to Ollama, `importer` puts the steps in order.
"""
