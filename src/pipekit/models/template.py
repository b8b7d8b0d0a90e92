"""From a GGUF's Jinja chat template to Ollama's Go template.

Ollama renders a prompt with Go's text/template over `.Messages`; GGUF files carry the Hugging
Face Jinja template. Most chat templates wrap each message the same way for its role (ChatML,
Llama 3, Phi, SmolLM): rendering the Jinja for a few probe chats shows each role's prefix and
suffix, the generation prompt and any default system prompt, and those make an equivalent Go
template. A template that does more (Gemma folds the system prompt into the first user turn,
Mistral into the last) does not fit that shape: the import then leaves the template to Ollama,
which recognises well-known templates in the GGUF itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .gguf_info import ModelError

ROLES = ("system", "user", "assistant")
# Probe contents: plain words, so no template trims or escapes them.
_S, _U1, _A1, _U2 = "PROBEsystemPROBE", "PROBEuser1PROBE", "PROBEassistant1PROBE", "PROBEuser2PROBE"
# Stands for bos_token, so a template that writes it is told from one that does not: some
# models' BOS is also their turn marker (SmolLM2's is <|im_start|>).
_BOS = "PROBEbosPROBE"


@dataclass(frozen=True)
class RoleTemplate:
    """A chat template that wraps each message in its role's prefix and suffix."""

    prefixes: dict[str, str]
    suffixes: dict[str, str]
    generation_prompt: str
    default_system: str  # what the template says when a chat has no system message
    start: str  # BOS text before everything; Ollama's tokenizer adds BOS itself

    def render(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        """The prompt as Ollama builds it: SYSTEM first when the chat has none."""
        if self.default_system and (not messages or messages[0]["role"] != "system"):
            messages = [{"role": "system", "content": self.default_system}, *messages]
        parts = [self.start]
        for message in messages:
            role = message["role"] if message["role"] in ROLES else "user"
            parts += [self.prefixes[role], message["content"], self.suffixes[role]]
        return "".join(parts) + (self.generation_prompt if add_generation_prompt else "")

    def go_template(self) -> str:
        """Ollama's TEMPLATE: no trim markers, so every newline of the literal text stays."""

        def wrap(role: str) -> str:
            return (
                f"{_literal(self.prefixes[role])}{{{{ .Content }}}}{_literal(self.suffixes[role])}"
            )

        return (
            '{{ range .Messages }}{{ if eq .Role "system" }}' + wrap("system")
            + '{{ else if eq .Role "assistant" }}' + wrap("assistant")
            + "{{ else }}" + wrap("user")
            + "{{ end }}{{ end }}" + _literal(self.generation_prompt)
        )  # fmt: skip


def render_jinja(
    template: str,
    messages: list[dict],
    *,
    bos_token: str = "",
    eos_token: str = "",
    add_generation_prompt: bool = True,
) -> str:
    """Render a chat template as Hugging Face and llama.cpp do (sandboxed, trimmed blocks)."""
    return _compile(template).render(
        messages=messages,
        bos_token=bos_token,
        eos_token=eos_token,
        add_generation_prompt=add_generation_prompt,
        raise_exception=_raise,
        strftime_now=lambda fmt: datetime.now().strftime(fmt),
    )


def role_template(template: str, bos_token: str = "", eos_token: str = "") -> RoleTemplate | None:
    """The role wrappers that reproduce `template`, or None when it is not of that shape.

    Raises ModelError when the template does not parse.
    """
    try:
        _compile(template)
    except jinja2.TemplateSyntaxError as error:
        raise ModelError(
            f"the GGUF's chat template (tokenizer.chat_template) does not parse: {error} "
            f"(line {error.lineno}). Fix it in the model's tokenizer_config.json and convert "
            "again."
        ) from error

    def render(*contents: str, generation: bool = False) -> str:
        roles = {_S: "system", _U1: "user", _A1: "assistant", _U2: "user"}
        messages = [{"role": roles[text], "content": text} for text in contents]
        return render_jinja(
            template,
            messages,
            bos_token=_BOS,
            eos_token=eos_token,
            add_generation_prompt=generation,
        )

    try:
        found = _derive(render)
    except (jinja2.TemplateError, TypeError, ValueError, KeyError, IndexError):
        return None  # a probe the template refuses, or a piece that is not where expected
    if found is None:
        return None
    chats = [[_U1], [_U1, _A1, _U2], [_S, _U1], [_S, _U1, _A1, _U2]]
    for contents in chats:
        roles = {_S: "system", _A1: "assistant"}
        messages = [{"role": roles.get(text, "user"), "content": text} for text in contents]
        for generation in (False, True):
            if found.render(messages, generation) != render(*contents, generation=generation):
                return None
    return RoleTemplate(
        prefixes={role: text.replace(_BOS, bos_token) for role, text in found.prefixes.items()},
        suffixes={role: text.replace(_BOS, bos_token) for role, text in found.suffixes.items()},
        generation_prompt=found.generation_prompt.replace(_BOS, bos_token),
        default_system=found.default_system,
        start=bos_token if found.start else "",
    )


def _derive(render) -> RoleTemplate | None:
    one_turn = render(_U1)
    head, user_suffix = one_turn.split(_U1)
    generation_prompt = _after(render(_U1, generation=True), one_turn)
    assistant_suffix = render(_U1, _A1).split(_A1)[1]
    two_turns = render(_U1, _A1, _U2)
    assistant_prefix = _after(_between(two_turns, _U1, _A1), user_suffix)
    user_prefix = _after(_between(two_turns, _A1, _U2), assistant_suffix)
    if generation_prompt is None or assistant_prefix is None or user_prefix is None:
        return None
    if not head.endswith(user_prefix):
        return None
    preamble = head[: len(head) - len(user_prefix)]
    start = _BOS if preamble.startswith(_BOS) else ""
    with_system = render(_S, _U1)
    system_prefix = _after(with_system.split(_S)[0], start)
    between = _between(with_system, _S, _U1)
    if system_prefix is None or not between.endswith(user_prefix):
        return None
    system_suffix = between[: len(between) - len(user_prefix)]
    default_system = ""
    block = preamble[len(start) :]
    if block:  # the template's own system message, for chats without one
        if not (block.startswith(system_prefix) and block.endswith(system_suffix)):
            return None
        default_system = block[len(system_prefix) : len(block) - len(system_suffix)]
    return RoleTemplate(
        prefixes={"system": system_prefix, "user": user_prefix, "assistant": assistant_prefix},
        suffixes={"system": system_suffix, "user": user_suffix, "assistant": assistant_suffix},
        generation_prompt=generation_prompt,
        default_system=default_system,
        start=start,
    )


def _after(text: str, prefix: str) -> str | None:
    return text[len(prefix) :] if text.startswith(prefix) else None


def _between(text: str, first: str, second: str) -> str:
    return text.split(first, 1)[1].split(second, 1)[0]


def _literal(text: str) -> str:
    # "{{" would open an action in Go's template language: print it as a string instead.
    return text.replace("{{", '{{ "{{" }}')


def _raise(message: str) -> None:
    raise jinja2.TemplateError(message)


def _compile(template: str) -> jinja2.Template:
    environment = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    return environment.from_string(template)
