# ruff: noqa: E501  (template tables read better unwrapped)
"""Build the PII eval set: presidio-evaluator's sentence templates plus Korean and SRE rows.

    .venv/bin/python bench/guard/build_pii_set.py

Writes `pii.jsonl` (held-out: the shipped eval set) and `pii_dev.jsonl` (the rows the rules
were tuned on), split by template so the held-out rows use templates never looked at. Each row:
{"text", "spans": [{"start", "end", "type"}], "lang", "source", "group"}. Every value is
synthetic: cards pass Luhn, resident and business numbers carry valid checksums (except the
post-2020 resident numbers, which carry a keyword, and the negatives, which must not be found).
Names and street addresses are filled in but not labelled: they are outside the detector's types.
"""

from __future__ import annotations

import random
import re
import string
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sources  # noqa: E402

from pipekit.guards.pii import luhn_valid  # noqa: E402

OUT_TEST = sources.HERE / "pii.jsonl"
OUT_DEV = sources.HERE / "pii_dev.jsonl"
rng = random.Random(20261125)


# --- synthetic values -------------------------------------------------------------------------
def luhn_complete(prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    for check in string.digits:
        if luhn_valid(body + check):
            return body + check
    raise AssertionError


def card() -> str:
    kind = rng.choice(["visa", "visa", "mc", "mc2", "amex", "kr"])
    if kind == "amex":
        digits = luhn_complete(rng.choice(["34", "37"]), 15)
        sep = rng.choice(["", " ", "-"])
        return sep.join([digits[:4], digits[4:10], digits[10:]]) if sep else digits
    prefix = {
        "visa": "4",
        "mc": str(rng.randint(51, 55)),
        "mc2": str(rng.randint(2221, 2720)),
        "kr": "94",
    }[kind]
    digits = luhn_complete(prefix, 16)
    sep = rng.choice(["", " ", "-", " "])
    return sep.join(digits[i : i + 4] for i in range(0, 16, 4)) if sep else digits


def bad_card() -> str:
    good = luhn_complete("4", 16)
    digits = good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)
    return " ".join(digits[i : i + 4] for i in range(0, 16, 4))


def rrn(valid: bool = True) -> str:
    while True:
        year, month, day = rng.randint(0, 99), rng.randint(1, 12), rng.randint(1, 28)
        gender = rng.choice("1234")
        body = f"{year:02d}{month:02d}{day:02d}{gender}" + "".join(
            rng.choice(string.digits) for _ in range(5)
        )
        weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
        check = (11 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11) % 10
        last = check if valid else (check + rng.randint(1, 9)) % 10
        digits = body + str(last)
        return f"{digits[:6]}-{digits[6:]}" if rng.random() < 0.85 else digits


def brn() -> str:
    body = "".join(rng.choice(string.digits) for _ in range(9))
    weights = (1, 3, 7, 1, 3, 7, 1, 3, 5)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True)) + int(body[8]) * 5 // 10
    digits = body + str((10 - total % 10) % 10)
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


def phone_ko() -> str:
    mid, last = rng.randint(1000, 9999), rng.randint(1000, 9999)
    form = rng.choice(
        [
            "{p}-{m}-{l}",
            "{p}{m}{l}",
            "{p} {m} {l}",
            "+82 10-{m}-{l}",
            "+82-10-{m}-{l}",
            "+8210{m}{l}",
        ]
    )
    return form.format(p=rng.choice(["010", "010", "011", "016"]), m=mid, l=last)


def landline_ko() -> str:
    area = rng.choice(["02", "031", "032", "051", "053", "062", "070"])
    mid = rng.randint(100, 9999) if area != "070" else rng.randint(1000, 9999)
    form = rng.choice(["{a}-{m}-{l}", "({a}) {m}-{l}", "+82-{a1}-{m}-{l}"])
    return form.format(a=area, a1=area[1:], m=mid, l=rng.randint(1000, 9999))


def phone_en() -> str:
    area, mid, last = rng.randint(201, 989), rng.randint(200, 999), rng.randint(1000, 9999)
    return rng.choice([
        f"({area}) {mid}-{last}", f"{area}-{mid}-{last}", f"{area}.{mid}.{last}", f"+1 {area} {mid} {last}",
        f"+1-{area}-{mid}-{last}", f"+44 20 {rng.randint(7000, 8999)} {last}", f"+49 30 {rng.randint(100000, 999999)}",
        f"+61 2 {rng.randint(8000, 9999)} {last}", f"+33 1 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
    ])  # fmt: skip


