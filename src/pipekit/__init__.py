"""pipekit: Open WebUI pipelines and the library they stand on."""

__version__ = "0.1.0"
