"""The guardrail and LLMOps filters behind the scripts in `filters/`.

Each class here is a `pipekit.filter.BaseFilter` with its valves; `filters/<name>.py` only
subclasses it as `Pipeline`. The detectors and stores they use live one level up
(`pipekit.guards.injection`, `.pii`, `.moderation`, `.topics`, `.ratelimit`, `.metrics`).

Default priorities (Open WebUI runs filters in ascending priority, inlets and outlets alike):
usage_metrics -100, rate_limit -50, prompt_injection -10, topic_guard -5, harmful_output 0,
pii 10.
"""