FIRST = ["anna", "minji", "tom", "jisoo", "lucas", "hana", "omar", "sofia", "junho", "emma"]
LAST = ["kim", "lee", "park", "smith", "garcia", "berg", "choi", "nguyen", "muller", "jung"]
DOMAINS = [
    "example.com",
    "example.co.kr",
    "mail.example.org",
    "corp.example.net",
    "naver-example.com",
]


def email() -> str:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{first}{rng.randint(1, 99)}",
            f"{first[0]}{last}",
            f"{first}_{last}",
            f"{first}+news",
        ]
    )
    return f"{local}@{rng.choice(DOMAINS)}"


def ipv4() -> str:
    first = rng.choice([10, 172, 192, 203, 52, 34, 8, 121, 211])
    second = {10: rng.randint(0, 255), 172: rng.randint(16, 31), 192: 168}.get(
        first, rng.randint(0, 255)
    )
    return f"{first}.{second}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6() -> str:
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(4)]
    return rng.choice(
        [
            f"2001:db8::{groups[0]}:{groups[1]}",
            f"fe80::{groups[0]}:{groups[1]}:{groups[2]}:{groups[3]}",
            f"2001:0db8:{':'.join(groups)}:0:1",
        ]
    )


def _rand(alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def aws_key() -> str:
    return "AKIA" + _rand(string.ascii_uppercase + string.digits, 16)


def github_token() -> str:
    if rng.random() < 0.7:
        return "ghp_" + _rand(string.ascii_letters + string.digits, 36)
    return (
        "github_pat_"
        + _rand(string.ascii_letters + string.digits, 22)
        + "_"
        + _rand(string.ascii_letters + string.digits, 59)
    )


def slack_token() -> str:
    return f"xox{rng.choice('bpa')}-{_rand(string.digits, 12)}-{_rand(string.digits, 13)}-{_rand(string.ascii_letters + string.digits, 24)}"


def bearer() -> str:
    return _rand(string.ascii_letters + string.digits, rng.randint(24, 40)) + rng.choice(
        ["", "-_x", "=="]
    )


def api_value() -> str:
    return rng.choice(["sk_live_", "key-", "", "AIza"]) + _rand(
        string.ascii_letters + string.digits, rng.randint(16, 32)
    )


# Values that must NOT be found.
def pod() -> str:
    return f"{rng.choice(['checkout', 'payments-api', 'auth', 'search', 'ingest-worker'])}-{_rand('0123456789abcdef', 9)}-{_rand(string.ascii_lowercase + string.digits, 5)}"


def uuid() -> str:
    h = _rand("0123456789abcdef", 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def order() -> str:
    return rng.choice(
        [
            f"#{rng.randint(1000, 99999)}",
            f"ORD-2026-{rng.randint(100000, 999999)}",
            f"{rng.randint(20240101, 20261231)}-{rng.randint(1000000, 9999999)}",
            str(rng.randint(10**15, 10**16 - 1)),
        ]
    )


def version() -> str:
    return rng.choice(
        [
            f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
            f"v{rng.randint(1, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
            f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}-rc.{rng.randint(1, 5)}",
            f"version 10.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}",
        ]
    )


def date() -> str:
    return rng.choice(
        [
            f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            f"2026.{rng.randint(1, 12):02d}.{rng.randint(1, 28):02d}",
            f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2025",
            f"2026-11-{rng.randint(10, 28)}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
        ]
    )


def sha() -> str:
    return _rand("0123456789abcdef", rng.choice([7, 12, 40, 64]))


LABELLED = {
    "email": (email, "EMAIL"), "phone": (phone_en, "PHONE"), "phone_ko": (phone_ko, "PHONE"),
    "landline_ko": (landline_ko, "PHONE"), "card": (card, "CARD"), "rrn": (rrn, "KR_RRN"),
    "rrn_new": (lambda: rrn(valid=False), "KR_RRN"), "brn": (brn, "KR_BRN"), "ipv4": (ipv4, "IP_ADDRESS"),
    "ipv6": (ipv6, "IP_ADDRESS"), "aws": (aws_key, "AWS_KEY"), "gh": (github_token, "GITHUB_TOKEN"),
    "slack": (slack_token, "SLACK_TOKEN"), "bearer": (bearer, "BEARER_TOKEN"), "apikey": (api_value, "SECRET"),
}  # fmt: skip
UNLABELLED = {
    "pod": pod, "uuid": uuid, "order": order, "version": version, "date": date, "sha": sha,
    "bad_card": bad_card, "bad_rrn": lambda: _bad_rrn_hyphen(),
    "name": lambda: f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}", "name_ko": lambda: rng.choice(["김민지", "이서준", "박지수", "최하나", "정우성"]),
    "city": lambda: rng.choice(["Seoul", "Busan", "Denver", "Lyon", "Osaka"]), "n": lambda: str(rng.randint(2, 500)),
    "port": lambda: str(rng.choice([80, 443, 8080, 9099, 6379, 5432])), "ms": lambda: str(rng.randint(3, 4000)),
}  # fmt: skip


