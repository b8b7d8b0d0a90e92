# ruff: noqa: E501  (pattern and data tables read better unwrapped)
"""Prompt-injection detection without a model server (tier 1).

Three signals, cheapest first:
1. the text is normalised into several views (`normalize.views`): case, width, invisible
   characters, homoglyphs, leetspeak, spaced letters, base64/hex payloads decoded;
2. multilingual patterns (English, Korean, German, French, Spanish, Italian, Portuguese,
   Chinese, Japanese, Russian) for direct overrides, system-prompt extraction, jailbreak
   personas, fake role delimiters and indirect injections in tool or web output;
3. a hashed character n-gram logistic regression trained offline on open data
   (`injection_model.npz`, see bench/guard/README.md);
4. the semantic tier (`semantic.py`): a classifier over the meaning of the text, in any
   language the offline multilingual encoder reads. It costs a few milliseconds, so it runs
   only when the first three are unsure: no strong pattern and a score under SURE, and for a
   long text only when its score is at least LONG_TEXT_GATE.

A strong pattern decides alone; weaker ones add evidence to the classifier's logit; the final
score is the higher of that and the semantic tier's. The same function screens user prompts
and, with `untrusted=True` and UNTRUSTED_THRESHOLD, text from documents, web pages and tools
(`screen_untrusted`).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipekit.guards import semantic
from pipekit.guards.classifier import HashedNgramModel
from pipekit.guards.normalize import View, basic, fold, views

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).with_name("injection_model.npz")
DEFAULT_THRESHOLD = 0.5
STRONG = 0.97  # score of a strong pattern hit on its own
# A quoted attack phrase with a word that introduces an example is talked about, not used.
_QUOTED = re.compile(r"'[^'\n]{4,160}'|\"[^\"\n]{4,160}\"|[‘“「『][^’”」』\n]{4,160}[’”」』]")
_MENTION = re.compile(
    r"(?i)\b(?:what does|what do|mean(?:s|ing)?|called|such as|like|e\.g\.|for example|phrases?|attacks?)\b|뜻|의미|같은|라는|이라는|원리|공격|예시|예를\s*들"
)
# Fast tiers at or above this are sure enough: the semantic tier is not asked.
SURE = 0.9
# A long text (several windows) is embedded only when the fast tiers see at least this much:
# documents are where the cost of embedding grows, and the n-gram windows read them well.
LONG_TEXT_GATE = 0.05
# Text from documents, pages and tools: flagged from this score (see `screen_untrusted`).
UNTRUSTED_THRESHOLD = 0.5
# Windows embedded per untrusted text (a fetched page is cut to the firewall's budget first).
UNTRUSTED_WINDOWS = 16
MAX_SCAN_CHARS = 40_000  # longer input is scanned head + tail (both ends are where payloads sit)


@dataclass(frozen=True)
class InjectionVerdict:
    score: float
    is_attack: bool
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Pattern:
    name: str
    regex: re.Pattern[str]
    strong: bool  # True: decides alone; False: adds `boost` to the classifier's logit
    boost: float = 0.0
    # "folded" already has everything "basic" has, minus look-alike tricks; only patterns for
    # scripts that folding would mangle (Cyrillic) read "basic".
    on: tuple[str, ...] = ("folded", "decoded", "rot13", "reversed")
    # Cheap substring prefilter: the regex runs only if one of these occurs in the view.
    needs: tuple[str, ...] = ()


def _p(
    name: str, pattern: str, *, strong: bool = True, boost: float = 0.0, on=None, needs=()
) -> _Pattern:
    kwargs = {"on": on} if on else {}
    return _Pattern(name, re.compile(pattern, re.S), strong, boost, needs=needs, **kwargs)


# --- English -------------------------------------------------------------------------------
_VERB = r"(?:ignore|ignoring|disregard|forget|skip|bypass|override|overrule|neglect|discard|abandon|drop|set aside|throw out|pay no attention to|stop following|do not follow|don'?t follow|no longer follow)"
_QUAL = r"(?:all|any|every|each|previous|prior|above|earlier|preceding|foregoing|former|original|initial|old|existing|your|its|the system|system|safety|developer|default|these|those|everything)"
_OBJ = r"(?:instructions?|instructs|rules|directions?|guidelines|guidance|prompts?|directives?|commands?|orders|guardrails|restrictions|constraints|policies|programming|training|context|system (?:prompt|message)|messages?|limitations|safeguards|filters?)"
# "what is your system prompt" asks for it; "what is a system prompt" asks what one is.
_REVEAL = r"(?:reveal|show|print|output|display|repeat|recite|tell|give|share|leak|dump|disclose|expose|write out|spell check|translate|encode|return|paste|copy|list|provide|summari[sz]e|what (?:is|are|were|was)(?= (?:in )?(?:your|the|its)\b))"
_SECRET_OBJ = r"(?:system (?:prompt|message|instructions?)|initial (?:instructions?|prompt)|hidden (?:instructions?|prompt)|original (?:instructions?|prompt)|secret (?:instructions?|prompt)|internal (?:instructions?|prompt|rules)|pre-?prompt|developer (?:message|instructions?|prompt)|(?:your|the) (?:instructions?|prompt|rules) (?:above|you were given)|(?:text|words|everything|instructions?) (?:above|before this)|your (?:instructions|prompt|configuration|initial))"
_AI = r"(?:ai|a\.i\.|assistant|chatbot|chat bot|bot|llm|language model|model|agent|copilot|gpt|chatgpt|claude|gemini)"
_LIMITS = r"(?:restrictions?|limits|limitations|filters?|filtering|censorship|rules|guidelines|policies|constraints|boundaries|ethics|morals|morality|safeguards|guardrails|content polic(?:y|ies))"

ENGLISH = [
    _p(
        "override_instructions",
        rf"\b{_VERB}\b(?!\s+(?:my|our)\b)(?:\W+\w+){{0,3}}?\W+{_QUAL}\b(?:\W+\w+){{0,3}}?\W+{_OBJ}\b",
        needs=(
            "ignor",
            "disregard",
            "forget",
            "skip",
            "bypass",
            "overrid",
            "overrul",
            "neglect",
            "discard",
            "abandon",
            "drop",
            "set aside",
            "throw out",
            "pay no attention",
            "follow",
        ),
    ),
    _p(
        "override_everything",
        r"\b(?:forget|ignore|disregard)\s+(?:about\s+)?(?:everything|all(?: of)? that|what)\s+(?:you(?:'ve| have)? (?:were |been )?(?:told|learned|instructed|know)|(?:above|before|previously|so far)\b(?!\s+(?:about|regarding|on)\b))",
        needs=("forget", "ignor", "disregard"),
    ),
    _p(
        "ignore_rest",
        r"\b(?:ignore|disregard|skip)\s+(?:the\s+)?rest\s+of\s+(?:this|the)\s+(?:data|document|text|input|article|page|email|message|content|file)\b|\b(?:ignore|disregard)\s+(?:all|any|every|everything)\s+(?:\w+\s+)?(?:info|information|content|text|data|else)\s+(?:except|but|other than)\b",
        needs=("ignor", "disregard", "skip"),
    ),
    _p(
        "supersede",
        r"\b(?:supersedes?|overrides?|replaces?|takes? precedence over|cancels?)\s+(?:all\s+|any\s+)?(?:prior|previous|earlier|other|existing|your)\s+(?:ones|instructions?|directives?|rules|guidelines|prompts?)\b",
        needs=("supersed", "overrid", "replac", "precedence", "cancel"),
    ),
    _p(
        "new_instructions",
        r"\b(?:your|the) new (?:instructions?|rules|task|role|directive|objective|goal|purpose) (?:is|are|will be)\b|\bnew (?:instructions?|rules|directives?)\s*:|\b(?:neue anweisungen|nouvelles (?:instructions|consignes)|nuevas instrucciones|nuove istruzioni|novas instruções)\s*:",
        needs=("new", "neue", "nouvelles", "nuevas", "nuove", "novas"),
    ),
    _p(
        "reveal_system_prompt",
        rf"\b{_REVEAL}\b(?:\W+\w+){{0,4}}?\W+{_SECRET_OBJ}",
        needs=(
            "prompt",
            "instruct",
            "message",
            "above",
            "before this",
            "configuration",
            "initial",
            "rules",
        ),
    ),
    _p(
        "prompt_leak_phrases",
        r"\b(?:repeat|print|output|write|copy)\b[^.\n]{0,30}\b(?:everything|all|the (?:text|words)|words|text)\b[^.\n]{0,20}\b(?:above|before (?:this|the first)|from the (?:start|beginning))|\bwhat (?:were you|have you been|are you) (?:told|instructed|programmed)\b|\bbeginning with ['\"]you are\b|\bstart your (?:answer|reply|response) with ['\"]?my instructions",
        needs=(
            "above",
            "before",
            "beginning",
            "told",
            "instructed",
            "programmed",
            "you are",
            "my instructions",
        ),
    ),
    _p(
        "reveal_misc",
        r"\bwhat (?:are|were) you (?:not )?(?:supposed|allowed|told|instructed|programmed) (?:not )?to (?:tell|say|reveal|share|discuss)\b|\b(?:output|print|show|display|reveal|repeat)\s+(?:your\s+|the\s+)?initiali[sz]ation\b|\b(?:output|print|repeat) (?:the |your )?(?:configuration|config|setup) (?:text|prompt|string)\b",
        needs=(
            "supposed",
            "allowed",
            "told",
            "instructed",
            "programmed",
            "initiali",
            "configuration",
            "config",
            "setup",
        ),
    ),
    _p(
        "you_are_unrestricted",
        rf"\byou(?:'re| are| will be| have| now have|'ll be| shall be)?\b[^.?!\n]{{0,40}}?\b(?:no|without|free (?:from|of)|not (?:bound|restricted|limited) by|unbound by|freed from|liberated from|zero)\s+(?:any\s+|all\s+)?(?:(?:content|ethical|moral|safety|openai|programming)\s+)?{_LIMITS}\b",
        needs=(
            "restrict",
            "limit",
            "filter",
            "censor",
            "rules",
            "guideline",
            "polic",
            "constraint",
            "boundar",
            "ethic",
            "moral",
            "safeguard",
            "guardrail",
        ),
    ),
    _p(
        "unrestricted_persona",
        rf"\b(?:unrestricted|unfiltered|uncensored|unaligned|amoral|unethical|jailbroken|evil|unchained|unlocked|limitless)\s+(?:{_AI}|version|mode|persona|character|alter ego)\b",
        needs=(
            "unrestricted",
            "unfiltered",
            "uncensored",
            "unaligned",
            "amoral",
            "unethical",
            "jailbroken",
            "evil",
            "unchained",
            "unlocked",
            "limitless",
        ),
    ),
    _p(
        "dan_persona",
        r"\bdo anything now\b|\b(?:dan|stan|dude|aim|anti-dan|betterdan|devmode)\s+(?:mode|prompt|persona)\b|\byou are (?:now |going to (?:act as|be|pretend to be) )?(?:dan|stan|dude|aim|evil ?bot)\b|\b(?:god|jailbreak|jailbroken|unrestricted|unfiltered|uncensored|evil|opposite|dan|chaos) mode\b|\b(?:developer|dev|debug|maintenance|admin|sudo) mode\b[^\n]{0,80}\b(?:chatgpt|gpt|ai|llm|assistant|polic(?:y|ies)|censor\w*|restrictions?|filter\w*|uncensored|guidelines|rules|ethic\w*)\b|\b(?:chatgpt|gpt|ai|assistant|model|you)\b[^\n]{0,40}\b(?:with|in|enter|entering|into|now in) (?:developer|dev|debug|maintenance|admin|sudo) mode\b",
        needs=("do anything", "dan", "stan", "dude", "aim", "mode"),
    ),
    _p(
        "you_are_now",
        rf"\byou are now (?:in |an? |the |called |named |my |no longer |free|freed|unbound|jailbroken|unrestricted)(?:[\w-]+\s+){{0,3}}?(?:{_AI}|mode|persona|character|version)?\b",
        strong=False,
        boost=1.6,
        needs=("you are now",),
    ),
    _p(
        "stay_in_character",
        r"\b(?:stay|remain|keep) in character\b|\bbreak(?:ing)? character\b|\bnever (?:refuse|break character|say (?:no|you can'?t))\b|\b(?:will|must|should) (?:never|not) refuse\b|\bwithout (?:any )?(?:warnings?|disclaimers?|moralizing)\b",
        strong=False,
        boost=1.8,
        needs=("character", "refuse", "warning", "disclaimer", "moraliz"),
    ),
    _p(
        "roleplay_ai",
        rf"\b(?:pretend|act as if|act like|imagine|roleplay|role-play|simulate|behave as)\b[^.\n]{{0,40}}\b(?:you are|you're|to be|as)\b[^.\n]{{0,40}}\b{_AI}\b",
        strong=False,
        boost=1.0,
        needs=(
            "pretend",
            "act as",
            "act like",
            "imagine",
            "roleplay",
            "role-play",
            "simulate",
            "behave as",
        ),
    ),
    _p(
        "from_now_on",
        r"\b(?:from now on|from this point(?: on| forward)?|henceforth|starting now|for the rest of this conversation)\b",
        strong=False,
        boost=0.8,
        needs=(
            "from now",
            "from this point",
            "henceforth",
            "starting now",
            "rest of this conversation",
        ),
    ),
    _p(
        "jailbreak_word",
        r"\bjail ?break(?:ing|s|ed)?\b|\bprompt injection\b",
        strong=False,
        boost=0.8,
        needs=("jail", "prompt injection"),
    ),
    _p(
        "fake_role_tag",
        r"<\|?\s*(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\s*\|?>|\[/?(?:system|inst|sys)\]|<</?sys>>|</?(?:system|system_prompt|instructions?|admin)>",
        needs=("<", "["),
    ),
    _p(
        "fake_role_line",
        rf"(?:^|\n)\s*(?:#+\s*|\*\*|\[)?(?:system|admin|administrator|developer|root|operator|{_AI})(?: (?:message|note|override|instruction|update|prompt|command))?\s*(?:\]|\*\*)?\s*:\s*(?:ignore|disregard|forget|new instruction|you (?:must|will|are|should|shall)|from now on|override|do not|always|reveal|send|call|execute|focus only|only (?:respond|reply|answer|say|print)|print|provide (?:it|this|the following) to the user|grant|this is (?:really |very |extremely )?important|the (?:user|assistant) (?:is|has|must))",
        needs=(":",),
    ),
    _p(
        "end_of_context",
        r"(?:end of (?:document|context|input|text|email|data|file|message|user input|instructions)|(?:document|context|input) ends here)\W{0,10}(?:\n|$)[^\n]{0,80}\b(?:ignore|instead|new|now|system|you must|assistant)\b",
        needs=("end of", "ends here"),
    ),
    _p(
        "end_of_session_tag",
        r"<\s*(?:end of|/)\s*(?:session|conversation|document|context|input|user input)\s*>|#{2,}\s*end of (?:user )?(?:input|prompt|context|document)\s*#{2,}|\[\s*admin(?:istrator)?\s+(?:request|override|command|message)\s*:",
        needs=("end of", "</", "admin"),
    ),
    _p(
        "note_to_ai",
        rf"\b(?:note|message|instructions?|attention|important|notice|reminder|request)s?\s+(?:to|for)\s+(?:the |any |all )?(?:ai|a\.i\.|{_AI}s?|automated (?:system|reader|agent)s?)\b",
        needs=(
            "note",
            "message",
            "instruction",
            "attention",
            "important",
            "notice",
            "reminder",
            "request",
        ),
    ),
    _p(
        "if_you_are_ai",
        rf"\bif you (?:are|'re) (?:an? )?(?:ai|a\.i\.|{_AI}|automated)\b|\b(?:ai|{_AI})s? (?:reading|processing|summari[sz]ing|parsing|analy[sz]ing) this\b|\b(?:ai|{_AI})s? (?:integrating|using|reading|processing|summari[sz]ing|parsing|analy[sz]ing|installing|consuming|that (?:read|process|use))\b[^.\n]{{0,60}}\b(?:should|must|need to|are required to|have to)\b",
        needs=("if you", "this", "should", "must", "need to", "required", "have to"),
    ),
    _p(
        "ai_must",
        rf"\b{_AI}\s*[:,]\s*(?:you (?:must|will|should|shall|are (?:now|required|instructed))|ignore|disregard|forget|please ignore|now )",
        needs=(":", ","),
    ),
    _p(
        "you_must_now",
        r"\byou (?:must|will|shall|need to) now\b|\byou are (?:required|instructed|ordered|commanded) to\b",
        strong=False,
        boost=1.6,
        needs=(
            "you must now",
            "you will now",
            "you shall now",
            "need to now",
            "you are required",
            "you are instructed",
            "you are ordered",
            "you are commanded",
        ),
    ),
    _p(
        "hide_from_user",
        r"\b(?:do not|don'?t|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|notify(?:ing)?|alert(?:ing)?|mention(?:ing)?(?: this)? to|let(?:ting)?|reveal(?:ing)? (?:this|it) to|show(?:ing)? (?:this|it) to)\s+(?:the |your )?(?:user|human|operator|customer)\b",
        needs=("user", "human", "operator", "customer"),
    ),
    _p(
        "exfiltrate",
        r"\b(?:send|forward|post|upload|email|e-mail|exfiltrate|transmit|leak|copy|paste|submit)\b[^.\n]{0,80}\b(?:to|into)\s+(?:https?://|(?:[\w.+-]+@[\w-]+\.[\w.]+)|(?:the )?(?:attacker|external (?:server|address|url|endpoint)|this (?:url|address|endpoint|webhook)|webhook)|[\w.-]+\.(?:evil|attacker)\b)",
        needs=(
            "http",
            "@",
            "attacker",
            "external",
            "this url",
            "this address",
            "endpoint",
            "webhook",
            ".evil",
        ),
    ),
    _p(
        "call_tool",
        r"\b(?:call|invoke|use|run|execute|trigger|fire)\s+(?:the\s+)?`?[a-z]+_[a-z_]+`?(?:\s+(?:tool|function|action))?\b[^\n]{0,60}\b(?:with|to|and|immediately|now|instead|before (?:you )?(?:reply|replying|answer|answering|respond|responding|continu|summari))",
        strong=False,
        boost=1.6,
        needs=("_",),
    ),
    _p(
        "skip_safety",
        r"\b(?:skip|disable|bypass|turn off|ignore|waive)\s+(?:all\s+|any\s+|the\s+)?(?:safety|security|content)\s+(?:checks?|filters?|confirmations?|guardrails|measures|policies|restrictions)\b|\b(?:user|admin|operator|owner)\s+has\s+(?:already\s+)?(?:granted|given|authori[sz]ed|approved)\s+(?:you\s+)?(?:full\s+)?(?:permission|access|consent|approval)\b",
        strong=False,
        boost=2.0,
        needs=("safety", "security", "content", "granted", "given", "authori", "approved"),
    ),
    _p(
        "markdown_exfil",
        r"!\[[^\]]{0,80}\]\(https?://[^)\s]{0,200}[?&][\w-]+=(?:\{|\[|%7b|<|\$)",
        needs=("![",),
    ),
    _p(
        "hidden_html_comment",
        rf"<!--(?:(?!-->).){{0,600}}?\b(?:ignore|disregard|instructions?|system prompt|{_AI}|you must|you are now|call|send|forward|exfiltrate)\b(?:(?!-->).){{0,600}}?-->",
        needs=("<!--",),
    ),
    _p(
        "hidden_css_text",
        r"(?:display\s*:\s*none|font-size\s*:\s*0|visibility\s*:\s*hidden|color\s*:\s*(?:white|#fff(?:fff)?)\b)[^<]{0,80}>[^<]{0,300}\b(?:ignore|instructions?|assistant|ai|you must)\b",
        strong=False,
        boost=2.5,
        needs=("display", "font-size", "visibility", "color"),
    ),
    _p(
        "decode_and_follow",
        r"\b(?:decode|decipher|translate|convert|reverse|unscramble)\b[^.\n]{0,60}\b(?:and|then)\s+(?:follow|execute|do|obey|run|carry out|act on|comply)\b",
        needs=("decode", "decipher", "translate", "convert", "reverse", "unscramble"),
    ),
    _p(
        "compact_override",
        r"(?:ignore|disregard|forget|bypass|override)(?:all|any|the|your|every)?(?:previous|prior|above|earlier|preceding|your|system|original|safety)(?:instructions?|rules|directions|prompts?|guidelines)",
        on=("compact",),
    ),
    _p(
        "compact_reveal",
        r"(?:reveal|show|print|output|repeat|tellme|giveme)(?:me)?(?:your|the)(?:full|entire|complete|original|initial|hidden|secret)?(?:systemprompt|initialinstructions|hiddeninstructions|systemmessage)",
        on=("compact",),
    ),
]

# --- Korean (basic and letters-only views: the letters-only view undoes spacing tricks) -----
_KO_PREV = r"(?:이전|이전의|앞의|앞선|앞에서|앞서|위의|위에|기존|기존의|모든|지금까지(?:의)?|그동안(?:의)?|원래(?:의)?|초기|처음|너의|네|당신의|니|받은|주어진|시스템)"
_KO_OBJ = r"(?:지시|지침|명령|규칙|프롬프트|안내|가이드라인|제약|제한|룰|규정|정책|설정된\s*규칙|시스템\s*설정)"
_KO_ON = ("folded", "compact", "decoded")
KOREAN = [
    _p(
        "ko_override",
        rf"{_KO_PREV}\s*(?:(?:모든|받은|주어진|대화|내용|의)\s*)*{_KO_OBJ}\s*(?:사항|문|어|내용)?\s*(?:들)?\s*(?:같은\s*(?:건|것은|거)|따위는?)?\s*(?:은|는|을|를|이|가|도|에)?\s*(?:전부|모두|다|싹|완전히)?\s*(?:무시|잊어|잊고|잊으|잊|따르지\s*(?:마|말|않)|버려|버리|폐기|취소|해제|어겨|어기|신경\s*(?:쓰지|끄))",
        on=_KO_ON,
        needs=(
            "무시",
            "잊",
            "따르지",
            "버려",
            "버리",
            "폐기",
            "취소",
            "해제",
            "어겨",
            "어기",
            "신경",
        ),
    ),
    _p(
        "ko_forget_all",
        r"(?:지금까지|이전에|앞에서|위에서)\s*(?:들은|받은|배운|말한|한)\s*(?:것|내용|말)\S{0,2}\s*(?:은|을|를)?\s*(?:전부|모두|다)?\s*(?:무시|잊어|잊고)",
        on=_KO_ON,
        needs=("무시", "잊"),
    ),
    _p(
        "ko_reveal_prompt",
        r"(?:시스템|초기|원래|숨겨진|숨은|내부|비밀|최초|처음\s*받은|너의|네|당신의)\s*(?:의\s*)?(?:프롬프트|지시\S{0,2}|지침|명령\S{0,2}|메시지|설정|규칙|instructions?|prompt)\s*(?:을|를|좀|내용을|내용|전문을|전체를|원문을)?\s*(?:그대로|전부|모두|전체|있는\s*그대로|한\s*글자도\s*빠짐없이)?\s*(?:다시\s*)?(?:보여|알려|출력|공개|말해|누설|복사|반복|적어|써|읊어|유출|알려줘|노출)",
        on=_KO_ON,
        needs=(
            "보여",
            "알려",
            "출력",
            "공개",
            "말해",
            "누설",
            "복사",
            "반복",
            "적어",
            "써",
            "읊어",
            "유출",
            "노출",
        ),
    ),
    _p(
        "ko_reveal_given",
        r"(?:준|받은|주어진|입력된|설정된)\s*(?:원래|초기|최초|숨겨진|비밀)?\s*(?:의\s*)?(?:지시|지침|프롬프트|명령|규칙)\S{0,3}\s*(?:이|가|은|는)?\s*(?:뭐|무엇|어떻게)",
        on=_KO_ON,
        needs=("뭐", "무엇", "어떻게"),
    ),
    _p(
        "ko_unrestricted",
        r"(?:제한|제약|필터|검열|규칙|윤리|도덕|한계|안전\s*장치|가이드라인)\S{0,2}\s*(?:이|가|도|은|는)?\s*(?:전혀|하나도|아무런|일절)?\s*(?:없는|없이|없어|없다|없음|해제된|풀린)\s*(?:상태의\s*)?(?:ai|인공지능|챗봇|어시스턴트|봇|모델|모드|존재|버전|캐릭터)",
        on=_KO_ON,
        needs=("없", "해제", "풀린"),
    ),
    _p(
        "ko_you_are_now",
        r"(?:너는|넌|당신은|니는|너)\s*(?:이제|지금부터|앞으로|오늘부터)\s*(?:부터\s*)?[^.?!\n]{0,30}(?:제한|제약|필터|검열|규칙|윤리|도덕)\S{0,2}\s*(?:이|가|도)?\s*(?:없|해제|풀린|무시)",
        on=_KO_ON,
        needs=("이제", "지금부터", "앞으로", "오늘부터"),
    ),
    _p(
        "ko_mode",
        r"(?:개발자|관리자|디버그|탈옥|무제한|제한\s*해제|갓|신)\s*모드\s*(?:로|를|가|을)?\s*(?:활성화|켜|진입|전환|돌입|시작|실행|on|온)|(?:dan|댄)\s*모드",
        on=_KO_ON,
        needs=("모드",),
    ),
    _p(
        "ko_hide_from_user",
        r"사용자(?:에게|한테|가)\s*(?:는\s*)?(?:알리지|말하지|보여주지|들키지|알려주지|모르게)|(?:몰래|은밀히|조용히)\s*[^\n]{0,80}(?:보내|전송|전달|업로드|호출|실행|삭제)",
        on=_KO_ON,
        needs=("사용자", "몰래", "은밀히", "조용히"),
    ),
    _p(
        "ko_exfiltrate",
        r"(?:https?://\S+|[\w.+-]+@[\w-]+\.[\w.]+)\s*(?:로|으로|에|에게)\s*[^\n]{0,40}(?:보내|전송|전달|업로드|포스트|공유|올려)",
        on=("folded", "decoded"),
        needs=("http", "@"),
    ),
    _p(
        "ko_note_to_ai",
        r"(?:ai|인공지능|어시스턴트|챗봇|언어\s*모델|에이전트)\s*(?:에게|에게는|는|은|님)?\s*(?:[:：]|보내는|전하는)\s*[^\n]{0,40}(?:반드시|즉시|지금\s*당장|무시|호출|전송|해야)",
        on=("folded", "decoded"),
        needs=("ai", "인공지능", "어시스턴트", "챗봇", "모델", "에이전트"),
    ),
    _p(
        "ko_new_instructions",
        r"(?:새로운|새)\s*(?:지시|지침|명령|규칙)\S{0,2}\s*[:：]|(?:이\s*(?:문서|페이지|메일|글|리뷰)를?\s*(?:읽는|요약하는|처리하는))\s*(?:ai|인공지능|어시스턴트|챗봇|언어\s*모델|모델|에이전트)",
        on=_KO_ON,
        needs=("새", "읽는", "요약하는", "처리하는"),
    ),
    _p(
        "ko_jailbreak",
        r"탈옥|(?:너는|넌|당신은)\s*(?:이제|지금부터)\s*[^.?!\n]{0,20}(?:역할|캐릭터|인격|페르소나)",
        strong=False,
        boost=1.2,
        on=("folded",),
        needs=("탈옥", "역할", "캐릭터", "인격", "페르소나"),
    ),
]

# --- Family cues (weak): the core of an attack family, in either language -------------------
# Each is evidence, never a decision: its boost is added to the n-gram classifier's logit and
# to the semantic tier's, so a cue decides only where the meaning agrees. Written from the
# family descriptions of issue #20, not from eval rows.
_KO_ACT = r"(?:알려|보여|출력|말해|붙여|덤프|공개|털어놔|적어|복사|인코딩|번역|요약|나열|인용|반복|읊어|echo)"
_KO_YOU = r"(?:너|네|니|당신|너한테|네게|너의|네가|니가|당신이|설정에?|서버에?|운영|도구들?이?|연결된|저장된)"
FAMILY_CUES = [
    _p(
        "cue_approval_bypass",
        r"\b(?:no need (?:to ask )?for (?:an? )?(?:approval|sign-?off)|skip(?:ping)? the (?:approval|review|sign-?off)|without (?:waiting for |asking |creating an? )?(?:any(?:one'?s?)? )?(?:approval|sign-?off|confirmation)(?: (?:request|code|step))?|bypass(?:ing)? the approval|approvals? (?:is|are|isn'?t|aren'?t|is not|are not) (?:not )?(?:required|needed|suspended)|(?:treat|take|consider) (?:this|it)(?: message)? as (?:the |my )?approv|pre-?approved|i approve it myself|(?:don'?t|do not|no need to) (?:bother with|wait for|ask for) (?:the |an? |my )?(?:approval|confirmation|sign-?off)|nobody needs to sign off|doesn'?t need to (?:see|know|sign off|approve))",
        strong=False,
        boost=2.5,
        needs=("approv", "sign", "confirmation", "review"),
    ),
    _p(
        "cue_ko_approval_bypass",
        r"(?:승인|결재|허가|심의|리뷰|확인\s*코드)\S{0,3}\s*(?:절차|단계|요청|코드|같은\s*거)?\S{0,2}\s*(?:필요\s*없|안\s*(?:해도|받아도|거쳐도|기다려도|필요)|건너뛰|생략|우회|무시|신경\s*쓰지|없이|만들지\s*마|기다리지\s*말|중단|몰라도|안\s*거쳐)|(?:승인|허가)\S{0,3}\s*(?:한|된|받은)\s*걸로\s*(?:치|하|보|간주)|승인으로\s*(?:치|간주|보)",
        strong=False,
        boost=2.5,
        on=("folded",),
        needs=("승인", "결재", "허가", "심의", "리뷰", "확인"),
    ),
    _p(
        "cue_secret_request",
        r"\b(?:print|show|tell|give|paste|dump|output|echo|read out|reveal|list|what'?s|what is)\b(?:(?!\bhow\b|\bwhere\b|\bwhy\b)[^.?\n]){0,30}?\b(?:your|the)\b(?:(?!\bhow\b)[^.?\n]){0,30}?\b(?:passwords?|api keys?|tokens?|secrets?|credentials|private (?:ssh )?keys?|env(?:ironment)? variables?|\.env|connection strings?)\b(?! (?:policy|policies|manager|rotation|best practices))|\b(?:echo|print) \$[a-z_]*(?:key|token|secret|password)|\bos\.environ\b|~/\.aws/credentials",
        strong=False,
        boost=1.5,
        needs=("password", "key", "token", "secret", "credential", "env", "environ"),
    ),
    _p(
        "cue_ko_secret_request",
        rf"{_KO_YOU}[^?\n]{{0,15}}(?:비밀번호|비번|패스워드|api\s*키|토큰|시크릿|환경\s*변수|\.env|credentials|개인\s*키|접속\s*문자열|계정\s*정보|계정과\s*비밀번호)(?:(?!방법|하는\s*법|어떻게|이유|용도|정책|사례|원리|곳)[^?.\n]){{0,25}}?{_KO_ACT}|(?:비밀번호|토큰|시크릿|환경\s*변수|api\s*키)[^?.\n]{{0,15}}(?:값|내용)\S{{0,2}}\s*(?:전부|그대로|마스킹\s*없이)",
        strong=False,
        boost=1.5,
        on=("folded",),
        needs=(
            "비밀번호",
            "비번",
            "패스워드",
            "키",
            "토큰",
            "시크릿",
            "변수",
            "env",
            "credentials",
            "계정",
        ),
    ),
    _p(
        "cue_ko_reveal_rules",
        rf"(?:네가|너가|니가|당신이|너한테|네게|너의|네|당신의)\s*(?:처음에?|원래|받은|지켜야\s*하는|주어진|설정된|피하라고|캐릭터를)?[^.?\n]{{0,20}}(?:규칙|지시|지침|설정|프롬프트|가이드라인|문구|세팅)[^?\n]{{0,30}}{_KO_ACT}",
        strong=False,
        boost=2.0,
        on=("folded",),
        needs=("규칙", "지시", "지침", "설정", "프롬프트", "가이드라인", "문구", "세팅"),
    ),
    _p(
        "cue_filter_bypass",
        r"\bnever (?:say (?:no|i can'?t)|refuse)|\b(?:you (?:are|'re) not allowed to|you can'?t|you cannot|don'?t|do not) refuse\b|\brefus(?:ing|al) is not an option\b|\b(?:don'?t|do not|never|stop) (?:add(?:ing)?|includ(?:e|ing)|giv(?:e|ing)|put(?:ting)?)(?: any)? (?:safety |ethical |moral )?(?:warnings?|disclaimers?|caveats?|safety notes?|moral lectures?)|\b(?:turn off|disable|switch off|bypass|remove) (?:your|all of your|whatever) (?:content )?(?:filters?|moderation|guardrails|safety (?:checks?|rules|filters?))|\bslips? past (?:your )?(?:own )?(?:safety|filter)|\bstop censoring yourself\b",
        strong=False,
        boost=2.0,
        needs=(
            "refus",
            "warning",
            "disclaimer",
            "caveat",
            "safety",
            "lecture",
            "filter",
            "moderation",
            "guardrail",
            "censor",
        ),
    ),
    _p(
        "cue_ko_filter_bypass",
        r"거절\S{0,3}\s*(?:하지\s*마|하면\s*안|은\s*(?:없|안)|없이|선택지에\s*없)|(?:경고|면책|훈계|단서|안전\s*(?:안내|경고|관련\s*안내))\S{0,3}\s*(?:\S+\s*)?(?:빼고|빼|없이|붙이지\s*마|달지\s*마|같은\s*거\s*빼)|(?:콘텐츠\s*)?필터\S{0,2}\s*(?:꺼|끄고|해제|우회|없이|끈)|검열\S{0,3}\s*(?:없|안\s*된|하지\s*마|그만)|자기\s*검열\s*그만|가드레일\S{0,4}\s*(?:해제|꺼|없)|모더레이션\S{0,2}\s*우회|안전\s*검사\S{0,2}\s*(?:통과|피해|우회)",
        strong=False,
        boost=2.0,
        on=("folded",),
        needs=(
            "거절",
            "경고",
            "면책",
            "훈계",
            "단서",
            "안전",
            "필터",
            "검열",
            "가드레일",
            "모더레이션",
        ),
    ),
    _p(
        "cue_authority_grant",
        r"\b(?:system notice|system update|policy (?:update|change)|admin(?:istrator)?|developers?|owner|operator|security (?:team|bulletin)|compliance|platform|legal department)\b[^\n]{0,120}?\b(?:restrictions?|rules|safety (?:rules|guidelines|features)|safeguards|refusals?|filters?|(?:content|refusal|previous) polic(?:y|ies)|guidelines)\b[^\n]{0,20}?\b(?:(?:are|is|were|was|has been|have been) )?(?:lifted|suspended|revoked|disabled|paused|removed|turned off|withdrawn|no longer apply|don'?t apply)|\b(?:trust level|privileges?|admin rights|full access)\b[^\n]{0,40}\b(?:raised|granted|enabled)\b",
        strong=False,
        boost=2.0,
        needs=(
            "lifted",
            "suspended",
            "revoked",
            "disabled",
            "paused",
            "removed",
            "turned off",
            "withdrawn",
            "apply",
            "raised",
            "granted",
            "enabled",
        ),
    ),
    _p(
        "cue_ko_authority_grant",
        r"(?:공지|관리자|개발팀|개발자|운영자|보안팀|소유자|주인|정책|대표|플랫폼|법무팀)[^\n]{0,80}?(?:제한|규칙|정책|필터|안전|거절|가이드라인|설정)\S{0,3}\s*(?:이|가|은|는|도|을|를)?\s*(?:전부\s*|모두\s*)?(?:해제|중지|중단|폐지|꺼|풀렸|풀려|없|무효|철회|교체|바꿀)|(?:신뢰\s*등급|권한)\S{0,2}\s*(?:이|을)?\s*(?:관리자로\s*)?(?:상향|부여)",
        strong=False,
        boost=2.0,
        on=("folded",),
        needs=(
            "해제",
            "중지",
            "중단",
            "폐지",
            "꺼",
            "풀",
            "없",
            "무효",
            "철회",
            "교체",
            "바꿀",
            "상향",
            "부여",
        ),
    ),
    _p(
        "cue_pretext_harm",
        r"\b(?:grand(?:ma|mother|pa|father)|novel|story|screenplay|script|role-?play|pretend|hypothetical(?:ly)?|fiction(?:al)?|game|character|imagine|world where|bedtime|dying wish|begging)\b[^\n]{0,120}?\b(?:bombs?|napalm|explosives?|meth(?:amphetamine)?|crystal meth|synthesi[sz]e|hack(?:ing)? into|break into|ransomware|malware|phishing|poison(?:ing)?|counterfeit|untraceable gun|hotwire|stalk(?:ing)?|lethal dose|launder)",
        strong=False,
        boost=2.0,
        needs=(
            "grand",
            "novel",
            "story",
            "screenplay",
            "script",
            "role",
            "pretend",
            "hypothetic",
            "fiction",
            "game",
            "character",
            "imagine",
            "world where",
            "bedtime",
            "dying",
            "begging",
        ),
    ),
    _p(
        "cue_ko_pretext_harm",
        r"(?:할머니|할아버지|아버지|소설|시나리오|영화|게임|역할|가정|상상|동화|캐릭터|이야기|배우|세상|소원|제발)[^\n]{0,80}?(?:폭탄|마약|필로폰|합성|해킹|뚫는|랜섬웨어|악성\s*코드|피싱|독살|독을|위조지폐|추적\s*안\s*되는\s*총|무기\s*설계|스토킹|선\s*직결|따는\s*법|치사량|돈세탁하는\s*방법|유독\s*가스)",
        strong=False,
        boost=2.0,
        on=("folded",),
        needs=(
            "할머니",
            "할아버지",
            "아버지",
            "소설",
            "시나리오",
            "영화",
            "게임",
            "역할",
            "가정",
            "상상",
            "동화",
            "캐릭터",
            "이야기",
            "배우",
            "세상",
            "소원",
            "제발",
        ),
    ),
    _p(
        "cue_ko_ai_exfil",
        r"(?:ai|인공지능|어시스턴트|챗봇|언어\s*모델|에이전트|봇|자동화\s*시스템)\S{0,4}\s*(?:는|은|에게|야|라면|:)[^\n]{0,100}?(?:보내|전송|업로드|올려|올릴|게시|전달|첨부|복사해|접속해)",
        strong=False,
        boost=2.0,
        on=("folded",),
        needs=("ai", "인공지능", "어시스턴트", "챗봇", "모델", "에이전트", "봇", "자동화"),
    ),
]

# --- Other languages seen in the open data --------------------------------------------------
OTHER = [
    _p(
        "de_override",
        r"\b(?:ignoriere|ignorieren sie|ignoriert|vergiss|vergessen sie|missachte|missachten sie|übergehe)\b[^.\n]{0,50}\b(?:anweisungen|instruktionen|regeln|vorgaben|befehle|richtlinien|anordnungen|einschränkungen)\b",
        needs=("ignorier", "vergiss", "vergessen", "missacht", "übergeh"),
    ),
    _p(
        "de_reveal",
        r"\b(?:zeig|zeige|gib|nenne|verrate|wiederhole|gib mir|offenbare)\w*\b[^.\n]{0,40}\b(?:system-?prompt|systemanweisung\w*|systemnachricht|(?:deine|ihre|die) (?:ursprünglichen |geheimen |internen |versteckten )?anweisungen)\b",
        needs=("prompt", "anweisung", "systemnachricht"),
    ),
    _p(
        "de_unrestricted",
        r"\b(?:ohne|keine)\s+(?:jegliche\s+)?(?:einschränkungen|filter|regeln|zensur|grenzen|beschränkungen)\b",
        strong=False,
        boost=1.6,
        needs=("ohne", "keine"),
    ),
    _p(
        "fr_override",
        r"\b(?:ignore[zs]?|oublie[zs]?|ne tiens pas compte|ne tenez pas compte|fais abstraction|faites abstraction)\b[^.\n]{0,50}\b(?:instructions|consignes|règles|directives|ordres|restrictions)\b",
        needs=("ignore", "oublie", "tiens pas", "tenez pas", "abstraction"),
    ),
    _p(
        "fr_reveal",
        r"\b(?:révèle|révélez|montre|montrez|affiche|affichez|donne|donnez|répète|répétez|dis-moi|dites-moi)\w*\b[^.\n]{0,40}\b(?:prompt (?:système|initial)|invite système|instructions (?:initiales|système|cachées|secrètes|d'origine)|tes instructions|vos instructions)\b",
        needs=("prompt", "invite", "instructions"),
    ),
    _p(
        "fr_unrestricted",
        r"\bsans (?:aucune |la moindre )?(?:restriction|limite|filtre|censure|règle)s?\b",
        strong=False,
        boost=1.6,
        needs=("sans ",),
    ),
    _p(
        "es_override",
        r"\b(?:ignora|ignore|ignoren|olvida|olvide|olviden|omite|omita|descarta|descarte|haz caso omiso)\b[^.\n]{0,50}\b(?:instrucciones|reglas|indicaciones|directrices|órdenes|restricciones)\b",
        needs=("ignor", "olvid", "omit", "descart", "caso omiso"),
    ),
    _p(
        "es_reveal",
        r"\b(?:muestra|muéstrame|revela|revélame|dime|enseña|enséñame|repite|imprime)\b[^.\n]{0,40}\b(?:prompt del sistema|instrucciones (?:iniciales|del sistema|originales|ocultas|secretas)|tus instrucciones|mensaje del sistema)\b",
        needs=("prompt", "instrucciones", "mensaje del sistema"),
    ),
    _p(
        "es_unrestricted",
        r"\bsin (?:ninguna |ningún )?(?:restricciones|límites|filtros|censura|reglas)\b",
        strong=False,
        boost=1.6,
        needs=("sin ",),
    ),
    _p(
        "it_override",
        r"\b(?:ignora|ignorate|dimentica|dimenticate|trascura|non seguire|non considerare)\b[^.\n]{0,50}\b(?:istruzioni|regole|direttive|indicazioni|ordini|restrizioni)\b",
        needs=("ignora", "dimentic", "trascur", "non seguire", "non considerare"),
    ),
    _p(
        "it_reveal",
        r"\b(?:mostra|mostrami|rivela|rivelami|dimmi|ripeti|stampa)\b[^.\n]{0,40}\b(?:prompt di sistema|istruzioni (?:iniziali|di sistema|originali|nascoste|segrete)|le tue istruzioni|messaggio di sistema)\b",
        needs=("prompt", "istruzioni", "messaggio"),
    ),
    _p(
        "it_unrestricted",
        r"\bsenza (?:alcuna |nessuna )?(?:restrizioni|limiti|filtri|censura|regole)\b",
        strong=False,
        boost=1.6,
        needs=("senza",),
    ),
    _p(
        "pt_override",
        r"\b(?:ignore|ignora|esqueça|esqueca|desconsidere)\b[^.\n]{0,50}\b(?:instruções|instrucoes|regras|diretrizes|ordens)\b",
        needs=("ignor", "esque", "desconsidere"),
    ),
    _p(
        "zh_override",
        r"(?:忽略|无视|忽视|不要理会|不要理睬|忘记|忘掉|忘了|無視|忽視|忘記)\s*(?:掉)?\s*(?:你)?(?:之前|以前|先前|上面|上述|前面|以上|所有|一切|全部|你的|原来|原來|原有)\s*(?:的)?\s*(?:所有|全部)?\s*(?:的)?\s*(?:指令|指示|说明|說明|提示|规则|規則|命令|设定|設定|要求|限制)",
        needs=("忽略", "无视", "忽视", "理会", "理睬", "忘", "無視", "忽視"),
    ),
    _p(
        "zh_reveal",
        r"(?:显示|顯示|输出|輸出|告诉我|告訴我|泄露|洩露|打印|重复|重複|给我看|給我看|展示)\s*[^。\n]{0,12}(?:系统提示|系統提示|系统指令|系統指令|初始指令|提示词|提示詞|系统消息|隐藏指令)",
        needs=("提示", "指令", "消息"),
    ),
    _p(
        "zh_unrestricted",
        r"(?:没有|沒有|不受|无|無|解除)\s*(?:任何)?\s*(?:限制|约束|約束|过滤|過濾|审查|審查|规则|規則)",
        strong=False,
        boost=1.6,
        needs=("限制", "约束", "約束", "过滤", "過濾", "审查", "審查", "规则", "規則"),
    ),
    _p(
        "ja_override",
        r"(?:以前|前|上記|これまで|今まで|全て|すべて|元|最初)\s*の\s*(?:指示|命令|ルール|プロンプト|設定|制約)\s*(?:を|は)?\s*(?:すべて|全て|全部)?\s*(?:無視|忘れ)",
        needs=("無視", "忘れ"),
    ),
    _p(
        "ja_reveal",
        r"(?:システムプロンプト|初期指示|最初の指示|隠された指示)\s*(?:を|の内容を)?\s*(?:すべて|全て|そのまま)?\s*(?:表示|教え|出力|見せ|繰り返)",
        needs=("プロンプト", "指示"),
    ),
    _p(
        "ru_override",
        r"(?:игнорируй|игнорируйте|проигнорируй|забудь|забудьте|не обращай внимания на|отмени)\s[^.\n]{0,50}(?:инструкци|правил|указани|ограничени|команд)",
        on=("basic",),
        needs=("игнор", "забуд", "не обращай", "отмени"),
    ),
    _p(
        "ru_reveal",
        r"(?:покажи|выведи|раскрой|повтори|скажи)\s[^.\n]{0,40}(?:системн\w* (?:промпт|подсказк|инструкци|сообщени)|исходн\w* инструкци)",
        on=("basic",),
        needs=("покажи", "выведи", "раскрой", "повтори", "скажи"),
    ),
]

PATTERNS = ENGLISH + KOREAN + FAMILY_CUES + OTHER


@lru_cache(maxsize=1)
def _model() -> HashedNgramModel | None:
    try:
        return HashedNgramModel.load(MODEL_PATH)
    except (OSError, KeyError, ValueError) as error:
        # Patterns still work; the missing file is a packaging bug worth a loud log line.
        log.error("injection classifier not loaded from %s: %s", MODEL_PATH, error)
        return None


@dataclass(frozen=True)
class Evidence:
    """What the patterns found, and the texts the classifier should read."""

    strong: bool
    boost: float
    reasons: list[str]
    classifier_texts: list[str]


def pattern_evidence(text: str) -> Evidence:
    """Run the normalisation and the patterns only (no classifier)."""
    if len(text) > MAX_SCAN_CHARS:
        half = MAX_SCAN_CHARS // 2
        text = text[:half] + "\n" + text[-half:]
    text_views = views(text)
    reasons: list[str] = []
    strong = False
    boost = 0.0
    boosted: set[str] = set()
    for pattern in PATTERNS:
        view = _first_match(pattern, text_views)
        if view is None:
            continue
        reasons.append(f"pattern:{pattern.name}@{view.name}")
        if pattern.strong:
            strong = True
        elif pattern.name not in boosted:
            boosted.add(pattern.name)
            boost += pattern.boost
    # The classifier reads the folded view (homoglyphs/leet undone) and any decoded payload.
    folded = next(v.text for v in text_views if v.name == "folded")
    if strong and _MENTION.search(text):
        unquoted = _QUOTED.sub(" ", text)
        if not _strong_match(unquoted):
            # Only a quoted example fired ("what does 'ignore previous instructions' mean?"):
            # a mention, not a use. The classifiers judge the rest of the sentence.
            strong = False
            folded = fold(basic(unquoted))
            reasons.append("quoted:mention")
    if any(v.name == "decoded" for v in text_views):
        reasons.append("decoded:payload")
    decoded = [v.text for v in text_views if v.name == "decoded"]
    return Evidence(strong, boost, reasons, [folded, *decoded])


def combine(evidence: Evidence, model: HashedNgramModel | None) -> tuple[float, list[str]]:
    """Final score from pattern evidence and (optionally) the classifier."""
    reasons = list(evidence.reasons)
    score = STRONG if evidence.strong else 0.0
    if model is not None:
        logit = max(model.logit(t) for t in evidence.classifier_texts)
        reasons.append(f"classifier:{_sigmoid(logit):.2f}")
        score = max(score, _sigmoid(logit + evidence.boost))
    elif evidence.boost:
        # Without the classifier weak patterns alone need to add up to cross 0.5.
        score = max(score, _sigmoid(evidence.boost - 2.0))
    return score, reasons


def detect_injection(
    text: str,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    use_classifier: bool = True,
    use_semantic: bool = True,
    untrusted: bool = False,
) -> InjectionVerdict:
    """Score `text` (a user prompt, or tool/web output) for prompt injection.

    `score` is in [0, 1]; `is_attack` is `score >= threshold`. `reasons` names the signals that
    fired (e.g. "pattern:ko_override@basic", "classifier:0.93", "semantic:0.88").
    `untrusted`: the text comes from a document, page or tool, not from the user: every window
    of a long text is read by the semantic tier, not only the most suspicious ones.
    """
    if not text or not text.strip():
        return InjectionVerdict(0.0, False, [])
    evidence = pattern_evidence(text)
    model = _model() if use_classifier else None
    score, reasons = combine(evidence, model)
    if use_semantic and not evidence.strong and score < SURE:
        pieces = _semantic_windows(evidence.classifier_texts[0], score, model, untrusted)
        logit = semantic.semantic_logit(pieces) if pieces else None
        if logit is not None:
            reasons.append(f"semantic:{_sigmoid(logit):.2f}")
            score = max(score, _sigmoid(logit + evidence.boost))
    return InjectionVerdict(round(score, 4), score >= threshold, reasons)


def screen_untrusted(text: str, threshold: float = UNTRUSTED_THRESHOLD) -> InjectionVerdict:
    """`detect_injection` for text that reaches the model from outside the chat: a RAG
    passage, an upload, a fetched page, pod logs, a Slack history."""
    return detect_injection(text, threshold, untrusted=True)


def carries_instructions(text: str) -> bool:
    """Should this untrusted text be withheld from the model? (`screen_untrusted` flags it.)"""
    return screen_untrusted(text).is_attack


def _semantic_windows(
    folded: str, score: float, model: HashedNgramModel | None, untrusted: bool
) -> list[str]:
    if untrusted:
        return semantic.windows(folded)[:UNTRUSTED_WINDOWS]
    if len(semantic.windows(folded)) > 1 and score < LONG_TEXT_GATE:
        return []
    return semantic.pick_windows(folded, model.logit if model else None)


def _strong_match(text: str) -> bool:
    text_views = views(text)
    return any(p.strong and _first_match(p, text_views) for p in PATTERNS)


def _first_match(pattern: _Pattern, text_views: list[View]) -> View | None:
    for view in text_views:
        if view.name not in pattern.on:
            continue
        if pattern.needs and not any(word in view.text for word in pattern.needs):
            continue
        if pattern.regex.search(view.text):
            return view
    return None


def _sigmoid(x: float) -> float:
    if x < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))