def _bad_rrn_hyphen() -> str:
    value = rrn(valid=False)
    return value if "-" in value else f"{value[:6]}-{value[6:]}"


def fill(template: str) -> tuple[str, list[dict]]:
    text, spans, last = [], [], 0
    length = 0
    for match in re.finditer(r"\{(\w+)\}", template):
        literal = template[last : match.start()]
        text.append(literal)
        length += len(literal)
        name = match.group(1)
        if name in LABELLED:
            make, kind = LABELLED[name]
            value = make()
            spans.append({"start": length, "end": length + len(value), "type": kind})
        else:
            value = UNLABELLED[name]()
        text.append(value)
        length += len(value)
        last = match.end()
    text.append(template[last:])
    return "".join(text), spans


# --- templates ------------------------------------------------------------------------------
KO_TEMPLATES = [
    "제 연락처는 {phone_ko}입니다. 오후에 연락 주세요.",
    "문의는 {email}로 보내 주세요.",
    "카드번호 {card} 결제가 계속 실패해요.",
    "주민등록번호 {rrn}로 본인 확인 부탁드립니다.",
    "사업자등록번호: {brn} (법인명: 예시상사)",
    "{name_ko}님 휴대폰 {phone_ko}, 이메일 {email}",
    "서버 {ipv4}에서 접속 오류가 납니다.",
    "배포 스크립트에 AWS 키 {aws}가 하드코딩돼 있어요.",
    "깃허브 토큰 {gh}를 실수로 커밋했어요. 어떻게 폐기하나요?",
    "슬랙 봇 토큰 {slack} 교체 방법 알려줘.",
    "curl -H 'Authorization: Bearer {bearer}' https://api.example.com/v1/users 호출이 401이에요.",
    "설정 파일에 api_key={apikey} 가 그대로 있어요.",
    "사무실 전화 {landline_ko}, 팩스 {landline_ko}",
    "고객 {name_ko}({rrn}) 가입 신청 건 확인 부탁드립니다.",
    "{pod} 파드가 {ipv4}:{port} 에 연결하지 못합니다.",
    "환불 계좌 확인차 연락드립니다. 회신 번호 {phone_ko}",
    "주민번호는 {rrn_new} 입니다 (2021년 발급).",
    "택배 받을 번호 {phone_ko}로 바꿔 주세요. 주문번호 {order}",
    "로그인 기록: {date} {ipv6} 에서 접속",
    "{name_ko} 대리 이메일이 {email} 맞나요?",
    "신용카드 {card} 한도 조회",
    "사업자 번호 {brn}로 세금계산서 발행해 주세요.",
    "DB 비밀번호={apikey} 를 환경 변수로 옮기고 싶어요.",
    "대표번호 말고 담당자 직통 {landline_ko}로 연락 바랍니다.",
    "방화벽에서 {ipv4} 허용해 주세요. 배포 버전 {version}",
]
KO_NEGATIVES = [
    "{pod} 파드가 {date}부터 계속 재시작됩니다.",
    "주문번호 {order} 배송이 늦어요.",
    "버전 {version}으로 업그레이드했더니 에러가 납니다.",
    "요청 ID {uuid} 로그를 찾아 주세요.",
    "커밋 {sha} 에서 회귀가 생겼어요.",
    "카드번호 {bad_card} 로 결제했는데 오류예요.",
    "접수번호 {bad_rrn} 처리 상태 알려주세요.",
    "{n}개 파드 중 {n}개가 Pending 상태입니다. 지연 {ms}ms",
    "{date} 배포 후 포트 {port} 응답 없음",
]
EN_SRE = [
    "Pod {pod} on node {ipv4} failed readiness at {date}; request {uuid} timed out after {ms}ms.",
    "Deploy {version} of checkout (commit {sha}) rolled out to {n} pods, all healthy.",
    "Order {order} stuck in PENDING since {date}.",
    'curl -H "Authorization: Bearer {bearer}" https://{pod}.svc:{port}/healthz',
    "The client at {ipv4} keeps hitting /login; block it?",
    "Found AWS key {aws} in the build log of {pod}.",
    "Rotate the token {gh} that leaked in the CI output.",
    "SLACK_BOT_TOKEN={slack} is set in the deployment.",
    "export API_KEY={apikey}",
    "Customer {name} ({email}) paid with {card}, charge id {uuid}.",
    "Our on-call phone is {phone}; escalate if {pod} restarts again.",
    "Card {bad_card} was declined, retry with order {order}.",
    "IPv6 peer {ipv6} dropped the BGP session at {date}.",
]
PRESIDIO_SLOTS = {
    "email": "{email}",
    "phone_number": "{phone}",
    "credit_card_number": "{card}",
    "ip_address": "{ipv4}",
}


def presidio_templates() -> list[tuple[str, str]]:
    text = sources.wheel_text(
        "presidio-evaluator", "presidio_evaluator/data_generator/raw_data/templates.txt"
    )
    fillers = {
        "organization": "Contoso",
        "first_name": "Anna",
        "last_name": "Berg",
        "person": "Anna Berg",
        "name": "Tom Hale",
        "city": "Denver",
        "country": "France",
        "address": "12 Elm Street, Denver",
        "street_name": "Elm Street",
        "building_number": "12",
        "age": "34",
        "year": "1998",
        "nationality": "Korean",
        "iban": "DE89 3704 0044 0532 0130 00",
        "ssn": "078-05-1120",
        "zipcode": "80202",
        "postcode": "80202",
        "secondary_address": "Suite 4",
        "url": "https://example.com",
    }
    out = []
    for i, line in enumerate(text.splitlines()):
        line = line.strip().replace("\\n", "\n")
        if not line:
            continue

        def swap(match: re.Match[str]) -> str:
            key = match.group(1)
            return PRESIDIO_SLOTS.get(key) or fillers.get(key, "Alex")

        # A few templates use single braces by mistake: fill those first, as plain text.
        line = re.sub(r"(?<!\{)\{(\w+)\}(?!\})", lambda m: fillers.get(m.group(1), "Alex"), line)
        out.append((re.sub(r"\{\{(\w+)\}\}", swap, line), f"pe:{i}"))
    return out


def main() -> None:
    rows = []
    for template, group in presidio_templates():
        for _ in range(3 if "{" in template else 1):
            text, spans = fill(template)
            rows.append(
                {
                    "text": text,
                    "spans": spans,
                    "lang": "en",
                    "source": "presidio-evaluator",
                    "group": group,
                }
            )
    for templates, lang, source in (
        (KO_TEMPLATES, "ko", "pipekit:ko"),
        (KO_NEGATIVES, "ko", "pipekit:ko-negative"),
        (EN_SRE, "en", "pipekit:en-sre"),
    ):
        for i, template in enumerate(templates):
            for _ in range(12):
                text, spans = fill(template)
                rows.append(
                    {
                        "text": text,
                        "spans": spans,
                        "lang": lang,
                        "source": source,
                        "group": f"{source}:{i}",
                    }
                )
    seen, unique = set(), []
    for item in rows:
        if item["text"] not in seen:
            seen.add(item["text"])
            unique.append(item)
    dev = [r for r in unique if sources.split_of(r["group"], 0.5) == "train"]
    test = [r for r in unique if sources.split_of(r["group"], 0.5) == "test"]
    sources.write_jsonl(OUT_DEV, dev)
    sources.write_jsonl(OUT_TEST, test)
    for name, part in (("dev", dev), ("test", test)):
        spans = sum(len(r["spans"]) for r in part)
        korean = sum(r["lang"] == "ko" for r in part)
        print(f"{name}: {len(part)} rows ({korean} Korean), {spans} spans", file=sys.stderr)


if __name__ == "__main__":
    main()
